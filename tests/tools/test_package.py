"""The packaged buildpack: its contents, reproducibility, package.toml and the image layer."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from python_cnb.cnb import toml_file
from python_cnb.cnb.buildpack_toml import read_descriptor
from tools import image, package

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def assembled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return package.assemble(tmp_path_factory.mktemp("bp") / "python-cnb")


def test_contents(assembled: Path) -> None:
    names = {str(p.relative_to(assembled)) for p in assembled.rglob("*")}
    assert {"buildpack.toml", "bin/detect", "bin/build", "libexec/python-cnb"} <= names
    assert "src/python_cnb/build.py" in names and "src/python_cnb/data/tools/poetry.txt" in names
    assert any(n.startswith("vendor/packaging/") for n in names)
    assert any(n.startswith("vendor/tomli_w/") for n in names)
    assert not any(n.startswith("src/python_cnb/lifecycle") for n in names)  # a dev tool
    # bytecode for each CPython found here, unchecked-hash, beside every module
    pycs = [n for n in names if n.endswith(".pyc")]
    tags = {n.rsplit(".", 2)[-2] for n in pycs}
    assert tags == {f"cpython-{p.name[6:].replace('.', '')}" for p in package.bytecode_pythons()}
    assert all(n.startswith(("src/python_cnb/", "vendor/")) for n in pycs)
    for tag in tags:
        assert f"src/python_cnb/__pycache__/build.{tag}.pyc" in names
        flags = (assembled / f"src/python_cnb/__pycache__/build.{tag}.pyc").read_bytes()[4:8]
        assert int.from_bytes(flags, "little") == 0b01  # PEP 552 unchecked hash
    assert not (assembled / "vendor" / "bin").exists()
    assert read_descriptor(assembled).id == "python-cnb/python"
    for shim in ("bin/detect", "bin/build", "libexec/python-cnb"):
        assert (assembled / shim).stat().st_mode & 0o111


def test_bytecode_pythons_setting(tmp_path: Path) -> None:
    assert package.bytecode_pythons({"PACKAGE_BYTECODE_PYTHONS": "none"}) == []
    listed = {"PACKAGE_BYTECODE_PYTHONS": "/opt/py/bin/python3.12 /usr/bin/python3.11"}
    assert package.bytecode_pythons(listed) == [
        Path("/opt/py/bin/python3.12"),
        Path("/usr/bin/python3.11"),
    ]
    for version in ("3.9.18", "3.9.2", "3.12.1"):
        python = tmp_path / "versions" / version / "bin" / f"python{version.rsplit('.', 1)[0]}"
        python.parent.mkdir(parents=True)
        python.touch()
    on_path = tmp_path / "path" / "python3.13"
    on_path.parent.mkdir()
    on_path.touch(mode=0o755)
    env = {"PYENV_ROOT": str(tmp_path), "PATH": str(on_path.parent)}
    assert package.bytecode_pythons(env) == [
        tmp_path / "versions" / "3.9.18" / "bin" / "python3.9",  # the newest build of a line
        tmp_path / "versions" / "3.12.1" / "bin" / "python3.12",
        on_path,  # no pyenv build: the one on PATH
    ]


def test_archive_is_reproducible(assembled: Path, tmp_path: Path) -> None:
    first = package.archive(assembled, tmp_path / "a.tgz").read_bytes()
    again = package.assemble(tmp_path / "again" / "python-cnb")
    second = package.archive(again, tmp_path / "b.tgz").read_bytes()
    assert hashlib.sha256(first).digest() == hashlib.sha256(second).digest()
    with tarfile.open(tmp_path / "a.tgz") as tar:
        members = tar.getmembers()
    assert {m.mtime for m in members} == {package.EPOCH}
    assert {(m.uid, m.gid, m.uname, m.gname) for m in members} == {(0, 0, "", "")}


def test_package_toml_is_valid_for_pack() -> None:
    data = toml_file.read(REPO / "package.toml")
    assert set(data) <= {"buildpack", "dependencies", "platform", "targets"}
    assert set(data["buildpack"]) == {"uri"}
    assert data["buildpack"]["uri"] == f"dist/python-cnb-{package.version()}.tgz"
    descriptor = toml_file.read(REPO / "buildpack.toml")
    assert data["targets"] == descriptor["targets"]


def test_image_layer_and_labels(assembled: Path) -> None:
    layer = image.layer_tar(assembled, "python-cnb/python", "0.1.0")
    assert image.layer_tar(assembled, "python-cnb/python", "0.1.0") == layer  # deterministic
    with tarfile.open(fileobj=io.BytesIO(layer)) as tar:
        names = tar.getnames()
    assert "cnb/buildpacks/python-cnb_python/0.1.0/buildpack.toml" in names
    assert names[:4] == [
        "cnb",
        "cnb/buildpacks",
        "cnb/buildpacks/python-cnb_python",
        "cnb/buildpacks/python-cnb_python/0.1.0",
    ]
    descriptor = toml_file.read(assembled / "buildpack.toml")
    labels = image.labels(descriptor, "sha256:" + "a" * 64)
    metadata = json.loads(labels["io.buildpacks.buildpackage.metadata"])
    assert metadata == {"id": "python-cnb/python", "version": "0.1.0", "stacks": [{"id": "*"}]}
    layers = json.loads(labels["io.buildpacks.buildpack.layers"])
    entry = layers["python-cnb/python"]["0.1.0"]
    assert entry["api"] == "0.10" and entry["layerDiffID"] == "sha256:" + "a" * 64
    assert entry["targets"] == descriptor["targets"]


def test_builder_example_names_this_buildpack() -> None:
    """examples/builder/builder.toml (quoted in the README) stays in step with buildpack.toml."""
    builder = toml_file.read(REPO / "examples" / "builder" / "builder.toml")
    descriptor = read_descriptor(REPO)
    (group,) = builder["order"]
    assert group["group"] == [{"id": descriptor.id, "version": descriptor.version}]
    assert builder["buildpacks"][0]["uri"].endswith(f"/python-cnb/python:{descriptor.version}")
    assert set(builder) == {"description", "buildpacks", "order", "build", "run", "lifecycle"}
    assert builder["build"]["image"] and builder["run"]["images"][0]["image"]
