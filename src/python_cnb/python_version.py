"""Which Python the app asked for (requested) and which one it gets (resolved).

A request keeps the text as written and where it came from, so that every error can quote
it. Requests are PEP 440 specifiers underneath (``3.12`` is ``==3.12.*``), matched with
``packaging`` against the versions the CPython manifest offers for the target.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Optional, Sequence

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from python_cnb.buildpack_error import BuildpackError

END_OF_LIFE: dict[tuple[int, int], date] = {
    (2, 7): date(2020, 1, 1),
    (3, 4): date(2019, 3, 18),
    (3, 5): date(2020, 9, 30),
    (3, 6): date(2021, 12, 23),
    (3, 7): date(2023, 6, 27),
    (3, 8): date(2024, 10, 7),
    (3, 9): date(2025, 10, 31),
    (3, 10): date(2026, 10, 31),
    (3, 11): date(2027, 10, 31),
    (3, 12): date(2028, 10, 31),
    (3, 13): date(2029, 10, 31),
    (3, 14): date(2030, 10, 31),
}
"""When each Python line stops getting security fixes (PEPs 373, 478, 494, 537, 569, 596,
619, 664, 693, 719, 745). Lines older than 3.4 are long past end-of-life."""


def end_of_life(major: int, minor: int) -> Optional[date]:
    """The end-of-life date of a Python line, or None for a line not yet scheduled."""
    if (major, minor) in END_OF_LIFE:
        return END_OF_LIFE[(major, minor)]
    if major < 3 or (major == 3 and minor < 4):
        return date(2019, 1, 1)
    return None


@dataclass(frozen=True, order=True)
class PythonVersion:
    """A final CPython release, ``X.Y.Z``."""

    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, text: str) -> PythonVersion:
        """Parse ``X.Y.Z``; raise ValueError for anything else."""
        match = re.fullmatch(r"([0-9]{1,4})\.([0-9]{1,4})\.([0-9]{1,4})", text.strip())
        if not match:
            raise ValueError(f"not an X.Y.Z version: {text!r}")
        return cls(*(int(part) for part in match.groups()))

    @property
    def line(self) -> str:
        """``3.12``."""
        return f"{self.major}.{self.minor}"

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


@dataclass(frozen=True)
class RequestedPythonVersion:
    """A Python version as the app or platform asked for it."""

    text: str
    """Exactly what was written, for messages."""
    origin: str
    """Where it was written: ``.python-version``, ``BP_PYTHON_VERSION``, ``the default``..."""
    specifier: str
    """The request as a PEP 440 specifier set (empty: any version)."""

    def matches(self, version: PythonVersion) -> bool:
        """Whether ``version`` satisfies the request."""
        return Version(str(version)) in SpecifierSet(self.specifier)

    def single_line(self) -> Optional[tuple[int, int]]:
        """The one ``(major, minor)`` line the request names, if it names exactly one."""
        match = re.fullmatch(r"==([0-9]+)\.([0-9]+)(\.\*|\.[0-9]+)", self.specifier)
        return (int(match[1]), int(match[2])) if match else None

    @property
    def is_range(self) -> bool:
        """A constraint such as ``>=3.11`` rather than a pin of one line or release
        (``3.12``, ``3.12.7``, ``==3.12``, ``~=3.12.0``)."""
        if not self.specifier or self.single_line() is not None:
            return False
        try:
            specifiers = list(SpecifierSet(self.specifier))
        except InvalidSpecifier:
            return True
        if len(specifiers) != 1:
            return True
        operator, version = specifiers[0].operator, specifiers[0].version
        if operator in ("==", "===") and not version.endswith(".*"):
            return False  # one release
        return not (operator == "~=" and version.count(".") >= 2)  # ~=3.12.0: one line

    @property
    def is_default(self) -> bool:
        """True when nothing asked for a version."""
        return self.origin == DEFAULT_ORIGIN


DEFAULT_ORIGIN = "the default"


@dataclass(eq=False)
class InvalidPythonVersion(BuildpackError):
    """A version request that cannot be understood."""

    text: str
    origin: str
    reason: str


@dataclass(eq=False)
class UnknownPythonVersion(BuildpackError):
    """A request no available CPython satisfies."""

    requested: RequestedPythonVersion
    available: tuple[PythonVersion, ...]
    target: str


@dataclass(eq=False)
class EndOfLifePythonVersion(BuildpackError):
    """A request for a Python line that no longer gets security fixes."""

    requested: RequestedPythonVersion
    line: tuple[int, int]
    end_of_life: date
    available: tuple[PythonVersion, ...]


_PLAIN = re.compile(r"(?P<major>[0-9]+)(\.(?P<minor>[0-9]+))?(\.(?P<patch>[0-9]+|\*|x))?")
_TILDE = re.compile(r"~(?P<version>[0-9]+\.[0-9]+(\.[0-9]+)?)")
_CARET = re.compile(r"\^(?P<major>[0-9]+)(\.(?P<minor>[0-9]+))?(\.(?P<patch>[0-9]+))?")
MAX_REQUEST_LENGTH = 200
MAX_NUMBER_DIGITS = 4
_LONG_NUMBER = re.compile(rf"[0-9]{{{MAX_NUMBER_DIGITS + 1},}}")


def garbled(text: str) -> Optional[str]:
    """Why ``text`` cannot be a Python version request whatever its syntax, or None.

    Checked before any parsing: ``\\d`` and ``int()`` take fullwidth and Arabic-Indic digits
    (U+FF13, U+0663), which no tool downstream accepts, and a 5000-digit number is beyond
    ``int()``'s limit; no Python version has a part of more than a few digits."""
    if len(text) > MAX_REQUEST_LENGTH:
        return f"it is {len(text)} characters long"
    odd = next((c for c in text if not (c.isascii() and (c.isprintable() or c.isspace()))), None)
    if odd is not None:
        return (
            f"it contains the character {odd!r} (U+{ord(odd):04X}); write versions with "
            "ASCII digits 0-9"
        )
    if _LONG_NUMBER.search(text):
        return f"a number in it has more than {MAX_NUMBER_DIGITS} digits"
    return None


