"""Installing the app's dependencies into the ``venv`` layer."""

from __future__ import annotations

from python_cnb import output
from python_cnb.build_env import tool_env
from python_cnb.cnb.context import BuildContext
from python_cnb.layers.pip import install_pip
from python_cnb.layers.pip_cache import prepare_pip_cache
from python_cnb.layers.python import InstalledPython
from python_cnb.layers.venv import InstalledVenv, install_requirements
from python_cnb.package_index import read_index_settings
from python_cnb.requirements_files import collect, fingerprint

REQUIREMENTS_TXT = "requirements.txt"


def install_dependencies(
    ctx: BuildContext, python: InstalledPython, *, keep_cache: bool
) -> InstalledVenv:
    """requirements.txt (with its ``-r``/``-c`` files) into the app's virtualenv."""
    requirements = ctx.app_dir / REQUIREMENTS_TXT
    files = collect(requirements, ctx.app_dir) if requirements.is_file() else ()
    if files:
        output.info(
            f"Installing from {', '.join(str(f.relative_to(ctx.app_dir.resolve())) for f in files)}"
        )
    index = read_index_settings(ctx.env)
    if index.index_url:
        output.info(f"Package index: {index.index_url} (from {index.index_url_setting})")
    if not files:
        output.info("No requirements.txt: the virtualenv gets no packages")
    pip = install_pip(ctx, python, keep_cache=keep_cache) if files else None
    cache = prepare_pip_cache(ctx, keep_cache=keep_cache)
    env = tool_env(
        ctx.env,
        PIP_CACHE_DIR=str(cache),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_NO_INPUT="1",
        **index.pip_env(),
    )
    return install_requirements(
        ctx,
        python,
        pip,
        requirements=REQUIREMENTS_TXT if files else "",
        fingerprint=fingerprint(files, ctx.app_dir) if files else "no requirements",
        tool_env=env,
        keep_cache=keep_cache,
    )
