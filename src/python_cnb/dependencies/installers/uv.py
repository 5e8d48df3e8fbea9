"""uv: the default engine for requirement sets, and ``uv sync`` for uv.lock projects."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Mapping, Optional, Sequence

from python_cnb.config.index import IndexSettings, without_index_environment
from python_cnb.dependencies.installers import (
    DependencyConflict,
    Engine,
    Inputs,
    LockFileOutOfDate,
    Run,
)
from python_cnb.dependencies.plan import DependencyPlan
from python_cnb.layers.uv import UvTool
from python_cnb.layers.venv import VenvState
from python_cnb.support.commands import CommandFailed, run_streamed


def uv_env(base: Mapping[str, str], cache_dir: Path) -> dict[str, str]:
    """uv never downloads or picks a Python of its own, and caches in the build's layer."""
    return {
        **base,
        "UV_CACHE_DIR": str(cache_dir),
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_NO_MANAGED_PYTHON": "1",
        "UV_NO_PROGRESS": "1",
    }


def uv_check(
    uv: UvTool, venv_python: Path, cwd: Path, env: Mapping[str, str], run: Run = run_streamed
) -> None:
    """``uv pip check``: raise :class:`DependencyConflict` with its output."""
    try:
        run(
            [str(uv.binary), "pip", "check", "--python", str(venv_python)],
            cwd=cwd,
            env=env,
            display="uv pip check",
            echo=False,
        )
    except CommandFailed as error:
        raise DependencyConflict("uv pip check", error.output) from None


class UvEngine:
    """``uv pip compile`` / ``uv pip sync`` / ``uv pip check`` against one venv.

    ``index`` is what the app's requirements install from (the platform's settings changed
    by the app's own option lines); it is given explicitly to the resolve and the sync, and
    uv's own index variables are removed from the environment, so nothing mixes them back.
    ``server_index`` (the platform's) is for what the buildpack adds (a web server)."""

    def __init__(
        self,
        uv: UvTool,
        venv_python: Path,
        app_dir: Path,
        env: Mapping[str, str],
        index: IndexSettings,
        *,
        resolver_python: Optional[Path] = None,
        server_index: Optional[IndexSettings] = None,
        run: Run = run_streamed,
    ) -> None:
        self.uv, self.venv_python, self.app_dir, self.index = uv, venv_python, app_dir, index
        self.run = run
        self.env = without_index_environment(env)
        self.resolver_python = resolver_python or venv_python
        """The interpreter whose markers the resolve uses (the venv may not exist yet)."""
        self.server_index = server_index or index

    @property
    def description(self) -> str:
        return self.uv.description

    def _uv(self, *args: str) -> list[str]:
        return [str(self.uv.binary), *args]

    def resolve(
        self, inputs: Sequence[str], output: Path, *, display: str = "", refresh: bool = False
    ) -> None:
        self.run(
            self._uv(
                "pip",
                "compile",
                *inputs,
                "--python",
                str(self.resolver_python),
                "--no-header",
                "--no-annotate",
                "--quiet",
                "--output-file",
                str(output),
                *(["--refresh"] if refresh else []),
                *self.index.uv_options(),
                *self.index.uv_format_options(resolving=True),
            ),
            cwd=self.app_dir,
            env=self.env,
            display=f"uv pip compile {display or ' '.join(inputs)}",
        )

    def sync(self, requirements: Path, *, hashed: bool, reinstall: Sequence[str] = ()) -> None:
        self.run(
            self._uv(
                "pip",
                "sync",
                str(requirements),
                "--python",
                str(self.venv_python),
                # An empty list empties the venv (uv would warn and leave it as it was).
                "--allow-empty-requirements",
                *(["--require-hashes"] if hashed else []),
                *(arg for name in reinstall for arg in ("--reinstall-package", name)),
                *self.index.uv_options(),
                *self.index.uv_format_options(resolving=False),
            ),
            cwd=self.app_dir,
            env=self.env,
            display="uv pip sync",
        )

    def check(self) -> None:
        uv_check(self.uv, self.venv_python, self.app_dir, self.env, self.run)

    def install(self, requirements: Sequence[str]) -> None:
        self.run(
            self._uv(
                "pip",
                "install",
                "--python",
                str(self.venv_python),
                *requirements,
                *self.server_index.uv_options(),
            ),
            cwd=self.app_dir,
            env=self.env,
            display=f"uv pip install {' '.join(requirements)}",
        )


class UvProjectSync:
    """``uv sync --locked --no-default-groups`` into the buildpack's venv.

    A server is added with this uv and environment, unless ``adder`` gives the engine to
    use instead (pip, when ``BP_PYTHON_INSTALLER=pip``)."""

    def __init__(
        self,
        uv: UvTool,
        python: Path,
        venv: Path,
        app_dir: Path,
        env: Mapping[str, str],
        index: IndexSettings,
        *,
        adder: Optional[Callable[[], Engine]] = None,
        run: Run = run_streamed,
    ) -> None:
        self.uv, self.python, self.venv, self.app_dir, self.index = uv, python, venv, app_dir, index
        self.env = {**env, "UV_PROJECT_ENVIRONMENT": str(venv)}
        self.adder, self.run = adder, run

    @property
    def description(self) -> str:
        return self.uv.description

    def prepare(self, plan: DependencyPlan, workdir: Path) -> Inputs:
        return Inputs(workdir)  # the lock is the input: nothing to write

    def install(self, plan: DependencyPlan, inputs: Inputs, venv: VenvState) -> None:
        offline = (
            ["--offline", "--find-links", *self.index.find_links[:1]] if self.index.no_index else []
        )
        try:
            self.run(
                [
                    str(self.uv.binary),
                    "sync",
                    "--locked",
                    "--no-default-groups",
                    "--python",
                    str(self.python),
                    *offline,
                ],
                cwd=self.app_dir,
                env=self.env,
                display="uv sync --locked --no-default-groups",
            )
        except CommandFailed as error:
            if "needs to be updated" in error.output:
                raise LockFileOutOfDate("uv.lock", "uv lock", error.output) from None
            raise

    def add(self, requirements: Sequence[str]) -> None:
        engine = self.adder() if self.adder is not None else self._engine()
        engine.install(requirements)

    def _engine(self) -> UvEngine:
        """uv's pip interface on the project's venv, in the project's environment."""
        python = self.venv / "bin" / "python"
        return UvEngine(self.uv, python, self.app_dir, self.env, self.index, run=self.run)

    def check(self) -> None:
        uv_check(self.uv, self.venv / "bin" / "python", self.app_dir, self.env, self.run)
