"""CycloneDX SBOMs of the launch layers, from what is installed, not from manifests.

* ``python.sbom.cdx.json``: the interpreter, with its purl, CPE, licence and the SHA-256
  of the archive it was installed from;
* ``venv.sbom.cdx.json``: every distribution installed in the virtualenv, read from its
  ``*.dist-info/METADATA`` (name, version, ``pkg:pypi`` purl, licence), with the hashes
  the lock file records for it where there is one (uv.lock, poetry.lock, Pipfile.lock, a
  hashed requirements file: see :mod:`python_cnb.app.lock_hashes`).

The documents are deterministic (no timestamp; the serial number derives from the content),
so an unchanged layer keeps a byte-identical SBOM, and an SBOM written after an incremental
sync describes exactly what the sync left installed.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from email.message import Message
from email.parser import HeaderParser
from pathlib import Path
from typing import Any, Iterable, Mapping

from python_cnb.installed import Distribution, normalize, snapshot

SPEC_VERSION = "1.5"
EXTENSION = "cdx.json"


def _license(metadata: Message) -> list[dict[str, Any]]:
    """Core metadata's License-Expression (2.4), else License, else Trove classifiers."""
    expression = (metadata.get("License-Expression") or "").strip()
    if expression:
        return [{"expression": expression}]
    text = (metadata.get("License") or "").strip()
    if text and "\n" not in text and len(text) <= 100:
        return [{"license": {"name": text}}]
    classifiers = [
        c.split("::")[-1].strip()
        for c in metadata.get_all("Classifier") or []
        if c.startswith("License ::") and c.count("::") >= 2
    ]
    return [{"license": {"name": name}} for name in sorted(set(classifiers))]


def purl(name: str, version: str) -> str:
    """``pkg:pypi/<normalized-name>@<version>`` (the purl spec's PyPI type)."""
    return f"pkg:pypi/{normalize(name)}@{version}"


def distribution_component(dist: Distribution, hashes: Iterable[str] = ()) -> dict[str, Any]:
    """One installed distribution as a CycloneDX library component."""
    text = (dist.dist_info / "METADATA").read_text(encoding="utf-8", errors="replace")
    metadata = HeaderParser().parsestr(text)
    component: dict[str, Any] = {
        "type": "library",
        "bom-ref": purl(dist.name, dist.version),
        "name": normalize(dist.name),
        "version": dist.version,
        "purl": purl(dist.name, dist.version),
    }
    licenses = _license(metadata)
    if licenses:
        component["licenses"] = licenses
    digests = sorted(set(hashes))
    if digests:
        component["hashes"] = [{"alg": "SHA-256", "content": digest} for digest in digests]
    return component


def document(subject: Mapping[str, Any], components: list[dict[str, Any]]) -> str:
    """A CycloneDX JSON document about ``subject`` (the layer) with ``components``."""
    body: dict[str, Any] = {
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "version": 1,
        "metadata": {
            "tools": {"components": [{"type": "application", "name": "python-cnb"}]},
            "component": dict(subject),
        },
        "components": components,
    }
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).digest()
    body["serialNumber"] = f"urn:uuid:{uuid.UUID(bytes=digest[:16], version=5)}"
    return json.dumps(body, indent=2, sort_keys=True) + "\n"


def python_sbom(
    version: str, sha256: str, purl_value: str, cpe: str, licenses: Iterable[str]
) -> str:
    """The ``python`` layer's SBOM: the interpreter."""
    component: dict[str, Any] = {
        "type": "application",
        "bom-ref": purl_value or f"pkg:generic/cpython@{version}",
        "name": "cpython",
        "version": version,
        "purl": purl_value or f"pkg:generic/cpython@{version}",
        "hashes": [{"alg": "SHA-256", "content": sha256}],
    }
    if cpe:
        component["cpe"] = cpe
    ids = list(licenses) or ["PSF-2.0"]
    component["licenses"] = [{"license": {"id": license_id}} for license_id in ids]
    subject = {"type": "container", "name": "python layer", "bom-ref": "layer:python"}
    return document(subject, [component])


def venv_sbom(site_packages: Path, locked_hashes: Mapping[tuple[str, str], tuple[str, ...]]) -> str:
    """The ``venv`` layer's SBOM: every installed distribution, in name order."""
    components = [
        distribution_component(dist, locked_hashes.get((name, dist.version), ()))
        for name, dist in sorted(snapshot(site_packages).items())
    ]
    subject = {"type": "container", "name": "venv layer", "bom-ref": "layer:venv"}
    return document(subject, components)
