"""The wording of the CPython choice: missing lines and patches, end-of-life errors, and the
warnings of the end-of-life policy. Dates are pinned (2026-12-01 unless a test says)."""

from __future__ import annotations

from datetime import date

import pytest

from python_cnb import notices
from python_cnb.buildpack_error import BuildpackError
from python_cnb.config.settings import TODAY_HOOK
from python_cnb.errors import describe
from python_cnb.python.distributions import for_target, load_distributions
from python_cnb.python.version import (
    PythonVersion,
    RequestedPythonVersion,
    UnknownPythonVersion,
    choose,
    default_request,
    request,
    support_notice,
)

V = PythonVersion.parse
TODAY = date(2026, 12, 1)
OFFERED = [d.version for d in for_target(load_distributions(None, 5), "linux", "amd64")]


def _block(
    text: str,
    origin: str,
    *,
    today: date = TODAY,
    allow: bool = False,
    available: list[PythonVersion] | None = None,
    custom_manifest: bool = False,
) -> tuple[str, str]:
    with pytest.raises(BuildpackError) as caught:
        choose(
            request(text, origin),
            OFFERED if available is None else available,
            target="linux/amd64",
            today=today,
            allow_end_of_life=allow,
            custom_manifest=custom_manifest,
        )
    return describe(caught.value)


def _warning(
    text: str, origin: str = ".python-version", *, today: date = TODAY, allow: bool = False
) -> tuple[str, str] | None:
    requested = request(text, origin)
    choice = choose(requested, OFFERED, target="linux/amd64", today=today, allow_end_of_life=allow)
    return support_notice(choice, requested, max(OFFERED))


# --- a patch that does not exist -----------------------------------------------------------------


def test_missing_patch_lists_the_lines_patches() -> None:
    title, body = _block("3.12.99", "BP_PYTHON_VERSION")
    assert title == "Python 3.12.99 is not available"
    assert body == (
        'BP_PYTHON_VERSION asks for Python:\n    "3.12.99"\n\n'
        "There is no such CPython release for linux/amd64. The 3.12 releases available, newest "
        "first: 3.12.14, 3.12.13, 3.12.12, 3.12.11, 3.12.10, 3.12.9, 3.12.8, 3.12.7, 3.12.6, "
        "3.12.5, 3.12.4, 3.12.3, 3.12.2, 3.12.1, 3.12.0. The newest is 3.12.14.\n\n"
        "How to fix it:\n"
        "  1. Ask for the line instead, to get its newest patch (3.12.14 today) and every later "
        "fix. Set BP_PYTHON_VERSION=3.12.\n"
        "  2. Or pin one of the 3.12 releases listed."
    )


def test_missing_patch_in_runtime_txt_shows_the_line_to_write() -> None:
    _, body = _block("python-3.10.10", "runtime.txt")
    assert "The newest is 3.10.21." in body
    assert "Write in runtime.txt:\n           python-3.10\n" in body
    assert "BP_PYTHON_ALLOW_EOL" not in body and "BP_CPYTHON_MANIFEST" not in body


def test_missing_patch_of_a_line_past_its_grace_period() -> None:
    _, body = _block("3.9.99", ".python-version")
    assert (
        "Python 3.9 is past its end-of-life (2025-10-31) and its grace period (until "
        "2026-01-31): any 3.9 release builds only with BP_PYTHON_ALLOW_EOL=true." in body
    )
    assert "1. Upgrade the app to Python 3.11 or newer. Write in .python-version:\n" in body
    assert "pin one of the 3.9 releases listed (or 3.9) and set BP_PYTHON_ALLOW_EOL=true" in body


def test_missing_patch_in_a_custom_manifest_may_be_added_there() -> None:
    _, body = _block("3.12.7", ".python-version", available=[V("3.12.1")], custom_manifest=True)
    assert "3. Or add CPython 3.12.7 to the manifest BP_CPYTHON_MANIFEST points at." in body


# --- a line the list does not have ---------------------------------------------------------------


