"""The detector: running bin/detect and resolving the plans like the lifecycle's depMap."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import pytest

from python_cnb_lifecycle import process_runner
from python_cnb_lifecycle.detector import PlanEntry, detect, plan_for
from python_cnb_lifecycle.errors import (
    DETECT_ERROR,
    DETECT_FAILED,
    SPEC_VIOLATION,
    LifecycleError,
)
from python_cnb_lifecycle.workspace import Buildpack
from tests.unit.buildpacks import SH_PATH, load, plan_detect


class Detection:
    """Runs detect over shell buildpacks, recording the output and each phase env."""

    def __init__(self, tmp_path: Path) -> None:
        self.root = tmp_path / "buildpacks"
        self.app = tmp_path / "app"
        self.app.mkdir()
        self.log: list[str] = []
        self.envs: dict[str, dict[str, str]] = {}
        self.buildpacks: list[Buildpack] = []

    def add(self, buildpack_id: str, plan: str = "", code: int = 0, body: str = "") -> None:
        self.buildpacks.append(load(self.root, buildpack_id, detect=body + plan_detect(plan, code)))

    def run(self, argv: list[str], cwd: Path, env: Mapping[str, str]) -> int:
        return process_runner.run(argv, cwd=cwd, env=env, sink=self.log)

    def env_for(self, bp: Buildpack, plan: Path) -> dict[str, str]:
        env = {"PATH": SH_PATH, "CNB_BUILD_PLAN_PATH": str(plan), "CNB_BUILDPACK_DIR": str(bp.path)}
        self.envs[bp.id] = env
        return env

    def detect(self) -> list[PlanEntry]:
        return detect(self.buildpacks, self.app, self.env_for, self.run)


@pytest.fixture
def detection(tmp_path: Path) -> Detection:
    return Detection(tmp_path)


PROVIDE_REQUIRE = """
[[provides]]
name = "python"

