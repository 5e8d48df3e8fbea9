"""The launcher: the process env (layers, env files, exec.d) and the command to exec.

As lifecycle 0.21's ``launch`` package (Platform API 0.10+, Buildpack API 0.9+):

* a process type (``/cnb/process/<type>``, or the image's default process): ``command[0]``
  looked up on the final PATH, then ``command[1:]``, then the user's arguments *instead of*
  the process's ``args`` (its ``args`` when the user gives none); always direct;
* ``launcher -- CMD ARGS...``: ``CMD`` looked up on PATH and exec'd with ``ARGS``, direct;
* ``launcher CMD ARGS...``: through ``/bin/bash``, which first sources every launch layer's
  ``profile.d`` scripts and the app's ``.profile`` (``launch/bash.go``); ``CMD`` alone is a
  bash command line, ``CMD`` with ``ARGS`` is a list of words bash expands one by one.

``argv[0]`` is the command as written (``bash``, ``gunicorn``), as the launcher passes it;
:attr:`LaunchSpec.executable` is the file that is exec'd.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Optional, Protocol, Sequence

from python_cnb.cnb import toml_file
from python_cnb.cnb.buildpack_toml import escape_id
from python_cnb.cnb.validate import check_exec_d_output
from python_cnb_lifecycle.env import Env
from python_cnb_lifecycle.errors import LAUNCH_FAILED, LifecycleError

RUN_IMAGE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
LAUNCHER = "/cnb/lifecycle/launcher"
"""The launcher's path in an app image: ``$0`` of the profile scripts (``Caller``)."""
BASH = "/bin/bash"
"""The shell of ``launcher CMD`` (the launcher execs this path, not a PATH lookup)."""
APP_PROFILE = ".profile"
"""Sourced, relative to the app dir, after the layers' ``profile.d`` scripts."""


@dataclass(frozen=True)
class LaunchSpec:
    """What the launcher would exec: ``executable`` with ``argv`` (``argv[0]`` as the
    launcher passes it, which is not always a path), in ``cwd``."""

    executable: str
    argv: tuple[str, ...]
    env: dict[str, str]
    cwd: Path
    process_type: Optional[str]


def _layer_dirs(bp_dir: Path) -> list[Path]:
    if not bp_dir.is_dir():
        return []
    return sorted((p for p in bp_dir.iterdir() if p.is_dir()), key=lambda p: p.name)


def _spawn_with_fd3(argv: list[str], write_fd: int, env: Env, cwd: Path) -> subprocess.Popen[bytes]:
    """Start ``argv`` with ``write_fd`` as its file descriptor 3 (the exec.d output)."""
    saved = None
    try:
        saved = os.dup(3)
    except OSError:
        saved = None
    os.dup2(write_fd, 3, inheritable=True)
    try:
        return subprocess.Popen(argv, cwd=cwd, env=dict(env.vars), pass_fds=(3,))
    finally:
        if saved is not None:
            os.dup2(saved, 3, inheritable=False)
            os.close(saved)
        else:
            os.close(3)


def _run_exec_d(executable: Path, env: Env, cwd: Path) -> None:
    read_fd, write_fd = os.pipe()
    try:
        process = _spawn_with_fd3([str(executable)], write_fd, env, cwd)
    except OSError as error:
        raise LifecycleError("launch", LAUNCH_FAILED, f"exec.d {executable}: {error}") from None
    finally:
        os.close(write_fd)
    with os.fdopen(read_fd, "r", encoding="utf-8") as stream:
        text = stream.read()
    if process.wait() != 0:
        raise LifecycleError(
            "launch", LAUNCH_FAILED, f"exec.d {executable} exited {process.returncode}"
        )
    problems = check_exec_d_output(text)
    if problems:
        raise LifecycleError("launch", LAUNCH_FAILED, "; ".join(problems))
    for name, value in toml_file.loads(text).items():
        env.set(name, value)


class ImageLayout(Protocol):
    """Where an image's layers and app are (a workspace, or /layers and /workspace)."""

    @property
    def layers(self) -> Path: ...

    @property
    def app(self) -> Path: ...


@dataclass(frozen=True)
class ImageDirs:
    """The layout of a real app image: ``/layers`` and ``/workspace``, for instance."""

    layers: Path
    app: Path


