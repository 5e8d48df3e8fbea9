"""The build plan written at detect and the buildpack plan read at build."""

from __future__ import annotations

from pathlib import Path

import pytest

from python_cnb.cnb import toml_file
from python_cnb.cnb.plan import BuildpackPlan, BuildPlan, PlanEntry, Require
from python_cnb.cnb.validate import SpecViolation


def test_empty_plan() -> None:
    assert BuildPlan().to_toml() == {}


def test_provides_and_requires() -> None:
    plan = BuildPlan(
        provides=("python",),
        requires=(Require("python", {"version": "3.12", "launch": True}), Require("pip")),
    )
    assert plan.to_toml() == {
        "provides": [{"name": "python"}],
        "requires": [
            {"name": "python", "metadata": {"version": "3.12", "launch": True}},
            {"name": "pip"},
        ],
    }


def test_alternatives_become_or_tables() -> None:
    plan = BuildPlan(
        provides=("python",),
        requires=(Require("python"),),
        alternatives=(BuildPlan(provides=("python",)), BuildPlan()),
    )
    assert plan.to_toml() == {
        "provides": [{"name": "python"}],
        "requires": [{"name": "python"}],
        "or": [{"provides": [{"name": "python"}]}, {}],
    }


def test_write(tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    path.write_text("")
    BuildPlan(("python",), (Require("python", {"version": "3.12"}),)).write(path)
    assert toml_file.read(path) == {
        "provides": [{"name": "python"}],
        "requires": [{"name": "python", "metadata": {"version": "3.12"}}],
    }


def test_write_refuses_invalid_plans(tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    with pytest.raises(SpecViolation) as caught:
        BuildPlan(provides=("",), requires=(Require("python"),)).write(path)
    assert caught.value.file == "build plan"
    assert caught.value.problems == ("the plan: provides[0] needs a non-empty string 'name'",)
    assert not path.exists()


def test_read_buildpack_plan(tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    toml_file.write(
        path,
        {
            "entries": [
                {"name": "python", "metadata": {"version": "3.12"}},
                {"name": "python", "metadata": {"launch": True}},
                {"name": "pip"},
            ]
        },
    )
    plan = BuildpackPlan.read(path)
    assert plan == BuildpackPlan(
        (
            PlanEntry("python", {"version": "3.12"}),
            PlanEntry("python", {"launch": True}),
            PlanEntry("pip", {}),
        )
    )
    assert plan.names() == ("python", "python", "pip")


def test_read_missing_or_empty_plan(tmp_path: Path) -> None:
    assert BuildpackPlan.read(tmp_path / "missing.toml") == BuildpackPlan()
    (tmp_path / "empty.toml").write_text("")
    assert BuildpackPlan.read(tmp_path / "empty.toml").names() == ()
