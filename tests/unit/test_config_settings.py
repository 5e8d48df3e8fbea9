"""The build's settings, read and validated from the environment."""

from __future__ import annotations

import pytest

from python_cnb.config.settings import (
    DAY,
    PYTHON_VERSION_SETTINGS,
    Flag,
    InvalidSetting,
    NumberRange,
    Settings,
    flag,
    number,
    text,
)


def _core(settings: Settings) -> dict[str, object]:
    """The settings of the Python version and its download."""
    return {
        name: getattr(settings, name)
        for name in (
            "python_version_settings",
            "allow_end_of_life",
            "cpython_manifest",
            "download_timeout",
            "download_retries",
            "debug",
        )
    }


def test_defaults() -> None:
    assert _core(Settings.from_env({})) == {
        "python_version_settings": (),
        "allow_end_of_life": False,
        "cpython_manifest": None,
        "download_timeout": 60,
        "download_retries": 3,
        "debug": False,
    }


def test_every_setting() -> None:
    env = {
        "BUILD_RUNTIMES": " 3.11 ",
        "BP_PYTHON_VERSION": "3.13\n",
        "BP_CPYTHON_VERSION": "",
        "BP_PYTHON_ALLOW_EOL": "Yes",
        "BP_CPYTHON_MANIFEST": " https://mirror.test/manifest.toml ",
        "BP_PYTHON_DOWNLOAD_TIMEOUT": "2.5",
        "BP_PYTHON_DOWNLOAD_RETRIES": "0",
        "BP_LOG_LEVEL": " debug ",
    }
    assert _core(Settings.from_env(env)) == {
        "python_version_settings": (("BP_PYTHON_VERSION", "3.13"), ("BUILD_RUNTIMES", "3.11")),
        "allow_end_of_life": True,
        "cpython_manifest": "https://mirror.test/manifest.toml",
        "download_timeout": 2.5,
        "download_retries": 0,
        "debug": True,
    }


def test_python_version_settings_strongest_first() -> None:
    assert PYTHON_VERSION_SETTINGS == ("BP_PYTHON_VERSION", "BP_CPYTHON_VERSION", "BUILD_RUNTIMES")
    env = {name: f"3.{index}" for index, name in enumerate(reversed(PYTHON_VERSION_SETTINGS))}
    assert Settings.from_env(env).python_version_settings == (
        ("BP_PYTHON_VERSION", "3.2"),
        ("BP_CPYTHON_VERSION", "3.1"),
        ("BUILD_RUNTIMES", "3.0"),
    )


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "Yes", "on", " true\n"])
def test_flag_true(value: str) -> None:
    assert flag({"F": value}, "F") is True


@pytest.mark.parametrize("value", ["", "0", "false", "False", "NO", "off", "  "])
def test_flag_false(value: str) -> None:
    assert flag({"F": value}, "F", default=True) is False


def test_flag_default() -> None:
    assert flag({}, "F") is False
    assert flag({}, "F", default=True) is True


@pytest.mark.parametrize("value", ["maybe", "2", "y", "enabled"])
def test_flag_invalid(value: str) -> None:
    with pytest.raises(InvalidSetting) as caught:
        flag({"BP_PYTHON_ALLOW_EOL": value}, "BP_PYTHON_ALLOW_EOL")
    error = caught.value
    assert (error.name, error.value) == ("BP_PYTHON_ALLOW_EOL", value)
    assert error.expected == Flag()


@pytest.mark.parametrize(
    ("value", "expected"),
    [("", 60.0), ("  ", 60.0), ("1", 1.0), (" 90 ", 90.0), ("1.5", 1.5), ("1e3", 1000.0)],
)
def test_number(value: str, expected: float) -> None:
    assert number({"N": value}, "N", 60, minimum=1) == expected
    assert number({}, "N", 60) == 60


