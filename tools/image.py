"""``make image``: the packaged buildpack as a buildpackage OCI image, in the Docker daemon.

    python -m tools.image [--tag python-cnb/python:0.1.0] [--bundle-runtime]

One layer holding the buildpack at ``/cnb/buildpacks/<escaped id>/<version>/`` (pack's
layout: ``/`` in the id becomes ``_``), and the distribution spec's labels:
``io.buildpacks.buildpackage.metadata`` (id, version, stacks) and
``io.buildpacks.buildpack.layers`` (api, stacks, targets and the layer's diff ID). The layer
tarball is built here, reproducibly, so its diff ID is known before the image exists; it is
imported with ``docker import``, which keeps the tarball as the layer.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import subprocess
import tarfile
from pathlib import Path
from typing import Any, Optional

from python_cnb.cnb import toml_file
from python_cnb.cnb.buildpack_toml import escape_id
from tools import package

EPOCH = package.EPOCH


def layer_tar(buildpack_dir: Path, buildpack_id: str, version: str) -> bytes:
    """The buildpack layer: ``cnb/buildpacks/<escaped id>/<version>/...``, normalised."""
    prefix = f"cnb/buildpacks/{escape_id(buildpack_id)}/{version}"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        parts = prefix.split("/")
        for depth in range(1, len(parts) + 1):
            info = tarfile.TarInfo("/".join(parts[:depth]))
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, EPOCH
            tar.addfile(info)
        for root, dirs, files in os.walk(buildpack_dir):
            dirs.sort()
            for name in sorted(dirs + files):
                path = Path(root, name)
                arcname = f"{prefix}/{path.relative_to(buildpack_dir)}"
                tar.add(path, arcname=arcname, recursive=False, filter=package._normalise)
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


def build_image(buildpack_dir: Path, tag: str) -> str:
    """Import the buildpackage into Docker; return the layer's diff ID."""
    descriptor = toml_file.read(buildpack_dir / "buildpack.toml")
    data = layer_tar(
        buildpack_dir, descriptor["buildpack"]["id"], descriptor["buildpack"]["version"]
    )
    diff_id = "sha256:" + hashlib.sha256(data).hexdigest()
    changes = [
        f"LABEL {key}={json.dumps(value)}" for key, value in labels(descriptor, diff_id).items()
    ]
    command = [
        "docker",
        "import",
        *(arg for change in changes for arg in ("--change", change)),
        "-",
        tag,
    ]
    subprocess.run(command, input=data, check=True, capture_output=True)
    return diff_id


def main(argv: Optional[list[str]] = None) -> int:
    """Assemble the buildpack and import it as an image."""
    parser = argparse.ArgumentParser(prog="python -m tools.image", description=__doc__)
    parser.add_argument("--tag", default=f"python-cnb/python:{package.version()}")
    parser.add_argument(
        "--bundle-runtime",
        action="store_true",
        default=os.environ.get("BUNDLE_RUNTIME", "") not in ("", "0", "false"),
    )
    options = parser.parse_args(argv)
    runtime = None
    if options.bundle_runtime:
        from tools.bootstrap_runtime import prepare_runtime

        runtime = prepare_runtime(package.ROOT / ".cache" / "runtime")
    directory = package.assemble(package.ROOT / ".cache" / "image" / "buildpack", runtime=runtime)
    diff_id = build_image(directory, options.tag)
    print(f"image {options.tag} (buildpack layer {diff_id})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
