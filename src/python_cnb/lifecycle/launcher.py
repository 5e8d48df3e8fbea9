"""The launcher: the process env (layers, env files, exec.d) and the command to exec."""

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
from python_cnb.lifecycle.env import Env
from python_cnb.lifecycle.errors import LAUNCH_FAILED, LifecycleError

RUN_IMAGE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class LaunchSpec:
    """What the launcher would exec."""

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
) -> LaunchSpec:
    """The launch of a process type (default: the image's default process), with ``args``
    replacing its default args; or, with ``command``, a direct command in the launch env."""
    if command is not None:
        env = build_launch_env(workspace, image, None, container_env)
        return LaunchSpec(_resolve(list(command), env), env.vars, workspace.app, None)
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
    argv = list(process["command"]) + (
        list(args) if args is not None else list(process.get("args", []))
    )
    working_dir = process.get("working-dir")
    cwd = workspace.app / working_dir if working_dir else workspace.app
    return LaunchSpec(_resolve(argv, env), env.vars, cwd, chosen)


def _resolve(argv: list[str], env: Env) -> tuple[str, ...]:
    binary = shutil.which(argv[0], path=env.get("PATH")) if "/" not in argv[0] else argv[0]
    if binary is None:
        raise LifecycleError("launch", LAUNCH_FAILED, f"path lookup: {argv[0]!r} not found on PATH")
    return (binary, *argv[1:])
