"""Regenerate buildpack.toml's ``[[metadata.dependencies]]`` from a CPython distributions file.

    python -m tools.update_dependencies [../shared/data/cpython-distributions.toml]

The input is the python-build-standalone list the team maintains (version, arch, os, url,
sha256, source). Each entry becomes a Paketo-shaped dependency: id, name, version, uri,
checksum, arch, os, stacks, purl, cpe, licenses, source, deprecation_date (the end-of-life
date of its Python line). Only the text between the two marker comments is replaced.
"""

from __future__ import annotations

import sys
import urllib.parse
from pathlib import Path
from typing import Any

import tomli_w

from python_cnb.cnb import toml_file
from python_cnb.python_version import PythonVersion, end_of_life

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "cpython-distributions.toml"
BEGIN = "# BEGIN generated CPython dependencies (python -m tools.update_dependencies)"
END = "# END generated CPython dependencies"


def dependency(entry: dict[str, Any]) -> dict[str, Any]:
    """One ``[[metadata.dependencies]]`` table."""
    version = PythonVersion.parse(entry["version"])
    sha256 = entry["sha256"]
    url = entry["url"]
    purl_query = urllib.parse.urlencode({"checksum": f"sha256:{sha256}", "download_url": url})
    eol = end_of_life(version.major, version.minor)
    table: dict[str, Any] = {
        "id": "cpython",
        "name": "CPython",
        "version": str(version),
        "uri": url,
        "checksum": f"sha256:{sha256}",
        "arch": entry["arch"],
        "os": entry["os"],
        "stacks": ["*"],
        "purl": f"pkg:generic/cpython@{version}?{purl_query}",
        "cpe": f"cpe:2.3:a:python:python:{version}:*:*:*:*:*:*:*",
        "licenses": ["PSF-2.0"],
        "source": entry.get("source", ""),
    }
    if eol is not None:
        table["deprecation_date"] = f"{eol.isoformat()}T00:00:00Z"
    return table


def render(source: Path) -> str:
    """The generated block, markers included."""
    entries = toml_file.read(source)["distributions"]
    body = tomli_w.dumps({"metadata": {"dependencies": [dependency(e) for e in entries]}})
    return f"{BEGIN}\n{body.strip()}\n{END}"


def main(argv: list[str]) -> int:
    """Rewrite buildpack.toml in place."""
    source = Path(argv[0]) if argv else DEFAULT_SOURCE
    path = ROOT / "buildpack.toml"
    text = path.read_text(encoding="utf-8")
    start, end = text.index(BEGIN), text.index(END) + len(END)
    path.write_text(text[:start] + render(source) + text[end:], encoding="utf-8")
    print(f"updated {path} from {source}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
