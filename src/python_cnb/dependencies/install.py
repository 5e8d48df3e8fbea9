"""Installing the app's dependencies into the ``venv`` layer: tools, sync, bytecode, checks."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional, Union, cast

from packaging.utils import parse_sdist_filename, parse_wheel_filename

from python_cnb import output
from python_cnb.app.package_manager import PackageManager
from python_cnb.buildpack_error import BuildpackError
from python_cnb.bytecode import compile_files, compile_site_packages, package_sources
from python_cnb.cnb.context import BuildContext
from python_cnb.config.index import IndexSettings, with_requirement_options
from python_cnb.config.settings import Settings
from python_cnb.config.tool_env import tool_env
from python_cnb.config.tool_specs import tool_spec
from python_cnb.dependencies.installers import (
    Engine,
    ProjectSync,
    RequirementsWithoutHashes,
    hash_mismatch,
)
from python_cnb.dependencies.installers.pip import PipEngine
from python_cnb.dependencies.installers.poetry import PoetryProjectSync
from python_cnb.dependencies.installers.uv import UvEngine, UvProjectSync, uv_env
from python_cnb.dependencies.plan import DependencyPlan
from python_cnb.installed import Changes, compare, normalize, snapshot
from python_cnb.layers.pip import install_pip_tools
from python_cnb.layers.poetry import install_poetry
from python_cnb.layers.python import InstalledPython
from python_cnb.layers.tool_cache import prepare_tool_cache
from python_cnb.layers.uv import UvTool, install_uv
from python_cnb.layers.venv import VenvLayerMetadata, VenvState, finish_venv, prepare_venv
from python_cnb.support.commands import CommandFailed

Installer = Union[Engine, ProjectSync, None]


def _override(settings: Settings, manager: PackageManager, tool: str) -> Optional[str]:
    """``BUILD_PYTHON_PACKAGE_MANAGER_VERSION`` pins the tool of the chosen package manager."""
    wanted = {
        PackageManager.POETRY: "poetry",
        PackageManager.UV: "uv",
        PackageManager.PIP_TOOLS: "pip-tools",
    }
    return settings.package_manager_version if wanted.get(manager) == tool else None


def prepare_installer(
    ctx: BuildContext,
    python: InstalledPython,
    manager: PackageManager,
    settings: Settings,
    index: IndexSettings,
    env: Mapping[str, str],
    venv_python: Path,
    app_index: Optional[IndexSettings] = None,
) -> Installer:
    """The tools this build needs (from cached build-only layers when possible). The tools
    come from the platform's ``index``; the app's packages from ``app_index`` (the platform's
    settings changed by the app's requirement files), which defaults to it."""
    keep = not settings.no_cache
    packages = app_index or index
    if manager is PackageManager.NONE:
        return None
    if settings.installer == "pip" and manager.requirements_style:
        cache = prepare_tool_cache(ctx, "pip-cache", "pip download cache", keep_cache=keep)
        spec = tool_spec(
            ctx.buildpack.metadata,
            "pip-tools",
            ctx.target.arch,
            _override(settings, manager, "pip-tools"),
        )
        tool = install_pip_tools(
            ctx, python, spec, index, {**env, "PIP_CACHE_DIR": str(cache)}, keep_cache=keep
        )
        return PipEngine(tool, venv_python, ctx.app_dir, env, packages, cache, server_index=index)
    uv_cache = prepare_tool_cache(ctx, "uv-cache", "uv cache", keep_cache=keep)
    spec = tool_spec(
        ctx.buildpack.metadata, "uv", ctx.target.arch, _override(settings, manager, "uv")
    )
    uv = install_uv(ctx, python, spec, index, env, keep_cache=keep)
    environment = uv_env(env, uv_cache)
    if manager is PackageManager.UV:
        return UvProjectSync(
            uv, python.executable, venv_python.parent.parent, ctx.app_dir, environment, index
        )
    if manager is PackageManager.POETRY:
        return _poetry(ctx, python, uv, settings, index, environment, venv_python, keep)
    return UvEngine(
        uv,
        venv_python,
        ctx.app_dir,
        environment,
        packages,
        resolver_python=python.executable,
        server_index=index,
    )


def _poetry(
    ctx: BuildContext,
    python: InstalledPython,
    uv: UvTool,
    settings: Settings,
    index: IndexSettings,
    env: Mapping[str, str],
    venv_python: Path,
    keep: bool,
) -> PoetryProjectSync:
    spec = tool_spec(
        ctx.buildpack.metadata,
        "poetry",
        ctx.target.arch,
        _override(settings, PackageManager.POETRY, "poetry"),
    )
    poetry = install_poetry(ctx, python, uv, spec, index, env, keep_cache=keep)
    cache = prepare_tool_cache(ctx, "poetry-cache", "Poetry cache", keep_cache=keep)
    if index.index_url and not poetry.mirror_plugin:
        output.info(
            f"Poetry {poetry.version} has no PyPI mirror plugin:"
            " the index setting does not apply to it"
        )
    return PoetryProjectSync(poetry, uv, venv_python.parent.parent, ctx.app_dir, env, index, cache)


def install_dependencies(
    ctx: BuildContext,
    python: InstalledPython,
    plan: DependencyPlan,
    settings: Settings,
    index: IndexSettings,
    secrets_env: Mapping[str, str],
) -> tuple[VenvState, Installer]:
    """Bring the venv layer to ``plan``: untouched, synced incrementally, or rebuilt."""
    env = tool_env(ctx.env, **secrets_env)
    venv_python = ctx.layers_dir / "venv" / "bin" / "python"
    app_index = index
    if plan.requirements is not None and plan.requirements.options:
        app_index = with_requirement_options(index, plan.requirements.options)
        if app_index != index:
            output.info("The app's requirement files change the package index settings:")
            for line in app_index.describe():
                output.detail(line)
    installer = prepare_installer(
        ctx, python, plan.manager, settings, index, env, venv_python, app_index
    )
    with tempfile.TemporaryDirectory(prefix="python-cnb-requirements-") as tmp:
        inputs = _prepare_inputs(installer, plan, Path(tmp))
        resolved = inputs.resolved.read_text(encoding="utf-8") if inputs.resolved else ""
        fingerprint = plan.fingerprint(ctx.app_dir, app_index, resolved)
        metadata = VenvLayerMetadata(
            python_version=str(python.version),
            python_checksum=python.distribution.sha256,
            os=ctx.target.os,
            arch=ctx.target.arch,
            distro_name=ctx.target.distro_name,
            distro_version=ctx.target.distro_version,
            installer=installer.description if installer is not None else "none",
            layout="2",
            package_manager=plan.manager.value,
            dependencies=fingerprint,
        )
        state = prepare_venv(
            ctx,
            python,
            metadata,
            keep_cache=not settings.no_cache,
            explain=lambda previous: plan.explain(previous, fingerprint, ctx.app_dir, app_index),
        )
        if state.up_to_date:
            finish_venv(state)
            return state, installer
        state.layer.invalidate()
        before = snapshot(state.site_packages)
        _install(installer, plan, inputs, state, Path(tmp))
    changes = compare(before, snapshot(state.site_packages))
    _log_changes(changes, state.fresh)
    _compile(state, changes)
    if settings.check_dependencies and installer is not None:
        installer.check()
    elif installer is not None:
        output.info("Skipping the dependency check (BP_PYTHON_CHECK_DEPENDENCIES=false)")
    finish_venv(state)
    return state, installer


@dataclass(frozen=True)
class _Inputs:
    """What the engine installs from, written to a temporary directory."""

    requirements: Optional[Path] = None
    """The app's requirement files as one normalised file (options on the command line)."""
    resolved: Optional[Path] = None
    """Resolved before the reuse decision (projects) or a pinned set (Pipfile.lock)."""


def _prepare_inputs(installer: Installer, plan: DependencyPlan, tmp: Path) -> _Inputs:
    """Write the normalised requirements; resolve a project now when its reuse depends on
    the result (:attr:`DependencyPlan.resolves_every_build`)."""
    if not isinstance(installer, (UvEngine, PipEngine)):
        return _Inputs()
    if plan.requirements is not None:
        text, constraints = plan.requirements.render()
        if constraints:
            (tmp / "constraints.txt").write_text(constraints, encoding="utf-8")
            text = f"-c {tmp / 'constraints.txt'}\n{text}"
        path = tmp / "requirements.txt"
        path.write_text(text, encoding="utf-8")
        return _Inputs(requirements=path)
    if plan.pinned_text is not None:
        path = tmp / "pinned.txt"
        path.write_text(plan.pinned_text, encoding="utf-8")
        return _Inputs(resolved=path)
    if plan.resolves_every_build:
        resolved = tmp / "resolved.txt"
        installer.resolve(plan.resolve_inputs, resolved, refresh=True)
        return _Inputs(resolved=resolved)
    return _Inputs()


def _install(
    installer: Installer, plan: DependencyPlan, inputs: _Inputs, state: VenvState, tmp: Path
) -> None:
    """Run the installer: resolve and sync a requirement set, or sync a locked project."""
    if installer is None:
        return
    if not isinstance(installer, (UvEngine, PipEngine)):
        cast(ProjectSync, installer).sync()
        return
    engine = installer
    resolved = inputs.resolved or tmp / "resolved.txt"
    if inputs.requirements is not None and plan.hashed:
        _check_hashes(plan)
        resolved = inputs.requirements  # hash-checking mode: installed as written, as pip does
    elif inputs.requirements is not None:
        engine.resolve([str(inputs.requirements)], resolved, display=plan.resolve_inputs[0])
    elif inputs.resolved is None:
        engine.resolve(plan.resolve_inputs, resolved)
    if plan.editable_project:
        resolved.write_text(resolved.read_text(encoding="utf-8") + "-e .\n", encoding="utf-8")
        output.info("Installing the app itself as an editable project")
    reinstall = () if state.fresh else _local_distributions(state, engine.index)
    if reinstall:
        output.info(f"Reinstalling from local sources: {', '.join(reinstall)}")
    try:
        engine.sync(resolved, hashed=plan.hashed, reinstall=reinstall)
    except CommandFailed as error:
        mismatch = hash_mismatch(error.output, error.display) if plan.hashed else None
        if mismatch is not None:
            raise mismatch from None
        raise


def _check_hashes(plan: DependencyPlan) -> None:
    """pip's hash-checking mode refuses a requirement without ``--hash`` (it would install
    it unchecked otherwise); so does python-cnb, before anything is downloaded. Lines with
    environment markers are left to the installer (pip skips those that do not apply)."""
    assert plan.requirements is not None
    missing = [
        f"{line.file} line {line.number}: {line.text}"
        for line in plan.requirements.unhashed()
        if ";" not in line.text
    ]
    if missing:
        example = next((line.text for line in plan.requirements.lines if line.hashed), "")
        raise RequirementsWithoutHashes(tuple(missing), example)


def _local_distributions(state: VenvState, index: IndexSettings) -> tuple[str, ...]:
    """Installed distributions that came from local sources (a path or ``file:`` URL, the
    app itself, a find-links directory or the vendor directory): a sync keeps a
    distribution whose version is already there, so these are reinstalled on every sync,
    whatever changed in them."""
    local_files = {
        normalize(_project_of(item.name))
        for link in index.find_links
        if Path(link).is_dir()
        for item in Path(link).iterdir()
        if item.is_file()
    }
    names = []
    for name, dist in snapshot(state.site_packages).items():
        direct_url = dist.dist_info / "direct_url.json"
        try:
            url = json.loads(direct_url.read_text(encoding="utf-8")).get("url", "")
        except (OSError, ValueError, AttributeError):
            url = ""
        if str(url).startswith("file:") or name in local_files:
            names.append(dist.name)
    return tuple(sorted(names))


def _project_of(filename: str) -> str:
    """The project name of a wheel or sdist file name (``my_lib-1.0-py3-none-any.whl``)."""
    try:
        if filename.endswith(".whl"):
            return str(parse_wheel_filename(filename)[0])
        return str(parse_sdist_filename(filename)[0])
    except ValueError:
        return filename.split("-", 1)[0]


def _log_changes(changes: Changes, fresh: bool) -> None:
    if fresh:
        count = len(changes.added)
        output.info(f"Installed {count} package{'s' if count != 1 else ''}")
        return
    for line in changes.summary():
        output.info(line)


def _compile(state: VenvState, changes: Changes) -> None:
    """Bytecode for what is new; a fresh venv gets all of site-packages compiled."""
    if state.fresh:
        compile_site_packages(state.python, state.site_packages, cwd=state.path)
        return
    _compile_changed(state, changes)


def _compile_changed(state: VenvState, changes: Changes) -> None:
    """Bytecode for the distributions ``changes`` installed or upgraded, and nothing else."""
    files = [f for dist in changes.touched for f in dist.files() if f.is_file()]
    compile_files(state.python, package_sources(files), cwd=state.path)


@dataclass(eq=False)
class ServerNotInstalled(BuildpackError):
    """The generated web process needs a server the app does not install."""

    server: str
    reason: str


def ensure_server(
    ctx: BuildContext,
    python: InstalledPython,
    state: VenvState,
    installer: Installer,
    server: str,
    reason: str,
    settings: Settings,
    index: IndexSettings,
    secrets_env: Mapping[str, str],
) -> None:
    """Install the pinned ``server`` into the venv unless the app's dependencies have it."""
    if (state.path / "bin" / server).is_file():
        output.info(f"{server} is already in the virtualenv")
        return
    if settings.no_server_install:
        raise ServerNotInstalled(server, reason)
    version = str(ctx.buildpack.metadata.get("servers", {}).get(server, ""))
    requirement = f"{server}=={version}" if version else server
    engine = _engine_for(ctx, python, installer, settings, index, secrets_env, state.python)
    state.layer.invalidate()
    before = snapshot(state.site_packages)
    engine.install([requirement])
    # Only what the server brought: _compile would recompile all of a fresh venv again.
    _compile_changed(state, compare(before, snapshot(state.site_packages)))
    finish_venv(state)
    output.info(
        f"Installed {requirement} into the virtualenv: the web process needs it and the app's "
        "dependencies do not include it (BP_PYTHON_NO_SERVER_INSTALL=true turns this off)"
    )


def _engine_for(
    ctx: BuildContext,
    python: InstalledPython,
    installer: Installer,
    settings: Settings,
    index: IndexSettings,
    secrets_env: Mapping[str, str],
    venv_python: Path,
) -> Engine:
    """An engine that can add a package: the build's own, or uv's (or pip's) otherwise."""
    if isinstance(installer, (UvEngine, PipEngine)):
        return installer
    env = tool_env(ctx.env, **secrets_env)
    if isinstance(installer, (UvProjectSync, PoetryProjectSync)) and settings.installer == "uv":
        return UvEngine(installer.uv, venv_python, ctx.app_dir, installer.env, index)
    engine = prepare_installer(ctx, python, PackageManager.PIP, settings, index, env, venv_python)
    assert isinstance(engine, (UvEngine, PipEngine))
    return engine
