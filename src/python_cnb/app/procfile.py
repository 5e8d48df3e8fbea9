"""Procfiles: ``<type>: <command>`` lines, as Heroku and Kato read them.

Blank lines and ``#`` comments are skipped; CRLF line ends and a UTF-8 byte order mark are
accepted. A process type is letters, digits, ``.``, ``_`` and ``-`` (the CNB rule), and not
``.`` or ``..`` (the lifecycle makes ``/cnb/process/<type>``); a type given twice, a line
that is not ``type: command``, a command that is empty or holds a NUL byte (which
``execve`` refuses at launch) are errors that quote the line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from python_cnb.buildpack_error import BuildpackError

_LINE = re.compile(r"^(?P<type>[^:]*?)\s*:\s*(?P<command>.*)$")
_TYPE = re.compile(r"^[A-Za-z0-9._-]+$")


@dataclass(frozen=True)
class ProcfileEntry:
    """One process of a Procfile."""

    type: str
    command: str
    line_number: int


@dataclass(eq=False)
class InvalidProcfile(BuildpackError):
    """A Procfile line that cannot be used."""

    source: str
    """``Procfile``, or the setting that carried the text (``BUILD_PROCFILE``)."""
    line_number: int
    line: str
    problem: str
    """``syntax``, ``type``, ``dot-type``, ``empty-command``, ``nul`` or ``duplicate``."""
    first_line_number: int = 0
    """For ``duplicate``: where the type was first declared."""


def parse_procfile(text: str, source: str = "Procfile") -> tuple[ProcfileEntry, ...]:
    """Parse Procfile text; raise :class:`InvalidProcfile` for the first bad line."""
    text = text.lstrip("\ufeff")
    entries: dict[str, ProcfileEntry] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if not match or not match["type"]:
            raise InvalidProcfile(source, number, line, "syntax")
        process_type, command = match["type"], match["command"].strip()
        if not _TYPE.match(process_type):
            raise InvalidProcfile(source, number, line, "type")
        if process_type in (".", ".."):
            raise InvalidProcfile(source, number, line, "dot-type")
        if not command:
            raise InvalidProcfile(source, number, line, "empty-command")
        if "\0" in command:
            raise InvalidProcfile(source, number, line, "nul")
        if process_type in entries:
            raise InvalidProcfile(
                source, number, line, "duplicate", entries[process_type].line_number
            )
        entries[process_type] = ProcfileEntry(process_type, command, number)
    return tuple(entries.values())