def test_kato_python_3_6_gets_the_nearest_line_and_no_useless_switch() -> None:
    title, body = _block("python-3.6.6", "runtime.txt")
    assert title == "Python 3.6 is not available"
    assert body == (
        'runtime.txt asks for Python:\n    "python-3.6.6"\n\n'
        "python-cnb's CPython list has no Python 3.6: it holds python-build-standalone's builds "
        "of Python 3.9 to 3.14 for linux/amd64.\n\n"
        "Python 3.6 reached its end-of-life on 2021-12-23: it gets no security fixes.\n\n"
        "The nearest line available is 3.10. It is past its end-of-life too (since 2026-10-31) "
        "and builds only until 2027-01-31. The oldest line still supported is 3.11 (until "
        "2027-10-31).\n\n"
        "How to fix it:\n"
        "  1. Upgrade the app to Python 3.11 or newer (ideally 3.14, the newest). Write in "
        "runtime.txt:\n"
        "           python-3.11"
    )


@pytest.mark.parametrize(
    ("text", "origin", "line_to_write"),
    [
        ("2.7", ".python-version", "Write in .python-version:\n           3.11"),
        ("3.7", "BP_PYTHON_VERSION", "Set BP_PYTHON_VERSION=3.11."),
        ("python-3.8.18", "runtime.txt", "Write in runtime.txt:\n           python-3.11"),
        (
            "==3.8.*",
            "pyproject.toml (requires-python)",
            "Write a .python-version file containing:\n           3.11",
        ),
    ],
)
def test_lines_never_shipped(text: str, origin: str, line_to_write: str) -> None:
    title, body = _block(text, origin)
    assert title.endswith("is not available")
    assert line_to_write in body
    assert "BP_PYTHON_ALLOW_EOL" not in body  # it cannot help
    assert "BP_CPYTHON_MANIFEST" not in body


def test_a_line_newer_than_the_list_suggests_the_newest() -> None:
    title, body = _block("3.15", ".python-version")
    assert title == "Python 3.15 is not available"
    assert "The nearest line available is 3.14." in body
    assert "oldest line still supported" not in body
    assert (
        "1. Use Python 3.14, the newest line available. Write in .python-version:\n"
        "           3.14" in body
    )


def test_a_line_missing_from_a_custom_manifest() -> None:
    _, body = _block(
        "3.9", ".python-version", available=[V("3.12.1"), V("3.11.7")], custom_manifest=True
    )
    assert (
        "The CPython manifest BP_CPYTHON_MANIFEST points at has no Python 3.9 for linux/amd64. "
        "Its lines: 3.12, 3.11." in body
    )
    assert "2. Or add CPython 3.9 builds to the manifest BP_CPYTHON_MANIFEST points at." in body


# --- past the grace period -----------------------------------------------------------------------


def test_end_of_life_error_offers_the_switch_that_builds_it() -> None:
    title, body = _block("3.9", ".python-version")
    assert title == "Python 3.9 has reached end-of-life"
    assert body == (
        '.python-version asks for Python:\n    "3.9"\n\n'
        "Python 3.9 stopped receiving security fixes on 2025-10-31. python-cnb went on building "
        "it, with a warning, for a grace period of 3 months, until 2026-01-31; it no longer does "
        "unless told to. Available lines, with their newest patch: 3.14.7, 3.13.15, 3.12.14, "
        "3.11.16, 3.10.21.\n\n"
        "How to fix it:\n"
        "  1. Upgrade the app to Python 3.11 or newer (ideally 3.14, the newest). Write in "
        ".python-version:\n"
        "           3.11\n"
        "  2. If you must build Python 3.9 anyway (at your own risk), set "
        "BP_PYTHON_ALLOW_EOL=true: every build will warn."
    )


