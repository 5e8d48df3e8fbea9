"""Python version requests: specifiers, resolution against a manifest, end-of-life."""

from __future__ import annotations

from datetime import date

import pytest

from python_cnb.python.version import (
    DEFAULT_ORIGIN,
    EmptyRequest,
    EndOfLifePythonVersion,
    InvalidPythonVersion,
    LongNumber,
    NonAsciiCharacter,
    NotASpecifier,
    PreRelease,
    PythonVersion,
    RequestedPythonVersion,
    TooLong,
    UnavailablePythonLine,
    UnknownPythonVersion,
    UnusableVersionText,
    VersionProblem,
    constraint_matches,
    default_request,
    end_of_life,
    newer_patch,
    request,
    resolve,
    to_specifier,
)

V = PythonVersion.parse
AVAILABLE = tuple(
    V(text)
    for text in (
        "3.8.20",
        "3.9.25",
        "3.10.19",
        "3.11.14",
        "3.12.7",
        "3.12.12",
        "3.13.9",
        "3.14.0",
        "3.14.7",
    )
)
TODAY = date(2026, 12, 1)
"""3.8 and 3.9 are past their grace period; 3.10 is in it (it still builds); 3.11 and newer
are supported."""
SUPPORTED = tuple(v for v in sorted(AVAILABLE, reverse=True) if v >= V("3.10.0"))
"""What builds without BP_PYTHON_ALLOW_EOL on TODAY."""


def _resolve(text: str, *, today: date = TODAY, allow_end_of_life: bool = False) -> str:
    requested = request(text, "BP_PYTHON_VERSION")
    version = resolve(
        requested,
        AVAILABLE,
        target="linux/amd64",
        today=today,
        allow_end_of_life=allow_end_of_life,
    )
    return str(version)


@pytest.mark.parametrize(
    ("text", "specifier"),
    [
        ("3", "==3.*"),
        ("3.12", "==3.12.*"),
        ("3.12.*", "==3.12.*"),
        ("3.12.x", "==3.12.*"),
        ("3.12.7", "==3.12.7"),
        (" 3.12.7\n", "==3.12.7"),
        ("python-3.12.7", "==3.12.7"),
        ("Python-3.12", "==3.12.*"),
        ("=3.12", "==3.12.*"),
        ("=3.12.7", "==3.12.7"),
        ("~3.12", "~=3.12.0"),
        ("~3.12.1", "~=3.12.1"),
        ("^3.12", ">=3.12,<4"),
        ("^3.12.1", ">=3.12.1,<4"),
        ("^3", ">=3.0,<4"),
        (">=3.11,<3.13", "<3.13,>=3.11"),
        (">=3.11, <3.13", "<3.13,>=3.11"),
        ("~=3.12", "~=3.12"),
        ("==3.12.*", "==3.12.*"),
        ("!=3.13.*", "!=3.13.*"),
    ],
)
def test_to_specifier(text: str, specifier: str) -> None:
    assert to_specifier(text) == specifier


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("system", NotASpecifier()),
        ("pypy3.10", NotASpecifier()),
        ("3.13t", NotASpecifier()),
        ("3.14.0rc1", NotASpecifier()),
        ("3.12.7.1", NotASpecifier()),
        ("abc", NotASpecifier()),
        ("", EmptyRequest()),
        ("  ", EmptyRequest()),
        ("==3.14.0rc1", PreRelease()),
        (">=3.14.0b2", PreRelease()),
    ],
)
def test_to_specifier_refuses_garbled_text(text: str, reason: VersionProblem) -> None:
    with pytest.raises(UnusableVersionText) as caught:
        to_specifier(text)
    assert caught.value.problem == reason


def test_request_keeps_text_and_origin() -> None:
    requested = request("  3.12 \n", ".python-version")
    assert requested == RequestedPythonVersion("3.12", ".python-version", "==3.12.*")
    assert not requested.is_default


def test_request_raises_invalid_python_version() -> None:
    with pytest.raises(InvalidPythonVersion) as caught:
        request("pypy3.10", "BP_PYTHON_VERSION")
    error = caught.value
    assert (error.text, error.origin) == ("pypy3.10", "BP_PYTHON_VERSION")
    assert error.problem == NotASpecifier()


