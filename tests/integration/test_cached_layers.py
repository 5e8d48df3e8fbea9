"""Cached layers are checked before they are reused: a damaged or tampered one is discarded
with the reason logged, rebuilt, and the image serves; a removed package leaves nothing
behind; two clean builds give the same launch layers."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path
from typing import Iterator

import pytest

from tests.conftest import CACHE
from tests.support.lifecycle import FIXTURES, Lifecycle
from tests.support.wheels import core_metadata
from tools import local_index

pytestmark = pytest.mark.integration

SITE_PACKAGES = "lib/python3.12/site-packages"


def cached(lifecycle: Lifecycle, layer: str) -> Path:
    """A layer's contents in the build cache (what the next build restores)."""
    return lifecycle.workspace.cache / "python-cnb_python" / layer


def serves(lifecycle: Lifecycle) -> None:
    web = lifecycle.start()
    status, body = web.wait_for_http("/")
    assert (status, body) == (200, "Hello from python-cnb!\n"), web.output
    web.stop()


def test_truncated_libpython_is_reinstalled(lifecycle: Lifecycle) -> None:
    app = lifecycle.app("flask-app")
    lifecycle.build(app)
    libpython = cached(lifecycle, "python") / "lib" / "libpython3.12.so.1.0"
    with libpython.open("r+b") as stream:
        stream.truncate(4096)

    result = lifecycle.build(app)

    assert (
        "Discarding cached Python 3.12.1 since:\n"
        "  - lib/libpython3.12.so.1.0 changed since the layer was made\n"
    ) in result.output
    assert "Downloading CPython 3.12.1" in result.output
    assert "Using cached virtualenv (dependencies unchanged)" in result.output
    assert "do not compile" not in result.output
    serves(lifecycle)


@pytest.mark.parametrize(
    "damaged",
    [f"{SITE_PACKAGES}/flask/__init__.py", "bin/python", "bin/gunicorn"],
    ids=["flask-init", "venv-python", "gunicorn-script"],
)
def test_damaged_venv_is_rebuilt(lifecycle: Lifecycle, damaged: str) -> None:
    app = lifecycle.app("flask-app")
    lifecycle.build(app)
    (cached(lifecycle, "venv") / damaged).unlink()

    result = lifecycle.build(app)

    assert f"Discarding cached virtualenv since:\n  - {damaged} is missing\n" in result.output
    assert "Using cached Python 3.12.1" in result.output
    assert "Creating virtual environment" in result.output
    assert (lifecycle.layer("venv") / damaged).exists()
    serves(lifecycle)


def test_damaged_uv_cache_is_not_used_for_a_fresh_venv(lifecycle: Lifecycle) -> None:
    app = lifecycle.app("flask-app")
    lifecycle.build(app)
    (module,) = cached(lifecycle, "uv-cache").glob("archive-v*/*/flask/app.py")
    module.unlink()
    shown = module.relative_to(cached(lifecycle, "uv-cache")).as_posix()

    result = lifecycle.build(app, {"BP_PYTHON_VERSION": "3.13"})

    assert "Discarding cached virtualenv since:\n  - The Python version changed" in result.output
    assert f"Discarding cached uv cache since:\n  - {shown} is missing\n" in result.output
    assert lifecycle.exec(["python", "-c", "import flask.app"]).returncode == 0
    serves(lifecycle)


def lingering_sdist(directory: Path) -> Path:
    """``lingering-1.0.tar.gz`` from tests/fixtures/lingering_package_sdist (see its
    setup.py: its build plants hooks in the venv, the interpreter and uv's cache)."""
    source = FIXTURES / "lingering_package_sdist"
    path = directory / "lingering-1.0.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        members = {
            "PKG-INFO": core_metadata("lingering", "1.0"),
            **{
                p.relative_to(source).as_posix(): p.read_bytes()
                for p in sorted(source.rglob("*"))
                if p.is_file() and "__pycache__" not in p.parts
            },
        }
        for name, data in members.items():
            info = tarfile.TarInfo(f"lingering-1.0/{name}")
            info.size, info.mode = len(data), 0o644
            archive.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def index_with_lingering(tmp_path: Path, package_index: str) -> Iterator[str]:
    """The test index plus the ``lingering`` sdist, on its own port."""
    root = tmp_path / "index"
    files = root / local_index.FILES_DIR
    files.mkdir(parents=True)
    for wheel in (CACHE / "index" / local_index.FILES_DIR).iterdir():
        (files / wheel.name).symlink_to(wheel)
    lingering_sdist(files)
    with local_index.serve(root) as server:
        yield server.url