def test_end_of_life_error_for_3_10_after_its_grace_period() -> None:
    title, body = _block("python-3.10.2", "runtime.txt", today=date(2027, 2, 1))
    assert title == "Python 3.10 has reached end-of-life"
    assert "stopped receiving security fixes on 2026-10-31" in body
    assert "until 2027-01-31" in body
    assert "Write in runtime.txt:\n           python-3.11" in body


def test_unknown_range_lists_the_newest_patch_of_each_line() -> None:
    title, body = _block(">=3.15", "BP_PYTHON_VERSION")
    assert title == "Requested Python version is not available"
    assert (
        "No CPython available for linux/amd64 matches it. Available lines, with their newest "
        "patch: 3.14.7, 3.13.15, 3.12.14, 3.11.16, 3.10.21." in body
    )
    assert "major.minor version such as 3.14 (the newest patch is picked)." in body


def test_unknown_version_with_nothing_available() -> None:
    requested = RequestedPythonVersion("3.12", ".python-version", "==3.12.*")
    _, body = describe(UnknownPythonVersion(requested, (), "linux/riscv64"))
    assert "No CPython available for linux/riscv64 matches it." in body
    assert "or to a major.minor version such as 3.12 (the newest patch is picked)." in body


# --- the warnings --------------------------------------------------------------------------------


def test_no_warning_for_a_supported_line() -> None:
    assert _warning("3.12") is None
    assert _warning("3.11", today=date(2027, 4, 29)) is None


def test_warning_from_six_months_before_end_of_life() -> None:
    warning = _warning("3.11", today=date(2027, 4, 30))
    assert warning == (
        "Python 3.11 reaches end-of-life on 2027-10-31",
        "After 2027-10-31, Python 3.11 gets no more security fixes. python-cnb will go on "
        "building it, with a warning, for 3 months (until 2028-01-31); after that, builds "
        "fail.\n\n"
        "Upgrade to a newer Python, e.g. 3.14. Write in .python-version:\n    3.14",
    )


def test_loud_warning_in_the_grace_period() -> None:
    warning = _warning("python-3.10.2", "runtime.txt")
    assert warning == (
        "Python 3.10 has reached end-of-life: builds fail after 2027-01-31",
        "Python 3.10 stopped receiving security fixes on 2026-10-31: this image gets none. "
        "python-cnb still builds it for a grace period that ends on 2027-01-31; from then on "
        "builds of Python 3.10 fail (unless BP_PYTHON_ALLOW_EOL=true). Do not wait.\n\n"
        "Upgrade to a newer Python, e.g. 3.14. Write in runtime.txt:\n    python-3.14",
    )


@pytest.mark.parametrize("today", [date(2026, 12, 1), date(2027, 2, 1), date(2031, 1, 1)])
def test_allow_eol_never_silences(today: date) -> None:
    warning = _warning("3.10", "BP_PYTHON_VERSION", today=today, allow=True)
    assert warning is not None
    if today >= date(2027, 2, 1):
        assert warning == (
            "Python 3.10 is past end-of-life: built only because BP_PYTHON_ALLOW_EOL=true",
            "Python 3.10 stopped receiving security fixes on 2026-10-31, and python-cnb's grace "
            "period for it ended on 2027-01-31. This image runs a Python that gets no security "
            "fixes.\n\n"
            "Upgrade to a newer Python, e.g. 3.14. Set BP_PYTHON_VERSION=3.14.\n\n"
            "Then unset BP_PYTHON_ALLOW_EOL.",
        )


def test_warning_for_the_default_points_at_python_version() -> None:
    requested = default_request()
    old = [V("3.10.21"), V("3.9.25")]
    choice = choose(requested, old, target="t", today=TODAY)
    warning = support_notice(choice, requested, max(old))
    assert warning is not None
    assert warning[1].endswith("Upgrade to a newer Python as soon as one is available.")


def test_policy_date_note() -> None:
    assert notices.policy_date(date(2027, 2, 1), TODAY_HOOK) == (
        "End-of-life dates are checked against 2027-02-01, from PYTHON_CNB_TODAY (a hook for "
        "python-cnb's tests, not a setting)"
    )