def to_specifier(text: str) -> str:
    """Turn a version request into a PEP 440 specifier set; raise ValueError if garbled.

    Accepted: ``3.12.7`` (exact), ``3.12``/``3.12.*``/``3.12.x`` (newest patch), ``3``
    (newest 3.x), ``python-3.12.7``, Paketo's ``~3.12`` and ``^3.12``, a leading ``=``,
    and any PEP 440 specifier set (``>=3.11,<3.13``, ``~=3.12``).
    """
    value = text.strip()
    reason = garbled(value)
    if reason is not None:
        raise ValueError(reason)
    value = value[len("python-") :] if value.lower().startswith("python-") else value
    value = value[1:] if value.startswith("=") and not value.startswith("==") else value
    plain = _PLAIN.fullmatch(value)
    if plain:
        if plain["minor"] is None:
            return f"=={plain['major']}.*"
        patch = plain["patch"]
        if patch is None or patch in ("*", "x"):
            return f"=={plain['major']}.{plain['minor']}.*"
        return f"=={plain['major']}.{plain['minor']}.{patch}"
    tilde = _TILDE.fullmatch(value)
    if tilde:
        version = tilde["version"]
        return f"~={version}" if version.count(".") == 2 else f"~={version}.0"
    caret = _CARET.fullmatch(value)
    if caret:
        lower = f"{caret['major']}.{caret['minor'] or 0}" + (
            f".{caret['patch']}" if caret["patch"] else ""
        )
        return f">={lower},<{int(caret['major']) + 1}"
    try:
        specifiers = SpecifierSet(value)
    except InvalidSpecifier:
        raise ValueError("it is neither a version (3.12, 3.12.7) nor a specifier") from None
    if not str(specifiers):
        raise ValueError("it is empty")
    for specifier in specifiers:
        if Version(specifier.version.rstrip(".*")).pre is not None:
            raise ValueError("pre-releases are not available")
    return str(specifiers)