def hooks_that_run(lifecycle: Lifecycle, tmp_path: Path) -> list[str]:
    """The planted hooks that run when the image's Python starts and imports Flask."""
    mark = tmp_path / "ran.txt"
    mark.write_text("")
    done = lifecycle.exec(["python", "-c", "import flask"], env={"LINGER_MARK": str(mark)})
    assert done.returncode == 0, done.stderr
    return sorted(set(mark.read_text().split()))


def test_a_removed_package_leaves_nothing_behind(
    lifecycle: Lifecycle, index_with_lingering: str, tmp_path: Path
) -> None:
    env = {"PIP_INDEX_URL": index_with_lingering}
    app = lifecycle.app("lingering_package")
    lifecycle.build(app, env)
    lifecycle.apply_changes(app, "lingering_package")
    planted = lifecycle.build(app, env)
    assert "Added: lingering 1.0" in planted.output
    pth = lifecycle.layer("venv") / SITE_PACKAGES / "zzz_lingering.pth"
    sitecustomize = lifecycle.layer("python") / "lib" / "python3.12" / "sitecustomize.py"
    assert pth.is_file() and sitecustomize.is_file()
    assert hooks_that_run(lifecycle, tmp_path) == ["stdlib-sitecustomize", "venv-pth"]
    (flask_init,) = cached(lifecycle, "uv-cache").glob("archive-v*/*/flask/__init__.py")
    assert "uv-cache-flask" in flask_init.read_text()

    (app / "requirements.txt").write_text("Flask==3.1.3\ngunicorn==27.0.1\n")
    result = lifecycle.build(app, env)

    reasons = result.output.split("Discarding cached Python 3.12.1 since:\n", 1)[1]
    assert (
        "  - lib/python3.12/sitecustomize.py was not there when the layer was made\n"
        in (reasons.split("Downloading CPython", 1)[0])
    )
    assert (
        "Rebuilding the virtualenv from scratch since:\n"
        f"  - {SITE_PACKAGES}/zzz_lingering.pth belongs to no installed package\n"
    ) in result.output
    shown = flask_init.relative_to(cached(lifecycle, "uv-cache")).as_posix()
    assert f"Discarding cached uv cache since:\n  - {shown} changed\n" in result.output
    assert not pth.exists() and not sitecustomize.exists()
    assert not list(lifecycle.layer("venv").rglob("lingering*"))
    assert hooks_that_run(lifecycle, tmp_path) == []
    serves(lifecycle)


@pytest.mark.parametrize(
    ("fixture", "env"),
    [
        ("pyproject_app", {}),
        ("setuptools_app", {}),
        ("pyproject_app", {"BP_PYTHON_INSTALLER": "pip"}),
        ("poetry_app", {}),
        ("pipenv_app", {}),
        ("pip_tools_app", {}),
        ("flask-app", {"BP_PYTHON_INSTALLER": "pip"}),
    ],
    ids=["pyproject", "setuptools", "pyproject-pip", "poetry", "pipenv", "pip-tools", "pip"],
)
def test_clean_builds_give_byte_identical_launch_layers(
    lifecycle: Lifecycle, fixture: str, env: dict[str, str]
) -> None:
    app = lifecycle.app(fixture)

    def launch_layers() -> dict[str, object]:
        lifecycle.build(app, {**env, "BUILD_NO_CACHE": "true"})
        layers = {
            name: lifecycle.image_layer(name)
            for name in ("python", "venv", "runtime")
            if os.path.isdir(lifecycle.layer(name))
        }
        return {name: layer["sha"] for name, layer in layers.items()}

    first = launch_layers()
    assert set(first) == {"python", "venv", "runtime"}
    assert launch_layers() == first
