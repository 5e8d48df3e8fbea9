"""The build's settings, read and validated from the environment."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Iterator, Mapping

import pytest

from python_cnb.config.settings import (
    COLLECTSTATIC_OPT_OUTS,
    DAY,
    PACKAGE_MANAGER_SETTINGS,
    PYTHON_VERSION_SETTINGS,
    TODAY_HOOK,
    Flag,
    InvalidSetting,
    NumberRange,
    Settings,
    flag,
    mirror_settings,
    number,
    raw_text,
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
        ("BUILD_DISABLE_COLLECTSTATIC", "maybe"),
        ("DISABLE_COLLECTSTATIC", "2"),
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


def test_package_manager_setting_strongest_first() -> None:
    assert PACKAGE_MANAGER_SETTINGS == ("BP_PYTHON_PACKAGE_MANAGER", "BUILD_PYTHON_PACKAGE_MANAGER")
    assert Settings.from_env({}).package_manager is None
    kato = {"BP_PYTHON_PACKAGE_MANAGER": " ", "BUILD_PYTHON_PACKAGE_MANAGER": " Poetry "}
    assert Settings.from_env(kato).package_manager == ("BUILD_PYTHON_PACKAGE_MANAGER", "Poetry")
    both = {**kato, "BP_PYTHON_PACKAGE_MANAGER": "uv"}
    assert Settings.from_env(both).package_manager == ("BP_PYTHON_PACKAGE_MANAGER", "uv")


def test_procfile_settings_keep_their_text() -> None:
    """Procfile text is kept as given: its line numbers appear in errors."""
    env = {
        "BP_PROCFILE": "\nweb: gunicorn a:b\n",
        "BUILD_PROCFILE": "  ",
        "BUILD_AUTO_PROCFILE": "web: auto\n",
    }
    settings = Settings.from_env(env)
    assert (settings.procfile, settings.start_command, settings.auto_procfile) == (
        "\nweb: gunicorn a:b\n",
        None,
        "web: auto\n",
    )
    assert raw_text({}, "T") is None


def test_vendor_dir() -> None:
    assert Settings.from_env({}).vendor_dir == "vendor"
    assert Settings.from_env({"BP_PIP_DEST_PATH": "  "}).vendor_dir == "vendor"
    assert Settings.from_env({"BP_PIP_DEST_PATH": " wheels/ "}).vendor_dir == "wheels/"


def test_mirror_settings_per_host_by_name_then_the_default() -> None:
    env = {
        "BP_DEPENDENCY_MIRROR": " https://default.test ",
        "BP_DEPENDENCY_MIRROR_PYTHON_ORG": "https://py.test",
        "BP_DEPENDENCY_MIRROR_GITHUB_COM": "https://gh.test\n",
        "BP_DEPENDENCY_MIRROR_EMPTY_TEST": " ",
        "OTHER": "x",
    }
    assert mirror_settings(env) == (
        ("BP_DEPENDENCY_MIRROR_GITHUB_COM", "https://gh.test"),
        ("BP_DEPENDENCY_MIRROR_PYTHON_ORG", "https://py.test"),
        ("BP_DEPENDENCY_MIRROR", "https://default.test"),
    )
    assert Settings.from_env(env).dependency_mirrors == mirror_settings(env)
    assert mirror_settings({"BP_DEPENDENCY_MIRROR": ""}) == ()


@pytest.mark.parametrize("setting", COLLECTSTATIC_OPT_OUTS)
@pytest.mark.parametrize("value", ["1", "true", "True", "yes", " YES ", "on"])
def test_collectstatic_opted_out(setting: str, value: str) -> None:
    assert Settings.from_env({setting: value}).collectstatic_opt_out == setting


@pytest.mark.parametrize("setting", COLLECTSTATIC_OPT_OUTS)
@pytest.mark.parametrize("value", ["0", "false", "no", "", "  ", "off"])
def test_collectstatic_not_opted_out(setting: str, value: str) -> None:
    assert Settings.from_env({setting: value}).collectstatic_opt_out is None


def test_collectstatic_kato_setting_is_named_first() -> None:
    assert COLLECTSTATIC_OPT_OUTS == ("BUILD_DISABLE_COLLECTSTATIC", "DISABLE_COLLECTSTATIC")
    env = {"DISABLE_COLLECTSTATIC": "1", "BUILD_DISABLE_COLLECTSTATIC": "1"}
    assert Settings.from_env({}).collectstatic_opt_out is None
    assert Settings.from_env(env).collectstatic_opt_out == "BUILD_DISABLE_COLLECTSTATIC"


def test_a_garbled_collectstatic_opt_out_is_refused_beside_a_set_one() -> None:
    """D5: django.py had its own truthy set, and a garbled value silently meant "run"."""
    env = {"BUILD_DISABLE_COLLECTSTATIC": "1", "DISABLE_COLLECTSTATIC": "sometimes"}
    with pytest.raises(InvalidSetting) as caught:
        Settings.from_env(env)
    assert (caught.value.name, caught.value.value) == ("DISABLE_COLLECTSTATIC", "sometimes")


def test_the_policy_date_test_hook() -> None:
    assert Settings.from_env({}).policy_date is None
    assert Settings.from_env({TODAY_HOOK: ""}).policy_date is None
    assert Settings.from_env({TODAY_HOOK: " 2027-02-01 "}).policy_date == date(2027, 2, 1)


@pytest.mark.parametrize(
    "value", ["tomorrow", "2027-02-30", "20270201", "\uff12\uff10\uff12\uff17-02-01"]
)
def test_a_garbled_test_hook_is_refused(value: str) -> None:
    with pytest.raises(InvalidSetting) as caught:
        Settings.from_env({TODAY_HOOK: value})
    assert (caught.value.name, caught.value.value) == (TODAY_HOOK, value)


README = Path(__file__).resolve().parents[2] / "README.md"


class _Recording(Mapping[str, str]):
    """An empty environment that remembers every name asked for."""

    def __init__(self) -> None:
        self.asked: set[str] = set()

    def __getitem__(self, name: str) -> str:
        self.asked.add(name)
        raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        self.asked.add(str(name))
        return False

    def __iter__(self) -> Iterator[str]:
        self.asked.add("*")  # the mirror settings are found by prefix
        return iter(())

    def __len__(self) -> int:
        return 0


def test_the_readme_table_names_every_setting() -> None:
    """The README's Configuration table is the user's view of Settings: every name it reads."""
    env = _Recording()
    Settings.from_env(env)
    section = README.read_text(encoding="utf-8").split("### Configuration", 1)[1]
    table = section.split("\n\n| Setting |", 1)[1].split("\n\n", 1)[0]
    documented = set(re.findall(r"`([A-Z][A-Z0-9_<>]+)`", table))
    assert "*" in env.asked and "BP_DEPENDENCY_MIRROR_<HOST>" in documented
    assert env.asked - {"*", TODAY_HOOK} <= documented, sorted(env.asked - documented)
