"""The build tools pinned in buildpack.toml [metadata.tools] and src/python_cnb/data/tools."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from packaging.specifiers import SpecifierSet

from python_cnb.app.files import ToolConstraint
from python_cnb.cnb import toml_file
from python_cnb.config import tool_specs
from python_cnb.config.tool_specs import (
    DATA,
    InvalidToolConstraint,
    NoToolVersion,
    Override,
    OverrideViolatesConstraint,
    ToolSpec,
    choose_tool,
    specifier_set,
    tool_spec,
)

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


# -- the app's constraints and the version setting (choose_tool) ---------------------------

PINNED_UV = TOOLS["uv"]["version"]
RELEASES = ("0.12.3", "0.13.7", PINNED_UV, "0.14.0rc1", "not-a-version")


def _uv(specifier: str, line: int = 3) -> ToolConstraint:
    return ToolConstraint("uv", specifier, "pyproject.toml", "required-version", line)


def _listing(calls: list[int]) -> tuple[str, ...]:
    calls.append(1)
    return RELEASES


def test_without_a_constraint_the_pinned_tool_is_used_and_nothing_is_listed() -> None:
    calls: list[int] = []
    spec = choose_tool(METADATA, "uv", "amd64", available=lambda: _listing(calls))
    assert spec == tool_spec(METADATA, "uv", "amd64")
    assert calls == []


@pytest.mark.parametrize("specifier", [">=0.5", f"=={PINNED_UV}", f"{PINNED_UV}", "~=0.13.0"])
def test_a_pinned_uv_that_satisfies_the_constraint_keeps_its_hashes(
    specifier: str, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[int] = []
    spec = choose_tool(
        METADATA, "uv", "amd64", constraint=_uv(specifier), available=lambda: _listing(calls)
    )
    assert spec == tool_spec(METADATA, "uv", "amd64") and spec.hashes and not spec.overridden
    assert calls == []  # the index is not asked
    assert (
        f'uv {PINNED_UV}, the pinned version, satisfies required-version = "{specifier}" '
        "(pyproject.toml line 3)"
    ) in capsys.readouterr().out


@pytest.mark.parametrize(
    ("specifier", "chosen"),
    [("<0.13.9", "0.13.7"), ("==0.12.*", "0.12.3"), ("0.13.7", "0.13.7"), (">0.13.9", None)],
)
def test_otherwise_the_newest_release_that_satisfies_it_unpinned(
    specifier: str, chosen: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    constraint = _uv(specifier)
    if chosen is None:  # 0.14.0rc1 is a pre-release the constraint does not name
        with pytest.raises(NoToolVersion) as raised:
            choose_tool(METADATA, "uv", "amd64", constraint=constraint, available=lambda: RELEASES)
        error = raised.value
        assert (error.constraint, error.pinned, error.available) == (
            constraint,
            PINNED_UV,
            ("0.14.0rc1", PINNED_UV, "0.13.7", "0.12.3"),
        )
        return
    spec = choose_tool(METADATA, "uv", "amd64", constraint=constraint, available=lambda: RELEASES)
    shown = f'required-version = "{specifier}" (pyproject.toml line 3)'
    assert spec == ToolSpec("uv", chosen, overridden=True, origin=shown)
    assert spec.fingerprint == f"uv {chosen} (unpinned)"  # the cached layer changes with it
    assert spec.requirement_lines() == [f"uv=={chosen}"]
    assert f"Using uv {chosen}, the newest release that satisfies {shown}" in (
        capsys.readouterr().out
    )


def test_an_unpinned_poetry_installs_by_name_and_version() -> None:
    constraint = ToolConstraint("poetry", "^2.4", "pyproject.toml", "requires-poetry", 9)
    spec = choose_tool(
        METADATA, "poetry", "amd64", constraint=constraint, available=lambda: ("2.5.0", "3.0.0")
    )
    pinned = tool_spec(METADATA, "poetry", "amd64")
    assert spec == pinned  # 2.5.1 satisfies ^2.4
    other = replace(constraint, specifier="~2.5.0, !=2.5.1")
    spec = choose_tool(
        METADATA, "poetry", "amd64", constraint=other, available=lambda: ("2.5.0", "2.5.1")
    )
    assert (spec.version, spec.requirement_lines(), spec.requirements) == (
        "2.5.0",
        ["poetry==2.5.0"],
        None,
    )


@pytest.mark.parametrize(
    ("specifier", "pep440"),
    [
        ("^2.1", ">=2.1,<3"),
        ("^0.2.3", ">=0.2.3,<0.3"),
        ("~2.1.3", ">=2.1.3,<2.2"),
        ("~2", ">=2,<3"),
    ],
)
def test_poetry_ranges(specifier: str, pep440: str) -> None:
    constraint = ToolConstraint("poetry", specifier, "pyproject.toml", "requires-poetry")
    assert specifier_set(constraint) == SpecifierSet(pep440)


@pytest.mark.parametrize("specifier", ["", "latest", ">= 0.5 <0.6", "^0.5", "=>0.5"])
def test_an_invalid_constraint_is_an_error(specifier: str) -> None:
    constraint = _uv(specifier)
    with pytest.raises(InvalidToolConstraint) as raised:
        choose_tool(METADATA, "uv", "amd64", constraint=constraint)
    assert raised.value.constraint == constraint


def test_the_version_setting_wins_when_the_constraint_allows_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    override = Override("BP_PYTHON_PACKAGE_MANAGER_VERSION", "0.13.7")
    spec = choose_tool(METADATA, "uv", "amd64", override=override, constraint=_uv("<0.13.9"))
    origin = "BP_PYTHON_PACKAGE_MANAGER_VERSION=0.13.7"
    assert spec == ToolSpec("uv", "0.13.7", overridden=True, origin=origin)
    assert "Using uv 0.13.7 (BP_PYTHON_PACKAGE_MANAGER_VERSION; not hash-checked)" in (
        capsys.readouterr().out
    )
    pinned = Override("BUILD_PYTHON_PACKAGE_MANAGER_VERSION", PINNED_UV)
    assert choose_tool(METADATA, "uv", "amd64", override=pinned) == tool_spec(
        METADATA, "uv", "amd64"
    )


def test_a_version_setting_the_constraint_refuses_is_an_error() -> None:
    override = Override("BP_PYTHON_PACKAGE_MANAGER_VERSION", "0.12.3")
    constraint = _uv(">=0.13")
    with pytest.raises(OverrideViolatesConstraint) as raised:
        choose_tool(METADATA, "uv", "amd64", override=override, constraint=constraint)
    assert (raised.value.override, raised.value.constraint) == (override, constraint)