def build_launch_env(
    workspace: ImageLayout,
    image: dict[str, Any],
    process_type: Optional[str],
    container_env: Mapping[str, str],
    *,
    run_exec_d: bool = True,
) -> Env:
    """Start from the container env, then per buildpack: layer paths, env files, exec.d."""
    env = Env.for_launch(container_env)
    bp_dirs = [workspace.layers / escape_id(bp["id"]) for bp in image["buildpacks"]]
    for bp_dir in bp_dirs:
        for layer in _layer_dirs(bp_dir):
            env.add_root_dir(layer)
        for layer in _layer_dirs(bp_dir):
            env.add_env_dir(layer / "env", "override")
            env.add_env_dir(layer / "env.launch", "override")
            if process_type:
                env.add_env_dir(layer / "env.launch" / process_type, "override")
    if run_exec_d:
        for bp_dir in bp_dirs:
            for layer in _layer_dirs(bp_dir):
                directories = [layer / "exec.d"] + (
                    [layer / "exec.d" / process_type] if process_type else []
                )
                for directory in directories:
                    if not directory.is_dir():
                        continue
                    for executable in sorted(p for p in directory.iterdir() if p.is_file()):
                        _run_exec_d(executable, env, workspace.app)
    return env


def launch_spec(
    workspace: ImageLayout,
    image: dict[str, Any],
    *,
    process_type: Optional[str] = None,
    args: Optional[Sequence[str]] = None,
    container_env: Mapping[str, str],
    command: Optional[Sequence[str]] = None,
    direct: bool = True,
) -> LaunchSpec:
    """The launch of a process type (default: the image's default process) with the user's
    ``args`` (``docker run [--entrypoint TYPE] IMAGE ARGS...``); or, with ``command``, the
    launcher given a command: ``launcher -- COMMAND...`` (``direct``) or ``launcher
    COMMAND...`` (through bash)."""
    if command is not None:
        if not command:
            raise LifecycleError(
                "launch", LAUNCH_FAILED, "when there is no default process a command is required"
            )
        env = build_launch_env(workspace, image, None, container_env)
        if direct:
            return _direct(list(command), env, workspace.app, None)
        return _through_bash(workspace, image, list(command), env)
    processes = {p["type"]: p for p in image.get("processes", [])}
    chosen = process_type or image.get("default_process")
    if chosen is None:
        raise LifecycleError("launch", LAUNCH_FAILED, "no default process type; pass --process")
    if chosen not in processes:
        raise LifecycleError(
            "launch",
            LAUNCH_FAILED,
            f"process type {chosen!r} is not defined ({', '.join(processes) or 'none'})",
        )
    process = processes[chosen]
    env = build_launch_env(workspace, image, chosen, container_env)
    # No user args (an empty docker CMD) means the process's own: they cannot be emptied.
    argv = list(process["command"]) + (list(args) if args else list(process.get("args", [])))
    working_dir = process.get("working-dir")
    cwd = workspace.app / working_dir if working_dir else workspace.app
    return _direct(argv, env, cwd, chosen)


def _direct(argv: list[str], env: Env, cwd: Path, process_type: Optional[str]) -> LaunchSpec:
    """``argv[0]`` looked up on the launch PATH and exec'd with ``argv`` as it is."""
    binary = shutil.which(argv[0], path=env.get("PATH")) if "/" not in argv[0] else argv[0]
    if binary is None:
        raise LifecycleError("launch", LAUNCH_FAILED, f"path lookup: {argv[0]!r} not found on PATH")
    return LaunchSpec(binary, tuple(argv), env.vars, cwd, process_type)


def profile_scripts(workspace: ImageLayout, image: dict[str, Any]) -> list[str]:
    """What bash sources before a command the user gave the launcher: per buildpack, each
    launch layer's ``profile.d/*`` (by name), then the app's ``.profile`` (relative)."""
    scripts = []
    for bp in image["buildpacks"]:
        for layer in _layer_dirs(workspace.layers / escape_id(bp["id"])):
            directory = layer / "profile.d"
            if directory.is_dir():
                # As Go's DirEntry.IsDir: a symlink is a file here, whatever it points to.
                files = (p for p in directory.iterdir() if p.is_symlink() or not p.is_dir())
                scripts += sorted(str(p) for p in files)
    app_profile = workspace.app / APP_PROFILE
    if app_profile.exists() and not app_profile.is_dir():
        scripts.append(APP_PROFILE)
    return scripts


def _through_bash(
    workspace: ImageLayout, image: dict[str, Any], command: list[str], env: Env
) -> LaunchSpec:
    """bash sources the profile scripts, changes to the app dir, then runs ``command[0]`` as a
    command line (no other words), or every word expanded by bash, as one command."""
    script = "".join(f'source "{path}"\n' for path in profile_scripts(workspace, image))
    script += f'cd "{workspace.app}"\n'
    if len(command) == 1:
        script += 'exec bash -c "$@"'
    else:
        words = " ".join(f'"$(eval echo \\"${{{i}}}\\")"' for i in range(len(command)))
        script += f"exec bash -c '{words}' \"${{@:1}}\""
    argv = ("bash", "-c", script, LAUNCHER, *command)
    return LaunchSpec(BASH, argv, env.vars, workspace.app, None)
