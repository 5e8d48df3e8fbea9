"""``build`` and ``launch``: the lifecycle's phases in order, on one workspace."""

from __future__ import annotations

import os
import shutil
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Sequence, TextIO

from python_cnb_lifecycle import process_runner
from python_cnb_lifecycle.builder import BuildOutput, add_build_layers, build_one, chown_tree
from python_cnb_lifecycle.detector import detect, plan_for
from python_cnb_lifecycle.digest import tree_fingerprint
from python_cnb_lifecycle.env import Env
from python_cnb_lifecycle.errors import SPEC_VIOLATION, LifecycleError
from python_cnb_lifecycle.exporter import export
from python_cnb_lifecycle.launcher import RUN_IMAGE_PATH, LaunchSpec
from python_cnb_lifecycle.launcher import launch_spec as _launch_spec
from python_cnb_lifecycle.restorer import restore
from python_cnb_lifecycle.workspace import (
    Buildpack,
    Target,
    Workspace,
    read_json,
    read_layers_metadata,
    write_json,
)

Executor = Callable[[list[str], Path, Mapping[str, str]], tuple[int, str]]
"""Runs a phase executable elsewhere: ``(argv, cwd, env) -> (exit code, output)``."""

__all__ = ["BuildResult", "LaunchSpec", "Workspace", "build", "launch_spec"]

DEFAULT_BUILDPACK = Path(__file__).resolve().parents[2]
"""The python-cnb checkout this module belongs to (its buildpack.toml and bin/)."""


@dataclass
class BuildResult:
    """The outcome of a build: its full log, the error if it failed, how long each phase
    took (seconds, by phase name: detect, restore, build, export) and how much of that the
    buildpacks' own executables ran (``executables``, by phase: detect, build), without
    what the lifecycle does around them (reading and checking what they wrote)."""

    workspace: Workspace
    output: str
    error: Optional[LifecycleError] = None
    image: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    executables: dict[str, float] = field(default_factory=dict)

    @property
    def success(self) -> bool:
        return self.error is None

    @property
    def exit_code(self) -> int:
        return 0 if self.error is None else self.error.code


def _write_env_dir(directory: Path, values: Mapping[str, str]) -> None:
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    for name, value in values.items():
        (directory / name).write_text(value, encoding="utf-8")


