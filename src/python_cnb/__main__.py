"""``python -m python_cnb detect|build``: phase dispatch and the error boundary."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence


def run(argv: Sequence[str]) -> int:
    """Run a phase and return its exit code: detect 0/100; build 0; errors 1.

    A build first tries to put back the previous build's result
    (:func:`python_cnb.replay.replay_unchanged`), before anything else is imported: an
    unchanged rebuild loads only what that takes."""
    phase = argv[0] if argv else ""
    try:
        if phase == "detect":
            from python_cnb.cnb.context import DetectContext
            from python_cnb.detect import detect

            return detect(DetectContext.from_env())
        if phase == "build":
            from python_cnb.replay import replay_unchanged

            if replay_unchanged(os.environ):
                return 0
            from python_cnb.build import build
            from python_cnb.cnb.context import BuildContext

            build(BuildContext.from_env())
            return 0
        print("usage: python -m python_cnb detect|build", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        from python_cnb import output

        output.error("Build interrupted", "The build was stopped before it finished.")
        return 1
    except Exception as error:
        return _failed(error)


def _failed(error: Exception) -> int:
    """The error block for what ended the phase (called while it is handled)."""
    from python_cnb.buildpack_error import BuildpackError, file_system_fault
    from python_cnb.cnb.context import MissingContextError

    if isinstance(error, (BuildpackError, MissingContextError)):
        return _report(error)
    if isinstance(error, OSError):
        # A full disk or an unreadable file is the machine's or the app's, not a bug: one
        # block naming the file and the OS error. Other OS errors are bugs (below).
        fault = file_system_fault(error)
        return _internal_error() if fault is None else _report(fault)
    return _internal_error()


def _report(error: Exception) -> int:
    from python_cnb import output
    from python_cnb.errors import describe

    title, body = describe(error)
    output.error(title, body)
    return 1


def _internal_error() -> int:
    import traceback

    from python_cnb import output
    from python_cnb.errors import internal_error_body

    output.error("Internal buildpack error", internal_error_body(traceback.format_exc()))
    return 1


def main() -> None:
    """Entry point."""
    sys.exit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()
