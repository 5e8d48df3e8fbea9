"""CycloneDX SBOMs of the launch layers describe what is installed, and validate."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from python_cnb.cnb import toml_file
from tests.conftest import CACHE
from tests.support.lifecycle import Lifecycle

pytestmark = pytest.mark.integration


def sbom(lifecycle: Lifecycle, layer: str) -> dict[str, Any]:
    path = (
        lifecycle.workspace.root
        / "sbom"
        / "launch"
        / "python-cnb_python"
        / f"{layer}.sbom.cdx.json"
    )
    text = path.read_text()
    assert JsonStrictValidator(SchemaVersion.V1_5).validate_str(text) is None
    data: dict[str, Any] = json.loads(text)
    return data


def components(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in document["components"]}


def installed(lifecycle: Lifecycle) -> set[tuple[str, str]]:
    found = set()
    for metadata in lifecycle.site_packages().glob("*.dist-info/METADATA"):
        fields = dict(
            line.split(": ", 1) for line in metadata.read_text().splitlines()[:3] if ": " in line
        )
        found.add((fields["Name"].lower().replace("_", "-"), fields["Version"]))
    return found


def test_sboms_of_a_uv_project(lifecycle: Lifecycle) -> None:
    app = lifecycle.app("uv_app")
    lifecycle.build(app)

    python = components(sbom(lifecycle, "python"))["cpython"]
    manifest = toml_file.read(CACHE / "mirror" / "manifest.toml")
    entry = next(e for e in manifest["dependencies"] if e["version"] == "3.12.1")
    assert python["version"] == "3.12.1"
    assert python["hashes"] == [
        {"alg": "SHA-256", "content": entry["checksum"].removeprefix("sha256:")}
    ]
    assert python["purl"] == entry["purl"] and python["licenses"] == [
        {"license": {"id": "PSF-2.0"}}
    ]

    venv = components(sbom(lifecycle, "venv"))
    assert {(c["name"], c["version"]) for c in venv.values()} == installed(lifecycle)
    flask = venv["flask"]
    assert flask["purl"] == "pkg:pypi/flask@3.1.3"
    lock = toml_file.read(app / "uv.lock")
    locked = next(p for p in lock["package"] if p["name"] == "flask")
    files = [*locked.get("wheels", []), *([locked["sdist"]] if "sdist" in locked else [])]
    expected = sorted({f["hash"].removeprefix("sha256:") for f in files})
    assert expected  # the index serves the wheel only: the lock has its hash
    assert [h["content"] for h in flask["hashes"]] == expected
    assert flask["licenses"]


def test_sbom_follows_an_incremental_sync(lifecycle: Lifecycle) -> None:
    app = lifecycle.app("poetry_app")
    lifecycle.build(app)
    assert "idna" in components(sbom(lifecycle, "venv"))
    lifecycle.apply_changes(app, "poetry_app")

    lifecycle.build(app)

    venv = components(sbom(lifecycle, "venv"))
    assert "idna" not in venv and venv["six"]["version"] == "1.17.0"
    assert venv["six"]["hashes"]  # poetry.lock records them
    assert {(c["name"], c["version"]) for c in venv.values()} == installed(lifecycle)


def test_unchanged_rebuild_keeps_the_same_sbom(lifecycle: Lifecycle) -> None:
    app = lifecycle.app("pipenv_app")
    lifecycle.build(app)
    path: Path = (
        lifecycle.workspace.root / "sbom" / "launch" / "python-cnb_python" / "venv.sbom.cdx.json"
    )
    first = path.read_bytes()
    lifecycle.build(app)
    assert path.read_bytes() == first
    assert components(sbom(lifecycle, "venv"))["flask"]["hashes"]  # Pipfile.lock's hashes


def test_unlocked_requirements_have_no_hashes(lifecycle: Lifecycle) -> None:
    lifecycle.build(lifecycle.app("flask-app"))
    venv = components(sbom(lifecycle, "venv"))
    assert "gunicorn" in venv and "hashes" not in venv["flask"]


def test_a_hashed_requirements_file_gives_every_package_its_hashes(lifecycle: Lifecycle) -> None:
    """pip-compile --generate-hashes output (a comment ending in ``\\``, ``click == 8.5.1``):
    the install is hash-checked, and the SBOM carries the hash of each installed file."""
    lifecycle.build(lifecycle.app("hashed_requirements"))
    venv = components(sbom(lifecycle, "venv"))
    assert {(c["name"], c["version"]) for c in venv.values()} == installed(lifecycle)
    index = CACHE / "index" / "files"
    for name, component in venv.items():
        served = [
            hashlib.sha256(path.read_bytes()).hexdigest()
            for path in index.glob(f"{name}-{component['version']}-*.whl")
        ]
        digests = [h["content"] for h in component.get("hashes", [])]
        assert digests and set(digests) <= set(served), name
