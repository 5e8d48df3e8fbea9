"""TOML reading (TOML 1.0) and atomic writing."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from python_cnb.cnb import toml_file


def test_round_trip(tmp_path: Path) -> None:
    data = {"a": "1", "b": [1, 2], "t": {"x": True}, "arr": [{"name": "n"}]}
    path = tmp_path / "x.toml"
    toml_file.write(path, data)
    assert toml_file.read(path) == data
    assert toml_file.loads(toml_file.dumps(data)) == data


def test_toml_1_0_mixed_type_arrays() -> None:
    assert toml_file.loads('a = [1, "two", 3.0, true, [4], { x = 5 }]') == {
        "a": [1, "two", 3.0, True, [4], {"x": 5}]
    }


def test_invalid_toml_raises() -> None:
    with pytest.raises(toml_file.TOMLDecodeError):
        toml_file.loads("a = ")


def test_write_creates_parents_with_mode_644(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "x.toml"
    toml_file.write(path, {"a": 1})
    assert path.read_text(encoding="utf-8") == "a = 1\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_write_text_verbatim_with_mode(tmp_path: Path) -> None:
    path = tmp_path / "script"
    toml_file.write_text_atomically(path, "line\r\nno newline", mode=0o755)
    assert path.read_bytes() == b"line\r\nno newline"
    assert stat.S_IMODE(path.stat().st_mode) == 0o755


def test_write_replaces_through_a_temporary_file_in_the_same_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "x.toml"
    path.write_text("old")
    seen: list[tuple[Path, str, str]] = []
    real_replace = Path.replace

    def spy(self: Path, target: str | Path) -> Path:
        seen.append((self, self.read_text(), path.read_text()))
        return real_replace(self, target)

    monkeypatch.setattr(Path, "replace", spy)
    toml_file.write(path, {"a": 1})
    [(tmp, tmp_content, target_content)] = seen
    assert tmp.parent == tmp_path
    assert tmp.name.startswith(".x.toml.")
    assert (tmp_content, target_content) == ("a = 1\n", "old")
    assert path.read_text() == "a = 1\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.toml"]


def test_failed_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "x.toml"
    path.write_text("old")

    def fail(self: Path, target: str | Path) -> Path:
        raise OSError("disk full")

    monkeypatch.setattr(Path, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        toml_file.write(path, {"a": 1})
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.toml"]
