"""``python -m python_cnb detect|build``: phase dispatch and the error boundary."""

from __future__ import annotations

import sys
import traceback
from typing import Sequence

from python_cnb import output
from python_cnb.buildpack_error import BuildpackError
from python_cnb.cnb.context import MissingContextError


def run(argv: Sequence[str]) -> int:
    """Run a phase and return its exit code: detect 0/100; build 0; errors 1."""
    phase = argv[0] if argv else ""
    try:
        if phase == "detect":
            from python_cnb.cnb.context import DetectContext
            from python_cnb.detect import detect

            return detect(DetectContext.from_env())
        if phase == "build":
            from python_cnb.build import build
            from python_cnb.cnb.context import BuildContext

            build(BuildContext.from_env())
            return 0
        print("usage: python -m python_cnb detect|build", file=sys.stderr)
        return 2
    except (BuildpackError, MissingContextError) as error:
        from python_cnb.errors import describe

        title, body = describe(error)
        output.error(title, body)
        return 1
    except KeyboardInterrupt:
        output.error("Build interrupted", "The build was stopped before it finished.")
        return 1
    except Exception:
        from python_cnb.errors import internal_error_body

        output.error("Internal buildpack error", internal_error_body(traceback.format_exc()))
        return 1


def main() -> None:
    """Entry point."""
    sys.exit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()
