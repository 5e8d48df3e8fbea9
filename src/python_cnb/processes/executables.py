"""Whether the command a declared process runs exists: a Procfile command that nothing in
the image provides passes the build and fails at launch with ``command not found``.

Only shell processes (Procfile entries, ``BP_WEB_COMMAND``) are checked: python-cnb writes
the generated ones itself. The command is the first word of the command line after any
``NAME=value`` assignments, ``exec`` and ``env``; command lines the shell would resolve at
launch (a path, a variable, a builtin or a compound command) are not judged.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional, Sequence

from python_cnb.cnb.launch import Process
from python_cnb.processes.declared import is_shell

SHELL_WORDS = frozenset(
    {
        ".", ":", "[", "alias", "bg", "builtin", "case", "cd", "command", "coproc", "declare",
        "echo", "eval", "exec", "exit", "export", "false", "fg", "for", "function", "if",
        "kill", "let", "local", "printf", "pwd", "read", "readonly", "set", "shift", "source",
        "test", "time", "trap", "true", "type", "ulimit", "umask", "unset", "until", "wait",
        "while", "{", "(", "((", "[[", "!",
    }
)  # fmt: skip
"""bash builtins and keywords: not looked up on PATH."""
PROVIDERS = {
    "gunicorn": "gunicorn",
    "uvicorn": "uvicorn",
    "hypercorn": "hypercorn",
    "daphne": "daphne",
    "waitress-serve": "waitress",
    "celery": "celery",
    "rq": "rq",
    "dramatiq": "dramatiq",
    "huey_consumer": "huey",
    "flask": "Flask",
    "django-admin": "Django",
    "fastapi": "fastapi[standard]",
    "streamlit": "streamlit",
    "gradio": "gradio",
    "alembic": "alembic",
    "honcho": "honcho",
    "supervisord": "supervisor",
}
"""Commands whose package is not named like them, or is worth naming: for the warning."""
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=.*", re.S)


@dataclass(frozen=True)
class MissingCommand:
    """A declared process whose command nothing in the image provides."""

    process: str
    """The process type (``web``, ``worker``)."""
    command: str
    package: Optional[str]
    """The package known to provide it, if python-cnb knows one."""


def first_command(command_line: str) -> Optional[str]:
    """The program a shell command line starts, or None when the shell decides at launch."""
    try:
        words = shlex.split(command_line, comments=True)
    except ValueError:
        return None  # unbalanced quotes: bash will say so; not this check's business
    index = 0
    while index < len(words):
        word = words[index]
        if _ASSIGNMENT.fullmatch(word) or word in ("exec", "env", "nohup"):
            index += 1
            continue
        if word.startswith("-") and index > 0 and words[index - 1] == "env":
            index += 1
            continue
        break
    if index >= len(words):
        return None
    word = words[index]
    if "/" in word or "$" in word or "`" in word or word in SHELL_WORDS:
        return None
    if any(c in word for c in ";&|<>(){}") or "=" in word:
        return None
    return word


def search_path(*directories: Path, path_variable: str = "") -> list[Path]:
    """The directories a command is looked up in: ``directories``, then ``PATH``'s."""
    return [*directories, *(Path(p) for p in path_variable.split(os.pathsep) if p)]


def _found(command: str, directories: Iterable[Path]) -> bool:
    for directory in directories:
        candidate = directory / command
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return True
    return False


def missing_commands(
    processes: Sequence[Process], directories: Sequence[Path]
) -> list[MissingCommand]:
    """The shell processes whose command is in none of ``directories``."""
    missing = []
    for process in processes:
        if not is_shell(process):
            continue
        command = first_command(process.args[0])
        if command is None or _found(command, directories):
            continue
        missing.append(MissingCommand(process.type, command, PROVIDERS.get(command)))
    return missing
