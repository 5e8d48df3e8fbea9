"""pip with pip-tools: ``pip-compile`` and ``pip-sync`` (``BP_PYTHON_INSTALLER=pip``)."""

from __future__ import annotations

import shlex
import tempfile
from pathlib import Path
from typing import Mapping, Optional, Sequence

from python_cnb.config.index import IndexSettings, without_index_environment
from python_cnb.dependencies.installers import DependencyConflict, Run
from python_cnb.layers.pip import PipTool
from python_cnb.support.commands import CommandFailed, run_streamed


class PipEngine:
    """``pip-compile`` / ``pip-sync`` / ``pip check`` against one venv.

    pip-sync runs ``<venv python> -m pip``, but the app's venv has no pip (and must not get
    one): pip is lent through ``PYTHONPATH`` as a directory holding only the ``pip``
    package, which carries no distribution metadata, so nothing else changes.
    """

    def __init__(
        self,
        tool: PipTool,
        venv_python: Path,
        app_dir: Path,
        env: Mapping[str, str],
        index: IndexSettings,
        cache_dir: Path,
        *,
        server_index: Optional[IndexSettings] = None,
        run: Run = run_streamed,
    ) -> None:
        self.tool, self.venv_python, self.app_dir, self.index = tool, venv_python, app_dir, index
        self.run = run
        self.server_index = server_index or index
        self.env = {
            **without_index_environment(env),
            "PIP_CACHE_DIR": str(cache_dir),
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PIP_NO_INPUT": "1",
            "PIP_PROGRESS_BAR": "off",
            # Empty values override a pip.conf binding's lists: ``index`` already holds them,
            # or the app's own --index-url replaced them (as pip itself would).
            "PIP_EXTRA_INDEX_URL": "",
            "PIP_FIND_LINKS": "",
            **index.pip_env(),
        }
        self.cache_dir = cache_dir

    @property
    def description(self) -> str:
        return self.tool.description

    def _pip_args(self, *first: str) -> list[str]:
        args = [*first, *self.index.pip_format_args()]
        return ["--pip-args", shlex.join(args)] if args else []

    def resolve(
        self, inputs: Sequence[str], output: Path, *, display: str = "", refresh: bool = False
    ) -> None:
        self.run(
            self.tool.script(
                "pip-compile",
                "--no-header",
                "--no-annotate",
                "--no-emit-index-url",
                "--no-emit-trusted-host",
                "--no-emit-find-links",
                "--allow-unsafe",
                "--strip-extras",
                "--cache-dir",
                str(self.cache_dir / "pip-tools"),
                "--output-file",
                str(output),
                *(["--rebuild"] if refresh else []),
                *(["--pre"] if self.index.pre else []),
                *self._pip_args(),
                *self.index.pip_options(),
                *inputs,
            ),
            cwd=self.app_dir,
            env=self.env,
            display=f"pip-compile {display or ' '.join(inputs)}",
        )

    def sync(self, requirements: Path, *, hashed: bool, reinstall: Sequence[str] = ()) -> None:
        if reinstall:  # pip-sync keeps what has the right version: make it install these anew
            self.run(
                self.tool.pip("--python", str(self.venv_python), "uninstall", "-y", *reinstall),
                cwd=self.app_dir,
                env=self.env,
                display=f"pip uninstall {' '.join(reinstall)}",
                echo=False,
            )
        with tempfile.TemporaryDirectory(prefix="python-cnb-pip-") as tmp:
            (Path(tmp) / "pip").symlink_to(self.tool.pip_package_dir)
            self.run(
                self.tool.script(
                    "pip-sync",
                    "--python-executable",
                    str(self.venv_python),
                    *self._pip_args("--no-compile", *(["--require-hashes"] if hashed else [])),
                    *self.index.pip_options(),
                    str(requirements),
                ),
                cwd=self.app_dir,
                env={**self.env, "PYTHONPATH": tmp},
                display="pip-sync",
            )

    def install(self, requirements: Sequence[str]) -> None:
        self.run(
            self.tool.pip(
                "--python",
                str(self.venv_python),
                "install",
                "--no-compile",
                *requirements,
                *self.server_index.pip_options(),
            ),
            cwd=self.app_dir,
            env=self.env,
            display=f"pip install {' '.join(requirements)}",
        )

    def check(self) -> None:
        try:
            self.run(
                self.tool.pip("--python", str(self.venv_python), "check"),
                cwd=self.app_dir,
                env=self.env,
                display="pip check",
                echo=False,
            )
        except CommandFailed as error:
            raise DependencyConflict("pip check", error.output) from None
