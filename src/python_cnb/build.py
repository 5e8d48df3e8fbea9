"""The build, step by step. Each step lives in its own module; this one only orders them."""

from __future__ import annotations

from pathlib import Path
from typing import Optional, cast

from python_cnb import notices, output
from python_cnb.app.files import AppFiles
from python_cnb.app.lock_hashes import recorded_hashes
from python_cnb.app.package_manager import PackageManager, determine_package_manager
from python_cnb.app.pipfile_lock import expand_variables
from python_cnb.bytecode import (
    APP_EXCLUDE,
    compile_bytecode,
    compile_source_file,
    only_not_written,
)
from python_cnb.cnb.bindings import Binding, read_bindings
from python_cnb.cnb.context import BuildContext
from python_cnb.cnb.launch import Launch, Process
from python_cnb.cnb.layers import Layer
from python_cnb.config.forbidden_env import check_forbidden_env
from python_cnb.config.index import (
    IndexSettings,
    read_index_settings,
    with_lock_sources,
    with_requirement_options,
)
from python_cnb.config.secrets import BuildSecrets, prepare_build_secrets
from python_cnb.config.settings import Settings
from python_cnb.config.tool_env import tool_env
from python_cnb.dependencies.install import Venv, install_dependencies
from python_cnb.dependencies.plan import DependencyPlan, plan_dependencies
from python_cnb.dependencies.undeclared import check_undeclared_imports
from python_cnb.django import collect_static_files, django_installed
from python_cnb.layers import manifest as layer_manifest
from python_cnb.layers import python as python_layer
from python_cnb.layers import venv as venv_layer
from python_cnb.layers.build_pip import write_build_pip
from python_cnb.layers.python import InstalledPython, install_python
from python_cnb.layers.runtime import cartridge_dir, write_runtime_layer
from python_cnb.processes.declared import (
    CARTRIDGE_SOURCE,
    ProcessPlan,
    command_line,
    declared_processes,
    with_web_command,
)
from python_cnb.processes.executables import missing_commands, search_path
from python_cnb.processes.inference import example_spec, findings, infer_web
from python_cnb.programs import app_inspect
from python_cnb.programs.app_inspect import Inspection
from python_cnb.python.selection import determine_python
from python_cnb.python.version import RequestedPythonVersion
from python_cnb.replay import Paths as ReplayPaths
from python_cnb.replay import Recorder
from python_cnb.support.commands import CommandFailed, tail
from python_cnb.support.download import TrustStore
from python_cnb.support.download import configure as download_limits
from python_cnb.support.simple_index import project_files


def build(ctx: BuildContext) -> None:
    """Build the app: check the configuration, then Python, dependencies, processes."""
    settings = Settings.from_env(ctx.env)
    output.configure(debug=settings.debug)
    download_limits(max_bytes=settings.download_max_bytes, deadline=settings.download_deadline)
    output.info(f"python-cnb {ctx.buildpack.version} for {ctx.target.describe()}")
    check_forbidden_env(ctx.env)
    bindings = read_bindings(ctx.platform_dir, ctx.env)
    secrets = prepare_build_secrets(bindings)
    for note in secrets.notes:
        output.info(note)
    files = AppFiles(ctx.app_dir, ctx.env)
    if not settings.no_cache:
        verify_cached_layers(ctx)
    recorder = start_record(ctx, settings)
    try:
        with output.step("Determining package manager"):
            plan, index = determine_dependencies(ctx, files, settings, bindings)
        with output.step("Determining Python version"):
            tls = TrustStore(secrets.ca_files)  # made by the first HTTPS connection, if any
            lock_files = [f.name for f in plan.files]
            selection = determine_python(ctx, files, settings, bindings, lock_files, tls)
        declared = declared_processes(ctx.app_dir, settings)
        with output.step("Installing Python"):
            python = install_python(
                ctx,
                selection.distribution,
                timeout=settings.download_timeout,
                retries=settings.download_retries,
                tls=tls,
                keep_cache=not settings.no_cache,
            )
        with output.step(f"Installing dependencies ({plan.manager.label})"):
            if plan.manager is PackageManager.NONE:
                check_undeclared_imports(python, ctx.app_dir, settings.allow_undeclared_imports)
            venv = install_app_dependencies(
                ctx, selection.requested, settings, python, plan, index, secrets
            )
            pip = write_build_pip(ctx, python, venv.path / "bin" / "python")
            output.info(f"Later buildpacks' pip ({pip}) installs into the app's venv (build only)")
        with output.step("Choosing processes"):
            processes = choose_processes(ctx, files, settings, python, venv, declared)
            if processes.server is not None:
                venv.add_server(processes.server, processes.reason)
            check_commands(ctx, python, venv, processes)
        venv.finish(recorded_hashes(files, plan.manager))
        if django_installed(venv.site_packages):
            with output.step("Collecting Django static files"):
                collect_static_files(
                    ctx,
                    python,
                    venv.path,
                    venv.site_packages,
                    tool_env(ctx.env, **secrets.env),
                    secrets=tuple(secrets.env),
                    keep_cache=not settings.no_cache,
                    opt_out=settings.collectstatic_opt_out,
                )
        with output.step("Compiling the app to bytecode"):
            compile_app(ctx, python, processes)
        with output.step("Configuring processes"):
            configured = configure_processes(ctx, python, processes)
    finally:
        secrets.close()
    finish_record(recorder, plan, [*configured, summarize(python, plan, processes.processes)])


