"""The runner's workspace helpers: which buildpacks support a target, the target's variables,
and the image's and cache's metadata files, read as leniently as the lifecycle reads them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from python_cnb.cnb.buildpack_toml import BuildpackDescriptor
from python_cnb_lifecycle.workspace import (
    Buildpack,
    Target,
    _os_release,
    read_json,
    read_layers_metadata,
    write_json,
)

NOBLE = Target("linux", "amd64", "ubuntu", "24.04")


def _buildpack(targets: list[dict[str, Any]] | None) -> Buildpack:
    raw: dict[str, Any] = {"api": "0.10", "buildpack": {"id": "test/bp", "version": "1.0.0"}}
    if targets is not None:
        raw["targets"] = targets
    return Buildpack(Path("/bp"), BuildpackDescriptor.from_toml(raw), raw)


@pytest.mark.parametrize(
    ("targets", "supported"),
    [
        pytest.param(None, True, id="no targets: any linux"),
        pytest.param([{"os": "linux", "arch": "arm64"}], False, id="another arch"),
        pytest.param([{"os": "windows"}, {"arch": "amd64"}], True, id="any entry may match"),
        pytest.param([{"os": "linux", "distros": [{"name": "debian"}]}], False, id="other distro"),
        pytest.param(
            [{"os": "linux", "distros": [{"name": "ubuntu", "version": "22.04"}]}],
            False,
            id="other distro version",
        ),
        pytest.param(
            [{"distros": [{"name": "debian"}, {"name": "ubuntu"}]}], True, id="one distro matches"
        ),
        pytest.param([{"os": "linux", "distros": []}], True, id="an empty distros list: any"),
    ],
)
def test_supports(targets: list[dict[str, Any]] | None, supported: bool) -> None:
    assert _buildpack(targets).supports(NOBLE) is supported


def test_no_targets_means_linux_only() -> None:
    assert not _buildpack(None).supports(Target("windows", "amd64"))


def test_target_env_names_the_distro_only_when_known() -> None:
    assert NOBLE.env() == {
        "CNB_TARGET_OS": "linux",
        "CNB_TARGET_ARCH": "amd64",
        "CNB_TARGET_DISTRO_NAME": "ubuntu",
        "CNB_TARGET_DISTRO_VERSION": "24.04",
    }
    assert Target("linux", "arm64").env() == {"CNB_TARGET_OS": "linux", "CNB_TARGET_ARCH": "arm64"}


def test_os_release(tmp_path: Path) -> None:
    path = tmp_path / "os-release"
    path.write_text(
        'PRETTY_NAME="Ubuntu 24.04 LTS"\nID=ubuntu\nVERSION_ID="24.04"\n# a comment\n\n',
        encoding="utf-8",
    )
    assert _os_release(path) == {
        "PRETTY_NAME": "Ubuntu 24.04 LTS",
        "ID": "ubuntu",
        "VERSION_ID": "24.04",
    }
    assert _os_release(tmp_path / "missing") == {}


@pytest.mark.parametrize("content", [b"", b"not json", b"\xff\xfe", b"[1, 2]", b'"text"'], ids=repr)
def test_read_json_gives_none_for_anything_but_an_object(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "data.json"
    path.write_bytes(content)
    assert read_json(path) is None


def test_write_json_then_read_it(tmp_path: Path) -> None:
    path = tmp_path / "image.json"
    write_json(path, {"b": 1, "a": [True]})
    assert read_json(path) == {"a": [True], "b": 1}
    assert path.read_text(encoding="utf-8") == '{\n  "a": [\n    true\n  ],\n  "b": 1\n}\n'
    assert read_json(tmp_path / "missing.json") is None


LAYER = {"sha": "sha256:" + "0" * 64, "types": {"launch": True}, "metadata": {"k": "v"}}


@pytest.mark.parametrize(
    ("buildpacks", "valid"),
    [
        pytest.param([{"id": "a", "layers": {"venv": LAYER}, "store": {}}], True, id="valid"),
        pytest.param([{"id": "a"}], True, id="no layers or store"),
        pytest.param({"id": "a"}, False, id="buildpacks is no list"),
        pytest.param(["a"], False, id="a buildpack is no object"),
        pytest.param([{"id": 1}], False, id="an id is no string"),
        pytest.param([{"id": "a", "layers": []}], False, id="layers is no object"),
        pytest.param([{"id": "a", "store": []}], False, id="store is no object"),
        pytest.param([{"id": "a", "layers": {"v": {**LAYER, "sha": 1}}}], False, id="sha"),
        pytest.param(
            [{"id": "a", "layers": {"v": {**LAYER, "types": {"launch": "yes"}}}}],
            False,
            id="a type flag is no bool",
        ),
        pytest.param(
            [{"id": "a", "layers": {"v": {**LAYER, "metadata": "x"}}}], False, id="metadata"
        ),
    ],
)
def test_layers_metadata_is_all_or_nothing(tmp_path: Path, buildpacks: Any, valid: bool) -> None:
    """Go's json.Unmarshal into typed structs fails as a whole on one mistyped field."""
    path = tmp_path / "cache.json"
    data = {"buildpacks": buildpacks}
    path.write_text(json.dumps(data), encoding="utf-8")
    assert read_layers_metadata(path) == (data if valid else None)
