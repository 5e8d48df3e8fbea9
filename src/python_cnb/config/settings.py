"""The build's configuration, read once from the environment before anything is installed.

Names come from three families, so the buildpack drops into platforms as they are: our own
``BP_PYTHON_*``, Paketo's ``BP_*`` (``BP_CPYTHON_VERSION``, ``BP_DEPENDENCY_MIRROR``...) and
Kato/Rainbond's ``BUILD_*`` (``BUILD_RUNTIMES``, ``BUILD_PIP_INDEX_URL``...). The lifecycle
puts the platform's ``env/`` files into the process environment (this buildpack does not set
``clear-env``), so the environment is the one place to read.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date
from typing import Mapping, Optional, Union

from python_cnb import output
from python_cnb.buildpack_error import BuildpackError

PYTHON_VERSION_SETTINGS = ("BP_PYTHON_VERSION", "BP_CPYTHON_VERSION", "BUILD_RUNTIMES")
"""Settings that pick the Python version, strongest first."""

PACKAGE_MANAGER_SETTINGS = ("BP_PYTHON_PACKAGE_MANAGER", "BUILD_PYTHON_PACKAGE_MANAGER")
"""Settings that pick the package manager, strongest first."""

PACKAGE_MANAGER_VERSION_SETTINGS = (
    "BP_PYTHON_PACKAGE_MANAGER_VERSION",
    "BUILD_PYTHON_PACKAGE_MANAGER_VERSION",
)
"""Settings that pick the version of the tool that installs the app's dependencies."""

COLLECTSTATIC_OPT_OUTS = ("BUILD_DISABLE_COLLECTSTATIC", "DISABLE_COLLECTSTATIC")
"""Settings that skip Django's collectstatic (Kato's, Heroku's)."""

TODAY_HOOK = "PYTHON_CNB_TODAY"
"""Internal, for tests only (not a setting): the date the end-of-life policy is applied on,
``YYYY-MM-DD``, so that tests do not depend on the real clock. Logged whenever it is set."""

MIRROR_SETTING = "BP_DEPENDENCY_MIRROR"
"""Paketo's default download mirror; ``BP_DEPENDENCY_MIRROR_<HOST>`` names one per host."""

DAY = 86400
"""The longest time a setting may give in seconds."""

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


@dataclass(frozen=True)
class Flag:
    """A setting that must be true or false."""


@dataclass(frozen=True)
class NumberRange:
    """A setting that must be a number from ``minimum`` to ``maximum``, in ``unit``."""

    minimum: float
    maximum: float = math.inf
    unit: str = ""


@dataclass(frozen=True)
class OneOf:
    """A setting that must be one of ``choices``."""

    choices: tuple[str, ...]


@dataclass(frozen=True)
class IsoDate:
    """A setting that must be a date, YYYY-MM-DD."""


Expected = Union[Flag, NumberRange, OneOf, IsoDate]
"""What a setting's value must be (errors.py words it)."""


@dataclass(eq=False)
class InvalidSetting(BuildpackError):
    """A setting whose value cannot be understood."""

    name: str
    value: str
    expected: Expected


