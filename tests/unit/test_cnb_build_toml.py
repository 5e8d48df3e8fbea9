"""build.toml: the buildpack plan entries the buildpack did not meet."""

from __future__ import annotations

from pathlib import Path

import pytest

from python_cnb.cnb import toml_file
from python_cnb.cnb.build_toml import write_build_toml
from python_cnb.cnb.validate import SpecViolation


def test_unmet_entries_are_written(tmp_path: Path) -> None:
    write_build_toml(tmp_path, ("python", "pip"), ("python", "pip", "venv"))
    assert toml_file.read(tmp_path / "build.toml") == {
        "unmet": [{"name": "python"}, {"name": "pip"}]
    }
    assert (tmp_path / "build.toml").read_text(encoding="utf-8") == (
        'unmet = [\n    { name = "python" },\n    { name = "pip" },\n]\n'
    )


def test_nothing_unmet_means_no_file(tmp_path: Path) -> None:
    (tmp_path / "build.toml").write_text("stale")
    write_build_toml(tmp_path, (), ("python",))
    assert not (tmp_path / "build.toml").exists()
    write_build_toml(tmp_path, (), ())
    assert list(tmp_path.iterdir()) == []


def test_unmet_entry_not_in_the_plan_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SpecViolation) as caught:
        write_build_toml(tmp_path, ("python", "node"), ("python",))
    assert caught.value.file == "build.toml"
    assert caught.value.problems == ("unmet[1]: 'node' is not in the buildpack plan",)
    assert not (tmp_path / "build.toml").exists()
