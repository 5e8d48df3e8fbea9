"""The build, step by step. Each step lives in its own module; this one only orders them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from python_cnb import output
from python_cnb.cnb.bindings import Binding, bindings_of_type, read_bindings
from python_cnb.cnb.context import BuildContext
from python_cnb.cnb.launch import Launch, Process
from python_cnb.dependencies import install_dependencies
from python_cnb.distributions import Distribution, apply_mirror, for_target, load_distributions
from python_cnb.layers.python import InstalledPython, install_python
from python_cnb.layers.runtime import write_runtime_layer
from python_cnb.processes import procfile_processes
from python_cnb.procfile import parse_procfile
from python_cnb.python_version import newer_patch, resolve
from python_cnb.python_version_sources import read_requested_python_version
from python_cnb.settings import Settings


def build(ctx: BuildContext) -> None:
    """Build the app: Python, its dependencies, its processes."""
    settings = Settings.from_env(ctx.env)
    output.configure(debug=settings.debug)
    output.info(f"python-cnb {ctx.buildpack.version} for {ctx.target.describe()}")
    bindings = read_bindings(ctx.platform_dir, ctx.env)
    with output.step("Determining Python version"):
        distribution = determine_python(ctx, settings, bindings)
    processes = read_processes(ctx.app_dir)
    with output.step("Installing Python"):
        python = install_python(
            ctx,
            distribution,
            timeout=settings.download_timeout,
            retries=settings.download_retries,
            extra_ca_files=ca_files(bindings),
        )
    with output.step("Installing dependencies"):
        install_dependencies(ctx, python, keep_cache=True)
    with output.step("Configuring processes"):
        configure_processes(ctx, processes)
    summarize(python, processes)


def determine_python(
    ctx: BuildContext, settings: Settings, bindings: tuple[Binding, ...]
) -> Distribution:
    """The CPython distribution to install, from the requested version and the manifest."""
    requested = read_requested_python_version(ctx.app_dir, settings.python_version_settings)
    if requested.is_default:
        output.info("No Python version requested: using the newest available")
    else:
        output.info(f"Python {requested.text} requested by {requested.origin}")
    distributions = for_target(
        load_distributions(
            ctx.buildpack.metadata, settings.cpython_manifest, settings.download_timeout
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


def ca_files(bindings: tuple[Binding, ...]) -> tuple[Path, ...]:
    """CA certificate files of ``ca-certificates`` bindings (trusted for downloads)."""
    return tuple(
        binding.entry_path(entry)
        for binding in bindings_of_type(bindings, "ca-certificates")
        for entry in binding.entries
    )


def read_processes(app_dir: Path) -> tuple[Process, ...]:
    """The processes of the app's Procfile (parsed before anything is installed)."""
    procfile = app_dir / "Procfile"
    if not procfile.is_file():
        return ()
    return procfile_processes(
        parse_procfile(procfile.read_text(encoding="utf-8", errors="replace"))
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


def summarize(python: InstalledPython, processes: tuple[Process, ...]) -> None:
    """One line on what the image will run."""
    output.header("Summary")
    cached = " (cached)" if python.reused else ""
    types = ", ".join(process.type for process in processes) or "none"
    output.info(f"Python {python.version}{cached}; processes: {types}")
