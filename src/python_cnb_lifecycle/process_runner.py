"""Running a buildpack executable, its output teed to the console and captured."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Mapping, Optional, Sequence, TextIO


def as_user(argv: Sequence[str], user: str) -> list[str]:
    """``argv`` run as ``user`` (``uid:gid``, or ``uid``) with no supplementary groups."""
    uid, _, gid = user.partition(":")
    return ["setpriv", f"--reuid={uid}", f"--regid={gid or uid}", "--clear-groups", "--", *argv]


def run(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    sink: list[str],
    echo: Optional[TextIO] = None,
    user: Optional[str] = None,
) -> int:
    """Run ``argv`` with stdout and stderr merged (as the lifecycle does); return its code."""
    command = list(argv) if user is None else as_user(argv, user)
    with subprocess.Popen(
        command,
        cwd=cwd,
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        encoding="utf-8",
        errors="replace",
    ) as process:  # closes the pipe, which a bare Popen would leak
        assert process.stdout is not None
        for line in process.stdout:
            sink.append(line)
            if echo is not None:
                echo.write(line)
                echo.flush()
        return process.wait()


def console() -> TextIO:
    """Where the CLI echoes phase output."""
    return sys.stdout
