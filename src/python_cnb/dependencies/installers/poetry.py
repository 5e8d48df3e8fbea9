"""Poetry projects: ``poetry sync --only main`` into the buildpack's venv."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Callable, Mapping, Optional, Sequence

from python_cnb.config.index import IndexSettings
from python_cnb.dependencies.installers import Engine, Inputs, LockFileOutOfDate, Run
from python_cnb.dependencies.installers.uv import UvEngine, uv_check
from python_cnb.dependencies.plan import DependencyPlan
from python_cnb.layers.poetry import PoetryTool
from python_cnb.layers.uv import UvTool
from python_cnb.layers.venv import VenvState
from python_cnb.support.commands import CommandFailed, run_streamed


class PoetryProjectSync:
    """Poetry installs into the virtualenv it finds active (``VIRTUAL_ENV``).

    A server is added with uv's pip interface in Poetry's environment, unless ``adder``
    gives the engine to use instead (pip, when ``BP_PYTHON_INSTALLER=pip``)."""

    def __init__(
        self,
        poetry: PoetryTool,
        uv: UvTool,
        venv: Path,
        app_dir: Path,
        env: Mapping[str, str],
        index: IndexSettings,
        cache_dir: Path,
        *,
        adder: Optional[Callable[[], Engine]] = None,
        run: Run = run_streamed,
    ) -> None:
        self.poetry, self.uv, self.venv, self.app_dir = poetry, uv, venv, app_dir
        self.index, self.adder, self.run = index, adder, run
        self.env = {
            **env,
            "VIRTUAL_ENV": str(venv),
            "PATH": f"{venv / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}",
            "POETRY_CACHE_DIR": str(cache_dir),
            "POETRY_NO_INTERACTION": "1",
            "POETRY_VIRTUALENVS_CREATE": "false",
            "POETRY_KEYRING_ENABLED": "false",
            "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        }
        if index.index_url and poetry.mirror_plugin:
            self.env["POETRY_PYPI_MIRROR_URL"] = index.index_url
        # Poetry's HTTP client reads REQUESTS_CA_BUNDLE, not SSL_CERT_FILE: a CA the user
        # gives as SSL_CERT_FILE (which uv and pip honour) must reach Poetry too.
        if env.get("SSL_CERT_FILE") and not env.get("REQUESTS_CA_BUNDLE"):
            self.env["REQUESTS_CA_BUNDLE"] = env["SSL_CERT_FILE"]

    @property
    def description(self) -> str:
        return self.poetry.description

    def prepare(self, plan: DependencyPlan, workdir: Path) -> Inputs:
        return Inputs(workdir)  # the lock is the input: nothing to write

    def install(self, plan: DependencyPlan, inputs: Inputs, venv: VenvState) -> None:
        with tempfile.TemporaryDirectory(prefix="python-cnb-poetry-home-") as home:
            env = {
                **self.env,
                "POETRY_CONFIG_DIR": f"{home}/config",
                "POETRY_DATA_DIR": f"{home}/data",
            }
            try:
                self.run(
                    [
                        str(self.poetry.binary),
                        "sync",
                        "--only",
                        "main",
                        "--no-interaction",
                        "--no-ansi",
                    ],
                    cwd=self.app_dir,
                    env=env,
                    display="poetry sync --only main",
                )
            except CommandFailed as error:
                if "changed significantly since poetry.lock was last generated" in error.output:
                    raise LockFileOutOfDate("poetry.lock", "poetry lock", error.output) from None
                raise

    def check(self) -> None:
        """Poetry has no ``pip check`` of its own: uv checks the venv."""
        uv_check(self.uv, self.venv / "bin" / "python", self.app_dir, self.env, self.run)

    def add(self, requirements: Sequence[str]) -> None:
        if self.adder is not None:
            engine = self.adder()
        else:
            python = self.venv / "bin" / "python"
            engine = UvEngine(self.uv, python, self.app_dir, self.env, self.index, run=self.run)
        engine.install(requirements)
