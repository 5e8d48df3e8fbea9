"""Choosing a CPython from the buildpack's full list, and the end-of-life policy: a warning six
months ahead, a grace period of three months after, then BP_PYTHON_ALLOW_EOL (never silent).

Every date is pinned: nothing here reads the real clock."""

from __future__ import annotations

from datetime import date

import pytest

from python_cnb.python.distributions import Distribution, for_target, load_distributions
from python_cnb.python.version import (
    EndOfLifePythonVersion,
    LineSupport,
    PythonChoice,
    PythonVersion,
    Stage,
    UnavailablePythonLine,
    UnknownPythonPatch,
    add_months,
    choose,
    line_support,
    request,
    today_for_policy,
)

V = PythonVersion.parse
TODAY = date(2026, 12, 1)
"""3.9 is past its grace period, 3.10 in it (end-of-life 2026-10-31), 3.11 and newer supported."""
DISTRIBUTIONS = load_distributions(None, 5)


def _offered(arch: str = "amd64") -> list[PythonVersion]:
    return [d.version for d in for_target(DISTRIBUTIONS, "linux", arch)]


def _choose(
    text: str,
    origin: str = ".python-version",
    *,
    today: date = TODAY,
    allow: bool = False,
    arch: str = "amd64",
    available: list[PythonVersion] | None = None,
) -> PythonChoice:
    return choose(
        request(text, origin),
        _offered(arch) if available is None else available,
        target=f"linux/{arch}",
        today=today,
        allow_end_of_life=allow,
    )


# --- resolution against the full list ------------------------------------------------------------


@pytest.mark.parametrize("arch", ["amd64", "arm64"])
@pytest.mark.parametrize(
    ("text", "origin", "expected"),
    [
        ("3.12", ".python-version", "3.12.14"),
        ("3.12.7", ".python-version", "3.12.7"),
        ("3.12.0", ".python-version", "3.12.0"),
        ("python-3.10.2", "runtime.txt", "3.10.2"),  # a Django tutorial's runtime.txt
        ("3.10.7", "BP_PYTHON_VERSION", "3.10.7"),  # Google's sample
        ("3.11", ".python-version", "3.11.16"),
        ("3.14.0", ".python-version", "3.14.0"),
        ("3", ".python-version", "3.14.7"),
        ("<3.12", "pyproject.toml (requires-python)", "3.11.16"),
    ],
)
def test_every_patch_release_resolves(arch: str, text: str, origin: str, expected: str) -> None:
    assert str(_choose(text, origin, arch=arch).version) == expected


@pytest.mark.parametrize("arch", ["amd64", "arm64"])
def test_a_patch_that_does_not_exist_lists_the_lines_patches(arch: str) -> None:
    with pytest.raises(UnknownPythonPatch) as caught:
        _choose("3.12.99", "BP_PYTHON_VERSION", arch=arch)
    error = caught.value
    assert error.requested.text == "3.12.99"
    assert error.target == f"linux/{arch}"
    assert error.patches == tuple(V(f"3.12.{patch}") for patch in range(14, -1, -1))
    assert error.patches[0] == V("3.12.14")
    assert (error.support.line, error.needs_allow_eol) == ((3, 12), False)


def test_patches_python_build_standalone_skipped_are_missing_patches() -> None:
    with pytest.raises(UnknownPythonPatch) as caught:
        _choose("3.10.10")
    assert V("3.10.10") not in caught.value.patches
    assert {V("3.10.9"), V("3.10.11"), V("3.10.21")} <= set(caught.value.patches)


