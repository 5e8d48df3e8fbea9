"""Installing the app's dependencies into the ``venv`` layer: tools, sync, bytecode, checks."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional, Union, cast

from python_cnb import output
from python_cnb.build_env import tool_env
from python_cnb.buildpack_error import BuildpackError
from python_cnb.bytecode import compile_files, compile_site_packages, package_sources
from python_cnb.cnb.context import BuildContext
from python_cnb.dependency_plan import DependencyPlan
from python_cnb.installed import Changes, compare, snapshot
from python_cnb.installers import Engine, ProjectSync
from python_cnb.installers.pip import PipEngine
from python_cnb.installers.poetry import PoetryProjectSync
from python_cnb.installers.uv import UvEngine, UvProjectSync, uv_env
from python_cnb.layers.pip import install_pip_tools
from python_cnb.layers.poetry import install_poetry
from python_cnb.layers.python import InstalledPython
from python_cnb.layers.tool_cache import prepare_tool_cache
from python_cnb.layers.uv import UvTool, install_uv
from python_cnb.layers.venv import VenvLayerMetadata, VenvState, finish_venv, prepare_venv
from python_cnb.package_index import IndexSettings
from python_cnb.package_manager import PackageManager
from python_cnb.settings import Settings
from python_cnb.tool_specs import tool_spec

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
) -> Installer:
    """The tools this build needs (from cached build-only layers when possible)."""
    keep = not settings.no_cache
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
        return PipEngine(tool, venv_python, ctx.app_dir, env, index, cache)
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
    return UvEngine(uv, venv_python, ctx.app_dir, environment, index)


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


def _install(installer: Installer, plan: DependencyPlan, app_dir: Path) -> None:
    """Run the installer: resolve and sync a requirement set, or sync a locked project."""
    if installer is None:
        return
    if not isinstance(installer, (UvEngine, PipEngine)):
        cast(ProjectSync, installer).sync()
        return
    engine = installer
    with tempfile.TemporaryDirectory(prefix="python-cnb-requirements-") as tmp:
        resolved = Path(tmp) / "requirements.txt"
        if plan.pinned_file is not None:
            resolved = app_dir / plan.pinned_file
        elif plan.pinned_text is not None:
            resolved.write_text(plan.pinned_text, encoding="utf-8")
        else:
            engine.resolve(plan.resolve_inputs, resolved)
        if plan.editable_project:
            resolved.write_text(resolved.read_text(encoding="utf-8") + "-e .\n", encoding="utf-8")
            output.info("Installing the app itself as an editable project")
        engine.sync(resolved, hashed=plan.hashed)


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
    installer = prepare_installer(ctx, python, plan.manager, settings, index, env, venv_python)
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
        dependencies=plan.fingerprint(ctx.app_dir),
    )
    state = prepare_venv(
        ctx,
        python,
        metadata,
        keep_cache=not settings.no_cache,
        changed_files=plan.describe(ctx.app_dir),
    )
    if state.up_to_date:
        finish_venv(state)
        return state, installer
    state.layer.invalidate()
    before = snapshot(state.site_packages)
    _install(installer, plan, ctx.app_dir)
    changes = compare(before, snapshot(state.site_packages))
    _log_changes(changes, state.fresh)
    _compile(state, changes)
    if settings.check_dependencies and installer is not None:
        installer.check()
    elif installer is not None:
        output.info("Skipping the dependency check (BP_PYTHON_CHECK_DEPENDENCIES=false)")
    finish_venv(state)
    return state, installer


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
