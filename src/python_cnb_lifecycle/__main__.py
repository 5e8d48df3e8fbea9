"""``python -m python_cnb_lifecycle build|launch|exec``: the runner as a command."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Optional, Sequence

from python_cnb_lifecycle.errors import LifecycleError
from python_cnb_lifecycle.runner import DEFAULT_BUILDPACK, build, launch_spec


def _pairs(values: Sequence[str]) -> dict[str, str]:
    pairs = {}
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or not name:
            raise SystemExit(f"expected NAME=VALUE, got {value!r}")
        pairs[name] = rest
    return pairs


def main(argv: Optional[Sequence[str]] = None) -> int:  # noqa: RET503 - execve never returns
    """Run the command line."""
    parser = argparse.ArgumentParser(prog="python -m python_cnb_lifecycle", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    build_cmd = commands.add_parser("build", help="build (or rebuild) an app into a workspace")
    build_cmd.add_argument("app_dir", type=Path)
    build_cmd.add_argument("--workspace", type=Path, required=True)
    build_cmd.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="platform env (like pack build --env)",
    )
    build_cmd.add_argument(
        "--build-config-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="operator env (/cnb/build-config/env)",
    )
    build_cmd.add_argument(
        "--buildpack",
        action="append",
        type=Path,
        default=[],
        help=f"buildpack directory, in order (default: {DEFAULT_BUILDPACK})",
    )
    build_cmd.add_argument("--user", help="run detect and build as UID[:GID]")
    for name in ("launch", "exec"):
        cmd = commands.add_parser(
            name,
            help="start a process type" if name == "launch" else "run a command in the launch env",
        )
        cmd.add_argument("--workspace", type=Path, required=True)
        cmd.add_argument(
            "--env",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="container env (like docker run -e)",
        )
        if name == "launch":
            cmd.add_argument("--process", help="process type (default: the default process)")
        else:
            cmd.add_argument(
                "--bash",
                action="store_true",
                help="as `launcher COMMAND` without `--`: through bash, profile scripts sourced",
            )
        cmd.add_argument("args", nargs=argparse.REMAINDER)
    options = parser.parse_args(argv)
    try:
        if options.command == "build":
            result = build(
                options.app_dir,
                options.workspace,
                env=_pairs(options.env),
                build_config_env=_pairs(options.build_config_env),
                buildpacks=options.buildpack or [DEFAULT_BUILDPACK],
                user=options.user,
                echo=sys.stdout,
            )
            return result.exit_code
        args = options.args[1:] if options.args[:1] == ["--"] else options.args
        if options.command == "exec":
            spec = launch_spec(
                options.workspace,
                env=_pairs(options.env),
                command=args,
                direct=not options.bash,
            )
        else:
            spec = launch_spec(
                options.workspace,
                process_type=options.process,
                args=args or None,
                env=_pairs(options.env),
            )
    except LifecycleError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return error.code
    os.chdir(spec.cwd)
    os.execve(spec.executable, list(spec.argv), spec.env)


if __name__ == "__main__":
    sys.exit(main())
