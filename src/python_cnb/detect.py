"""Detection: is this a Python app?

requirements.txt decides first, as on the Kato PaaS; then any other file a Python app has.
Detection is deliberately wider than what the build can install, so that a half-configured
app gets the build's helpful error instead of a silent "no buildpack matched".
"""

from __future__ import annotations

import glob
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from python_cnb import output
from python_cnb.app.procfile import parse_procfile
from python_cnb.buildpack_error import BuildpackError
from python_cnb.cnb.context import DetectContext
from python_cnb.cnb.plan import BuildPlan, Require

RULES_FILE = Path(__file__).resolve().parent / "data" / "detect-files.txt"
"""The detection rules, also read by ``bin/detect`` (POSIX sh) before any Python starts."""


REFINED_MARK = "~"
"""Marks a rule that :data:`_REFINEMENTS` checks further (the rules file says so to sh)."""


def _rule_lines(path: Path) -> list[tuple[bool, tuple[str, ...]]]:
    """Each rule of ``path`` with whether it is marked ``~``; a mark alone is no rule."""
    rules = []
    for line in path.read_text(encoding="utf-8").splitlines():
        words = tuple(line.split())
        marked = words[:1] == (REFINED_MARK,)
        globs = words[1:] if marked else words
        if globs and not words[0].startswith("#"):
            rules.append((marked, globs))
    return rules


def read_rules(path: Path = RULES_FILE) -> tuple[tuple[str, ...], ...]:
    """The rules of ``path``: each line's space-separated globs; ``#`` lines are comments,
    and a leading ``~`` (:data:`REFINED_MARK`) is no glob."""
    return tuple(globs for _, globs in _rule_lines(path))


def read_refined(path: Path = RULES_FILE) -> frozenset[str]:
    """The rules of ``path`` marked ``~``, as text (``Procfile *.py``)."""
    return frozenset(" ".join(globs) for marked, globs in _rule_lines(path) if marked)


DETECT_RULES = read_rules()
"""What makes a directory a Python app, strongest evidence first: each rule matches when
every one of its globs names a regular file."""
DETECT_FILES = tuple(" ".join(rule) for rule in DETECT_RULES)
"""The rules as text, for logs."""

PROVIDES = ("cpython", "site-packages")
"""Plan names: other buildpacks can require a CPython and the app's installed packages."""

PASS, FAIL = 0, 100


@dataclass(frozen=True)
class DetectResult:
    """The files that were found (none: detection fails)."""

    found: tuple[str, ...]

    @property
    def passed(self) -> bool:
        """Whether this is a Python app."""
        return bool(self.found)


def _names_a_file(app_dir: Path, pattern: str) -> bool:
    if not any(char in pattern for char in "*?["):
        return (app_dir / pattern).is_file()
    # glob.glob, as sh, does not let `*` match a leading dot (pathlib's glob would)
    matches = glob.glob(f"{glob.escape(str(app_dir))}/{pattern}")  # noqa: PTH207
    return any(Path(match).is_file() for match in matches)


_PYTHON_COMMAND = re.compile(
    r"^(python(3(\.\d+)?)?|gunicorn|uvicorn|hypercorn|daphne|waitress-serve|granian"
    r"|streamlit|gradio|flask|fastapi|django-admin|celery|panel|bokeh)$"
)
"""Programs that mean a process runs Python (the first word, or one after ``exec``/``env``)."""


def procfile_runs_python(app_dir: Path) -> bool:
    """Whether a Procfile command runs Python: a Python program, or a root ``.py`` file.

    A Procfile that cannot be parsed counts as yes: the build then explains what is wrong
    with it, instead of detection silently passing the app by.
    """
    try:
        entries = parse_procfile((app_dir / "Procfile").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, BuildpackError):
        return True
    scripts = {path.name for path in app_dir.glob("*.py")}
    for entry in entries:
        try:
            words = shlex.split(entry.command)
        except ValueError:
            words = entry.command.split()
        for word in words:
            name = word.rsplit("/", 1)[-1]
            if _PYTHON_COMMAND.match(name) or name in scripts:
                return True
    return False


_REFINEMENTS: dict[str, Callable[[Path], bool]] = {"Procfile *.py": procfile_runs_python}
"""Rules whose globs are necessary but not enough (bin/detect checks only the globs, so it
never says no where this module says yes)."""


def python_app_files(app_dir: Path) -> tuple[str, ...]:
    """Which of :data:`DETECT_FILES` match in ``app_dir``: the rules that need no further
    check, else those of :data:`_REFINEMENTS` that pass theirs (so that ``bin/detect``,
    which checks only globs, gives the same answer without Python whenever a plain rule
    matches)."""
    matched = [
        text
        for text, rule in zip(DETECT_FILES, DETECT_RULES)
        if all(_names_a_file(app_dir, pattern) for pattern in rule)
    ]
    plain = tuple(text for text in matched if text not in _REFINEMENTS)
    return plain or tuple(text for text in matched if _REFINEMENTS[text](app_dir))


PLAN_FILE = RULES_FILE.parent / "detect-plan.toml"
""":func:`build_plan` as written, which ``bin/detect`` copies when it decides on its own."""


def build_plan() -> BuildPlan:
    """Provide and require ``cpython`` and ``site-packages`` at build and launch."""
    metadata = {"build": True, "launch": True}
    return BuildPlan(
        provides=PROVIDES,
        requires=tuple(Require(name, metadata) for name in PROVIDES),
    )


def detect(ctx: DetectContext) -> int:
    """Write the plan and return 0 for a Python app; return 100 otherwise."""
    result = DetectResult(python_app_files(ctx.app_dir))
    if not result.passed:
        output.info("No Python app found: none of these files exist in the app directory:")
        output.detail(", ".join(DETECT_FILES))
        return FAIL
    output.info(f"Python app detected ({', '.join(result.found)})")
    build_plan().write(ctx.build_plan_path)
    return PASS
