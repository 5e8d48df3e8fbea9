"""Which Python the app asked for (requested) and which one it gets (resolved).

A request keeps the text as written and where it came from, so that every error can quote
it. Requests are PEP 440 specifiers underneath (``3.12`` is ``==3.12.*``), matched with
``packaging`` against the versions the CPython manifest offers for the target.
"""

from __future__ import annotations

import calendar
import enum
import re
from dataclasses import dataclass
from datetime import date
from typing import Optional, Sequence, Union

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from python_cnb import notices
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


# --- Why a version request cannot be understood: data, worded in errors.py ---------------


@dataclass(frozen=True)
class NoVersion:
    """A version file with no version line."""


@dataclass(frozen=True)
class SeveralVersions:
    """A version file with more than one version line."""

    count: int


@dataclass(frozen=True)
class TooLong:
    """Longer than :data:`MAX_REQUEST_LENGTH`."""

    length: int


@dataclass(frozen=True)
class NonAsciiCharacter:
    """A character that is not printable ASCII (a fullwidth digit, a control character)."""

    character: str


@dataclass(frozen=True)
class LongNumber:
    """A number of more than ``digits`` digits."""

    digits: int


@dataclass(frozen=True)
class NotAVersionLine:
    """A ``.python-version`` line that is not ``X.Y`` or ``X.Y.Z``."""


@dataclass(frozen=True)
class NotRuntimeTxtFormat:
    """A runtime.txt that does not read ``python-X.Y.Z`` or ``python-X.Y``."""


@dataclass(frozen=True)
class NotASpecifier:
    """Neither a version nor a PEP 440 (or Poetry) specifier."""


@dataclass(frozen=True)
class EmptyRequest:
    """Only blanks."""


@dataclass(frozen=True)
class PreRelease:
    """A request for a pre-release, which python-cnb does not offer."""


@dataclass(frozen=True)
class NotUtf8:
    """A version file that is not UTF-8 text (nor UTF-16 with a BOM)."""

    byte: int
    offset: int


@dataclass(frozen=True)
class SlashComment:
    """A ``.python-version`` line that starts with ``//``: comments there start with ``#``."""

    line: str


VersionProblem = Union[
    NoVersion,
    SeveralVersions,
    TooLong,
    NonAsciiCharacter,
    LongNumber,
    NotAVersionLine,
    NotRuntimeTxtFormat,
    NotASpecifier,
    EmptyRequest,
    PreRelease,
    NotUtf8,
    SlashComment,
]


class UnusableVersionText(ValueError):
    """Text that is no version request, and why (:func:`to_specifier`)."""

    def __init__(self, problem: VersionProblem) -> None:
        super().__init__(problem)
        self.problem = problem


@dataclass(eq=False)
class InvalidPythonVersion(BuildpackError):
    """A version request that cannot be understood."""

    text: str
    origin: str
    problem: VersionProblem


_PLAIN = re.compile(r"(?P<major>[0-9]+)(\.(?P<minor>[0-9]+))?(\.(?P<patch>[0-9]+|\*|x))?")
_TILDE = re.compile(r"~(?P<version>[0-9]+\.[0-9]+(\.[0-9]+)?)")
_CARET = re.compile(r"\^(?P<major>[0-9]+)(\.(?P<minor>[0-9]+))?(\.(?P<patch>[0-9]+))?")
MAX_REQUEST_LENGTH = 200
MAX_NUMBER_DIGITS = 4
_LONG_NUMBER = re.compile(rf"[0-9]{{{MAX_NUMBER_DIGITS + 1},}}")


def garbled(text: str) -> Optional[VersionProblem]:
    """Why ``text`` cannot be a Python version request whatever its syntax, or None.

    Checked before any parsing: ``\\d`` and ``int()`` take fullwidth and Arabic-Indic digits
    (U+FF13, U+0663), which no tool downstream accepts, and a 5000-digit number is beyond
    ``int()``'s limit; no Python version has a part of more than a few digits."""
    if len(text) > MAX_REQUEST_LENGTH:
        return TooLong(len(text))
    odd = next((c for c in text if not (c.isascii() and (c.isprintable() or c.isspace()))), None)
    if odd is not None:
        return NonAsciiCharacter(odd)
    if _LONG_NUMBER.search(text):
        return LongNumber(MAX_NUMBER_DIGITS)
    return None


