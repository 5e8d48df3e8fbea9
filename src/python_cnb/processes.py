"""The app's processes: from the Procfile (and, later, inferred), as launch.toml processes."""

from __future__ import annotations

from typing import Sequence

from python_cnb.cnb.launch import Process
from python_cnb.procfile import ProcfileEntry

SHELL = ("bash", "-c")
"""Procfile commands run through a shell, so ``$PORT`` and ``&&`` work as on Heroku and
Kato. bash replaces itself with the last command, so the server gets the signals."""


def default_type(types: Sequence[str]) -> str | None:
    """``web`` when there is one; otherwise the only process, if there is just one."""
    if "web" in types:
        return "web"
    return types[0] if len(types) == 1 else None


def procfile_processes(entries: Sequence[ProcfileEntry]) -> tuple[Process, ...]:
    """One process per Procfile entry, run by bash; ``web`` (or a lone entry) is default."""
    default = default_type([entry.type for entry in entries])
    return tuple(
        Process(type=entry.type, command=(*SHELL, entry.command), default=entry.type == default)
        for entry in entries
    )