def test_each_architecture_has_its_own_list() -> None:
    """A release built for one architecture only is offered for that one only."""

    def distribution(version: str, arch: str) -> Distribution:
        return Distribution(V(version), f"{version}-{arch}", "a" * 64, "linux", arch)

    distributions = [
        distribution("3.12.7", "amd64"),
        distribution("3.12.8", "amd64"),
        distribution("3.12.8", "arm64"),
    ]
    amd64 = [d.version for d in for_target(distributions, "linux", "amd64")]
    arm64 = [d.version for d in for_target(distributions, "linux", "arm64")]
    assert str(_choose("3.12.7", available=amd64).version) == "3.12.7"
    with pytest.raises(UnknownPythonPatch) as caught:
        _choose("3.12.7", arch="arm64", available=arm64)
    assert (caught.value.patches, caught.value.target) == ((V("3.12.8"),), "linux/arm64")
    assert str(_choose("3.12", arch="arm64", available=arm64).version) == "3.12.8"


# --- the stages of a line --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 10, 31), 3, date(2027, 1, 31)),
        (date(2026, 10, 31), -6, date(2026, 4, 30)),
        (date(2024, 10, 7), 3, date(2025, 1, 7)),
        (date(2025, 11, 30), 3, date(2026, 2, 28)),
        (date(2027, 11, 30), 3, date(2028, 2, 29)),
        (date(2026, 1, 15), 0, date(2026, 1, 15)),
    ],
)
def test_add_months(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


@pytest.mark.parametrize(
    ("today", "stage"),
    [
        (date(2026, 4, 29), Stage.SUPPORTED),  # before the warning window
        (date(2026, 4, 30), Stage.ENDING),  # six months before 2026-10-31
        (date(2026, 10, 31), Stage.ENDING),  # the end-of-life day itself
        (date(2026, 11, 1), Stage.GRACE),
        (date(2026, 12, 1), Stage.GRACE),
        (date(2027, 1, 31), Stage.GRACE),  # the grace period's last day
        (date(2027, 2, 1), Stage.ENDED),
    ],
)
def test_line_support_of_3_10(today: date, stage: Stage) -> None:
    support = line_support((3, 10), today)
    assert support == LineSupport((3, 10), stage, date(2026, 10, 31))
    assert (support.warns_from, support.builds_until) == (date(2026, 4, 30), date(2027, 1, 31))
    assert support.name == "3.10"


def test_a_line_without_an_end_of_life_date_is_supported() -> None:
    support = line_support((3, 15), TODAY)
    assert support == LineSupport((3, 15), Stage.SUPPORTED, None)
    assert (support.warns_from, support.builds_until) == (None, None)


# --- the policy, applied by choose() -----------------------------------------------------------

POLICY = [
    (date(2026, 4, 1), Stage.SUPPORTED),
    (date(2026, 6, 1), Stage.ENDING),
    (date(2026, 12, 1), Stage.GRACE),
    (date(2027, 2, 1), Stage.ENDED),
]


@pytest.mark.parametrize(("today", "stage"), POLICY)
@pytest.mark.parametrize("text", ["3.10", "3.10.7", "python-3.10.2"])
def test_the_policy_without_allow_eol(today: date, stage: Stage, text: str) -> None:
    if stage is Stage.ENDED:
        with pytest.raises(EndOfLifePythonVersion) as caught:
            _choose(text, "runtime.txt", today=today)
        error = caught.value
        assert error.support == line_support((3, 10), today)
        assert error.upgrade_to == line_support((3, 11), today)
        assert max(error.available) == V("3.14.7")
        assert all(v.line != "3.10" for v in error.available)
        return
    choice = _choose(text, "runtime.txt", today=today)
    assert choice.version.line == "3.10"
    assert choice.support.stage is stage


@pytest.mark.parametrize(("today", "stage"), POLICY)
def test_the_policy_with_allow_eol(today: date, stage: Stage) -> None:
    """BP_PYTHON_ALLOW_EOL builds the line, and keeps its stage: the build still warns."""
    choice = _choose("3.10", today=today, allow=True)
    assert (str(choice.version), choice.support.stage) == ("3.10.21", stage)


def test_lines_past_their_grace_period_only_build_when_allowed() -> None:
    with pytest.raises(EndOfLifePythonVersion) as caught:
        _choose("3.9.25")
    assert caught.value.support.stage is Stage.ENDED
    choice = _choose("3.9.25", allow=True)
    assert (str(choice.version), choice.support.stage) == ("3.9.25", Stage.ENDED)


def test_a_missing_patch_of_an_ended_line_says_the_switch_is_needed_too() -> None:
    with pytest.raises(UnknownPythonPatch) as caught:
        _choose("3.9.99")
    assert caught.value.needs_allow_eol
    assert caught.value.upgrade_to == line_support((3, 11), TODAY)
    with pytest.raises(UnknownPythonPatch) as caught:
        _choose("3.9.99", allow=True)
    assert not caught.value.needs_allow_eol


def test_the_default_is_the_newest_line_and_ranges_skip_ended_lines() -> None:
    assert str(_choose(">=3.8").version) == "3.14.7"
    assert str(_choose("<3.11").version) == "3.10.21"  # in its grace period
    assert str(_choose("<3.11", today=date(2027, 2, 1), allow=True).version) == "3.10.21"
    with pytest.raises(EndOfLifePythonVersion) as caught:
        _choose("<3.11", today=date(2027, 2, 1))
    assert caught.value.line == (3, 10)


# --- lines the list never had ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "origin", "line"),
    [
        ("python-3.6.6", "runtime.txt", (3, 6)),  # Kato's demo app
        ("2.7", ".python-version", (2, 7)),
        ("3.7", "BP_PYTHON_VERSION", (3, 7)),
        ("3.8.18", "runtime.txt", (3, 8)),
    ],
)
def test_lines_never_shipped_name_the_nearest_line(
    text: str, origin: str, line: tuple[int, int]
) -> None:
    with pytest.raises(UnavailablePythonLine) as caught:
        _choose(text, origin)
    error = caught.value
    assert error.support.line == line
    assert error.support.stage is Stage.ENDED
    assert error.lines == ((3, 14), (3, 13), (3, 12), (3, 11), (3, 10), (3, 9))
    # 3.9 is offered but does not build without the switch: the nearest that builds is 3.10,
    # itself past end-of-life, so the oldest supported line is named too.
    assert error.nearest == line_support((3, 10), TODAY)
    assert error.upgrade_to == line_support((3, 11), TODAY)
    assert not error.custom_manifest