def start_record(ctx: BuildContext, settings: Settings) -> Recorder:
    """Take this build's inputs, to record its result for the next unchanged build
    (:mod:`python_cnb.replay`); a build whose result depends on more is not recorded."""
    recorder = Recorder(ReplayPaths.of(ctx), ctx.env)
    if settings.no_cache:
        recorder.block("no-cache")
    if settings.cpython_manifest and "://" in settings.cpython_manifest:
        recorder.block("manifest-url")
    return recorder


def finish_record(recorder: Recorder, plan: DependencyPlan, summary: list[str]) -> None:
    """Record the build's result, unless its dependencies depend on more than its inputs."""
    if plan.unpinned_vcs:
        recorder.block("unpinned-vcs")
    if plan.resolves_every_build:
        recorder.block("resolves-every-build")
    recorder.finish(summary)


def verify_cached_layers(ctx: BuildContext) -> None:
    """Begin checking the restored python and venv layers against their content manifests,
    in the background: the hashing overlaps the steps before each layer's reuse is decided,
    where the check's result is taken (or, for a layer discarded anyway, stopped)."""
    for name in (python_layer.LAYER_NAME, venv_layer.LAYER_NAME):
        layer_manifest.verify_restored_in_background(Layer(ctx.layers_dir, name))


def determine_dependencies(
    ctx: BuildContext, files: AppFiles, settings: Settings, bindings: tuple[Binding, ...]
) -> tuple[DependencyPlan, IndexSettings]:
    """The package manager, what it installs from, and the package index."""
    if settings.no_cache:
        output.info("Clean build requested (BUILD_NO_CACHE): no cached layer is reused")
    choice = determine_package_manager(files, settings.package_manager)
    output.info(f"Using {choice.manager.label}: {choice.reason}")
    plan = plan_dependencies(files, choice.manager)
    if plan.files:
        output.info(f"Dependencies from {plan.describe(ctx.app_dir)}")
    if plan.manager.requirements_style:
        installer = "pip with pip-tools" if settings.installer == "pip" else "uv"
        output.info(f"Installer: {installer} (BP_PYTHON_INSTALLER={settings.installer})")
    sources = tuple(expand_variables(source, ctx.env) for source in plan.lock_sources)
    index = with_lock_sources(
        read_index_settings(ctx.env, bindings, ctx.app_dir, settings.vendor_dir),
        sources,
        plan.lock_insecure_hosts,
    )
    for line in index.describe():
        output.info(line)
    return plan, index


def install_app_dependencies(
    ctx: BuildContext,
    requested: RequestedPythonVersion,
    settings: Settings,
    python: InstalledPython,
    plan: DependencyPlan,
    index: IndexSettings,
    secrets: BuildSecrets,
) -> Venv:
    """The venv, synced to ``plan``; a package that fails to build from source is named,
    with the Python it was built for and why that Python was chosen."""
    try:
        return install_dependencies(ctx, python, plan, settings, index, secrets.env)
    except CommandFailed as failure:
        # Imported on failure only: a build that installs fine never loads it.
        from python_cnb.dependencies.failure import explain

        origin = None if requested.is_default else requested.origin
        app_index = index
        pins: dict[str, str] = {}
        if plan.requirements is not None:
            app_index = with_requirement_options(index, plan.requirements.options)
            pins = dict(line.pin for line in plan.requirements.lines if line.pin)
        env = tool_env(ctx.env, **secrets.env)
        raise explain(
            failure,
            str(python.version),
            python.version.line,
            origin,
            lookup=lambda package: project_files(package, app_index, env),
            pins=pins,
            arch=ctx.target.arch,
        ) from None