@pytest.mark.parametrize(
    ("specifier", "line"),
    [
        ("==3.12.*", (3, 12)),
        ("==3.12.7", (3, 12)),
        ("==3.*", None),
        ("~=3.12.0", None),
        ("<3.13,>=3.11", None),
        ("", None),
    ],
)
def test_single_line(specifier: str, line: tuple[int, int] | None) -> None:
    assert RequestedPythonVersion("x", "o", specifier).single_line() == line


def test_python_version_parse_and_format() -> None:
    version = V(" 3.12.7 ")
    assert (version.major, version.minor, version.patch) == (3, 12, 7)
    assert (str(version), version.line) == ("3.12.7", "3.12")
    assert V("3.10.0") > V("3.9.25")
    for text in ("3.12", "3.12.7rc1", "v3.12.7", ""):
        with pytest.raises(ValueError, match=r"not an X\.Y\.Z version"):
            V(text)


@pytest.mark.parametrize(
    ("text", "resolved"),
    [
        ("3", "3.14.7"),
        ("3.12", "3.12.12"),
        ("3.12.x", "3.12.12"),
        ("3.12.7", "3.12.7"),
        ("3.12.12", "3.12.12"),
        ("3.14", "3.14.7"),
        ("~3.12.8", "3.12.12"),
        ("^3.11", "3.14.7"),
        (">=3.11,<3.13", "3.12.12"),
        ("<3.12", "3.11.14"),
        ("~=3.12", "3.14.7"),
    ],
)
def test_resolve_picks_the_newest_match(text: str, resolved: str) -> None:
    assert _resolve(text) == resolved


def test_resolve_default_request_is_newest_supported() -> None:
    requested = default_request()
    assert requested == RequestedPythonVersion("", DEFAULT_ORIGIN, "")
    assert requested.is_default
    assert resolve(requested, AVAILABLE, target="linux/amd64", today=TODAY) == V("3.14.7")


def test_resolve_order_of_available_does_not_matter() -> None:
    shuffled = (V("3.12.7"), V("3.13.9"), V("3.12.12"), V("3.12.7"))
    requested = request("3.12", "BP_PYTHON_VERSION")
    assert resolve(requested, shuffled, target="t", today=TODAY) == V("3.12.12")


def test_resolve_refuses_an_end_of_life_line() -> None:
    with pytest.raises(EndOfLifePythonVersion) as caught:
        _resolve("3.9")
    error = caught.value
    assert error.requested == RequestedPythonVersion("3.9", "BP_PYTHON_VERSION", "==3.9.*")
    assert error.line == (3, 9)
    assert error.support.end_of_life == date(2025, 10, 31)
    assert error.support.builds_until == date(2026, 1, 31)
    assert error.available == SUPPORTED
    assert error.upgrade_to is not None and error.upgrade_to.line == (3, 11)


def test_a_line_the_list_does_not_have_is_not_an_end_of_life_error() -> None:
    """BP_PYTHON_ALLOW_EOL cannot conjure up 3.7: the error says the line is not there."""
    for allow in (False, True):
        with pytest.raises(UnavailablePythonLine) as caught:
            _resolve("3.7.17", allow_end_of_life=allow)
        assert caught.value.support.line == (3, 7)
        assert caught.value.support.end_of_life == date(2023, 6, 27)


def test_end_of_life_is_decided_by_the_date() -> None:
    assert _resolve("3.9", today=date(2025, 10, 30)) == "3.9.25"
    assert _resolve("3.9", today=date(2025, 10, 31)) == "3.9.25"
    assert _resolve("3.9", today=date(2026, 1, 31)) == "3.9.25"  # the grace period's last day
    with pytest.raises(EndOfLifePythonVersion):
        _resolve("3.9", today=date(2026, 2, 1))


def test_default_request_skips_end_of_life_lines() -> None:
    old = (V("3.8.20"), V("3.9.25"), V("3.10.19"))
    requested = default_request()
    assert resolve(requested, old, target="t", today=TODAY) == V("3.10.19")
    assert resolve(requested, old, target="t", today=date(2027, 2, 1), allow_end_of_life=True) == (
        V("3.10.19")
    )


