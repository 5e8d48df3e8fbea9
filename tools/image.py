"""``make image``: the buildpackages, one per target, in Docker and as an OCI image index.

    python -m tools.image [--repository python-cnb/python] [--out dist] [--slim] [--no-docker]

For each ``[[targets]]`` entry, a buildpackage (the distribution spec's OCI image) of that
target's package from :mod:`tools.package`: one layer holding the buildpack at
``/cnb/buildpacks/<escaped id>/<version>/`` (pack's layout: ``/`` in the id becomes ``_``),
with the ``buildpack.toml`` that declares only that target, and the labels
``io.buildpacks.buildpackage.metadata`` (id, version, stacks) and
``io.buildpacks.buildpack.layers`` (api, stacks, that one target and the layer's diff ID).
The layer tarball is built here, reproducibly, so its diff ID is known before any image
exists.

* **Docker**: each is loaded (``docker load``, which keeps the config and the layer tarball
  as written: the target's os/architecture) as ``<repository>:<version>-<os>-<arch>``; the
  one for this machine is also tagged ``<repository>:<version>``.
* **OCI image layout** (no Docker needed): ``dist/python-cnb-<version>.oci/`` and the same
  as a tar, ``dist/python-cnb-<version>.oci.tar``. ``index.json`` lists one image manifest
  per target with its platform (named ``<version>-<os>-<arch>``) and the image index over
  them (named ``<version>``); every manifest, config and gzip layer is a blob named by its
  sha256 digest. Push the index, every platform with it:
  ``skopeo copy --all oci-archive:dist/python-cnb-0.1.0.oci.tar:0.1.0 docker://<registry>/python-cnb/python:0.1.0``.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

from python_cnb.cnb import NORMALIZED_MTIME, toml_file
from python_cnb.cnb.buildpack_toml import escape_id
from tools import bootstrap_runtime, package
from tools.tarballs import add_bytes, add_directory, add_tree

CREATED = "1980-01-01T00:00:01Z"
"""The images' creation time (``NORMALIZED_MTIME``), as pack writes it: reproducible digests."""
INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
REF_NAME = "org.opencontainers.image.ref.name"


def layer_tar(
    buildpack_dir: Path, buildpack_id: str, version: str, descriptor: Optional[bytes] = None
) -> bytes:
    """The buildpack layer: ``cnb/buildpacks/<escaped id>/<version>/...``, normalised. With
    ``descriptor``, that is its ``buildpack.toml`` (the directory's own, if any, is not)."""
    prefix = f"cnb/buildpacks/{escape_id(buildpack_id)}/{version}"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        parts = prefix.split("/")
        for depth in range(1, len(parts) + 1):
            add_directory(tar, "/".join(parts[:depth]), mtime=NORMALIZED_MTIME)
        extra = None if descriptor is None else {"buildpack.toml": descriptor}
        add_tree(tar, buildpack_dir, mtime=NORMALIZED_MTIME, extra=extra, prefix=prefix)
    return buffer.getvalue()


def labels(descriptor: dict[str, Any], diff_id: str) -> dict[str, str]:
    """The distribution spec's labels for a single-buildpack buildpackage."""
    buildpack = descriptor["buildpack"]
    stacks = [{"id": "*"}]
    layer = {
        "api": descriptor["api"],
        "stacks": stacks,
        "targets": descriptor.get("targets", []),
        "layerDiffID": diff_id,
    }
    return {
        "io.buildpacks.buildpackage.metadata": json.dumps(
            {"id": buildpack["id"], "version": buildpack["version"], "stacks": stacks},
            sort_keys=True,
        ),
        "io.buildpacks.buildpack.layers": json.dumps(
            {buildpack["id"]: {buildpack["version"]: layer}}, sort_keys=True
        ),
    }


@dataclass(frozen=True)
class Buildpackage:
    """One target's buildpackage: its layer tarball and labels."""

    target: package.Target
    layer: bytes
    labels: dict[str, str]

    @property
    def diff_id(self) -> str:
        return "sha256:" + hashlib.sha256(self.layer).hexdigest()


def buildpackage(buildpack_dir: Path, target: package.Target) -> Buildpackage:
    """The buildpackage of ``buildpack_dir`` for ``target``, declaring that target only."""
    text = package.narrowed_descriptor([target])
    descriptor = toml_file.loads(text)
    bp = descriptor["buildpack"]
    data = layer_tar(buildpack_dir, bp["id"], bp["version"], text.encode())
    diff_id = "sha256:" + hashlib.sha256(data).hexdigest()
    return Buildpackage(target, data, labels(descriptor, diff_id))


def import_image(image: Buildpackage, tags: Sequence[str]) -> str:
    """Load the buildpackage into Docker as its platform, tagged ``tags``; return its layer's
    diff ID. (``docker load`` of a ``docker save`` archive keeps the config as written, so
    the image's os/architecture are the target's and its ID is the OCI config's digest;
    ``docker import --platform`` is ignored by daemons without multi-platform support.)"""
    subprocess.run(
        ["docker", "load", "--quiet"],
        input=docker_archive(image, tags),
        check=True,
        capture_output=True,
    )
    return image.diff_id