def flag(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    """A boolean setting: 1/true/yes/on or 0/false/no/off (any case)."""
    if name not in env:
        return default
    value = env[name].strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise InvalidSetting(name, env[name], Flag())


def number(
    env: Mapping[str, str],
    name: str,
    default: float,
    minimum: float = 0,
    maximum: float = math.inf,
    unit: str = "",
) -> float:
    """A numeric setting from ``minimum`` to ``maximum`` (finite: ``inf`` and ``nan`` are
    refused; so is ``1e300`` seconds, which no clock or socket takes)."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    expected = NumberRange(minimum, maximum, unit)
    try:
        value = float(raw)
    except ValueError:
        raise InvalidSetting(name, env[name], expected) from None
    if not math.isfinite(value) or not minimum <= value <= maximum:
        raise InvalidSetting(name, env[name], expected)
    return value


def choice(env: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    """One of ``choices`` (any case)."""
    value = env.get(name, "").strip().lower()
    if not value:
        return default
    if value not in choices:
        raise InvalidSetting(name, env[name], OneOf(choices))
    return value


def text(env: Mapping[str, str], name: str) -> Optional[str]:
    """A string setting; empty counts as unset."""
    value = env.get(name, "").strip()
    return value or None


def day(env: Mapping[str, str], name: str) -> Optional[date]:
    """A date setting, ``YYYY-MM-DD``; empty counts as unset."""
    value = env.get(name, "").strip()
    if not value:
        return None
    try:
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidSetting(name, env[name], IsoDate()) from None


def raw_text(env: Mapping[str, str], name: str) -> Optional[str]:
    """A multi-line setting as given (Procfile text: line numbers must stay right); blank
    counts as unset."""
    value = env.get(name)
    return value if value is not None and value.strip() else None


def first_given(env: Mapping[str, str], names: tuple[str, ...]) -> Optional[tuple[str, str]]:
    """``(name, value)`` of the first of ``names`` that is set and not blank."""
    return next(((name, env[name].strip()) for name in names if env.get(name, "").strip()), None)


def mirror_settings(env: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """``(name, value)`` of each download mirror setting given: the per-host ones by name,
    then the default one."""
    prefix = f"{MIRROR_SETTING}_"
    per_host = sorted(
        (name, value.strip())
        for name, value in env.items()
        if name.startswith(prefix) and value.strip()
    )
    default = [(MIRROR_SETTING, env[MIRROR_SETTING].strip())] if text(env, MIRROR_SETTING) else []
    return tuple(per_host + default)


@dataclass(frozen=True)
class Settings:
    """Every setting of a build, validated."""

    python_version_settings: tuple[tuple[str, str], ...]
    """``(name, value)`` of each Python version setting given, strongest first."""
    allow_end_of_life: bool
    cpython_manifest: Optional[str]
    download_timeout: float
    """Seconds a download may go without receiving anything."""
    download_retries: int
    download_deadline: float
    """Seconds each download attempt may take in all (a slow drip never times out a read)."""
    download_max_bytes: int
    """The most a download may be, when the manifest pins no size."""
    debug: bool
    installer: str
    """``uv`` (default) or ``pip`` (with pip-tools), for requirement sets."""
    package_manager_version: Optional[tuple[str, str]]
    """``(name, value)`` of the version setting for the tool that installs the app's
    dependencies (uv, pip-tools or Poetry), if given."""
    no_cache: bool
    """A clean build: no cached layer is reused."""
    check_dependencies: bool
    web_command: Optional[str]
    """``BP_WEB_COMMAND``: the web process's command."""
    no_server_install: bool
    """``BP_PYTHON_NO_SERVER_INSTALL``: never add gunicorn/uvicorn to the venv."""
    package_manager: Optional[tuple[str, str]]
    """``(name, value)`` of the package manager setting given (checked against the app's
    files when the package manager is chosen)."""
    procfile: Optional[str]
    """``BP_PROCFILE``: Procfile text that replaces the app's."""
    start_command: Optional[str]
    """``BUILD_PROCFILE`` (Kato): Procfile text, or just the web command."""
    auto_procfile: Optional[str]
    """``BUILD_AUTO_PROCFILE`` (Kato): Procfile text used when the app has no Procfile."""
    vendor_dir: str
    """``BP_PIP_DEST_PATH``: the app's directory of vendored wheels (``vendor``)."""
    dependency_mirrors: tuple[tuple[str, str], ...]
    """``(name, value)`` of each download mirror setting (:func:`mirror_settings`)."""
    collectstatic_opt_out: Optional[str]
    """The collectstatic opt-out setting that is on, if any."""
    policy_date: Optional[date]
    """:data:`TODAY_HOOK` (tests only): the day the end-of-life policy is applied on."""
    allow_undeclared_imports: bool
    """``BP_PYTHON_ALLOW_UNDECLARED_IMPORTS``: an app with no dependency file may import
    packages (it brings them itself)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Read and validate every setting."""
        return cls(
            python_version_settings=tuple(
                (name, env[name].strip())
                for name in PYTHON_VERSION_SETTINGS
                if env.get(name, "").strip()
            ),
            allow_end_of_life=flag(env, "BP_PYTHON_ALLOW_EOL"),
            cpython_manifest=text(env, "BP_CPYTHON_MANIFEST"),
            download_timeout=number(
                env, "BP_PYTHON_DOWNLOAD_TIMEOUT", 60, minimum=1, maximum=DAY, unit="seconds"
            ),
            download_retries=int(
                number(env, "BP_PYTHON_DOWNLOAD_RETRIES", 3, minimum=0, maximum=100)
            ),
            download_deadline=number(
                env, "BP_PYTHON_DOWNLOAD_DEADLINE", 900, minimum=1, maximum=DAY, unit="seconds"
            ),
            download_max_bytes=int(
                number(
                    env, "BP_PYTHON_DOWNLOAD_MAX_SIZE", 1024, minimum=1, maximum=65536, unit="MB"
                )
                * 1024
                * 1024
            ),
            debug=output.debug_requested(env),
            installer=choice(env, "BP_PYTHON_INSTALLER", ("uv", "pip"), "uv"),
            package_manager_version=first_given(env, PACKAGE_MANAGER_VERSION_SETTINGS),
            no_cache=flag(env, "BUILD_NO_CACHE") or flag(env, "BP_PYTHON_NO_CACHE"),
            check_dependencies=flag(env, "BP_PYTHON_CHECK_DEPENDENCIES", default=True),
            web_command=text(env, "BP_WEB_COMMAND"),
            no_server_install=flag(env, "BP_PYTHON_NO_SERVER_INSTALL"),
            package_manager=first_given(env, PACKAGE_MANAGER_SETTINGS),
            procfile=raw_text(env, "BP_PROCFILE"),
            start_command=raw_text(env, "BUILD_PROCFILE"),
            auto_procfile=raw_text(env, "BUILD_AUTO_PROCFILE"),
            vendor_dir=text(env, "BP_PIP_DEST_PATH") or "vendor",
            dependency_mirrors=mirror_settings(env),
            # Every opt-out is read, so a garbled one is an error even beside a set one.
            collectstatic_opt_out=next(
                iter([name for name in COLLECTSTATIC_OPT_OUTS if flag(env, name)]), None
            ),
            policy_date=day(env, TODAY_HOOK),
            allow_undeclared_imports=flag(env, "BP_PYTHON_ALLOW_UNDECLARED_IMPORTS"),
        )
