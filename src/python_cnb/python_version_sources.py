"""Where the requested Python version comes from, strongest source first.

1. the platform's setting: ``BP_PYTHON_VERSION``, Paketo's ``BP_CPYTHON_VERSION``, Kato's
   ``BUILD_RUNTIMES``;
2. ``.python-version``;
3. ``runtime.txt`` (``python-3.12.7``, the Heroku/Kato format);
4. the default: the newest version available.

The strongest source decides and must be valid; weaker sources that disagree (or that
cannot be read) are logged, never silently dropped.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Callable, Optional, Sequence

from python_cnb import output
from python_cnb.python_version import (
    InvalidPythonVersion,
    RequestedPythonVersion,
    default_request,
    request,
)
from python_cnb.python_version_files import PYTHON_VERSION_FILE, RUNTIME_TXT, read_version_file

Source = Callable[[], Optional[RequestedPythonVersion]]


def version_sources(app_dir: Path, settings: Sequence[tuple[str, str]]) -> list[Source]:
    """The sources in precedence order; each returns None when it says nothing."""
    sources: list[Source] = [partial(request, value, name) for name, value in settings]
    sources += [
        partial(read_version_file, app_dir, name) for name in (PYTHON_VERSION_FILE, RUNTIME_TXT)
    ]
    return sources


def first_request(sources: Sequence[Source]) -> RequestedPythonVersion:
    """The first source that says something; the rest are only compared and logged."""
    chosen: Optional[RequestedPythonVersion] = None
    for source in sources:
        if chosen is None:
            chosen = source()
            continue
        try:
            other = source()
        except InvalidPythonVersion as error:
            output.info(f"Ignoring {error.origin}, which is not valid: {chosen.origin} decides")
            continue
        if other is not None and other.specifier != chosen.specifier:
            output.info(f"Ignoring {other.origin} ({other.text}): {chosen.origin} takes precedence")
    return chosen or default_request()


def read_requested_python_version(
    app_dir: Path, settings: Sequence[tuple[str, str]]
) -> RequestedPythonVersion:
    """The requested Python version of the app."""
    return first_request(version_sources(app_dir, settings))
