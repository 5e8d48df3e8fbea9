"""The POSIX shims bin/detect, bin/build and libexec/python-cnb, run as the lifecycle runs them.

Each test runs a copy of the packaged buildpack (``tools.package.assemble``) with an
environment built from scratch, so nothing of the test runner's Python leaks in.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Optional, Sequence

import pytest

from python_cnb.cnb import toml_file
from tests.support.contexts import needs_python, python, require_python, write_app
from tools import package

SYSTEM_PYTHON = Path("/usr/bin/python3")
MINIMAL_PATH = "/usr/bin:/bin"


def _no_python_message(path: str) -> str:
    return f"""\
[Error: No Python interpreter to run the buildpack]
python-cnb needs a Python 3.9 or newer to run its detect and build steps, and found none:
the build image has no `python3` (3.9+) on PATH ("{path}"), and this buildpack
has no bundled runtime (it is the slim package).

To fix this, either:
  1. use a build image that provides python3 3.9 or newer (e.g. Debian 12, Ubuntu 22.04+), or
  2. use the default python-cnb package, which bundles its own runtime.
"""


PLAN = {
    "provides": [{"name": "cpython"}, {"name": "site-packages"}],
    "requires": [
        {"name": "cpython", "metadata": {"build": True, "launch": True}},
        {"name": "site-packages", "metadata": {"build": True, "launch": True}},
    ],
}


@pytest.fixture(scope="module")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The packaged buildpack, assembled once; tests run copies of it."""
    return package.assemble(tmp_path_factory.mktemp("packaged") / "bp")


@pytest.fixture
def buildpack(packaged: Path, tmp_path: Path) -> Path:
    """A copy of the packaged buildpack this test may change."""
    return Path(shutil.copytree(packaged, tmp_path / "bp", symlinks=True))


def _app(tmp_path: Path, *files: str) -> Path:
    """An app of empty ``files`` (a requirements.txt lists flask)."""
    return write_app(
        tmp_path, {name: "flask\n" if name == "requirements.txt" else "" for name in files}
    )


