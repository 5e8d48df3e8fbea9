"""`make image`: a buildpackage per target in the daemon, per the distribution spec.

The linux/arm64 image holds the package built from the test mirror's arm64 STAND-IN
(x86-64 CPython with AArch64 ELF headers, see tools/mirror.py): imported and checked, never
run.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile

import docker
import pytest

from python_cnb.cnb import toml_file
from tools import image, package

pytestmark = pytest.mark.e2e

REPOSITORY = "python-cnb-e2e/buildpackage"
EM = {"amd64": 62, "arm64": 183}


def test_a_buildpackage_per_target(packaged_targets: package.Built) -> None:
    client = docker.from_env()
    version = package.version()
    root = f"cnb/buildpacks/python-cnb_python/{version}"
    for target, directory in packaged_targets.directories.items():
        buildpackage = image.buildpackage(directory, target)
        tag = f"{REPOSITORY}:{version}-{target.slug}"
        diff_id = image.import_image(buildpackage, [tag, f"{REPOSITORY}:alias-{target.slug}"])
        try:
            built = client.images.get(tag)
            assert f"{REPOSITORY}:alias-{target.slug}" in built.tags
            assert built.attrs["RootFS"]["Layers"] == [diff_id]  # one layer, the one we built
            # the config as written, the same as in the OCI image layout
            config = image.image_config(buildpackage)
            assert built.id == "sha256:" + hashlib.sha256(config).hexdigest()
            assert (built.attrs["Os"], built.attrs["Architecture"]) == ("linux", target.arch)
            labels = built.labels
            metadata = json.loads(labels["io.buildpacks.buildpackage.metadata"])
            assert (metadata["id"], metadata["version"]) == ("python-cnb/python", version)
            layers = json.loads(labels["io.buildpacks.buildpack.layers"])
            entry = layers["python-cnb/python"][version]
            assert entry["layerDiffID"] == diff_id and entry["api"] == "0.10"
            assert entry["targets"] == [{"os": "linux", "arch": target.arch}]

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
                    descriptor = layer.extractfile(f"{root}/buildpack.toml").read()  # type: ignore[union-attr]
                    python = layer.extractfile(f"{root}/runtime/bin/python3.13").read(20)  # type: ignore[union-attr]
            assert {f"{root}/bin/detect", f"{root}/libexec/python-cnb"} <= names
            assert shim.mode & 0o111
            assert toml_file.loads(descriptor.decode())["targets"] == [
                {"os": "linux", "arch": target.arch}
            ]
            assert int.from_bytes(python[18:20], "little") == EM[target.arch]
        finally:
            client.images.remove(tag, force=True)
            client.images.remove(f"{REPOSITORY}:alias-{target.slug}", force=True)