def test_with_allow_eol_the_nearest_line_may_be_an_ended_one() -> None:
    with pytest.raises(UnavailablePythonLine) as caught:
        _choose("3.8", allow=True)
    assert caught.value.nearest == line_support((3, 9), TODAY)
    assert caught.value.upgrade_to == line_support((3, 11), TODAY)


def test_a_line_newer_than_the_list() -> None:
    with pytest.raises(UnavailablePythonLine) as caught:
        _choose("3.15")
    assert caught.value.nearest == line_support((3, 14), TODAY)
    with pytest.raises(UnavailablePythonLine) as caught:
        _choose("4.0")
    assert caught.value.nearest == line_support((3, 14), TODAY)


def test_a_custom_manifest_is_named_in_the_error() -> None:
    with pytest.raises(UnavailablePythonLine) as caught:
        choose(
            request("3.9", ".python-version"),
            [V("3.12.1"), V("3.11.7")],
            target="linux/amd64",
            today=TODAY,
            custom_manifest=True,
        )
    error = caught.value
    assert error.custom_manifest
    assert error.nearest == line_support((3, 11), TODAY)
    assert error.upgrade_to is None  # the nearest is supported


# --- the date the policy is applied on -----------------------------------------------------------


def test_today_comes_from_the_clock_unless_the_test_hook_is_set() -> None:
    day, hooked = today_for_policy(None)
    assert isinstance(day, date) and not hooked
    assert today_for_policy(date(2027, 2, 1)) == (date(2027, 2, 1), True)
