"""buildpack.toml: the descriptor, and the repository's own buildpack.toml."""

from __future__ import annotations

from pathlib import Path

import pytest

from python_cnb.cnb import BUILDPACK_API, toml_file
from python_cnb.cnb.buildpack_toml import BuildpackDescriptor, escape_id, read_descriptor
from python_cnb.cnb.validate import SpecViolation, check_buildpack_toml

REPO = Path(__file__).resolve().parents[2]
CDX = "application/vnd.cyclonedx+json"


def test_from_toml() -> None:
    descriptor = BuildpackDescriptor.from_toml(
        {
            "api": "0.10",
            "buildpack": {
                "id": "python-cnb/python",
                "version": "1.2.3",
                "name": "Python",
                "sbom-formats": [CDX],
            },
            "metadata": {"dependencies": []},
        }
    )
    assert descriptor == BuildpackDescriptor(
        api="0.10",
        id="python-cnb/python",
        version="1.2.3",
        name="Python",
        sbom_formats=(CDX,),
        metadata={"dependencies": []},
    )


def test_from_toml_defaults() -> None:
    descriptor = BuildpackDescriptor.from_toml(
        {"api": "0.10", "buildpack": {"id": "a", "version": "0.0.1"}}
    )
    assert (descriptor.name, descriptor.sbom_formats, descriptor.metadata) == ("", (), {})


def test_from_toml_validates() -> None:
    with pytest.raises(SpecViolation) as caught:
        BuildpackDescriptor.from_toml({"api": "0.10", "buildpack": {"id": "sbom", "version": "1"}})
    assert caught.value.problems == (
        "buildpack.id 'sbom' is reserved",
        "buildpack.version must be X.Y.Z without leading zeros",
    )


def test_read_descriptor(tmp_path: Path) -> None:
    toml_file.write(
        tmp_path / "buildpack.toml", {"api": "0.10", "buildpack": {"id": "a/b", "version": "1.0.0"}}
    )
    assert read_descriptor(tmp_path) == BuildpackDescriptor("0.10", "a/b", "1.0.0")


def test_escape_id() -> None:
    assert escape_id("python-cnb/python") == "python-cnb_python"
    assert escape_id("a/b/c") == "a_b_c"
    assert escape_id("plain") == "plain"


def test_repository_buildpack_toml_is_valid() -> None:
    raw = toml_file.read(REPO / "buildpack.toml")
    assert check_buildpack_toml(raw) == []
    descriptor = read_descriptor(REPO)
    assert descriptor.api == BUILDPACK_API == "0.10"
    assert descriptor.sbom_formats == (CDX,)
    assert raw["targets"] == [{"os": "linux", "arch": "amd64"}, {"os": "linux", "arch": "arm64"}]
    assert "stacks" not in raw
    assert "exec-env" not in raw["buildpack"]
