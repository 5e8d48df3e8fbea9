"""Extracting a tarball safely: the ``data`` filter, and the top directory stripped."""

from __future__ import annotations

import os
import tarfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Optional, Union

from python_cnb.buildpack_error import BuildpackError, file_system_fault


@dataclass(frozen=True)
class AbsolutePath:
    """A member named by an absolute path."""


@dataclass(frozen=True)
class HardLinkToAbsolutePath:
    """A hard link whose target is an absolute path."""


@dataclass(frozen=True)
class HardLinkToTopDirectory:
    """A hard link to the directory that stripping removes."""


@dataclass(frozen=True)
class SymlinkChainOutside:
    """Symlinks that, resolved in the extracted tree, lead outside the destination."""


@dataclass(frozen=True)
class FilterRefused:
    """The standard library's ``data`` filter refused the member."""

    detail: str
    """tarfile's message."""


ArchiveProblem = Union[
    AbsolutePath, HardLinkToAbsolutePath, HardLinkToTopDirectory, SymlinkChainOutside, FilterRefused
]


@dataclass(eq=False)
class UnsafeArchive(BuildpackError):
    """An archive with a member that would land outside the destination, or a device."""

    archive: str
    member: str
    problem: ArchiveProblem


def _strip(name: str, components: int) -> Optional[str]:
    parts = PurePosixPath(name).parts
    if len(parts) <= components:
        return None
    return str(PurePosixPath(*parts[components:]))


def _strip_member(member: tarfile.TarInfo, components: int, archive: Path) -> bool:
    """Strip ``components`` from the name and hard link target of ``member``; False when
    nothing is left of its name (the top directory itself)."""
    # Checked before stripping, which would turn "/etc/passwd" into "etc/passwd".
    if PurePosixPath(member.name).is_absolute():
        raise UnsafeArchive(str(archive), member.name, AbsolutePath())
    if member.islnk() and PurePosixPath(member.linkname).is_absolute():
        raise UnsafeArchive(str(archive), member.name, HardLinkToAbsolutePath())
    name = _strip(member.name, components)
    if name is None:
        return False
    member.name = name
    if member.islnk():
        linkname = _strip(member.linkname, components)
        if linkname is None:
            raise UnsafeArchive(str(archive), member.name, HardLinkToTopDirectory())
        member.linkname = linkname
    return True


def _fallback_filter(member: tarfile.TarInfo, destination: str) -> tarfile.TarInfo:
    """What ``tarfile.data_filter`` checks, for interpreters older than 3.9.17/3.11.4."""
    root = Path(destination).resolve()
    target = (root / member.name).resolve()
    if PurePosixPath(member.name).is_absolute() or root not in target.parents:
        raise tarfile.TarError(f"{member.name!r} would be outside the destination")
    if member.isdev() or member.isfifo():
        raise tarfile.TarError(f"{member.name!r} is a device or a pipe")
    if member.issym() or member.islnk():
        # A symlink's target is relative to its directory, a hard link's to the archive root.
        link = ((target.parent if member.issym() else root) / member.linkname).resolve()
        if PurePosixPath(member.linkname).is_absolute() or (
            link != root and root not in link.parents
        ):
            raise tarfile.TarError(f"{member.name!r} links outside the destination")
    if member.isfile() or member.isdir():
        member.mode &= 0o755
    return member


def extract(archive: Path, destination: Path, *, strip_components: int = 0) -> None:
    """Extract ``archive`` (any compression tarfile knows) into ``destination``.

    Every member goes through the stdlib ``data`` filter (no absolute paths, no ``..``, no
    links out of the destination, no devices, no setuid bits) after ``strip_components``
    leading path components are removed from its name and from hard link targets. The
    filter judges each member against the tree as it is at that moment, so a symlink that
    resolves inside can be turned outward by a later one (``a -> k/q/../x``, then
    ``k/q -> ../..``): once everything is extracted, every symlink is resolved again in the
    final tree, whatever the member order (LOW-4). An OS error while writing (a full disk)
    is a FileSystemFault naming the destination.
    """
    destination.mkdir(parents=True, exist_ok=True)
    try:
        links = _extract_members(archive, destination, strip_components)
    except OSError as error:
        fault = file_system_fault(error, f"extract {archive.name} into", str(destination))
        if fault is None:
            raise
        raise fault from None
    root = os.path.realpath(destination)
    for name in links:
        target = os.path.realpath(destination / name)
        if target != root and not target.startswith(root + os.sep):
            raise UnsafeArchive(str(archive), name, SymlinkChainOutside())


def _extract_members(archive: Path, destination: Path, strip_components: int) -> list[str]:
    """Extract every member; the names of the symlinks made."""
    data_filter = getattr(tarfile, "data_filter", None)
    links: list[str] = []
    with tarfile.open(archive) as tar:
        for member in tar:
            if not _strip_member(member, strip_components, archive):
                continue
            try:
                if data_filter is not None:
                    filtered = data_filter(member, str(destination))
                else:  # pragma: no cover - older bootstrap interpreters
                    filtered = _fallback_filter(member, str(destination))
            except tarfile.TarError as error:
                raise UnsafeArchive(str(archive), member.name, FilterRefused(str(error))) from None
            if filtered is None:  # pragma: no cover - the data filter never skips
                continue
            if filtered.isdir():
                (destination / filtered.name).mkdir(parents=True, exist_ok=True)
                continue
            if filtered.issym():
                links.append(filtered.name)
            (destination / filtered.name).parent.mkdir(parents=True, exist_ok=True)
            if data_filter is not None:
                tar.extract(filtered, destination, set_attrs=True, filter="fully_trusted")
            else:  # pragma: no cover - older bootstrap interpreters
                tar.extract(filtered, destination, set_attrs=True)
    return links