def docker_archive(image: Buildpackage, tags: Sequence[str]) -> bytes:
    """The ``docker save`` archive of the buildpackage: the same config and layer as in the
    OCI layout."""
    config = image_config(image)
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    layer_name = image.diff_id.removeprefix("sha256:") + "/layer.tar"
    manifest = _json([{"Config": config_name, "RepoTags": list(tags), "Layers": [layer_name]}])
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in (
            (config_name, config),
            (layer_name, image.layer),
            ("manifest.json", manifest),
        ):
            add_bytes(tar, name, data, mtime=NORMALIZED_MTIME)
    return buffer.getvalue()


# --- OCI image layout ---------------------------------------------------------------------------


def _json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def _gzip(data: bytes) -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0) as stream:
        stream.write(data)
    return buffer.getvalue()


class _Blobs:
    """``blobs/sha256/<digest>`` of a layout being written."""

    def __init__(self, root: Path) -> None:
        self.root = root / "blobs" / "sha256"
        self.root.mkdir(parents=True)

    def add(self, media_type: str, data: bytes, **extra: Any) -> dict[str, Any]:
        digest = hashlib.sha256(data).hexdigest()
        (self.root / digest).write_bytes(data)
        return {"mediaType": media_type, "digest": f"sha256:{digest}", "size": len(data), **extra}


def image_config(image: Buildpackage) -> bytes:
    """The image configuration (OCI and Docker alike): platform, labels, the one layer."""
    config = {
        "architecture": image.target.arch,
        "os": image.target.os,
        "created": CREATED,
        "config": {"Labels": image.labels},
        "rootfs": {"type": "layers", "diff_ids": [image.diff_id]},
        "history": [{"created": CREATED, "created_by": "python-cnb tools/image.py"}],
    }
    return _json(config)


def write_layout(images: Sequence[Buildpackage], directory: Path, version: str) -> Path:
    """The OCI image layout of ``images`` in ``directory`` (replaced; see the module
    docstring); return ``directory``."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    blobs = _Blobs(directory)
    manifests = []
    for image in images:
        platform = {"architecture": image.target.arch, "os": image.target.os}
        manifest = {
            "schemaVersion": 2,
            "mediaType": MANIFEST,
            "config": blobs.add(CONFIG, image_config(image)),
            "layers": [blobs.add(LAYER, _gzip(image.layer))],
        }
        manifests.append(blobs.add(MANIFEST, _json(manifest), platform=platform))
    nested = {"schemaVersion": 2, "mediaType": INDEX, "manifests": manifests}
    index = {
        "schemaVersion": 2,
        "mediaType": INDEX,
        "manifests": [
            blobs.add(INDEX, _json(nested), annotations={REF_NAME: version}),
            *(
                {**m, "annotations": {REF_NAME: f"{version}-{image.target.slug}"}}
                for m, image in zip(manifests, images)
            ),
        ],
    }
    (directory / "oci-layout").write_bytes(_json({"imageLayoutVersion": "1.0.0"}))
    (directory / "index.json").write_bytes(_json(index))
    return directory


def layout_tar(directory: Path, output: Path) -> Path:
    """The layout as a reproducible (uncompressed) tar, its files at the root."""
    output.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(output, mode="w", format=tarfile.PAX_FORMAT) as tar:
        add_tree(tar, directory, mtime=NORMALIZED_MTIME, directories=False)
    return output


def main(argv: Optional[list[str]] = None) -> int:
    """Build the packages, write the OCI layout, import the images into Docker."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.image", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--repository", default="python-cnb/python")
    parser.add_argument("--out", type=Path, default=package.ROOT / "dist")
    parser.add_argument(
        "--slim",
        action="store_true",
        default=os.environ.get("BUNDLE_RUNTIME", "").strip().lower() in ("0", "false", "no"),
        help="the slim package in every image (BUNDLE_RUNTIME=0)",
    )
    parser.add_argument("--no-docker", action="store_true", help="only the OCI image layout")
    options = parser.parse_args(argv)
    version = package.version()
    try:
        if options.slim:
            slim, _ = package.build_slim(options.out)
            directories = dict.fromkeys(package.targets(), slim)
        else:
            directories = dict(package.build(options.out).directories)
    except package.PackageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    images = [buildpackage(directory, target) for target, directory in directories.items()]
    name = f"python-cnb-{version}" + ("-slim" if options.slim else "")
    layout = write_layout(images, options.out / f"{name}.oci", version)
    print(f"OCI image layout: {layout}\n  and {layout_tar(layout, layout.with_suffix('.oci.tar'))}")
    if options.no_docker:
        return 0
    for image in images:
        tags = [f"{options.repository}:{version}-{image.target.slug}"]
        if image.target == package.Target("linux", bootstrap_runtime.host_arch()):
            tags.append(f"{options.repository}:{version}")
        import_image(image, tags)
        print(f"image {', '.join(tags)} ({image.target.path}, buildpack layer {image.diff_id})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
