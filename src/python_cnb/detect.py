"""Detection: is this a Python app?

requirements.txt decides first, as on the Kato PaaS; then any other file a Python app has.
Detection is deliberately wider than what the build can install, so that a half-configured
app gets the build's helpful error instead of a silent "no buildpack matched".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from python_cnb import output
from python_cnb.cnb.context import DetectContext
from python_cnb.cnb.plan import BuildPlan, Require

DETECT_FILES = (
    "requirements.txt",
    "requirements.in",
    "pyproject.toml",
    "uv.lock",
    "poetry.lock",
    "Pipfile",
    "Pipfile.lock",
    "setup.py",
    "setup.cfg",
    ".python-version",
    "runtime.txt",
    "app.py",
    "main.py",
    "manage.py",
    "wsgi.py",
    "wsgi/application",
)
"""Files that make a directory a Python app, strongest evidence first."""

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


def python_app_files(app_dir: Path) -> tuple[str, ...]:
    """Which of :data:`DETECT_FILES` exist in ``app_dir``."""
    return tuple(name for name in DETECT_FILES if (app_dir / name).is_file())


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
