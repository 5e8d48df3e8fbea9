"""`make image`: the buildpackage as an OCI image in the daemon, per the distribution spec."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import docker
import pytest

from python_cnb.cnb import toml_file
from tools import image

pytestmark = pytest.mark.e2e

TAG = "python-cnb-e2e/buildpackage:test"


def test_buildpackage_image(packaged: Path) -> None:
    client = docker.from_env()
    diff_id = image.build_image(packaged, TAG)
    try:
        built = client.images.get(TAG)
        assert built.attrs["RootFS"]["Layers"] == [diff_id]  # one layer, the one we built
        assert built.attrs["Os"] == "linux"
        labels = built.labels
        descriptor = toml_file.read(packaged / "buildpack.toml")
        bp = descriptor["buildpack"]
        metadata = json.loads(labels["io.buildpacks.buildpackage.metadata"])
        assert (metadata["id"], metadata["version"]) == (bp["id"], bp["version"])
        layers = json.loads(labels["io.buildpacks.buildpack.layers"])
        assert layers[bp["id"]][bp["version"]]["layerDiffID"] == diff_id
        assert layers[bp["id"]][bp["version"]]["api"] == descriptor["api"]

        root = f"cnb/buildpacks/python-cnb_python/{bp['version']}"
        # The layer as stored holds the buildpack at /cnb/buildpacks/<escaped id>/<version>/.
        saved = b"".join(built.save(named=True))
        with tarfile.open(fileobj=io.BytesIO(saved)) as outer:
            manifest = json.load(outer.extractfile("manifest.json"))  # type: ignore[arg-type]
            (layer_path,) = manifest[0]["Layers"]
            member = outer.extractfile(layer_path)
            assert member is not None
            with tarfile.open(fileobj=io.BytesIO(member.read())) as layer:
                names = set(layer.getnames())
                shim = layer.getmember(f"{root}/bin/build")
        assert {
            f"{root}/buildpack.toml",
            f"{root}/bin/detect",
            f"{root}/libexec/python-cnb",
        } <= names
        assert shim.mode & 0o111
    finally:
        client.images.remove(TAG, force=True)
