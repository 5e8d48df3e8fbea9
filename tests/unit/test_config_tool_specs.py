"""The build tools pinned in buildpack.toml [metadata.tools] and src/python_cnb/data/tools."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import pytest

from python_cnb.cnb import toml_file
from python_cnb.config import tool_specs
from python_cnb.config.tool_specs import DATA, ToolSpec, tool_spec

REPO = Path(__file__).resolve().parents[2]
METADATA: dict[str, Any] = toml_file.read(REPO / "buildpack.toml")["metadata"]
TOOLS = METADATA["tools"]


def _requirements(path: Path) -> list[str]:
    """The logical lines of a requirements file (continuations joined)."""
    return [
        line.strip()
        for line in path.read_text(encoding="utf-8").replace("\\\n", " ").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


@pytest.mark.parametrize(
    ("arch", "files"),
    [
        ("amd64", ["uv-0.13.9-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"]),
        (
            "arm64",
            [
                "uv-0.13.9-py3-none-manylinux_2_28_aarch64.whl",
                "uv-0.13.9-py3-none-manylinux_2_17_aarch64.manylinux2014_aarch64."
                "musllinux_1_1_aarch64.whl",
            ],
        ),
    ],
)
def test_uv_hashes_per_arch(arch: str, files: list[str]) -> None:
    wheels = {wheel["file"]: wheel["sha256"] for wheel in TOOLS["uv"]["wheels"]}
    spec = tool_spec(METADATA, "uv", arch)
    assert spec == ToolSpec("uv", TOOLS["uv"]["version"], tuple(wheels[f] for f in files))
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in spec.hashes)
    assert all(f.startswith(f"uv-{spec.version}-") for f in files)
    assert spec.requirement_lines() == [f"uv=={spec.version}"]
    assert spec.fingerprint == f"uv {spec.version}"


def test_uv_for_an_unknown_arch_has_no_hashes() -> None:
    assert tool_spec(METADATA, "uv", "riscv64").hashes == ()


@pytest.mark.parametrize("name", ["uv", "pip-tools", "poetry"])
def test_override(name: str) -> None:
    spec = tool_spec(METADATA, name, "amd64", "9.9.9")
    assert spec == ToolSpec(name, "9.9.9", overridden=True)
    assert spec.requirement_lines() == [f"{name}==9.9.9"]
    assert spec.fingerprint == f"{name} 9.9.9 (unpinned)"


@pytest.mark.parametrize("name", ["uv", "pip-tools", "poetry"])
def test_overriding_with_the_pinned_version_keeps_the_hashes(name: str) -> None:
    pinned = tool_spec(METADATA, name, "arm64")
    assert tool_spec(METADATA, name, "arm64", TOOLS[name]["version"]) == pinned
    assert tool_spec(METADATA, name, "arm64", "") == pinned
    assert not pinned.overridden


@pytest.mark.parametrize(
    ("name", "pins"),
    [
        ("pip-tools", {"pip-tools": TOOLS["pip-tools"]["version"]}),
        (
            "poetry",
            {
                "poetry": TOOLS["poetry"]["version"],
                "poetry-plugin-pypi-mirror": TOOLS["poetry"]["mirror-plugin"],
            },
        ),
    ],
)
def test_hashed_requirement_sets(name: str, pins: dict[str, str]) -> None:
    spec = tool_spec(METADATA, name, "amd64")
    assert spec.requirements == DATA / f"{name}.txt"
    assert spec.requirements.is_file()
    assert spec == ToolSpec(name, pins[name], requirements=spec.requirements)
    assert spec.requirement_lines() == spec.requirements.read_text(encoding="utf-8").splitlines()
    lines = _requirements(spec.requirements)
    assert lines
    for line in lines:
        assert re.match(r"^[A-Za-z0-9._-]+==[^ ;]+", line), line
        assert re.search(r" --hash=sha256:[0-9a-f]{64}$", line), line
    pinned = {line.split("==")[0]: line.split("==")[1].split()[0] for line in lines}
    for package, version in pins.items():
        assert pinned[package] == version


def test_requirement_sets_are_where_the_module_looks() -> None:
    assert REPO / "src" / "python_cnb" / "data" / "tools" == DATA
    assert sorted(p.name for p in DATA.glob("*.txt")) == ["pip-tools.txt", "poetry.txt"]


def test_fingerprint_follows_the_data_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tool_specs, "DATA", tmp_path)
    data = tmp_path / "pip-tools.txt"
    data.write_text("pip-tools==7.6.2 --hash=sha256:" + "a" * 64 + "\n", encoding="utf-8")
    spec = tool_spec(METADATA, "pip-tools", "amd64")
    digest = hashlib.sha256(data.read_bytes()).hexdigest()[:16]
    assert spec.fingerprint == f"pip-tools {TOOLS['pip-tools']['version']} ({digest})"
    before = spec.fingerprint
    data.write_text("pip-tools==7.6.2 --hash=sha256:" + "b" * 64 + "\n", encoding="utf-8")
    assert spec.fingerprint != before
    assert spec.fingerprint == tool_spec(METADATA, "pip-tools", "amd64").fingerprint


def test_without_a_data_file_the_tool_is_pinned_by_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tool_specs, "DATA", tmp_path)
    version = TOOLS["poetry"]["version"]
    spec = tool_spec(METADATA, "poetry", "amd64")
    assert spec == ToolSpec("poetry", version)
    assert spec.requirement_lines() == [f"poetry=={version}"]
    assert spec.fingerprint == f"poetry {version}"
