"""The installers: what the engines' output says about a refused download, and the command
lines each installer runs (through an injected runner)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Mapping, Optional, Sequence, cast

import pytest

from python_cnb.app.package_manager import PackageManager
from python_cnb.config.index import IndexSettings
from python_cnb.dependencies.installers import (
    DependencyConflict,
    Engine,
    HashMismatch,
    Inputs,
    LockFileOutOfDate,
    NoInstaller,
    hash_mismatch,
)
from python_cnb.dependencies.installers.pip import PipEngine
from python_cnb.dependencies.installers.poetry import PoetryProjectSync
from python_cnb.dependencies.installers.requirement_set import RequirementSetInstaller
from python_cnb.dependencies.installers.uv import UvEngine, UvProjectSync
from python_cnb.dependencies.plan import DependencyPlan
from python_cnb.layers.pip import PipTool
from python_cnb.layers.poetry import PoetryTool
from python_cnb.layers.tools import ToolVenv
from python_cnb.layers.uv import UvTool
from python_cnb.layers.venv import VenvState
from python_cnb.python.layout import PythonLayout
from python_cnb.support.commands import CommandFailed

EXPECTED = "0" * 64
ACTUAL = "741cff804567377d9d64b44839eba04ed51231a6c5ee1b678b6bcfc658c34415"

UV_OUTPUT = f"""Resolved 1 package in 2ms
error: Failed to download `tinypkg==1.0`
  cause: Hash mismatch for `tinypkg==1.0`

         Expected:
           sha256:{EXPECTED}

         Computed:
           sha256:{ACTUAL}
"""
PIP_OUTPUT = f"""Processing ./w/tinypkg-1.0-py3-none-any.whl (from -r r.txt (line 1))
ERROR: THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE. If you have updated \
the package versions, please update the hashes. Otherwise, examine the package contents \
carefully; someone may have tampered with them.
    tinypkg==1.0 from file:///tmp/w/tinypkg-1.0-py3-none-any.whl (from -r r.txt (line 1)):
        Expected sha256 {EXPECTED}
             Got        {ACTUAL}
