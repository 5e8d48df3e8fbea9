"""``make image``'s OCI image layout: one buildpackage per target and the index over them.

Built from the self-contained packages (tests/tools/conftest.py); the linux/arm64 one comes
from the test mirror's arm64 STAND-IN (x86-64 CPython with AArch64 ELF headers), so its
image is checked here but never run.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest

from python_cnb.cnb import toml_file
from tools import image, package

VERSION = package.version()
ROOT = f"cnb/buildpacks/python-cnb_python/{VERSION}"
EM = {"amd64": 62, "arm64": 183}


@pytest.fixture(scope="module")
def images(built: package.Built) -> list[image.Buildpackage]:
    return [image.buildpackage(directory, t) for t, directory in built.directories.items()]


@pytest.fixture(scope="module")
def layout(images: list[image.Buildpackage], tmp_path_factory: pytest.TempPathFactory) -> Path:
    return image.write_layout(images, tmp_path_factory.mktemp("oci") / "bp.oci", VERSION)


def _blob(layout: Path, descriptor: dict[str, Any]) -> bytes:
    """The blob a descriptor names, checked against its digest and size."""
    algorithm, _, digest = descriptor["digest"].partition(":")
    assert algorithm == "sha256"
    data = (layout / "blobs" / "sha256" / str(digest)).read_bytes()
    assert hashlib.sha256(data).hexdigest() == digest
    assert len(data) == descriptor["size"]
    return data


def test_layout_index_and_blobs(layout: Path) -> None:
    assert json.loads((layout / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    index = json.loads((layout / "index.json").read_text())
    assert index["schemaVersion"] == 2 and index["mediaType"] == image.INDEX
    nested_entry, *manifests = index["manifests"]
    # the image index, named by the version: what `skopeo copy --all ...:<version>` pushes
    assert nested_entry["mediaType"] == image.INDEX
    assert nested_entry["annotations"] == {image.REF_NAME: VERSION}
    nested = json.loads(_blob(layout, nested_entry))
    assert nested["schemaVersion"] == 2 and nested["mediaType"] == image.INDEX
    assert [{k: m[k] for k in ("mediaType", "digest", "size", "platform")} for m in manifests] == (
        nested["manifests"]
    )
    assert [m["platform"] for m in nested["manifests"]] == [
        {"architecture": "amd64", "os": "linux"},
        {"architecture": "arm64", "os": "linux"},
    ]
    assert [m["annotations"] for m in manifests] == [
        {image.REF_NAME: f"{VERSION}-linux-amd64"},
        {image.REF_NAME: f"{VERSION}-linux-arm64"},
    ]
    referenced = {nested_entry["digest"]}
    for entry in nested["manifests"]:
        referenced.add(entry["digest"])
        assert entry["mediaType"] == image.MANIFEST
        manifest = json.loads(_blob(layout, entry))
        assert manifest["schemaVersion"] == 2 and manifest["mediaType"] == image.MANIFEST
        assert manifest["config"]["mediaType"] == image.CONFIG
        (layer,) = manifest["layers"]
        assert layer["mediaType"] == image.LAYER
        referenced.update({manifest["config"]["digest"], layer["digest"]})
        config = json.loads(_blob(layout, manifest["config"]))
        arch = entry["platform"]["architecture"]
        assert (config["os"], config["architecture"]) == ("linux", arch)
        assert config["created"] == image.CREATED
        tar = gzip.decompress(_blob(layout, layer))
        diff_id = "sha256:" + hashlib.sha256(tar).hexdigest()
        assert config["rootfs"] == {"type": "layers", "diff_ids": [diff_id]}
        _check_labels(config["config"]["Labels"], arch, diff_id)
        _check_layer(tar, arch)
    stored = {f"sha256:{p.name}" for p in (layout / "blobs" / "sha256").iterdir()}
    assert stored == referenced  # nothing missing, nothing stray


def _check_labels(labels: dict[str, str], arch: str, diff_id: str) -> None:
    metadata = json.loads(labels["io.buildpacks.buildpackage.metadata"])
    assert metadata == {"id": "python-cnb/python", "version": VERSION, "stacks": [{"id": "*"}]}
    layers = json.loads(labels["io.buildpacks.buildpack.layers"])
    entry = layers["python-cnb/python"][VERSION]
    assert entry["layerDiffID"] == diff_id and entry["api"] == "0.10"
    assert entry["targets"] == [{"os": "linux", "arch": arch}]  # this image's target only


def _check_layer(data: bytes, arch: str) -> None:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        names = set(tar.getnames())
        descriptor = tar.extractfile(f"{ROOT}/buildpack.toml").read()  # type: ignore[union-attr]
        python = tar.extractfile(f"{ROOT}/runtime/bin/python3.13").read(20)  # type: ignore[union-attr]
    assert {f"{ROOT}/bin/detect", f"{ROOT}/bin/build", f"{ROOT}/libexec/python-cnb"} <= names
    assert toml_file.loads(descriptor.decode())["targets"] == [{"os": "linux", "arch": arch}]
    assert int.from_bytes(python[18:20], "little") == EM[arch]


def test_layout_is_reproducible(
    layout: Path, images: list[image.Buildpackage], tmp_path: Path
) -> None:
    again = image.write_layout(images, tmp_path / "again.oci", VERSION)
    assert (again / "index.json").read_bytes() == (layout / "index.json").read_bytes()
    first = image.layout_tar(layout, tmp_path / "a.oci.tar")
    second = image.layout_tar(again, tmp_path / "b.oci.tar")
    assert first.read_bytes() == second.read_bytes()
    with tarfile.open(first) as tar:
        names = tar.getnames()
    assert {"oci-layout", "index.json"} <= set(names)
    assert len([n for n in names if n.startswith("blobs/sha256/")]) == 1 + 3 * 2


def test_buildpackage_per_target_declares_its_target(images: list[image.Buildpackage]) -> None:
    assert [i.target.path for i in images] == ["linux/amd64", "linux/arm64"]
    for built in images:
        assert built.diff_id == "sha256:" + hashlib.sha256(built.layer).hexdigest()
        _check_labels(built.labels, built.target.arch, built.diff_id)
        _check_layer(built.layer, built.target.arch)


@pytest.mark.skipif(shutil.which("skopeo") is None, reason="skopeo is not installed")
def test_skopeo_copies_the_index_with_every_platform(layout: Path, tmp_path: Path) -> None:
    """An independent reader (containers/image) takes the archive as users push it."""
    archive = image.layout_tar(layout, tmp_path / "bp.oci.tar")
    index = json.loads((layout / "index.json").read_text())
    nested = index["manifests"][0]
    skopeo = ["skopeo", "--insecure-policy"]
    raw = subprocess.run(
        [*skopeo, "inspect", "--raw", f"oci-archive:{archive}:{VERSION}"],
        capture_output=True,
        check=True,
    ).stdout
    assert raw == _blob(layout, nested)
    subprocess.run(
        [
            *skopeo,
            "copy",
            "--quiet",
            "--all",
            f"oci-archive:{archive}:{VERSION}",
            f"oci:{tmp_path / 'copied'}:{VERSION}",
        ],
        capture_output=True,
        check=True,
    )
    (copied,) = json.loads((tmp_path / "copied" / "index.json").read_text())["manifests"]
    assert copied["digest"] == nested["digest"]  # the same index, byte for byte
    for entry in json.loads(raw)["manifests"]:
        assert (tmp_path / "copied" / "blobs" / "sha256" / entry["digest"][7:]).is_file()