def to_specifier(text: str) -> str:
    """Turn a version request into a PEP 440 specifier set; raise ValueError if garbled.

    Accepted: ``3.12.7`` (exact), ``3.12``/``3.12.*``/``3.12.x`` (newest patch), ``3``
    (newest 3.x), ``python-3.12.7``, Paketo's ``~3.12`` and ``^3.12``, a leading ``=``,
    and any PEP 440 specifier set (``>=3.11,<3.13``, ``~=3.12``).
    """
    value = text.strip()
    problem = garbled(value)
    if problem is not None:
        raise UnusableVersionText(problem)
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
        raise UnusableVersionText(NotASpecifier()) from None
    if not str(specifiers):
        raise UnusableVersionText(EmptyRequest())
    for specifier in specifiers:
        if Version(specifier.version.rstrip(".*")).pre is not None:
            raise UnusableVersionText(PreRelease())
    return str(specifiers)


def request(text: str, origin: str) -> RequestedPythonVersion:
    """A request from free-form text (a setting, a specifier); raise InvalidPythonVersion."""
    try:
        specifier = to_specifier(text)
    except UnusableVersionText as error:
        raise InvalidPythonVersion(text, origin, error.problem) from None
    return RequestedPythonVersion(text.strip(), origin, specifier)


def default_request() -> RequestedPythonVersion:
    """No version was asked for: the newest available."""
    return RequestedPythonVersion("", DEFAULT_ORIGIN, "")


# --- Resolution and the end-of-life policy --------------------------------------------------------

WARNING_MONTHS = 6
"""A line's builds warn from this many months before its end-of-life date."""
GRACE_MONTHS = 3
"""After its end-of-life date a line still builds, with a warning, for this many months
(Heroku's practice: it removed 3.8 three months after its EOL, and 3.9 and 3.10 in the
first week of the January after an October EOL). Then only ``BP_PYTHON_ALLOW_EOL`` builds it."""


class Stage(enum.Enum):
    """Where a Python line is in its life, on a given day."""

    SUPPORTED = "supported"
    ENDING = "ending"
    """Within WARNING_MONTHS of its end-of-life date: builds, with a warning."""
    GRACE = "grace"
    """Past end-of-life, within GRACE_MONTHS: builds, with a loud warning."""
    ENDED = "ended"
    """Past the grace period: builds only with BP_PYTHON_ALLOW_EOL=true, with a warning."""


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months, clamped to the end of a shorter month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


@dataclass(frozen=True)
class LineSupport:
    """A Python line's stage on a given day, and the dates that decide it."""

    line: tuple[int, int]
    stage: Stage
    end_of_life: Optional[date]

    @property
    def name(self) -> str:
        """``3.12``."""
        return f"{self.line[0]}.{self.line[1]}"

    @property
    def warns_from(self) -> Optional[date]:
        """The first day builds warn about the coming end-of-life."""
        return add_months(self.end_of_life, -WARNING_MONTHS) if self.end_of_life else None

    @property
    def builds_until(self) -> Optional[date]:
        """The last day of the grace period: the line builds without BP_PYTHON_ALLOW_EOL."""
        return add_months(self.end_of_life, GRACE_MONTHS) if self.end_of_life else None


def line_support(line: tuple[int, int], today: date) -> LineSupport:
    """The stage of ``line`` on ``today`` (the end-of-life day itself is still supported)."""
    eol = end_of_life(*line)
    support = LineSupport(line, Stage.SUPPORTED, eol)
    if support.end_of_life is None or support.warns_from is None or support.builds_until is None:
        return support
    if today > support.builds_until:
        stage = Stage.ENDED
    elif today > support.end_of_life:
        stage = Stage.GRACE
    elif today >= support.warns_from:
        stage = Stage.ENDING
    else:
        return support
    return LineSupport(line, stage, eol)


