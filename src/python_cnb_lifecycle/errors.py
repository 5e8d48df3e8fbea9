"""How a lifecycle phase fails, with the real lifecycle's exit codes."""

from __future__ import annotations

from dataclasses import dataclass

DETECT_FAILED = 20  # no buildpack group passed detection
DETECT_ERROR = 21  # a buildpack's detect errored
BUILD_FAILED = 51  # a buildpack's build failed
EXPORT_FAILED = 62
LAUNCH_FAILED = 82
SPEC_VIOLATION = 90  # ours: the real lifecycle would tolerate or fail later


@dataclass(eq=False)
class LifecycleError(Exception):
    """A phase that failed."""

    phase: str
    code: int
    message: str

    def __str__(self) -> str:
        return f"{self.phase}: {self.message}"