def request(text: str, origin: str) -> RequestedPythonVersion:
    """A request from free-form text (a setting, a specifier); raise InvalidPythonVersion."""
    try:
        specifier = to_specifier(text)
    except ValueError as error:
        raise InvalidPythonVersion(text, origin, str(error)) from None
    return RequestedPythonVersion(text.strip(), origin, specifier)


def default_request() -> RequestedPythonVersion:
    """No version was asked for: the newest available."""
    return RequestedPythonVersion("", DEFAULT_ORIGIN, "")


def resolve(
    requested: RequestedPythonVersion,
    available: Sequence[PythonVersion],
    *,
    target: str,
    today: date,
    allow_end_of_life: bool = False,
) -> PythonVersion:
    """The newest available version that satisfies ``requested`` and is not end-of-life."""
    offered = tuple(sorted(set(available), reverse=True))

    def is_eol(line: tuple[int, int]) -> bool:
        eol = end_of_life(*line)
        return eol is not None and eol < today and not allow_end_of_life

    supported = tuple(v for v in offered if not is_eol((v.major, v.minor)))
    line = requested.single_line()
    if line is not None and is_eol(line):
        raise EndOfLifePythonVersion(requested, line, end_of_life(*line), supported)  # type: ignore[arg-type]
    candidates = [v for v in supported if requested.matches(v)]
    if candidates:
        return candidates[0]
    eol_matches = [v for v in offered if requested.matches(v)]
    if eol_matches:
        newest = eol_matches[0]
        raise EndOfLifePythonVersion(
            requested,
            (newest.major, newest.minor),
            end_of_life(newest.major, newest.minor),  # type: ignore[arg-type]
            supported,
        )
    raise UnknownPythonVersion(requested, supported or offered, target)


def newer_patch(
    version: PythonVersion, available: Sequence[PythonVersion]
) -> Optional[PythonVersion]:
    """The newest patch of the same line, when it is newer than ``version``."""
    same_line = [v for v in available if (v.major, v.minor) == (version.major, version.minor)]
    newest = max(same_line, default=version)
    return newest if newest > version else None


_OPERATORS = ("===", "==", "!=", ">=", "<=", ">", "<", "~=", "~", "^", "=")


def _constraint_specifier(clause: str) -> str:
    """One clause of a constraint as a PEP 440 specifier set (empty: any version)."""
    if clause == "*":
        return ""
    major_only = re.fullmatch(r"~([0-9]+)", clause)  # Poetry: ~3 is >=3,<4
    if major_only:
        return f"=={major_only[1]}.*"
    try:
        return to_specifier(clause)
    except ValueError:
        # Unlike a request, a constraint may bound with a pre-release (>=3.13.0b1).
        return str(SpecifierSet(clause))


def constraint_matches(constraint: str, version: PythonVersion, origin: str = "constraint") -> bool:
    """Whether ``version`` satisfies a PEP 440 or Poetry constraint (``^3.12``, ``~3.11``,
    ``>=3.10,<4.0``, ``>=3.10 <4``, ``3.11.* || 3.12.*``, ``*``); raise InvalidPythonVersion
    (from ``origin``) when it is neither."""
    reason = garbled(constraint.strip())
    if reason is not None:
        raise InvalidPythonVersion(constraint.strip(), origin, reason)
    alternatives: list[list[SpecifierSet]] = []
    for alternative in re.split(r"\|\|?", constraint):
        merged: list[str] = []
        for clause in alternative.replace(",", " ").split():
            # Poetry allows a space between operator and version
            if merged and merged[-1] in _OPERATORS:
                merged[-1] += clause
            else:
                merged.append(clause)
        try:
            alternatives.append([SpecifierSet(_constraint_specifier(c)) for c in merged])
        except InvalidSpecifier:
            raise InvalidPythonVersion(
                constraint.strip(), origin, "it is neither a version (3.12, 3.12.7) nor a specifier"
            ) from None
    candidate = Version(str(version))
    return any(all(candidate in spec for spec in specs) for specs in alternatives)


@dataclass(eq=False)
class LockedPythonMismatch(BuildpackError):
    """The selected Python contradicts what a lock or project file allows."""

    version: PythonVersion
    origin: str
    file: str
    constraint: str
