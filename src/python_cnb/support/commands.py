"""Running the tools the build needs, with their output streamed into the build log."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional, Sequence

from python_cnb import output
from python_cnb.buildpack_error import BuildpackError

_TAIL_LINES = 40


@dataclass(eq=False)
class CommandFailed(BuildpackError):
    """A command that exited non-zero (or could not start)."""

    display: str
    """The command as shown to users (``pip install -r requirements.txt``)."""
    exit_code: int
    output: str
    """Its combined output, masked (the last lines are shown in the error block)."""
    echoed: bool = False
    """Whether the output was echoed into the log already (the block then quotes only what
    says why, not the output a second time)."""
    chosen_tools: tuple[tuple[str, str, str], ...] = ()
    """``(tool, version, what chose it)`` of each build tool at a version other than the
    buildpack's pin (the failure may come from that version)."""


def run_streamed(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    display: Optional[str] = None,
    echo: bool = True,
) -> str:
    """Run ``argv``, echo each output line (stdout and stderr merged) into the log, and
    return the output; raise :class:`CommandFailed` on a non-zero exit."""
    shown = display or " ".join(argv)
    if echo:
        output.info(f"Running '{shown}'")
    lines: list[str] = []
    started = time.monotonic()
    try:
        process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
    except OSError as error:
        raise CommandFailed(shown, 127, str(error)) from None
    with process:  # closes the pipe, whatever happens
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(output.mask(line.rstrip("\n")))
            if echo:
                output.subprocess_line(line)
        exit_code = process.wait()
    output.debug(f"'{shown}' took {(time.monotonic() - started) * 1000:.0f} ms")
    text = "\n".join(lines)
    if exit_code != 0:
        raise CommandFailed(shown, exit_code, text, echoed=echo)
    return text


def run_quiet(
    argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], display: Optional[str] = None
) -> str:
    """Run ``argv`` without echoing its output; raise :class:`CommandFailed` on failure."""
    return run_streamed(argv, cwd=cwd, env=env, display=display, echo=False)


def tail(text: str, lines: int = _TAIL_LINES) -> str:
    """The last ``lines`` lines of ``text``."""
    return "\n".join(text.splitlines()[-lines:])