def today_for_policy(hook: Optional[date]) -> tuple[date, bool]:
    """The day the end-of-life policy is applied on (``hook``: ``Settings.policy_date``), and
    whether TODAY_HOOK chose it."""
    return (date.today(), False) if hook is None else (hook, True)


@dataclass(frozen=True)
class PythonChoice:
    """The version a request resolved to, and its line's stage (for the build's warnings)."""

    version: PythonVersion
    support: LineSupport


@dataclass(eq=False)
class UnknownPythonVersion(BuildpackError):
    """A request (a range, or a line too new) that no available CPython satisfies."""

    requested: RequestedPythonVersion
    available: tuple[PythonVersion, ...]
    target: str


@dataclass(eq=False)
class UnavailablePythonLine(BuildpackError):
    """A request for a line the CPython list does not have at all (3.6, 2.7, 3.8)."""

    requested: RequestedPythonVersion
    support: LineSupport
    """The requested line's own dates (3.6 reached end-of-life in 2021)."""
    lines: tuple[tuple[int, int], ...]
    """Every line offered for the target, newest first."""
    nearest: Optional[LineSupport]
    """The line closest to the one requested that builds (ties: the newer)."""
    upgrade_to: Optional[LineSupport]
    """The oldest available line that has not reached end-of-life, when not ``nearest``."""
    target: str
    custom_manifest: bool


@dataclass(eq=False)
class UnknownPythonPatch(BuildpackError):
    """An exact release (3.12.99) that its line, available, does not have."""

    requested: RequestedPythonVersion
    support: LineSupport
    patches: tuple[PythonVersion, ...]
    """Every release of the line for the target, newest first."""
    target: str
    needs_allow_eol: bool
    """The line is past its grace period: any patch of it also needs BP_PYTHON_ALLOW_EOL."""
    upgrade_to: Optional[LineSupport]
    custom_manifest: bool


@dataclass(eq=False)
class EndOfLifePythonVersion(BuildpackError):
    """A request for a Python line past its end-of-life grace period."""

    requested: RequestedPythonVersion
    support: LineSupport
    available: tuple[PythonVersion, ...]
    """What builds without BP_PYTHON_ALLOW_EOL, newest first."""
    upgrade_to: Optional[LineSupport]
    """The oldest available line that has not reached end-of-life."""

    @property
    def line(self) -> tuple[int, int]:
        return self.support.line


def _line_of(version: PythonVersion) -> tuple[int, int]:
    return (version.major, version.minor)


def _exact(requested: RequestedPythonVersion) -> Optional[PythonVersion]:
    """The one release an ``==X.Y.Z`` request names."""
    match = re.fullmatch(r"===?([0-9]+\.[0-9]+\.[0-9]+)", requested.specifier, re.ASCII)
    return PythonVersion.parse(match[1]) if match else None


def _upgrade_to(versions: Sequence[PythonVersion], today: date) -> Optional[LineSupport]:
    """The oldest line of ``versions`` that has not reached end-of-life."""
    lines = sorted({_line_of(v) for v in versions})
    for line in lines:
        support = line_support(line, today)
        if support.stage in (Stage.SUPPORTED, Stage.ENDING):
            return support
    return None


def _nearest(line: tuple[int, int], lines: Sequence[tuple[int, int]]) -> Optional[tuple[int, int]]:
    """The line of ``lines`` closest to ``line``: same major first (ties: the newer), else
    the oldest of a newer major (2.7 -> 3.10) or the newest of an older one (4.0 -> 3.14)."""

    def distance(other: tuple[int, int]) -> tuple[int, int, int]:
        if other[0] == line[0]:
            return (0, abs(other[1] - line[1]), -other[1])
        toward = other[1] if other[0] > line[0] else -other[1]
        return (abs(other[0] - line[0]), toward, 0)

    return min(lines, key=distance) if lines else None