"""
PIP_SEVERAL_HASHES = PIP_OUTPUT.replace(
    f"Expected sha256 {EXPECTED}\n",
    f"Expected sha256 {EXPECTED}\n                  or {'1' * 64}\n",
)


def test_uv_mismatch() -> None:
    found = hash_mismatch(UV_OUTPUT, "uv pip sync")
    assert isinstance(found, HashMismatch)
    assert (found.package, found.expected, found.actual, found.installer) == (
        "tinypkg==1.0",
        f"sha256:{EXPECTED}",
        f"sha256:{ACTUAL}",
        "uv pip sync",
    )


def test_pip_mismatch() -> None:
    for output in (PIP_OUTPUT, PIP_SEVERAL_HASHES):
        found = hash_mismatch(output, "pip-sync")
        assert found is not None
        assert (found.package, found.expected, found.actual) == (
            "tinypkg==1.0",
            f"sha256:{EXPECTED}",
            f"sha256:{ACTUAL}",
        )


def test_other_failures_are_not_mismatches() -> None:
    assert hash_mismatch("error: No solution found when resolving dependencies", "uv") is None


# Command lines, through an injected runner (no tool runs).


@dataclass(frozen=True)
class Call:
    argv: list[str]
    cwd: Path
    env: dict[str, str]
    display: Optional[str]
    echo: bool


class Recorder:
    """Stands in for ``run_streamed``: records each command, fails those asked to."""

    def __init__(self, fail: Optional[CommandFailed] = None) -> None:
        self.calls: list[Call] = []
        self.fail = fail

    def __call__(
        self,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        display: Optional[str] = None,
        echo: bool = True,
    ) -> str:
        self.calls.append(Call(list(argv), cwd, dict(env), display, echo))
        if self.fail is not None:
            raise self.fail
        return ""


APP = Path("/workspace")
VENV = Path("/layers/venv")
UV = UvTool(Path("/layers/uv/bin/uv"), "0.9.0")
INDEX = IndexSettings(index_url="https://index.example/simple", trusted_hosts=("index.example",))
SERVER_INDEX = IndexSettings(index_url="https://platform.example/simple")
RESOLVER = Path("/layers/python/bin/python3.12")


def uv_engine(run: Recorder) -> UvEngine:
    return UvEngine(
        UV,
        VENV / "bin" / "python",
        APP,
        {"PATH": "/usr/bin", "UV_INDEX_URL": "https://ignored.example"},
        INDEX,
        resolver_python=RESOLVER,
        server_index=SERVER_INDEX,
        run=run,
    )


def test_uv_engine_command_lines(tmp_path: Path) -> None:
    run = Recorder()
    engine = uv_engine(run)
    engine.resolve(["requirements.txt"], tmp_path / "out.txt", refresh=True)
    engine.sync(tmp_path / "out.txt", hashed=True, reinstall=("mylib",))
    engine.install(["gunicorn==27.0.1"])
    engine.check()
    index = [
        "--index-url",
        "https://index.example/simple",
        "--allow-insecure-host",
        "index.example",
    ]
    assert [(c.argv, c.display, c.echo) for c in run.calls] == [
        (
            [
                str(UV.binary),
                "pip",
                "compile",
                "requirements.txt",
                "--python",
                str(RESOLVER),
                "--no-header",
                "--no-annotate",
                "--quiet",
                "--output-file",
                str(tmp_path / "out.txt"),
                "--refresh",
                *index,
            ],
            "uv pip compile requirements.txt",
            True,
        ),
        (
            [
                str(UV.binary),
                "pip",
                "sync",
                str(tmp_path / "out.txt"),
                "--python",
                str(VENV / "bin" / "python"),
                "--allow-empty-requirements",
                "--require-hashes",
                "--reinstall-package",
                "mylib",
                *index,
            ],
            "uv pip sync",
            True,
        ),
        (
            [
                str(UV.binary),
                "pip",
                "install",
                "--python",
                str(VENV / "bin" / "python"),
                "gunicorn==27.0.1",
                "--index-url",
                "https://platform.example/simple",
            ],
            "uv pip install gunicorn==27.0.1",
            True,
        ),
        (
            [str(UV.binary), "pip", "check", "--python", str(VENV / "bin" / "python")],
            "uv pip check",
            False,
        ),
    ]
    # the index is given on the command line only: uv's own variables never mix back in
    assert all("UV_INDEX_URL" not in c.env and c.cwd == APP for c in run.calls)


def test_a_failed_uv_check_is_a_dependency_conflict() -> None:
    run = Recorder(fail=CommandFailed("uv pip check", 1, "flask 3.1.0 requires click"))
    with pytest.raises(DependencyConflict) as caught:
        uv_engine(run).check()
    assert (caught.value.checker, caught.value.output) == (
        "uv pip check",
        "flask 3.1.0 requires click",
    )


def test_pip_engine_command_lines(tmp_path: Path) -> None:
    run = Recorder()
    tool = PipTool(ToolVenv(PythonLayout(tmp_path / "pip", "3.12"), fresh=False), "25.3", "7.5.2")
    (tmp_path / "pip" / "lib" / "python3.12" / "site-packages" / "pip").mkdir(parents=True)
    engine = PipEngine(tool, VENV / "bin" / "python", APP, {}, INDEX, tmp_path / "cache", run=run)
    engine.resolve(["requirements.in"], tmp_path / "out.txt")
    engine.sync(tmp_path / "out.txt", hashed=False, reinstall=("mylib",))
    engine.install(["uvicorn==0.54.0"])
    engine.check()
    python = [str(tool.python), "-I", "-m", "pip", "--python", str(VENV / "bin" / "python")]
    index = ["--index-url", "https://index.example/simple", "--trusted-host", "index.example"]
    assert [(c.argv, c.display, c.echo) for c in run.calls] == [
        (
            [
                str(tool.home / "bin" / "pip-compile"),
                "--no-header",
                "--no-annotate",
                "--no-emit-index-url",
                "--no-emit-trusted-host",
                "--no-emit-find-links",
                "--allow-unsafe",
                "--strip-extras",
                "--cache-dir",
                str(tmp_path / "cache" / "pip-tools"),
                "--output-file",
                str(tmp_path / "out.txt"),
                *index,
                "requirements.in",
            ],
            "pip-compile requirements.in",
            True,
        ),
        ([*python, "uninstall", "-y", "mylib"], "pip uninstall mylib", False),
        (
            [
                str(tool.home / "bin" / "pip-sync"),
                "--python-executable",
                str(VENV / "bin" / "python"),
                "--pip-args",
                "--no-compile",
                *index,
                str(tmp_path / "out.txt"),
            ],
            "pip-sync",
            True,
        ),
        (
            [*python, "install", "--no-compile", "uvicorn==0.54.0", *index],
            "pip install uvicorn==0.54.0",
            True,
        ),
        ([*python, "check"], "pip check", False),
    ]
    assert run.calls[0].env["PIP_CACHE_DIR"] == str(tmp_path / "cache")
    assert "PYTHONPATH" in run.calls[2].env  # pip lent to the venv for pip-sync only
    assert all("PYTHONPATH" not in c.env for c in run.calls if c is not run.calls[2])


def test_uv_project_sync_command_lines(tmp_path: Path) -> None:
    run = Recorder()
    sync = UvProjectSync(UV, RESOLVER, VENV, APP, {"PATH": "/usr/bin"}, INDEX, run=run)
    plan = DependencyPlan(PackageManager.UV, (APP / "uv.lock",))
    inputs = sync.prepare(plan, tmp_path)
    assert inputs == Inputs(tmp_path)
    sync.install(plan, inputs, cast(VenvState, None))
    sync.add(["uvicorn==0.54.0"])
    assert [(c.argv, c.display) for c in run.calls] == [
        (
            [str(UV.binary), "sync", "--locked", "--no-default-groups", "--python", str(RESOLVER)],
            "uv sync --locked --no-default-groups",
        ),
        (
            [
                str(UV.binary),
                "pip",
                "install",
                "--python",
                str(VENV / "bin" / "python"),
                "uvicorn==0.54.0",
                "--index-url",
                "https://index.example/simple",
                "--allow-insecure-host",
                "index.example",
            ],
            "uv pip install uvicorn==0.54.0",
        ),
    ]
    # the server goes into the project's venv, in the project's environment
    assert all(c.env["UV_PROJECT_ENVIRONMENT"] == str(VENV) for c in run.calls)


def test_an_out_of_date_uv_lock() -> None:
    failure = CommandFailed("uv sync", 2, "The lockfile at `uv.lock` needs to be updated")
    sync = UvProjectSync(UV, RESOLVER, VENV, APP, {}, INDEX, run=Recorder(fail=failure))
    plan = DependencyPlan(PackageManager.UV, ())
    with pytest.raises(LockFileOutOfDate) as caught:
        sync.install(plan, Inputs(APP), cast(VenvState, None))
    assert (caught.value.lock_file, caught.value.lock_command) == ("uv.lock", "uv lock")


def test_poetry_command_lines_and_a_server_added_by_another_engine(tmp_path: Path) -> None:
    run = Recorder()
    added: list[list[str]] = []

    class Adder:
        def install(self, requirements: Sequence[str]) -> None:
            added.append(list(requirements))

    poetry = PoetryTool(Path("/layers/poetry/bin/poetry"), "2.2.1", mirror_plugin=True)
    sync = PoetryProjectSync(
        poetry,
        UV,
        VENV,
        APP,
        {"PATH": "/usr/bin"},
        INDEX,
        tmp_path / "cache",
        adder=lambda: cast(Engine, Adder()),
        run=run,
    )
    plan = DependencyPlan(PackageManager.POETRY, (APP / "poetry.lock",))
    sync.install(plan, sync.prepare(plan, tmp_path), cast(VenvState, None))
    sync.add(["gunicorn==27.0.1"])
    sync.check()
    assert [(c.argv, c.display) for c in run.calls] == [
        (
            [str(poetry.binary), "sync", "--only", "main", "--no-interaction", "--no-ansi"],
            "poetry sync --only main",
        ),
        (
            [str(UV.binary), "pip", "check", "--python", str(VENV / "bin" / "python")],
            "uv pip check",
        ),
    ]
    assert added == [["gunicorn==27.0.1"]]
    env = run.calls[0].env
    assert (env["VIRTUAL_ENV"], env["POETRY_PYPI_MIRROR_URL"]) == (str(VENV), INDEX.index_url)
    assert env["PATH"] == f"{VENV / 'bin'}:/usr/bin"


@pytest.mark.parametrize(
    ("env", "bundle"),
    [
        ({"SSL_CERT_FILE": "/certs/ca.pem"}, "/certs/ca.pem"),
        ({"SSL_CERT_FILE": "/certs/ca.pem", "REQUESTS_CA_BUNDLE": "/own.pem"}, "/own.pem"),
        ({}, None),
    ],
)
def test_poetry_gets_the_ca_given_as_ssl_cert_file(
    tmp_path: Path, env: dict[str, str], bundle: str | None
) -> None:
    """Poetry reads REQUESTS_CA_BUNDLE only; uv and pip read SSL_CERT_FILE."""
    run = Recorder()
    poetry = PoetryTool(Path("/layers/poetry/bin/poetry"), "2.2.1", mirror_plugin=True)
    sync = PoetryProjectSync(
        poetry, UV, VENV, APP, env, INDEX, tmp_path / "cache", adder=lambda: uv_engine(run), run=run
    )
    plan = DependencyPlan(PackageManager.POETRY, (APP / "poetry.lock",))
    sync.install(plan, sync.prepare(plan, tmp_path), cast(VenvState, None))
    assert run.calls[0].env.get("REQUESTS_CA_BUNDLE") == bundle


def test_no_installer_installs_nothing_and_adds_with_its_engine(tmp_path: Path) -> None:
    run = Recorder()
    installer = NoInstaller(lambda: uv_engine(run))
    plan = DependencyPlan(PackageManager.NONE, ())
    installer.install(plan, installer.prepare(plan, tmp_path), cast(VenvState, None))
    installer.check()
    assert (installer.description, run.calls) == ("none", [])
    installer.add(["gunicorn==27.0.1"])
    assert [c.display for c in run.calls] == ["uv pip install gunicorn==27.0.1"]


def test_a_project_is_resolved_before_the_reuse_decision_and_installed_editable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    written: dict[str, str] = {}

    class Resolving(Recorder):
        def __call__(self, argv: Sequence[str], **kwargs: Any) -> str:
            super().__call__(argv, **kwargs)
            if "compile" in argv:
                Path(argv[argv.index("--output-file") + 1]).write_text("flask==3.1.0\n")
            if "sync" in argv:
                written["synced"] = Path(argv[3]).read_text()
            return ""

    run = Resolving()
    installer = RequirementSetInstaller(uv_engine(run))
    plan = DependencyPlan(
        PackageManager.PYPROJECT,
        (APP / "pyproject.toml",),
        resolve_inputs=("pyproject.toml",),
        editable_project=True,
    )
    inputs = installer.prepare(plan, tmp_path)
    assert inputs.resolved_text() == "flask==3.1.0\n"  # part of the venv's fingerprint
    assert [c.display for c in run.calls] == ["uv pip compile pyproject.toml"]
    assert "--refresh" in run.calls[0].argv
    venv = cast(VenvState, SimpleNamespace(fresh=True))
    installer.install(plan, inputs, venv)
    assert [c.display for c in run.calls] == ["uv pip compile pyproject.toml", "uv pip sync"]
    assert written["synced"] == "flask==3.1.0\n-e .\n"
    assert capsys.readouterr().out.endswith("Installing the app itself as an editable project\n")


def test_a_pinned_set_is_synced_as_it_is(tmp_path: Path) -> None:
    run = Recorder()
    installer = RequirementSetInstaller(uv_engine(run))
    plan = DependencyPlan(
        PackageManager.PIPENV, (APP / "Pipfile.lock",), pinned_text="flask==3.1.0\n"
    )
    inputs = installer.prepare(plan, tmp_path)
    assert inputs.resolved == tmp_path / "pinned.txt"
    installer.install(plan, inputs, cast(VenvState, SimpleNamespace(fresh=True)))
    assert [c.argv[2:4] for c in run.calls] == [["sync", str(tmp_path / "pinned.txt")]]


def test_a_hash_mismatch_in_a_hashed_sync_is_reported_as_such(tmp_path: Path) -> None:
    failure = CommandFailed("uv pip sync", 1, UV_OUTPUT)
    installer = RequirementSetInstaller(uv_engine(Recorder(fail=failure)))
    plan = DependencyPlan(
        PackageManager.PIPENV, (APP / "Pipfile.lock",), pinned_text="flask==3.1.0\n", hashed=True
    )
    with pytest.raises(HashMismatch) as caught:
        installer.install(
            plan, installer.prepare(plan, tmp_path), cast(VenvState, SimpleNamespace(fresh=True))
        )
    assert caught.value.installer == "uv pip sync"