def _detect(
    buildpack: Path,
    app: Path,
    *,
    path: str = MINIMAL_PATH,
    args: Sequence[str] = (),
    argv0: Optional[Sequence[str]] = None,
    extra_env: Optional[dict[str, str]] = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``bin/detect`` in ``app`` with only the lifecycle's variables and ``PATH``."""
    platform = app.parent / "platform"
    platform.mkdir(exist_ok=True)
    env = {
        "CNB_BUILDPACK_DIR": str(buildpack),
        "CNB_PLATFORM_DIR": str(platform),
        "CNB_BUILD_PLAN_PATH": str(app.parent / "plan.toml"),
        "CNB_TARGET_OS": "linux",
        "CNB_TARGET_ARCH": "amd64",
        "PATH": path,
        **(extra_env or {}),
    }
    command = [*(argv0 or ()), str(buildpack / "bin" / "detect"), *args]
    return subprocess.run(
        command, cwd=app, env=env, capture_output=True, text=True, timeout=60, check=False
    )


def _plan(app: Path) -> dict[str, object]:
    return toml_file.read(app.parent / "plan.toml")


def _python_bin(tmp_path: Path, interpreter: Path) -> str:
    """A directory whose only entry is ``python3``, a symlink to ``interpreter``."""
    bin_dir = tmp_path / "python-bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(interpreter)
    return str(bin_dir)


def test_shims_are_executable(packaged: Path) -> None:
    for name in ("bin/detect", "bin/build", "libexec/python-cnb"):
        path = packaged / name
        assert os.access(path, os.X_OK), name
        assert path.read_text(encoding="utf-8").startswith("#!/bin/sh\n")


def test_detect_passes_and_writes_the_plan(buildpack: Path, tmp_path: Path) -> None:
    app = _app(tmp_path, "requirements.txt")
    result = _detect(buildpack, app)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == "Python app detected (requirements.txt)\n"
    assert _plan(app) == PLAN


def test_detect_fails_on_an_empty_app(buildpack: Path, tmp_path: Path) -> None:
    app = _app(tmp_path)
    result = _detect(buildpack, app)
    assert (result.returncode, result.stderr) == (100, "")
    assert result.stdout.startswith("No Python app found")
    assert not (tmp_path / "plan.toml").exists()


def test_positional_arguments_are_ignored(buildpack: Path, tmp_path: Path) -> None:
    app = _app(tmp_path, "main.py")
    result = _detect(
        buildpack, app, args=[str(tmp_path / "other-platform"), str(tmp_path / "other-plan.toml")]
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert _plan(app) == PLAN
    assert not (tmp_path / "other-plan.toml").exists()


def test_build_shim_runs_the_build_phase(buildpack: Path, tmp_path: Path) -> None:
    app = _app(tmp_path, "requirements.txt")
    env = {"CNB_BUILDPACK_DIR": str(buildpack), "PATH": MINIMAL_PATH}
    result = subprocess.run(
        [str(buildpack / "bin" / "build")],
        cwd=app,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.startswith(
        "\n[Error: Not run by a CNB lifecycle]\n"
        "The build step needs the environment variable CNB_LAYERS_DIR,"
    )


def test_no_python_at_all(buildpack: Path, tmp_path: Path) -> None:
    app = _app(tmp_path, "requirements.txt")
    result = _detect(buildpack, app, path="/nonexistent", argv0=["/bin/sh"])
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == _no_python_message("/nonexistent")
    assert not (tmp_path / "plan.toml").exists()


def test_python_older_than_3_9_is_not_used(buildpack: Path, tmp_path: Path) -> None:
    old = require_python("3.8")
    app = _app(tmp_path, "requirements.txt")
    path = _python_bin(tmp_path, old)
    result = _detect(buildpack, app, path=path)
    assert result.returncode == 1
    assert result.stderr == _no_python_message(path)


def test_bundled_runtime_is_preferred(buildpack: Path, tmp_path: Path) -> None:
    runtime_bin = buildpack / "runtime" / "bin"
    runtime_bin.mkdir(parents=True)
    (runtime_bin / "python3").symlink_to(SYSTEM_PYTHON)
    tools = tmp_path / "tools"  # what the shim checks the runtime with, and no python3
    tools.mkdir()
    for name in ("od", "uname"):
        (tools / name).symlink_to(shutil.which(name) or name)
    app = _app(tmp_path, "requirements.txt")
    result = _detect(buildpack, app, path=str(tools), argv0=["/bin/sh"])
    assert (result.returncode, result.stderr) == (0, "")
    assert _plan(app) == PLAN


def test_python_environment_variables_are_ignored(buildpack: Path, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage"
    (garbage / "python_cnb").mkdir(parents=True)
    (garbage / "python_cnb" / "__init__.py").write_text("raise SystemExit(42)\n", encoding="utf-8")
    (garbage / "sitecustomize.py").write_text("raise SystemExit(43)\n", encoding="utf-8")
    app = _app(tmp_path, "requirements.txt")
    result = _detect(
        buildpack,
        app,
        extra_env={
            "PYTHONPATH": str(garbage),
            "PYTHONHOME": "/nonexistent/python-home",
            "PYTHONSTARTUP": str(garbage / "sitecustomize.py"),
            "PYTHONSAFEPATH": "",
            "PYTHONWARNINGS": "error::not-a-category",
            "PYTHONNOUSERSITE": "",
        },
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert _plan(app) == PLAN


@pytest.mark.parametrize("package_name", ["python_cnb", "packaging", "tomli", "tomli_w"])
def test_app_directories_do_not_shadow_the_buildpack(
    buildpack: Path, tmp_path: Path, package_name: str
) -> None:
    app = _app(tmp_path, "requirements.txt")
    (app / package_name).mkdir()
    (app / package_name / "__init__.py").write_text("raise SystemExit(42)\n", encoding="utf-8")
    (app / f"{package_name}.py").write_text("raise SystemExit(43)\n", encoding="utf-8")
    result = _detect(buildpack, app)
    assert (result.returncode, result.stderr) == (0, "")
    assert _plan(app) == PLAN


def test_read_only_buildpack_gets_no_bytecode(buildpack: Path, tmp_path: Path) -> None:
    app = _app(tmp_path, "requirements.txt")
    for cache in list(buildpack.rglob("__pycache__")):  # what ships, and nothing else
        shutil.rmtree(cache)
    subprocess.run(["chmod", "-R", "a-w", str(buildpack)], check=True)
    try:
        for _ in range(2):
            result = _detect(buildpack, app)
            assert (result.returncode, result.stderr) == (0, "")
    finally:
        subprocess.run(["chmod", "-R", "u+w", str(buildpack)], check=True)
    assert _plan(app) == PLAN
    assert list(buildpack.rglob("__pycache__")) == []
    assert list(buildpack.rglob("*.pyc")) == []


@pytest.mark.parametrize(
    "interpreter",
    [
        pytest.param(SYSTEM_PYTHON, id="system-python3"),
        pytest.param(python("3.9"), id="python3.9", marks=needs_python("3.9")),
    ],
)
def test_the_only_python3_on_path(buildpack: Path, tmp_path: Path, interpreter: Path) -> None:
    if not interpreter.is_file():
        pytest.skip(f"{interpreter} is not on this machine")
    path = _python_bin(tmp_path, interpreter)
    app = _app(tmp_path, "requirements.txt")
    result = _detect(buildpack, app, path=path, argv0=["/bin/sh"])
    assert (result.returncode, result.stderr) == (0, "")
    assert _plan(app) == PLAN
    empty = _detect(buildpack, _app(tmp_path / "empty"), path=path, argv0=["/bin/sh"])
    assert (empty.returncode, empty.stderr) == (100, "")


def test_shipped_code_compiles_with_python_3_9(packaged: Path) -> None:
    """Syntax newer than 3.9 (match, except*) would break the 3.9 bootstrap interpreter."""
    python_39 = require_python("3.9")
    code = (
        "import pathlib, sys\n"
        "for path in sorted(pathlib.Path(sys.argv[1]).rglob('*.py')):\n"
        "    compile(path.read_bytes(), str(path), 'exec', dont_inherit=True)\n"
    )
    result = subprocess.run(
        [str(python_39), "-E", "-s", "-B", "-c", code, str(packaged / "src")],
        env={"PATH": MINIMAL_PATH},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (result.returncode, result.stderr) == (0, "")
