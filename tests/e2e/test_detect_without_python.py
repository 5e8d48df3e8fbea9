"""Detection on build images without python3 (Paketo's have none), and a bundled runtime
built for another architecture, in containers: BUG-2 and BUG-1 of the conformance audit.

The runner's phases run in the run image (debootstrap minbase: /bin/sh, glibc, coreutils, no
python3) with the packaged buildpack, slim (``tools.package.assemble``) or self-contained.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import docker
import pytest

from python_cnb.cnb import toml_file
from python_cnb.cnb.buildpack_toml import escape_id
from python_cnb_lifecycle.builder import chown_tree
from python_cnb_lifecycle.errors import DETECT_ERROR, DETECT_FAILED
from python_cnb_lifecycle.runner import BuildResult, Workspace
from python_cnb_lifecycle.workspace import Target
from tests.support.containers import (
    BUILD_USER,
    IMAGE_ENV,
    BuildContainer,
    build_in_container,
    build_mounts,
)
from tests.support.contexts import write_app
from tests.support.lifecycle import OPERATOR_ENV
from tools import package

pytestmark = pytest.mark.e2e

BUILDPACK_DIR = f"/cnb/buildpacks/{escape_id('python-cnb/python')}/{package.version()}"


def _build(tmp_path: Path, image: str, app: Path, buildpack: Path) -> BuildResult:
    """The runner's build, its detect and build phases in a container of ``image``."""
    return build_in_container(
        image,
        app,
        Workspace(tmp_path / "ws"),
        buildpack,
        package.version(),
        env={},
        build_config_env=OPERATOR_ENV,
    )


def test_the_run_image_has_no_python(images: dict[str, str]) -> None:
    output = docker.from_env().containers.run(
        images["run"],
        ["sh", "-c", "command -v python3 python3.11 python3.12 python || echo none; od --version"],
        remove=True,
        network_mode="host",
    )
    lines = output.decode().splitlines()
    assert lines[0] == "none"
    assert lines[1].startswith("od (GNU coreutils)")  # what the shim reads ELF headers with


def test_a_node_app_fails_detection(
    tmp_path: Path, images: dict[str, str], packaged_slim: Path
) -> None:
    """BUG-2: detect errored (exit 1, the lifecycle's 21); now it fails (100, then 20)."""
    app = write_app(tmp_path, {"package.json": '{"name": "web", "version": "1.0.0"}\n'})
    result = _build(tmp_path, images["run"], app, packaged_slim)
    assert result.error is not None
    assert (result.error.phase, result.error.code) == ("detect", DETECT_FAILED)
    assert "python-cnb/python did not detect (exit 100)" in result.error.message
    assert "No Python app found: none of these files exist in the app directory:" in (result.output)
    assert "[Error:" not in result.output


def test_a_python_app_with_the_slim_package_is_an_error(
    tmp_path: Path, images: dict[str, str], packaged_slim: Path
) -> None:
    assert not (packaged_slim / "runtime").exists()  # the slim package: the build image's python3
    app = write_app(tmp_path, {"requirements.txt": "flask\n", "app.py": ""})
    result = _build(tmp_path, images["run"], app, packaged_slim)
    assert result.error is not None
    assert (result.error.phase, result.error.code) == ("detect", DETECT_ERROR)
    assert "python-cnb/python detect errored (exit 1)" in result.error.message
    assert (
        "[Error: No Python interpreter to run the buildpack]\n"
        "python-cnb needs a Python 3.9 or newer to run its detect and build steps, "
        "and found none:\n"
        f'the build image has no `python3` (3.9+) on PATH ("{IMAGE_ENV["PATH"]}"), '
        "and this buildpack\n"
        "has no bundled runtime (it is the slim package).\n"
    ) in result.output


@pytest.fixture
def foreign_runtime(tmp_path: Path, packaged: Path) -> Path:
    """The package with a bundled runtime whose ELF e_machine says another architecture."""
    target = Path(shutil.copytree(packaged, tmp_path / "bp", symlinks=True))
    binary = (target / "runtime" / "bin" / "python3").resolve()
    header = bytearray(binary.read_bytes())
    assert header[:4] == b"\x7fELF"
    native = int.from_bytes(header[18:20], "little")
    header[18:20] = (183 if native != 183 else 62).to_bytes(2, "little")  # arm64, or amd64
    binary.write_bytes(bytes(header))
    return target


def _detect(tmp_path: Path, image: str, buildpack: Path, app: Path) -> tuple[int, str, Path]:
    """bin/detect alone, in a container of ``image``, with the lifecycle's variables."""
    workspace = Workspace(tmp_path / "detect-ws")
    shutil.copytree(app, workspace.app)
    scratch = workspace.root / ".lifecycle"
    scratch.mkdir(parents=True)
    (scratch / "plan.toml").write_text("", encoding="utf-8")
    workspace.platform.mkdir(parents=True)
    for path in (workspace.app, scratch):  # the build user writes the plan, as in the runner
        chown_tree(path, BUILD_USER)
    executor = BuildContainer(image, build_mounts(workspace.root, buildpack, package.version()))
    try:
        code, output = executor(
            [f"{BUILDPACK_DIR}/bin/detect"],
            workspace.app,
            {
                **IMAGE_ENV,
                "CNB_BUILDPACK_DIR": BUILDPACK_DIR,
                "CNB_PLATFORM_DIR": str(workspace.platform),
                "CNB_BUILD_PLAN_PATH": str(scratch / "plan.toml"),
                **Target.host().env(),
            },
        )
    finally:
        executor.close()
    return code, output, scratch / "plan.toml"


def test_a_foreign_runtime_falls_back_to_the_build_images_python3(
    tmp_path: Path, images: dict[str, str], foreign_runtime: Path
) -> None:
    """BUG-1: `Exec format error`, exit 126; now the build image's python3 runs detect."""
    app = write_app(tmp_path, {"requirements.txt": "flask\n"})
    code, output, plan = _detect(tmp_path, images["build"], foreign_runtime, app)
    assert code == 0, output
    assert "Note: not using the bundled runtime" in output
    assert "using /usr/bin/python3." in output
    assert "Python app detected (requirements.txt)" in output
    assert [p["name"] for p in toml_file.read(plan)["provides"]] == ["cpython", "site-packages"]


def test_a_foreign_runtime_and_no_python3_is_one_error(
    tmp_path: Path, images: dict[str, str], foreign_runtime: Path
) -> None:
    app = write_app(tmp_path, {"requirements.txt": "flask\n"})
    code, output, plan = _detect(tmp_path, images["run"], foreign_runtime, app)
    assert code == 1, output
    assert plan.read_text(encoding="utf-8") == ""
    machine = Target.host().arch
    assert "[Error: No Python interpreter to run the buildpack]\n" in output
    assert f"cannot run here: it is built for {'arm64' if machine != 'arm64' else 'amd64'}, " in (
        output
    )
    assert f"but this machine is {machine} (uname -m: " in output
    assert "the build image has no `python3` (3.9+) on PATH" in output


def test_a_node_app_fails_detection_with_the_runtime_package(
    tmp_path: Path, images: dict[str, str], foreign_runtime: Path
) -> None:
    """sh answers before any interpreter is looked at, foreign or not."""
    app = write_app(tmp_path, {"package.json": "{}\n"})
    code, output, plan = _detect(tmp_path, images["run"], foreign_runtime, app)
    assert code == 100, output
    assert plan.read_text(encoding="utf-8") == ""
    assert "Note:" not in output
