"""``python -m python_cnb.lifecycle.in_image``: start a process inside an app image.

The container tests' stand-in for the lifecycle's launcher (a static Go binary): in a run
image that holds only the launch layers at ``/layers`` and the app at ``/workspace``, it
assembles the process environment by the launcher's rules (layer paths, env files, exec.d)
from the container's own environment, and execs the process. It needs an interpreter to
run, and the only one in such an image is the app's (the ``python`` layer): the tests use
that one.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Optional, Sequence

from python_cnb.lifecycle.errors import LifecycleError
from python_cnb.lifecycle.launcher import ImageDirs, launch_spec


def main(argv: Optional[Sequence[str]] = None) -> int:  # noqa: RET503 - execve never returns
    """Parse the arguments, build the launch, exec it."""
    parser = argparse.ArgumentParser(prog="python -m python_cnb.lifecycle.in_image")
    parser.add_argument("--layers", type=Path, default=Path("/layers"))
    parser.add_argument("--app", type=Path, default=Path("/workspace"))
    parser.add_argument("--metadata", type=Path, required=True, help="the exported image.json")
    parser.add_argument("--process", help="process type (default: the default process)")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    options = parser.parse_args(argv)
    image = json.loads(options.metadata.read_text(encoding="utf-8"))
    args = options.args[1:] if options.args[:1] == ["--"] else options.args
    try:
        spec = launch_spec(
            ImageDirs(options.layers, options.app),
            image,
            process_type=options.process,
            args=args or None,
            container_env=dict(os.environ),
        )
    except LifecycleError as error:
        print(f"ERROR: {error}", flush=True)
        return error.code
    os.chdir(spec.cwd)
    os.execve(spec.argv[0], list(spec.argv), spec.env)


if __name__ == "__main__":
    raise SystemExit(main())