def choose(
    requested: RequestedPythonVersion,
    available: Sequence[PythonVersion],
    *,
    target: str,
    today: date,
    allow_end_of_life: bool = False,
    custom_manifest: bool = False,
) -> PythonChoice:
    """The newest available version that satisfies ``requested`` and may be built on
    ``today``, with its line's stage; raise the error that says why there is none."""
    offered = tuple(sorted(set(available), reverse=True))

    def builds(version: PythonVersion) -> bool:
        stage = line_support(_line_of(version), today).stage
        return allow_end_of_life or stage is not Stage.ENDED

    buildable = tuple(v for v in offered if builds(v))
    upgrade_to = _upgrade_to(offered, today)
    line = requested.single_line()
    if line is not None:
        support = line_support(line, today)
        patches = tuple(v for v in offered if _line_of(v) == line)
        if not patches:
            lines = tuple(sorted({_line_of(v) for v in offered}, reverse=True))
            nearest = _nearest(line, sorted({_line_of(v) for v in buildable}))
            nearest_support = line_support(nearest, today) if nearest else None
            raise UnavailablePythonLine(
                requested,
                support,
                lines,
                nearest_support,
                upgrade_to if upgrade_to != nearest_support else None,
                target,
                custom_manifest,
            )
        matching = [v for v in patches if requested.matches(v)]
        if not matching:
            raise UnknownPythonPatch(
                requested,
                support,
                patches,
                target,
                not builds(patches[0]),
                upgrade_to,
                custom_manifest,
            )
        if not builds(matching[0]):
            raise EndOfLifePythonVersion(requested, support, buildable, upgrade_to)
        return PythonChoice(matching[0], support)
    candidates = [v for v in buildable if requested.matches(v)]
    if candidates:
        return PythonChoice(candidates[0], line_support(_line_of(candidates[0]), today))
    refused = [v for v in offered if requested.matches(v)]
    if refused:
        support = line_support(_line_of(refused[0]), today)
        raise EndOfLifePythonVersion(requested, support, buildable, upgrade_to)
    raise UnknownPythonVersion(requested, buildable or offered, target)


def resolve(
    requested: RequestedPythonVersion,
    available: Sequence[PythonVersion],
    *,
    target: str,
    today: date,
    allow_end_of_life: bool = False,
) -> PythonVersion:
    """The version :func:`choose` picks."""
    return choose(
        requested, available, target=target, today=today, allow_end_of_life=allow_end_of_life
    ).version


def newer_patch(
    version: PythonVersion, available: Sequence[PythonVersion]
) -> Optional[PythonVersion]:
    """The newest patch of the same line, when it is newer than ``version``."""
    same_line = [v for v in available if (v.major, v.minor) == (version.major, version.minor)]
    newest = max(same_line, default=version)
    return newest if newest > version else None


def support_notice(
    choice: PythonChoice, requested: RequestedPythonVersion, newest: Optional[PythonVersion]
) -> Optional[notices.Notice]:
    """The warning for a chosen line near or past its end-of-life (None while supported)."""
    support = choice.support
    return notices.python_line_support(
        support.name,
        support.stage.value,
        support.end_of_life,
        support.builds_until,
        None if requested.is_default else requested.origin,
        newest.line if newest is not None else None,
        GRACE_MONTHS,
    )


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
    problem = garbled(constraint.strip())
    if problem is not None:
        raise InvalidPythonVersion(constraint.strip(), origin, problem)
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
            raise InvalidPythonVersion(constraint.strip(), origin, NotASpecifier()) from None
    candidate = Version(str(version))
    return any(all(candidate in spec for spec in specs) for specs in alternatives)


@dataclass(eq=False)
class LockedPythonMismatch(BuildpackError):
    """The selected Python contradicts what a lock or project file allows."""

    version: PythonVersion
    origin: str
    file: str
    constraint: str
