"""The build, step by step. Each step lives in its own module; this one only orders them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from python_cnb import output
from python_cnb.build_secrets import prepare_build_secrets
from python_cnb.bytecode import APP_EXCLUDE, compile_bytecode
from python_cnb.cnb.bindings import Binding, read_bindings
from python_cnb.cnb.context import BuildContext
from python_cnb.cnb.launch import Launch, Process
from python_cnb.dependencies import install_dependencies
from python_cnb.dependency_plan import DependencyPlan, plan_dependencies
from python_cnb.distributions import Distribution, apply_mirror, for_target, load_distributions
from python_cnb.download import ssl_context
from python_cnb.forbidden_env import check_forbidden_env
from python_cnb.layers.python import InstalledPython, install_python
from python_cnb.layers.runtime import write_runtime_layer
from python_cnb.package_index import IndexSettings, read_index_settings, with_lock_sources
from python_cnb.package_manager import determine_package_manager
from python_cnb.pipfile_lock import expand_variables
from python_cnb.processes import procfile_processes
from python_cnb.procfile import parse_procfile
from python_cnb.python_version import newer_patch, resolve
from python_cnb.python_version_sources import check_locked_python, read_requested_python_version
from python_cnb.settings import Settings
from python_cnb.subprocess_runner import CommandFailed, tail


def build(ctx: BuildContext) -> None:
    """Build the app: check the configuration, then Python, dependencies, processes."""
    settings = Settings.from_env(ctx.env)
    output.configure(debug=settings.debug)
    output.info(f"python-cnb {ctx.buildpack.version} for {ctx.target.describe()}")
    check_forbidden_env(ctx.env)
    bindings = read_bindings(ctx.platform_dir, ctx.env)
    secrets = prepare_build_secrets(bindings)
    for note in secrets.notes:
        output.info(note)
    try:
        with output.step("Determining package manager"):
            plan, index = determine_dependencies(ctx, settings, bindings)
        with output.step("Determining Python version"):
            distribution = determine_python(ctx, settings, bindings, plan, secrets.ca_files)
        processes = read_processes(ctx.app_dir)
        with output.step("Installing Python"):
            python = install_python(
                ctx,
                distribution,
                timeout=settings.download_timeout,
                retries=settings.download_retries,
                extra_ca_files=secrets.ca_files,
                keep_cache=not settings.no_cache,
            )
        with output.step(f"Installing dependencies ({plan.manager.label})"):
            install_dependencies(ctx, python, plan, settings, index, secrets.env)
        with output.step("Compiling the app to bytecode"):
            compile_app(ctx, python)
        with output.step("Configuring processes"):
            configure_processes(ctx, processes)
    finally:
        secrets.close()
    summarize(python, plan, processes)


def determine_dependencies(
    ctx: BuildContext, settings: Settings, bindings: tuple[Binding, ...]
) -> tuple[DependencyPlan, IndexSettings]:
    """The package manager, what it installs from, and the package index."""
    if settings.no_cache:
        output.info("Clean build requested (BUILD_NO_CACHE): no cached layer is reused")
    choice = determine_package_manager(ctx.app_dir, ctx.env)
    output.info(f"Using {choice.manager.label}: {choice.reason}")
    plan = plan_dependencies(ctx.app_dir, choice.manager)
    if plan.files:
        output.info(f"Dependencies from {plan.describe(ctx.app_dir)}")
    if plan.manager.requirements_style:
        installer = "pip with pip-tools" if settings.installer == "pip" else "uv"
        output.info(f"Installer: {installer} (BP_PYTHON_INSTALLER={settings.installer})")
    sources = tuple(expand_variables(source, ctx.env) for source in plan.lock_sources)
    index = with_lock_sources(
        read_index_settings(ctx.env, bindings, ctx.app_dir), sources, plan.lock_insecure_hosts
    )
    for line in index.describe():
        output.info(line)
    return plan, index


def determine_python(
    ctx: BuildContext,
    settings: Settings,
    bindings: tuple[Binding, ...],
    plan: DependencyPlan,
    ca_files: tuple[Path, ...] = (),
) -> Distribution:
    """The CPython distribution to install, from the requested version and the manifest."""
    requested = read_requested_python_version(ctx.app_dir, settings.python_version_settings)
    if requested.is_default:
        output.info("No Python version requested: using the newest available")
    else:
        output.info(f"Python {requested.text} requested by {requested.origin}")
    distributions = for_target(
        load_distributions(
            ctx.buildpack.metadata,
            settings.cpython_manifest,
            settings.download_timeout,
            ssl_context(ca_files),
        ),
        ctx.target.os,
        ctx.target.arch,
    )
    available = [d.version for d in distributions]
    version = resolve(
        requested,
        available,
        target=ctx.target.describe(),
        today=date.today(),
        allow_end_of_life=settings.allow_end_of_life,
    )
    check_locked_python(ctx.app_dir, version, requested, [f.name for f in plan.files])
    output.info(f"Selected Python {version}")
    newer = newer_patch(version, available)
    if newer is not None:
        output.warning(
            f"Python {version} is not the newest {version.line} release",
            f"Python {newer} is available, with fixes {version} lacks. Ask for {version.line} "
            f"instead of {version} ({requested.origin}) to get every patch release automatically.",
        )
    if requested.is_default:
        output.info(f"Tip: pin the version with a .python-version file containing {version.line}")
    distribution = next(d for d in distributions if d.version == version)
    return distribution.with_uri(apply_mirror(distribution.uri, ctx.env, bindings))


def read_processes(app_dir: Path) -> tuple[Process, ...]:
    """The processes of the app's Procfile (parsed before anything is installed)."""
    procfile = app_dir / "Procfile"
    if not procfile.is_file():
        return ()
    return procfile_processes(
        parse_procfile(procfile.read_text(encoding="utf-8", errors="replace"))
    )


def compile_app(ctx: BuildContext, python: InstalledPython) -> None:
    """The app's own modules get bytecode too, so the first request compiles nothing."""
    try:
        compile_bytecode(
            python.executable,
            [ctx.app_dir],
            cwd=ctx.app_dir,
            exclude=APP_EXCLUDE,
            display="python -m compileall (the app)",
        )
        output.info("Compiled the app's Python files")
    except CommandFailed as error:
        output.warning(
            "Some of the app's Python files do not compile",
            "They are left as they are; if the app imports them, it will fail at run time.\n"
            + tail(error.output, 15),
        )


def configure_processes(ctx: BuildContext, processes: tuple[Process, ...]) -> None:
    """Write launch.toml and the launch-time defaults."""
    write_runtime_layer(ctx)
    Launch(processes=processes).write(ctx.layers_dir)
    if not processes:
        output.info("No Procfile: no process types were written")
    for process in processes:
        marker = " (default)" if process.default else ""
        output.info(f"{process.type}{marker}: {process.command[-1]}")


def summarize(
    python: InstalledPython, plan: DependencyPlan, processes: tuple[Process, ...]
) -> None:
    """One line on what the image will run."""
    output.header("Summary")
    cached = " (cached)" if python.reused else ""
    types = ", ".join(process.type for process in processes) or "none"
    output.info(f"Python {python.version}{cached}; {plan.manager.label}; processes: {types}")
