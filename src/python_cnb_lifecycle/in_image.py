"""``python -m python_cnb_lifecycle.in_image``: start a process inside an app image.

The container tests' stand-in for the lifecycle's launcher (a static Go binary): in a run
image that holds only the launch layers at ``/layers`` and the app at ``/workspace``, it
assembles the process environment by the launcher's rules (layer paths, env files, exec.d)
from the container's own environment, and execs the process. It needs an interpreter to
run, and the only one in such an image is the app's (the ``python`` layer): the tests use
that one.

Its options come first; everything after the first ``--`` is the container's command (the
``CMD`` of ``docker run IMAGE CMD...``):

* ``--process TYPE`` is ``--entrypoint TYPE`` (``/cnb/process/TYPE``): CMD replaces the
  process's ``args``; without it, the image's default process;
* ``--launcher`` is ``--entrypoint launcher``: CMD is a command, run directly when it starts
  with ``--`` and through bash (profile scripts sourced) otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Optional, Sequence

from python_cnb_lifecycle.errors import LifecycleError
from python_cnb_lifecycle.launcher import ImageDirs, LaunchSpec, launch_spec


def _spec(options: argparse.Namespace, command: list[str]) -> LaunchSpec:
    image = json.loads(options.metadata.read_text(encoding="utf-8"))
    dirs = ImageDirs(options.layers, options.app)
    if options.launcher:
        # The launcher's own rule: `--` and at least a command means direct.
        direct = len(command) > 1 and command[0] == "--"
        return launch_spec(
            dirs,
            image,
            container_env=dict(os.environ),
            command=command[1:] if direct else command,
            direct=direct,
        )
    return launch_spec(
        dirs, image, process_type=options.process, args=command, container_env=dict(os.environ)
    )


def main(argv: Optional[Sequence[str]] = None) -> int:  # noqa: RET503 - execve never returns
    """Parse the arguments, build the launch, exec it."""
    parser = argparse.ArgumentParser(prog="python -m python_cnb_lifecycle.in_image")
    parser.add_argument("--layers", type=Path, default=Path("/layers"))
    parser.add_argument("--app", type=Path, default=Path("/workspace"))
    parser.add_argument("--metadata", type=Path, required=True, help="the exported image.json")
    choice = parser.add_mutually_exclusive_group()
    choice.add_argument("--process", help="process type (default: the default process)")
    choice.add_argument(
        "--launcher", action="store_true", help="the entrypoint is the launcher: CMD is a command"
    )
    words = list(argv) if argv is not None else sys.argv[1:]
    cut = words.index("--") if "--" in words else len(words)
    options = parser.parse_args(words[:cut])
    try:
        spec = _spec(options, words[cut + 1 :])
    except LifecycleError as error:
        print(f"ERROR: {error}", flush=True)
        return error.code
    os.chdir(spec.cwd)
    os.execve(spec.executable, list(spec.argv), spec.env)


if __name__ == "__main__":
    raise SystemExit(main())