def test_allow_end_of_life() -> None:
    assert _resolve("3.9", allow_end_of_life=True) == "3.9.25"
    assert _resolve("3.8.20", allow_end_of_life=True) == "3.8.20"
    assert _resolve("<3.10", allow_end_of_life=True) == "3.9.25"


def test_specifier_matching_only_end_of_life_versions() -> None:
    with pytest.raises(EndOfLifePythonVersion) as caught:
        _resolve("<3.10")
    error = caught.value
    assert error.line == (3, 9)
    assert error.support.end_of_life == date(2025, 10, 31)
    assert error.available == SUPPORTED


def test_specifier_matching_supported_and_end_of_life_picks_supported() -> None:
    assert _resolve(">=3.8,<3.11") == "3.10.19"


@pytest.mark.parametrize("text", ["4", ">=3.15", "~=3.15"])
def test_unknown_version_lists_supported_ones(text: str) -> None:
    with pytest.raises(UnknownPythonVersion) as caught:
        _resolve(text)
    error = caught.value
    assert error.requested.text == text
    assert error.available == SUPPORTED
    assert error.target == "linux/amd64"


def test_unknown_version_lists_every_version_when_none_is_supported() -> None:
    old = (V("3.8.20"), V("3.9.25"))
    with pytest.raises(UnknownPythonVersion) as caught:
        resolve(request(">=3.15", "x"), old, target="t", today=TODAY)
    assert caught.value.available == (V("3.9.25"), V("3.8.20"))


def test_unknown_version_with_nothing_available() -> None:
    with pytest.raises(UnknownPythonVersion) as caught:
        resolve(default_request(), (), target="linux/riscv64", today=TODAY)
    assert caught.value.available == ()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ((2, 7), date(2020, 1, 1)),
        ((3, 8), date(2024, 10, 7)),
        ((3, 9), date(2025, 10, 31)),
        ((3, 12), date(2028, 10, 31)),
        ((3, 14), date(2030, 10, 31)),
        ((2, 6), date(2019, 1, 1)),
        ((3, 0), date(2019, 1, 1)),
        ((3, 3), date(2019, 1, 1)),
        ((3, 4), date(2019, 3, 18)),
        ((3, 15), None),
        ((4, 0), None),
    ],
)
def test_end_of_life(line: tuple[int, int], expected: date | None) -> None:
    assert end_of_life(*line) == expected


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("3.12.7", "3.12.12"),
        ("3.12.12", None),
        ("3.14.0", "3.14.7"),
        ("3.11.14", None),
        ("3.15.0", None),
    ],
)
def test_newer_patch(version: str, expected: str | None) -> None:
    newer = newer_patch(V(version), AVAILABLE)
    assert (str(newer) if newer else None) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("\uff13.\uff11\uff12", NonAsciiCharacter("\uff13")),
        ("٣.١٢", NonAsciiCharacter("٣")),
        (">=\uff13.\uff11\uff11", NonAsciiCharacter("\uff13")),
        ("3." + "9" * 5000, TooLong(5002)),
        ("3.99999", LongNumber(4)),
        (">=3.11,<3.123456", LongNumber(4)),
    ],
)
def test_garbled_requests_rejected(text: str, reason: VersionProblem) -> None:
    """LOW-1: Unicode digits passed \\d and then broke packaging; 5000 digits broke int()."""
    with pytest.raises(InvalidPythonVersion) as caught:
        request(text, "BP_PYTHON_VERSION")
    assert (caught.value.text, caught.value.problem) == (text, reason)


@pytest.mark.parametrize("constraint", ["==\uff13.\uff11\uff12.*", ">=3." + "9" * 5000, "<3.99999"])
def test_garbled_constraints_rejected(constraint: str) -> None:
    with pytest.raises(InvalidPythonVersion) as caught:
        constraint_matches(constraint, PythonVersion(3, 12, 1), origin="uv.lock")
    assert caught.value.origin == "uv.lock"
