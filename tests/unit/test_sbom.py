"""The SBOMs' components: licences read from core metadata, and the documents' shape.

(The lock files' hashes are tested where they are parsed.)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from python_cnb.sbom import python_sbom, venv_sbom

MIT = "Classifier: License :: OSI Approved :: MIT License\n"
BSD = "Classifier: License :: OSI Approved :: BSD License\n"
FULL_TEXT = "License: Copyright (c) 2024 Someone\n        Permission is hereby granted, free\n"


def _dist(site_packages: Path, name: str, version: str, headers: str = "") -> None:
    info = site_packages / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.4\nName: {name}\nVersion: {version}\n{headers}\nA description.\n",
        encoding="utf-8",
    )


def _components(site_packages: Path, hashes: Any = None) -> list[dict[str, Any]]:
    components: list[dict[str, Any]] = json.loads(venv_sbom(site_packages, hashes or {}))[
        "components"
    ]
    return components


def _licenses(tmp_path: Path, headers: str) -> Any:
    _dist(tmp_path, "demo", "1.0", headers)
    (component,) = _components(tmp_path)
    return component.get("licenses")


@pytest.mark.parametrize(
    ("headers", "licenses"),
    [
        pytest.param(
            "License-Expression: MIT OR Apache-2.0\nLicense: BSD\n" + MIT,
            [{"expression": "MIT OR Apache-2.0"}],
            id="an expression (metadata 2.4) wins",
        ),
        pytest.param(
            "License: BSD-3-Clause\n" + MIT,
            [{"license": {"name": "BSD-3-Clause"}}],
            id="a short License field comes next",
        ),
        pytest.param(
            FULL_TEXT + MIT,
            [{"license": {"name": "MIT License"}}],
            id="a licence's full text is no name: the classifiers are used",
        ),
        pytest.param(
            "License: " + "x" * 101 + "\n" + MIT,
            [{"license": {"name": "MIT License"}}],
            id="nor is a line over 100 characters",
        ),
        pytest.param(
            "License-Expression:   \nLicense: \n" + MIT,
            [{"license": {"name": "MIT License"}}],
            id="blank fields count as absent",
        ),
        pytest.param(
            MIT + BSD + MIT,
            [{"license": {"name": "BSD License"}}, {"license": {"name": "MIT License"}}],
            id="classifiers once each, sorted",
        ),
        pytest.param(
            "Classifier: License :: OSI Approved\n"
            "Classifier: Programming Language :: Python :: 3\n"
            "Classifier: Topic :: License :: Tools\n",
            None,
            id="only License :: <group> :: <name> classifiers name a licence",
        ),
        pytest.param("", None, id="no licence at all: no licenses key"),
    ],
)
def test_licence(tmp_path: Path, headers: str, licenses: Any) -> None:
    assert _licenses(tmp_path, headers) == licenses


def test_components_in_name_order_with_their_locked_hashes(tmp_path: Path) -> None:
    _dist(tmp_path, "Zope.Interface", "7.0")
    _dist(tmp_path, "flask", "3.1.0", MIT)
    hashes = {("flask", "3.1.0"): ("b" * 64, "a" * 64, "b" * 64), ("flask", "9.9"): ("c" * 64,)}
    components = _components(tmp_path, hashes)
    assert [c["purl"] for c in components] == [
        "pkg:pypi/flask@3.1.0",
        "pkg:pypi/zope-interface@7.0",
    ]
    flask, zope = components
    assert flask["hashes"] == [
        {"alg": "SHA-256", "content": "a" * 64},
        {"alg": "SHA-256", "content": "b" * 64},
    ]
    assert "hashes" not in zope  # nothing was locked for it
    assert (zope["name"], zope["bom-ref"], zope["type"]) == (
        "zope-interface",
        "pkg:pypi/zope-interface@7.0",
        "library",
    )


def test_the_document_is_deterministic_and_its_serial_follows_the_content(tmp_path: Path) -> None:
    _dist(tmp_path / "a", "flask", "3.1.0", MIT)
    _dist(tmp_path / "b", "flask", "3.1.1", MIT)
    first, again = venv_sbom(tmp_path / "a", {}), venv_sbom(tmp_path / "a", {})
    other = venv_sbom(tmp_path / "b", {})
    assert first == again
    assert json.loads(first)["serialNumber"] != json.loads(other)["serialNumber"]
    assert "timestamp" not in json.loads(first)["metadata"]


def test_the_interpreter_component(tmp_path: Path) -> None:
    (component,) = json.loads(
        python_sbom("3.12.1", "0" * 64, "pkg:generic/cpython@3.12.1", "", [])
    )["components"]
    assert component["licenses"] == [{"license": {"id": "PSF-2.0"}}]  # CPython's, by default
    assert "cpe" not in component
    assert component["hashes"] == [{"alg": "SHA-256", "content": "0" * 64}]