[[requires]]
name = "python"
[requires.metadata]
version = "3.12"
"""


def test_one_buildpack_provides_and_requires(detection: Detection) -> None:
    detection.add("bp/a", PROVIDE_REQUIRE)
    entries = detection.detect()
    assert entries == [
        PlanEntry("python", ["bp/a"], [{"name": "python", "metadata": {"version": "3.12"}}])
    ]
    assert plan_for("bp/a", entries) == [{"name": "python", "metadata": {"version": "3.12"}}]
    assert plan_for("bp/other", entries) == []


def test_provider_gets_the_requirements_of_later_buildpacks(detection: Detection) -> None:
    detection.add("bp/a", '[[provides]]\nname = "python"')
    detection.add("bp/b", '[[requires]]\nname = "python"\n[requires.metadata]\nlaunch = true')
    entries = detection.detect()
    assert entries == [
        PlanEntry("python", ["bp/a"], [{"name": "python", "metadata": {"launch": True}}])
    ]
    assert plan_for("bp/a", entries) == [{"name": "python", "metadata": {"launch": True}}]
    assert plan_for("bp/b", entries) == []


def test_every_requirement_is_collected_in_order(detection: Detection) -> None:
    detection.add("bp/a", PROVIDE_REQUIRE)
    detection.add("bp/b", '[[requires]]\nname = "python"\n[requires.metadata]\nbuild = true')
    detection.add("bp/c", '[[requires]]\nname = "python"')
    assert plan_for("bp/a", detection.detect()) == [
        {"name": "python", "metadata": {"version": "3.12"}},
        {"name": "python", "metadata": {"build": True}},
        {"name": "python", "metadata": {}},
    ]


def test_two_providers_share_the_entry(detection: Detection) -> None:
    detection.add("bp/a", '[[provides]]\nname = "python"')
    detection.add("bp/b", '[[provides]]\nname = "python"')
    detection.add("bp/c", '[[requires]]\nname = "python"')
    entries = detection.detect()
    assert entries == [PlanEntry("python", ["bp/a", "bp/b"], [{"name": "python", "metadata": {}}])]
    assert (
        plan_for("bp/a", entries)
        == plan_for("bp/b", entries)
        == [{"name": "python", "metadata": {}}]
    )


def test_require_before_provide_fails(detection: Detection) -> None:
    detection.add("bp/a", '[[requires]]\nname = "python"')
    detection.add("bp/b", '[[provides]]\nname = "python"')
    with pytest.raises(LifecycleError) as caught:
        detection.detect()
    assert (caught.value.phase, caught.value.code) == ("detect", DETECT_FAILED)
    assert caught.value.message == "no combination of build plans resolves"


def test_provided_but_never_required_fails(detection: Detection) -> None:
    detection.add("bp/a", '[[provides]]\nname = "python"')
    with pytest.raises(LifecycleError) as caught:
        detection.detect()
    assert caught.value.code == DETECT_FAILED


def test_provided_again_after_its_requirement_fails(detection: Detection) -> None:
    detection.add("bp/a", PROVIDE_REQUIRE)
    detection.add("bp/b", '[[provides]]\nname = "python"')
    with pytest.raises(LifecycleError) as caught:
        detection.detect()
    assert caught.value.code == DETECT_FAILED


def test_empty_plans_pass(detection: Detection) -> None:
    detection.add("bp/a")
    detection.add("bp/b")
    assert detection.detect() == []


def test_or_alternative_is_used_when_the_primary_fails(detection: Detection) -> None:
    detection.add(
        "bp/a",
        '[[provides]]\nname = "unused"\n\n'
        '[[or]]\n[[or.provides]]\nname = "python"\n[[or.requires]]\nname = "python"',
    )
    entries = detection.detect()
    assert entries == [PlanEntry("python", ["bp/a"], [{"name": "python", "metadata": {}}])]


def test_first_resolving_combination_wins(detection: Detection) -> None:
    """Options of the first buildpack are tried outermost (Go's runTrialsFrom)."""
    detection.add("bp/a", '[[provides]]\nname = "x"\n\n[[or]]\n[[or.provides]]\nname = "y"')
    detection.add(
        "bp/b",
        '[[requires]]\nname = "y"\n\n[[or]]\n[[or.requires]]\nname = "x"',
    )
    assert detection.detect() == [PlanEntry("x", ["bp/a"], [{"name": "x", "metadata": {}}])]


def test_empty_alternative_lets_an_unrequired_provide_go(detection: Detection) -> None:
    detection.add("bp/a", '[[provides]]\nname = "python"\n\n[[or]]')
    detection.add("bp/b")
    assert detection.detect() == []


def test_detect_fail(detection: Detection) -> None:
    detection.add("bp/a", code=100)
    with pytest.raises(LifecycleError) as caught:
        detection.detect()
    assert (caught.value.code, caught.value.message) == (
        DETECT_FAILED,
        "bp/a did not detect (exit 100)",
    )


def test_detect_error(detection: Detection) -> None:
    detection.add("bp/a", code=3)
    with pytest.raises(LifecycleError) as caught:
        detection.detect()
    assert (caught.value.code, caught.value.message) == (
        DETECT_ERROR,
        "bp/a detect errored (exit 3)",
    )


def test_detect_error_wins_over_a_failure(detection: Detection) -> None:
    """Go's Resolve runs every buildpack; any error makes the group an error (21), not 20."""
    detection.add("bp/a", code=100)
    detection.add("bp/b", code=1)
    with pytest.raises(LifecycleError) as caught:
        detection.detect()
    assert (caught.value.code, caught.value.message) == (
        DETECT_ERROR,
        "bp/b detect errored (exit 1)",
    )
    assert set(detection.envs) == {"bp/a", "bp/b"}


def test_invalid_plan_toml_is_an_error(detection: Detection) -> None:
    detection.add("bp/a", "[[provides]\nname=")
    with pytest.raises(LifecycleError) as caught:
        detection.detect()
    assert caught.value.code == DETECT_ERROR
    assert caught.value.message.startswith("bp/a wrote invalid plan TOML: ")


def test_plan_breaking_the_spec(detection: Detection) -> None:
    detection.add("bp/a", '[[requires]]\nname = "python"\nversion = "3.12"')
    with pytest.raises(LifecycleError) as caught:
        detection.detect()
    assert (caught.value.code, caught.value.message) == (
        SPEC_VIOLATION,
        "bp/a plan: the plan: requires[0] has a top-level 'version'; put it in "
        "requires.metadata; unknown key 'version' in the plan: requires[0]",
    )


def test_detect_runs_in_the_app_dir_with_an_empty_plan_file(detection: Detection) -> None:
    body = (
        'test -f "$CNB_BUILD_PLAN_PATH" || exit 4\n'
        'test -s "$CNB_BUILD_PLAN_PATH" && exit 5\n'
        'echo "cwd=$(pwd -P)"\n'
        'echo "args=$#"\n'
    )
    detection.add("bp/a", body=body)
    detection.add("bp/b", body=body)
    assert detection.detect() == []
    app = detection.app.resolve()
    assert detection.log == [f"cwd={app}\n", "args=0\n", f"cwd={app}\n", "args=0\n"]
    plan_a = Path(detection.envs["bp/a"]["CNB_BUILD_PLAN_PATH"])
    plan_b = Path(detection.envs["bp/b"]["CNB_BUILD_PLAN_PATH"])
    assert plan_a != plan_b
    assert not plan_a.exists()  # a temporary directory, removed after detection
