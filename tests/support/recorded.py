"""A stand-in for ``run_quiet`` that records every command line, then runs it for real,
answers it with nothing (``fake``: commands named by their program), or fails the test."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Optional, Sequence

import pytest

from python_cnb.support.commands import run_quiet


class RecordedCommands:
    """Pass as ``run_quiet`` (``monkeypatch.setattr(module, "run_quiet", recorder)``)."""

    def __init__(self, *, run: bool = True, fake: Sequence[str] = ()) -> None:
        self.run = run
        self.fake = tuple(fake)
        self.commands: list[list[str]] = []

    def __call__(
        self,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        display: Optional[str] = None,
    ) -> str:
        self.commands.append(list(argv))
        if argv[0] in self.fake:
            return ""
        if not self.run:
            pytest.fail(f"a command ran: {display or argv[0]}")
        return run_quiet(argv, cwd=cwd, env=env, display=display)
