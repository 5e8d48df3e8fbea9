"""Installing the app's dependencies into the ``venv`` layer: tools, sync, bytecode, checks."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Callable, Mapping, Optional

from python_cnb import output
from python_cnb.app.files import ToolConstraint
from python_cnb.app.package_manager import PackageManager
from python_cnb.buildpack_error import BuildpackError
from python_cnb.bytecode import compile_files, compile_site_packages, package_sources
from python_cnb.cnb.context import BuildContext
from python_cnb.config.index import IndexSettings, with_requirement_options
from python_cnb.config.settings import Settings
from python_cnb.config.tool_env import tool_env
from python_cnb.config.tool_specs import Override, ToolSpec, choose_tool
from python_cnb.dependencies.installers import Engine, Installer, NoInstaller, Run
from python_cnb.dependencies.installers.pip import PipEngine
from python_cnb.dependencies.installers.poetry import PoetryProjectSync
from python_cnb.dependencies.installers.requirement_set import RequirementSetInstaller
from python_cnb.dependencies.installers.uv import UvEngine, UvProjectSync, uv_env
from python_cnb.dependencies.plan import DependencyPlan
from python_cnb.installed import Changes, compare, snapshot
from python_cnb.layers.pip import install_pip_tools
from python_cnb.layers.poetry import install_poetry
from python_cnb.layers.python import InstalledPython
from python_cnb.layers.tool_cache import prepare_tool_cache
from python_cnb.layers.uv import UvTool, available_versions, install_uv
from python_cnb.layers.venv import VenvState, finish_venv, prepare_venv, venv_path, venv_python
from python_cnb.support.commands import CommandFailed, run_streamed


@dataclass(frozen=True)
class Tools:
    """What building an installer needs: the tools come from the platform's ``index``, the
    app's packages from ``app_index`` (the platform's settings changed by the app's
    requirement files)."""

    ctx: BuildContext
    python: InstalledPython
    settings: Settings
    index: IndexSettings
    app_index: IndexSettings
    env: Mapping[str, str]
    run: Run = run_streamed
    constraints: tuple[ToolConstraint, ...] = ()
    """The app's constraints on its tools' versions."""
    chosen: list[ToolSpec] = field(default_factory=list, compare=False)
    """The tools installed at a version other than the pinned one (named when a command
    fails)."""

    @property
    def keep(self) -> bool:
        return not self.settings.no_cache

    @property
    def venv_python(self) -> Path:
        return venv_python(self.ctx.layers_dir)

    def spec(self, tool: str, pinned: Optional[str]) -> ToolSpec:
        """The tool's spec; ``BP_PYTHON_PACKAGE_MANAGER_VERSION`` pins the ``pinned`` one
        (the tool that installs the app's dependencies), and the app's constraint on the
        tool applies wherever it runs."""
        setting = self.settings.package_manager_version
        override = Override(*setting) if setting is not None and tool == pinned else None
        constraint = next((c for c in self.constraints if c.tool == tool), None)
        arch = self.ctx.target.arch
        spec = choose_tool(
            self.ctx.buildpack.metadata,
            tool,
            arch,
            override=override,
            constraint=constraint,
            available=partial(
                available_versions,
                self.python,
                tool,
                self.index,
                self.env,
                self.ctx.app_dir,
                arch if tool == "uv" else None,
            ),
            overridable=tool == pinned,
        )
        if spec.origin is not None and spec not in self.chosen:
            self.chosen.append(spec)
        return spec

    def uv(self, pinned: Optional[str]) -> tuple[UvTool, dict[str, str]]:
        """uv from its build-only layer, and the environment it runs in (its cache)."""
        cache = prepare_tool_cache(self.ctx, "uv-cache", "uv cache", keep_cache=self.keep)
        uv = install_uv(
            self.ctx,
            self.python,
            self.spec("uv", pinned),
            self.index,
            self.env,
            keep_cache=self.keep,
        )
        return uv, uv_env(self.env, cache)


def _engine_tool(tools: Tools) -> str:
    """The tool requirement sets are installed with."""
    return "pip-tools" if tools.settings.installer == "pip" else "uv"


def _engine(tools: Tools, pinned: Optional[str] = None) -> Engine:
    """uv's pip interface, or pip with pip-tools (``BP_PYTHON_INSTALLER=pip``); the
    version setting pins the ``pinned`` tool."""
    ctx, packages = tools.ctx, tools.app_index
    if tools.settings.installer == "pip":
        cache = prepare_tool_cache(ctx, "pip-cache", "pip download cache", keep_cache=tools.keep)
        tool = install_pip_tools(
            ctx,
            tools.python,
            tools.spec("pip-tools", pinned),
            tools.index,
            {**tools.env, "PIP_CACHE_DIR": str(cache)},
            keep_cache=tools.keep,
        )
        return PipEngine(
            tool,
            tools.venv_python,
            ctx.app_dir,
            tools.env,
            packages,
            cache,
            server_index=tools.index,
            run=tools.run,
        )
    uv, environment = tools.uv(pinned)
    return UvEngine(
        uv,
        tools.venv_python,
        ctx.app_dir,
        environment,
        packages,
        resolver_python=tools.python.executable,
        server_index=tools.index,
        run=tools.run,
    )


def _adder(tools: Tools) -> Optional[Callable[[], Engine]]:
    """How a locked project or an app without dependencies adds a server: with the
    project's own uv (None), or, with ``BP_PYTHON_INSTALLER=pip``, pip, installed then."""
    if tools.settings.installer == "uv":
        return None
    return partial(_engine, replace(tools, app_index=tools.index))


def _requirement_set(tools: Tools) -> Installer:
    return RequirementSetInstaller(_engine(tools, _engine_tool(tools)))


def _uv_project(tools: Tools) -> Installer:
    uv, environment = tools.uv("uv")
    venv = venv_path(tools.ctx.layers_dir)
    return UvProjectSync(
        uv,
        tools.python.executable,
        venv,
        tools.ctx.app_dir,
        environment,
        tools.index,
        adder=_adder(tools),
        run=tools.run,
    )


def _poetry_project(tools: Tools) -> Installer:
    ctx = tools.ctx
    uv, environment = tools.uv(None)
    poetry = install_poetry(
        ctx,
        tools.python,
        uv,
        tools.spec("poetry", "poetry"),
        tools.index,
        environment,
        keep_cache=tools.keep,
    )
    cache = prepare_tool_cache(ctx, "poetry-cache", "Poetry cache", keep_cache=tools.keep)
    if tools.index.index_url and not poetry.mirror_plugin:
        output.info(
            f"Poetry {poetry.version} has no PyPI mirror plugin:"
            " the index setting does not apply to it"
        )
    return PoetryProjectSync(
        poetry,
        uv,
        venv_path(ctx.layers_dir),
        ctx.app_dir,
        environment,
        tools.index,
        cache,
        adder=_adder(tools),
        run=tools.run,
    )


def _no_dependencies(tools: Tools) -> Installer:
    return NoInstaller(partial(_engine, tools, _engine_tool(tools)))


INSTALLERS: Mapping[PackageManager, Callable[[Tools], Installer]] = {
    PackageManager.PIP: _requirement_set,
    PackageManager.PIP_TOOLS: _requirement_set,
    PackageManager.PIPENV: _requirement_set,
    PackageManager.PYPROJECT: _requirement_set,
    PackageManager.SETUPTOOLS: _requirement_set,
    PackageManager.UV: _uv_project,
    PackageManager.POETRY: _poetry_project,
    PackageManager.NONE: _no_dependencies,
}
"""The installer of each package manager (every member: a unit test checks).
``BP_PYTHON_PACKAGE_MANAGER_VERSION`` pins the tool that installs the app's dependencies:
uv (or pip-tools, ``BP_PYTHON_INSTALLER=pip``) for requirement sets and apps without
dependencies, uv for uv projects, Poetry for Poetry projects. The tools are installed from
cached build-only layers when possible."""


def make_installer(tools: Tools, manager: PackageManager) -> Installer:
    return INSTALLERS[manager](tools)


@dataclass(eq=False)
class ServerNotInstalled(BuildpackError):
    """The generated web process needs a server the app does not install."""

    server: str
    reason: str


class Venv:
    """The venv layer during the build: installed to the plan, perhaps given a server,
    then finished once (env, manifest, metadata, SBOM) by :meth:`finish`."""

    def __init__(
        self, ctx: BuildContext, settings: Settings, state: VenvState, installer: Installer
    ) -> None:
        self.ctx, self.settings, self.state, self.installer = ctx, settings, state, installer
        self._finished = False

    @property
    def path(self) -> Path:
        return self.state.path

    @property
    def site_packages(self) -> Path:
        return self.state.site_packages

    def add_server(self, server: str, reason: str) -> None:
        """Install the pinned ``server`` into the venv unless the app's dependencies have it."""
        assert not self._finished, "the venv layer is finished"
        if (self.path / "bin" / server).is_file():
            output.info(f"{server} is already in the virtualenv")
            return
        if self.settings.no_server_install:
            raise ServerNotInstalled(server, reason)
        version = str(self.ctx.buildpack.metadata.get("servers", {}).get(server, ""))
        requirement = f"{server}=={version}" if version else server
        self.state.layer.invalidate()  # a venv kept untouched still has its restored TOML
        before = snapshot(self.site_packages)
        self.installer.add([requirement])
        # Only what the server brought: _compile would recompile all of a fresh venv again.
        _compile_changed(self.state, compare(before, snapshot(self.site_packages)))
        output.info(
            f"Installed {requirement} into the virtualenv: the web process needs it and the "
            "app's dependencies do not include it (BP_PYTHON_NO_SERVER_INSTALL=true turns "
            "this off)"
        )

    def finish(self, hashes: Mapping[tuple[str, str], tuple[str, ...]]) -> None:
        """The venv is complete: write its layer, with the lock's ``hashes`` in its SBOM."""
        assert not self._finished, "the venv layer is finished"
        self._finished = True
        finish_venv(self.state, hashes, self.ctx.buildpack.sbom_formats)


def install_dependencies(
    ctx: BuildContext,
    python: InstalledPython,
    plan: DependencyPlan,
    settings: Settings,
    index: IndexSettings,
    secrets_env: Mapping[str, str],
    run: Run = run_streamed,
) -> Venv:
    """Bring the venv layer to ``plan``: untouched, synced incrementally, or rebuilt."""
    env = tool_env(ctx.env, **secrets_env)
    app_index = index
    if plan.requirements is not None and plan.requirements.options:
        app_index = with_requirement_options(index, plan.requirements.options)
        if app_index != index:
            output.info("The app's requirement files change the package index settings:")
            for line in app_index.describe():
                output.detail(line)
    tools = Tools(
        ctx, python, settings, index, app_index, env, run, constraints=plan.tool_constraints
    )
    try:
        return _install(ctx, tools, plan, settings, app_index)
    except CommandFailed as failure:
        if not tools.chosen:
            raise
        chosen = tuple((s.name, s.version, s.origin or "") for s in tools.chosen)
        raise replace(failure, chosen_tools=chosen) from None


def _install(
    ctx: BuildContext,
    tools: Tools,
    plan: DependencyPlan,
    settings: Settings,
    app_index: IndexSettings,
) -> Venv:
    installer = make_installer(tools, plan.manager)
    with tempfile.TemporaryDirectory(prefix="python-cnb-requirements-") as tmp:
        inputs = installer.prepare(plan, Path(tmp))
        fingerprint = plan.fingerprint(ctx.app_dir, app_index, inputs.resolved_text())
        state = prepare_venv(
            ctx,
            tools.python,
            installer=installer.description,
            package_manager=plan.manager.value,
            dependencies=fingerprint,
            keep_cache=not settings.no_cache,
            explain=lambda previous: plan.explain(previous, fingerprint, ctx.app_dir, app_index),
            always_update=[
                f"{source.name or 'A requirement'} comes from {source.shown}, which names no "
                "commit: a branch or tag may have moved since, so it is reinstalled on every "
                "build (pin a full commit hash, @<sha>, to reuse the virtualenv)"
                for source in plan.unpinned_vcs
            ],
        )
        venv = Venv(ctx, settings, state, installer)
        if state.up_to_date:
            return venv
        state.layer.invalidate()
        before = snapshot(state.site_packages)
        installer.install(plan, inputs, state)
    changes = compare(before, snapshot(state.site_packages))
    _log_changes(changes, state.fresh)
    _compile(state, changes)
    if plan.manager is PackageManager.NONE:
        return venv  # nothing installed, nothing to check
    if settings.check_dependencies:
        installer.check()
    else:
        output.info("Skipping the dependency check (BP_PYTHON_CHECK_DEPENDENCIES=false)")
    return venv


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
