"""tools/update_dependencies.py: the one generator of the CPython list and of buildpack.toml's
CPython block."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from python_cnb.cnb import toml_file
from python_cnb.python.distributions import DATA_FILE, parse_manifest
from tools import update_dependencies

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "data" / "cpython-distributions-all.toml"


def test_the_committed_files_are_what_the_generator_writes() -> None:
    generated = update_dependencies.generate(update_dependencies.DEFAULT_SOURCE, REPO)
    assert set(generated) == {REPO / "buildpack.toml", DATA_FILE}
    for path, text in generated.items():
        assert path.read_text(encoding="utf-8") == text, f"{path} is stale: run the generator"
    assert update_dependencies.main(["--check"]) == 0


@pytest.mark.skipif(not SHARED.is_file(), reason="no ../shared/data beside this checkout")
def test_the_committed_source_is_the_teams_list() -> None:
    """The copy under tools/data/ is the team's current list (../shared/data/)."""
    assert update_dependencies.DEFAULT_SOURCE.read_bytes() == SHARED.read_bytes()


def _entry(version: str, arch: str) -> dict[str, Any]:
    triple = {"amd64": "x86_64", "arm64": "aarch64"}[arch]
    return {
        "version": version,
        "arch": arch,
        "os": "linux",
        "libc": "gnu",
        "flavor": "install_only_stripped",
        "url": f"https://example.test/cpython-{version}-{triple}.tar.gz",
        "sha256": hashlib.sha256(f"{version} {arch}".encode()).hexdigest(),
        "source": "python-build-standalone 20260814",
    }


def _root(tmp_path: Path, entries: list[dict[str, Any]]) -> tuple[Path, Path]:
    root = tmp_path / "repo"
    (root / "src" / "python_cnb" / "data").mkdir(parents=True)
    shutil.copyfile(REPO / "buildpack.toml", root / "buildpack.toml")
    source = tmp_path / "all.toml"
    source.write_text(tomli_w.dumps({"distributions": entries}))
    return root, source


def test_every_release_goes_to_the_data_file_and_the_newest_to_buildpack_toml(
    tmp_path: Path,
) -> None:
    entries = [
        _entry(version, arch)
        for version in ("3.12.9", "3.12.10", "3.13.1", "3.12.2")
        for arch in ("arm64", "amd64")
    ]
    entries.append(_entry("3.11.4", "amd64"))  # one architecture only
    root, source = _root(tmp_path, entries)
    generated = update_dependencies.generate(source, root)
    data = toml_file.loads(generated[root / update_dependencies.DATA_PATH])
    listed = [(e["version"], e["arch"]) for e in data["dependencies"]]
    assert listed == [
        ("3.11.4", "amd64"),
        ("3.12.2", "amd64"),
        ("3.12.2", "arm64"),
        ("3.12.9", "amd64"),
        ("3.12.9", "arm64"),
        ("3.12.10", "amd64"),
        ("3.12.10", "arm64"),
        ("3.13.1", "amd64"),
        ("3.13.1", "arm64"),
    ]
    descriptor = toml_file.loads(generated[root / "buildpack.toml"])
    shown = [(e["version"], e["arch"]) for e in descriptor["metadata"]["dependencies"]]
    assert shown == [
        ("3.11.4", "amd64"),
        ("3.12.10", "amd64"),
        ("3.12.10", "arm64"),
        ("3.13.1", "amd64"),
        ("3.13.1", "arm64"),
    ]
    # The rest of buildpack.toml is kept, and both files load as manifests.
    assert (
        descriptor["metadata"]["tools"]
        == toml_file.read(REPO / "buildpack.toml")["metadata"]["tools"]
    )
    [first] = [
        d for d in parse_manifest(data, "data") if (str(d.version), d.arch) == ("3.12.2", "amd64")
    ]
    assert first.sha256 == _entry("3.12.2", "amd64")["sha256"]
    assert first.purl.startswith("pkg:generic/cpython@3.12.2?checksum=sha256%3A")
    assert data["dependencies"][0]["deprecation_date"] == "2027-10-31T00:00:00Z"


def test_check_mode_reports_stale_files_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root, source = _root(tmp_path, [_entry("3.12.9", "amd64")])
    monkeypatch.setattr(update_dependencies, "ROOT", root)
    before = (root / "buildpack.toml").read_text()
    assert update_dependencies.main(["--check", str(source)]) == 1
    assert (root / "buildpack.toml").read_text() == before
    assert not (root / update_dependencies.DATA_PATH).exists()
    assert "out of date" in capsys.readouterr().out
    assert update_dependencies.main([str(source)]) == 0
    assert update_dependencies.main(["--check", str(source)]) == 0
    assert (root / update_dependencies.DATA_PATH).is_file()


def test_a_release_listed_twice_is_refused(tmp_path: Path) -> None:
    root, source = _root(tmp_path, [_entry("3.12.9", "amd64"), _entry("3.12.9", "amd64")])
    with pytest.raises(ValueError, match=r"3\.12\.9/amd64"):
        update_dependencies.generate(source, root)
