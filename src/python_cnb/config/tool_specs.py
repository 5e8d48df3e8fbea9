"""The build tools the buildpack installs, as pinned in buildpack.toml ``[metadata.tools]``,
and the version of each a build uses: the platform's setting, else the pinned one when it
satisfies the app's constraint, else the newest release on the index that does."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Sequence

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from python_cnb import output
from python_cnb.app.files import ToolConstraint
from python_cnb.buildpack_error import BuildpackError

DATA = Path(__file__).resolve().parent.parent / "data" / "tools"


@dataclass(frozen=True)
class ToolSpec:
    """One tool: its version, and either wheel hashes (uv) or a hashed requirement set."""

    name: str
    version: str
    hashes: tuple[str, ...] = ()
    """SHA-256 of the acceptable wheels for the target architecture (uv)."""
    requirements: Optional[Path] = None
    """A hashed, universal requirement set pinning the tool and its dependencies."""
    overridden: bool = False
    """True when the version is not the pinned one (the platform's override or the app's
    constraint chose another): then nothing is hash-checked."""
    origin: Optional[str] = None
    """What chose a version other than the buildpack's pin (for error messages)."""

    @property
    def fingerprint(self) -> str:
        """What identifies this exact tool set (for layer metadata)."""
        if self.requirements is not None and not self.overridden:
            digest = hashlib.sha256(self.requirements.read_bytes()).hexdigest()[:16]
            return f"{self.name} {self.version} ({digest})"
        return f"{self.name} {self.version}" + (" (unpinned)" if self.overridden else "")

    def requirement_lines(self) -> list[str]:
        """What to install: the hashed set, or ``name==version`` for an override."""
        if self.overridden or self.requirements is None:
            return [f"{self.name}=={self.version}"]
        return self.requirements.read_text(encoding="utf-8").splitlines()


def tool_spec(
    metadata: Mapping[str, Any], name: str, arch: str, override: Optional[str] = None
) -> ToolSpec:
    """The spec of ``name`` for ``arch``; ``override`` replaces the pinned version (an
    override naming the pinned version itself keeps the hashes)."""
    table = metadata.get("tools", {}).get(name, {})
    if override and override != str(table.get("version")):
        return ToolSpec(name, override, overridden=True)
    version = str(table["version"])
    hashes = tuple(w["sha256"] for w in table.get("wheels", []) if w.get("arch") == arch)
    requirements = DATA / f"{name}.txt"
    return ToolSpec(name, version, hashes, requirements if requirements.is_file() else None)


@dataclass(frozen=True)
class Override:
    """The platform's version setting for a tool (``BP_PYTHON_PACKAGE_MANAGER_VERSION``)."""

    setting: str
    version: str


@dataclass(eq=False)
class InvalidToolConstraint(BuildpackError):
    """A tool version constraint that is not a version specifier."""

    constraint: ToolConstraint


@dataclass(eq=False)
class NoToolVersion(BuildpackError):
    """No release of the tool on the package index satisfies the app's constraint."""

    constraint: ToolConstraint
    pinned: str
    available: tuple[str, ...]
    """Newest first; empty when the index lists none (or could not be listed)."""
    overridable: bool = False
    """Whether ``BP_PYTHON_PACKAGE_MANAGER_VERSION`` would pin this tool."""


@dataclass(eq=False)
class OverrideViolatesConstraint(BuildpackError):
    """The platform's version setting asks for a version the app's constraint refuses."""

    override: Override
    constraint: ToolConstraint


_POETRY_RANGE = re.compile(r"^(?P<op>[\^~])(?P<version>[0-9][0-9.]*)$")


def _poetry_range(op: str, version: str) -> str:
    """Poetry's ``^1.2`` and ``~1.2`` as PEP 440 (``>=1.2,<2.0``, ``>=1.2,<1.3``)."""
    parts = [int(p) for p in version.split(".")]
    if op == "^":
        first = next((i for i, p in enumerate(parts) if p), len(parts) - 1)
        upper = parts[: first + 1]
    else:
        upper = parts[:2]
    upper = [*upper[:-1], upper[-1] + 1]
    return f">={version},<{'.'.join(map(str, upper))}"


def specifier_set(constraint: ToolConstraint) -> SpecifierSet:
    """The constraint as a PEP 440 specifier set; a bare version means ``==`` (as uv and
    Poetry read it), and Poetry's ``^``/``~`` ranges are understood for ``requires-poetry``."""
    if not constraint.specifier.strip():
        raise InvalidToolConstraint(constraint)
    items = []
    for item in constraint.specifier.split(","):
        text = item.strip()
        poetry = _POETRY_RANGE.match(text) if constraint.tool == "poetry" else None
        if poetry is not None:
            text = _poetry_range(poetry["op"], poetry["version"])
        elif text and text[0].isdigit():
            text = f"=={text}"
        items.append(text)
    try:
        specifiers = SpecifierSet(",".join(items))
    except InvalidSpecifier:
        raise InvalidToolConstraint(constraint) from None
    return specifiers


def _satisfies(version: str, specifiers: SpecifierSet) -> bool:
    try:
        return specifiers.contains(Version(version), prereleases=True)
    except InvalidVersion:
        return False


def choose_tool(
    metadata: Mapping[str, Any],
    name: str,
    arch: str,
    *,
    override: Optional[Override] = None,
    constraint: Optional[ToolConstraint] = None,
    available: Callable[[], Sequence[str]] = tuple,
    overridable: bool = False,
) -> ToolSpec:
    """The spec of ``name``: the platform's ``override`` if given (refused if the app's
    ``constraint`` does not allow it), else the pinned one if it satisfies ``constraint``,
    else the newest release ``available()`` lists that does (unpinned: no hash is known)."""
    specifiers = specifier_set(constraint) if constraint is not None else None
    if override is not None:
        if constraint and specifiers is not None and not _satisfies(override.version, specifiers):
            raise OverrideViolatesConstraint(override, constraint)
        spec = tool_spec(metadata, name, arch, override.version)
        if spec.overridden:
            output.info(f"Using {name} {spec.version} ({override.setting}; not hash-checked)")
            return replace(spec, origin=f"{override.setting}={override.version}")
        return spec
    pinned = tool_spec(metadata, name, arch)
    if constraint is None or specifiers is None:
        return pinned
    shown = f'{constraint.key} = "{constraint.specifier}" ({constraint.where})'
    if _satisfies(pinned.version, specifiers):
        output.info(f"{name} {pinned.version}, the pinned version, satisfies {shown}")
        return pinned
    versions = sorted({v for v in available() if _valid(v)}, key=Version, reverse=True)
    # Pre-releases only when the constraint names one (as pip and uv choose).
    pre = bool(specifiers.prereleases)
    chosen = next((v for v in versions if specifiers.contains(Version(v), prereleases=pre)), None)
    if chosen is None:
        raise NoToolVersion(constraint, pinned.version, tuple(versions), overridable)
    output.info(
        f"Using {name} {chosen}, the newest release that satisfies {shown}: not the pinned "
        f"{pinned.version}, so unpinned (no hash is known to check it against)"
    )
    return ToolSpec(name, chosen, overridden=True, origin=shown)


def _valid(version: str) -> bool:
    try:
        Version(version)
    except InvalidVersion:
        return False
    return True
