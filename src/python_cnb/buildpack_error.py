"""The root of the errors the buildpack reports to users.

Domain modules raise subclasses that carry data and no prose; ``python_cnb.errors`` turns
each into one error block (what was found, why it is wrong, how to fix it).
"""

from __future__ import annotations

import errno
from dataclasses import dataclass
from typing import Optional


class BuildpackError(Exception):
    """An error caused by the app, its configuration or the platform, not by a bug here."""


ENVIRONMENT_ERRNOS = frozenset(
    {
        errno.EACCES,
        errno.EPERM,
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EROFS,
        errno.EIO,
        errno.ELOOP,
    }
)
"""OS errors that come from the machine or the app's files (permissions, a full disk, a
read-only or failing file system, a symlink loop), never from a bug here. Others (a file
the buildpack itself expected, a bad argument) stay internal errors with their traceback."""


@dataclass(eq=False)
class FileSystemFault(BuildpackError):
    """The operating system refused to read or write a file the build needs."""

    path: str
    """The file as the user knows it (relative to the app for the app's files); may be
    empty when the OS did not say which file."""
    doing: str
    """What was being done: ``read``, ``write``, ``extract into``..."""
    errno: int
    reason: str
    """The OS's words: ``Permission denied``, ``No space left on device``."""


def file_system_fault(
    error: OSError, doing: str = "use", path: Optional[str] = None
) -> Optional[FileSystemFault]:
    """``error`` as a user-facing fault, or None when it is not one of
    :data:`ENVIRONMENT_ERRNOS` (then it is a bug, to be reported as such)."""
    if error.errno not in ENVIRONMENT_ERRNOS:
        return None
    shown = path if path is not None else str(error.filename) if error.filename else ""
    return FileSystemFault(shown, doing, error.errno, error.strerror or str(error))