def default_image_env(workspace: Workspace) -> dict[str, str]:
    """The environment of a build image: a standard PATH, HOME, HOSTNAME, proxies."""
    env = {"PATH": RUN_IMAGE_PATH, "HOME": str(workspace.home), "HOSTNAME": socket.gethostname()}
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def build(  # noqa: PLR0915 - the phases in order, in one place
    app_dir: Path,
    workspace: Path | Workspace,
    *,
    env: Optional[Mapping[str, str]] = None,
    build_config_env: Optional[Mapping[str, str]] = None,
    buildpacks: Sequence[Path] = (DEFAULT_BUILDPACK,),
    image_env: Optional[Mapping[str, str]] = None,
    target: Optional[Target] = None,
    user: Optional[str] = None,
    echo: Optional[TextIO] = None,
    executor: Optional[Executor] = None,
) -> BuildResult:
    """Build (or rebuild) ``app_dir`` into ``workspace``, as ``pack build`` would.

    ``env`` is the platform's env (``pack build --env``), ``build_config_env`` the operator's
    (``/cnb/build-config/env``), ``image_env`` the build image's own environment. A second
    call with the same workspace is a rebuild. On failure the previous image and cache are
    left exactly as they were.

    ``executor`` runs ``bin/detect`` and ``bin/build`` somewhere else (in a build image's
    container, with the workspace mounted): it gets argv, working directory and environment
    as this machine sees them and returns the exit code and the combined output. Plan files
    are then created under ``<workspace>/.lifecycle``, so that they can be mounted too.
    """
    ws = workspace if isinstance(workspace, Workspace) else Workspace(Path(workspace).resolve())
    ws.root.mkdir(parents=True, exist_ok=True)
    ws.home.mkdir(exist_ok=True)
    log: list[str] = []
    timings: dict[str, float] = {}
    executables: dict[str, float] = {}
    started: list[tuple[str, float]] = []  # the phase under way

    def say(line: str) -> None:
        log.append(line)
        if echo is not None:
            echo.write(line)
            echo.flush()

    def phase(name: Optional[str], banner: str = "") -> None:
        """Start phase ``name`` (None: the last one ended), timing the one before."""
        now = time.perf_counter()
        if started:
            previous, since = started.pop()
            timings[previous] = now - since
        if name is not None:
            started.append((name, now))
            say(f"===> {banner}\n")

    loaded = [Buildpack.load(Path(path)) for path in buildpacks]
    target = target or Target.host()
    lifecycle_env = dict(image_env if image_env is not None else default_image_env(ws))
    _write_env_dir(ws.platform / "env", dict(env or {}))
    _write_env_dir(ws.build_config / "env", dict(build_config_env or {}))
    previous_image = read_layers_metadata(ws.image_metadata)
    previous_cache = read_layers_metadata(ws.cache_metadata)
    _stash(ws)

    def run(argv: list[str], cwd: Path, phase_env: Mapping[str, str]) -> int:
        began = time.perf_counter()
        try:
            if executor is None:
                return process_runner.run(
                    argv, cwd=cwd, env=phase_env, sink=log, echo=echo, user=user
                )
            code, text = executor(argv, cwd, phase_env)
            say(text)
            return code
        finally:
            name = started[-1][0]
            executables[name] = executables.get(name, 0.0) + time.perf_counter() - began

    build_env = Env.for_build(lifecycle_env)

    def env_for(bp: Buildpack, extra: dict[str, str]) -> dict[str, str]:
        platform = None if bp.clear_env else ws.platform
        phase_env = build_env.with_overrides(platform, ws.build_config)
        phase_env.update({"CNB_BUILDPACK_DIR": str(bp.path), "CNB_PLATFORM_DIR": str(ws.platform)})
        phase_env.update(target.env())
        phase_env.update(extra)
        return phase_env

    try:
        shutil.copytree(app_dir, ws.app, symlinks=True)
        ws.layers.mkdir(parents=True)
        if user is not None:
            for path in (ws.app, ws.layers, ws.home):
                chown_tree(path, user)
        for bp in loaded:
            if not bp.supports(target):
                raise LifecycleError(
                    "detect", 20, f"{bp.id} supports no target matching {target.os}/{target.arch}"
                )
        scratch = None
        if executor is not None:  # plan files must be where the executor can mount them
            scratch = ws.root / ".lifecycle"
            scratch.mkdir(exist_ok=True)
        # detect and build must leave both alone: the spec makes them read-only
        read_only = {p: tree_fingerprint(p) for p in [*(bp.path for bp in loaded), ws.platform]}
        phase("detect", "DETECTING")
        entries = detect(
            loaded,
            ws.app,
            lambda bp, plan: env_for(bp, {"CNB_BUILD_PLAN_PATH": str(plan)}),
            run,
            user=user,
            scratch=scratch,
        )
        phase("restore", "RESTORING")
        restore(loaded, ws, previous_image, previous_cache, log)
        phase("build", "BUILDING")
        outputs: dict[str, BuildOutput] = {}
        for bp in loaded:
            plan = plan_for(bp.id, entries)
            outputs[bp.id] = build_one(
                bp,
                ws.bp_layers(bp.id),
                plan,
                ws.app,
                env_for(bp, {}),
                run,
                user=user,
                scratch=scratch,
            )
            add_build_layers(build_env, ws.bp_layers(bp.id), outputs[bp.id])
            met = {entry["name"] for entry in plan} - set(outputs[bp.id].unmet)
            entries = [e for e in entries if e.name not in met]
        for path, fingerprint in read_only.items():
            if tree_fingerprint(path) != fingerprint:
                raise LifecycleError(
                    "build", SPEC_VIOLATION, f"a buildpack wrote to the read-only {path}"
                )
        phase("export", "EXPORTING")
        image, cache = export(loaded, ws, outputs, previous_image, log)
        phase(None)
    except LifecycleError as error:
        phase(None)
        say(f"ERROR: {error}\n")
        _unstash(ws)
        return BuildResult(ws, "".join(log), error, timings=timings, executables=executables)
    except BaseException:  # a bug or an interrupt: still leave the previous image as it was
        _unstash(ws)
        raise
    write_json(ws.cache_metadata, cache)
    write_json(ws.image_metadata, image)
    _drop_stash(ws)
    return BuildResult(ws, "".join(log), None, image, timings, executables)


def _stash(ws: Workspace) -> None:
    """Keep the previous image (app and layers) aside until the new one is exported."""
    for current, stashed in ((ws.app, ws.root / ".previous-app"), (ws.layers, ws.previous_layers)):
        shutil.rmtree(stashed, ignore_errors=True)
        if current.exists():
            current.rename(stashed)


def _unstash(ws: Workspace) -> None:
    """A failed build: put the previous image back, as if nothing happened."""
    for current, stashed in ((ws.app, ws.root / ".previous-app"), (ws.layers, ws.previous_layers)):
        shutil.rmtree(current, ignore_errors=True)
        if stashed.exists():
            stashed.rename(current)
    shutil.rmtree(ws.root / ".cache-next", ignore_errors=True)
    shutil.rmtree(ws.root / ".sbom-next", ignore_errors=True)


def _drop_stash(ws: Workspace) -> None:
    for stashed in (ws.root / ".previous-app", ws.previous_layers, ws.root / ".sbom-next"):
        shutil.rmtree(stashed, ignore_errors=True)


def launch_spec(
    workspace: Path | Workspace,
    *,
    process_type: Optional[str] = None,
    args: Optional[Sequence[str]] = None,
    env: Optional[Mapping[str, str]] = None,
    command: Optional[Sequence[str]] = None,
    direct: bool = True,
) -> LaunchSpec:
    """How the launcher would start ``process_type`` with the user's ``args``, or
    ``command`` (``launcher -- COMMAND...`` when ``direct``, else ``launcher COMMAND...``,
    through bash), in the built image.

    ``env`` is the container's environment (``docker run -e``) on top of the run image's.
    """
    ws = workspace if isinstance(workspace, Workspace) else Workspace(Path(workspace).resolve())
    image = read_json(ws.image_metadata)
    if image is None:
        raise LifecycleError("launch", 82, f"no image in {ws.root}: build first")
    container_env = {"PATH": RUN_IMAGE_PATH, "HOME": str(ws.home), **(env or {})}
    return _launch_spec(
        ws,
        image,
        process_type=process_type,
        args=args,
        container_env=container_env,
        command=command,
        direct=direct,
    )
