"""pip with pip-tools: ``pip-compile`` and ``pip-sync`` (``BP_PYTHON_INSTALLER=pip``)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Mapping, Sequence

from python_cnb.installers import DependencyConflict
from python_cnb.layers.pip import PipTool
from python_cnb.package_index import IndexSettings
from python_cnb.subprocess_runner import CommandFailed, run_quiet, run_streamed


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
    ) -> None:
        self.tool, self.venv_python, self.app_dir, self.index = tool, venv_python, app_dir, index
        self.env = {
            **env,
            "PIP_CACHE_DIR": str(cache_dir),
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PIP_NO_INPUT": "1",
            "PIP_PROGRESS_BAR": "off",
            **index.pip_env(),
        }
        self.cache_dir = cache_dir

    @property
    def description(self) -> str:
        return self.tool.description

    def resolve(self, inputs: Sequence[str], output: Path) -> None:
        run_streamed(
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
                *self.index.pip_options(),
                *inputs,
            ),
            cwd=self.app_dir,
            env=self.env,
            display=f"pip-compile {' '.join(inputs)}",
        )

    def sync(self, requirements: Path, *, hashed: bool) -> None:
        with tempfile.TemporaryDirectory(prefix="python-cnb-pip-") as tmp:
            (Path(tmp) / "pip").symlink_to(self.tool.pip_package_dir)
            run_streamed(
                self.tool.script(
                    "pip-sync",
                    "--python-executable",
                    str(self.venv_python),
                    "--pip-args",
                    "--no-compile",
                    *self.index.pip_options(),
                    str(requirements),
                ),
                cwd=self.app_dir,
                env={**self.env, "PYTHONPATH": tmp},
                display="pip-sync",
            )

    def install(self, requirements: Sequence[str]) -> None:
        run_streamed(
            self.tool.pip(
                "--python",
                str(self.venv_python),
                "install",
                "--no-compile",
                *requirements,
                *self.index.pip_options(),
            ),
            cwd=self.app_dir,
            env=self.env,
            display=f"pip install {' '.join(requirements)}",
        )

    def check(self) -> None:
        try:
            run_quiet(
                self.tool.pip("--python", str(self.venv_python), "check"),
                cwd=self.app_dir,
                env=self.env,
                display="pip check",
            )
        except CommandFailed as error:
            raise DependencyConflict("pip check", error.output) from None