@pytest.mark.parametrize(
    ("value", "minimum", "expected"),
    [
        ("abc", 1, NumberRange(1)),
        ("0.5", 1, NumberRange(1)),
        ("-1", 0, NumberRange(0)),
        ("nan", 0, NumberRange(0)),
        ("inf", 1, NumberRange(1)),
        ("-inf", 0, NumberRange(0)),
        ("0,5", 0.5, NumberRange(0.5)),
    ],
)
def test_number_invalid(value: str, minimum: float, expected: NumberRange) -> None:
    with pytest.raises(InvalidSetting) as caught:
        number({"N": value}, "N", 60, minimum=minimum)
    assert (caught.value.name, caught.value.value, caught.value.expected) == ("N", value, expected)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BP_PYTHON_DOWNLOAD_TIMEOUT", "0"),
        ("BP_PYTHON_DOWNLOAD_TIMEOUT", "soon"),
        ("BP_PYTHON_DOWNLOAD_RETRIES", "-1"),
        ("BP_PYTHON_DOWNLOAD_RETRIES", "inf"),
        ("BP_PYTHON_DOWNLOAD_RETRIES", "nan"),
        ("BP_PYTHON_ALLOW_EOL", "sure"),
    ],
)
def test_from_env_raises_invalid_setting(name: str, value: str) -> None:
    with pytest.raises(InvalidSetting) as caught:
        Settings.from_env({name: value})
    assert (caught.value.name, caught.value.value) == (name, value)


def test_retries_are_whole_numbers() -> None:
    assert Settings.from_env({"BP_PYTHON_DOWNLOAD_RETRIES": "2.9"}).download_retries == 2


def test_text() -> None:
    assert text({}, "T") is None
    assert text({"T": "  "}, "T") is None
    assert text({"T": " value \n"}, "T") == "value"


@pytest.mark.parametrize(
    ("value", "debug"),
    [("DEBUG", True), ("debug", True), (" Debug ", True), ("INFO", False), ("", False)],
)
def test_debug(value: str, debug: bool) -> None:
    assert Settings.from_env({"BP_LOG_LEVEL": value}).debug is debug


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("BP_PYTHON_DOWNLOAD_TIMEOUT", "1e300", NumberRange(1, DAY, "seconds")),
        ("BP_PYTHON_DOWNLOAD_TIMEOUT", "-5", NumberRange(1, DAY, "seconds")),
        ("BP_PYTHON_DOWNLOAD_TIMEOUT", "NaN", NumberRange(1, DAY, "seconds")),
        ("BP_PYTHON_DOWNLOAD_TIMEOUT", "86401", NumberRange(1, DAY, "seconds")),
        ("BP_PYTHON_DOWNLOAD_RETRIES", "1e9", NumberRange(0, 100)),
        ("BP_PYTHON_DOWNLOAD_DEADLINE", "1e300", NumberRange(1, DAY, "seconds")),
        ("BP_PYTHON_DOWNLOAD_DEADLINE", "0", NumberRange(1, DAY, "seconds")),
        ("BP_PYTHON_DOWNLOAD_MAX_SIZE", "1e12", NumberRange(1, 65536, "MB")),
        ("BP_PYTHON_DOWNLOAD_MAX_SIZE", "-1", NumberRange(1, 65536, "MB")),
        ("BP_PYTHON_DOWNLOAD_MAX_SIZE", "lots", NumberRange(1, 65536, "MB")),
    ],
)
def test_garbage_numbers_rejected_by_name_with_their_range(
    name: str, value: str, expected: NumberRange
) -> None:
    """LOW-1: 1e300 seconds passed the finite check, then overflowed the socket timeout."""
    with pytest.raises(InvalidSetting) as caught:
        Settings.from_env({name: value})
    assert (caught.value.name, caught.value.value, caught.value.expected) == (name, value, expected)


def test_download_limits() -> None:
    default = Settings.from_env({})
    assert (default.download_deadline, default.download_max_bytes) == (900, 1024 * 1024 * 1024)
    chosen = Settings.from_env(
        {"BP_PYTHON_DOWNLOAD_DEADLINE": "30", "BP_PYTHON_DOWNLOAD_MAX_SIZE": "2.5"}
    )
    assert (chosen.download_deadline, chosen.download_max_bytes) == (30, 2.5 * 1024 * 1024)