def choose_processes(
    ctx: BuildContext,
    files: AppFiles,
    settings: Settings,
    python: InstalledPython,
    venv: Venv,
    declared: Optional[ProcessPlan],
) -> ProcessPlan:
    """The Procfile's processes (the platform's or the app's), or an inferred web process."""
    plan = with_web_command(declared, settings.web_command)
    if plan is not None:
        types = ", ".join(p.type for p in plan.processes)
        output.info(f"Processes from {plan.source}: {types}")
        return plan
    inspection = run_app_inspect(python, ctx.app_dir)
    inferred = infer_web(inspection, files, venv.path / "bin", cartridge_dir(ctx))
    if inferred is not None:
        output.info(f"No Procfile: web runs '{command_line(inferred.processes[0])}'")
        output.detail(f"because of {inferred.reason}")
        return inferred
    found = findings(inspection, files, venv.path / "bin")
    output.warning(*notices.no_web_process(found, example_spec(inspection)))
    return ProcessPlan((), "none")


def check_commands(
    ctx: BuildContext, python: InstalledPython, venv: Venv, processes: ProcessPlan
) -> None:
    """A declared process's command must exist in the image: one that nothing provides gets
    a warning naming its package (the venv holds what the app's files list, no more)."""
    directories = search_path(
        venv.path / "bin", python.layout.bin, path_variable=ctx.env.get("PATH", "")
    )
    for missing in missing_commands(processes.processes, directories):
        output.warning(
            *notices.missing_command(
                missing.process, missing.command, missing.package, processes.source
            )
        )


def run_app_inspect(python: InstalledPython, app_dir: Path) -> Inspection:
    """Run :mod:`python_cnb.programs.app_inspect` with the app's interpreter (its grammar)."""
    # The program's own output, printed from an Inspection.
    return cast(Inspection, python.run_program(Path(app_inspect.__file__), app_dir))


def compile_app(ctx: BuildContext, python: InstalledPython, processes: ProcessPlan) -> None:
    """The app's own modules get bytecode too, so the first request compiles nothing;
    ``wsgi/application`` as well, when the web process serves it."""
    try:
        compile_bytecode(
            python.executable,
            [ctx.app_dir],
            cwd=ctx.app_dir,
            exclude=APP_EXCLUDE,
            display="compile bytecode (the app)",
        )
        if processes.uses_cartridge:
            compile_source_file(python.executable, ctx.app_dir / CARTRIDGE_SOURCE, cwd=ctx.app_dir)
        output.info("Compiled the app's Python files")
    except CommandFailed as error:
        if only_not_written(error):
            output.warning(*notices.bytecode_not_written(tail(error.output, 15)))
            return
        output.warning(*notices.app_not_compiled(tail(error.output, 15)))


def configure_processes(ctx: BuildContext, python: InstalledPython, plan: ProcessPlan) -> list[str]:
    """Write launch.toml and the launch-time defaults; the lines that name the processes."""
    write_runtime_layer(ctx, python, plan)
    Launch(processes=plan.processes).write(ctx.layers_dir)
    lines = []
    for process in plan.processes:
        marker = " (default)" if process.default else ""
        lines.append(f"{process.type}{marker}: {command_line(process)}")
        output.info(lines[-1])
    return lines


def summarize(python: InstalledPython, plan: DependencyPlan, processes: tuple[Process, ...]) -> str:
    """One line on what the image will run; returned without "(cached)", which says how
    this build got the Python, not what the image holds."""
    output.header("Summary")
    types = ", ".join(process.type for process in processes) or "none"
    rest = f"{plan.manager.label}; processes: {types}"
    cached = " (cached)" if python.reused else ""
    output.info(f"Python {python.version}{cached}; {rest}")
    return f"Python {python.version}; {rest}"
