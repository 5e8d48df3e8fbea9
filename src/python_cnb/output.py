"""Build output: the only code that writes user-visible text.

Output has a stable shape the tests can match: ``[Header]`` lines for each step, plain info
lines, indented subprocess output, and ``[Warning: ...]``/``[Error: ...]`` blocks. Every line
passes through :func:`mask`, which hides URL credentials and every registered secret.
"""

from __future__ import annotations

import contextlib
import re
import sys
import time
from typing import Iterator, Mapping, TextIO

_URL_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][0-9+.-]*://)(?P<userinfo>[^/?#\s]*)@")
"""The userinfo of a URL: everything up to the last ``@`` before the path, as ``urlsplit``
reads it (a password may hold a stray ``@``).

Linear in the length of the text by construction: the scheme part starts at the *last*
letter before ``://`` (what precedes it is left as it is, so the result is the same as with
the whole scheme), so each ``://`` is reached from one start position only, and each start
position costs O(1) unless it is that one: the old ``[A-Za-z][A-Za-z0-9+.-]*://`` tried
every letter of a long word as a start and rescanned the rest of it (MEDIUM-3)."""


class _State:
    """What the output remembers during a build: the secrets to mask and the log level.

    One object for the whole process, not a ``ContextVar``: a thread starts with an empty
    context, and a line written from one must still have every secret masked."""

    def __init__(self) -> None:
        self.secrets: set[str] = set()
        self.debug = False
        self.warnings: list[tuple[str, str]] = []

    def reset(self) -> None:
        """Forget every secret and warning, and turn debug output off."""
        self.secrets = set()
        self.debug = False
        self.warnings = []


_state = _State()


def reset() -> None:
    """Start afresh: no registered secret, no debug output (for tests, between builds)."""
    _state.reset()


def _out() -> TextIO:
    return sys.stdout


def debug_requested(env: Mapping[str, str]) -> bool:
    """Whether the build asks for debug output (``BP_LOG_LEVEL=DEBUG``)."""
    return env.get("BP_LOG_LEVEL", "").strip().upper() == "DEBUG"


def configure(*, debug: bool) -> None:
    """Turn debug output (``BP_LOG_LEVEL=DEBUG``) on or off."""
    _state.debug = debug


def has_secrets() -> bool:
    """Whether the build has met a secret (a password, a token) so far."""
    return bool(_state.secrets)


def warnings_given() -> tuple[tuple[str, str], ...]:
    """Every warning block printed so far, as (title, body)."""
    return tuple(_state.warnings)


def register_secret(value: str) -> None:
    """Never print ``value`` (a password, a token): it is replaced by ``****``."""
    if len(value) >= 3:
        _state.secrets.add(value)


def mask(text: str) -> str:
    """Hide ``user:password@`` in URLs and every registered secret."""
    text = _URL_USERINFO.sub(lambda m: f"{m['scheme']}****@", text)
    for secret in sorted(_state.secrets, key=len, reverse=True):
        text = text.replace(secret, "****")
    return text


def _write(text: str, stream: TextIO | None = None) -> None:
    target = stream or _out()
    target.write(mask(text) + "\n")
    target.flush()


def header(title: str) -> None:
    """Start a step: ``[Installing Python]``."""
    _write(f"\n[{title}]")


def info(message: str) -> None:
    """A line of the current step."""
    _write(message)


def detail(message: str) -> None:
    """An indented line (a list item, a reason)."""
    _write(f"  {message}")


def debug(message: str) -> None:
    """A line shown only with ``BP_LOG_LEVEL=DEBUG``."""
    if _state.debug:
        _write(f"  (debug) {message}")


def subprocess_line(line: str) -> None:
    """A line of a subprocess's output, indented under the step."""
    _write(f"      {line.rstrip()}")


def warning(title: str, body: str) -> None:
    """A warning block: the build goes on."""
    _state.warnings.append((title, body))
    _write(f"\n[Warning: {title}]\n{body.rstrip()}\n")


def error(title: str, body: str) -> None:
    """The error block of a failed build, on stderr."""
    _write(f"\n[Error: {title}]\n{body.rstrip()}\n", sys.stderr)


def duration(seconds: float) -> str:
    """``0.4s``, ``12.1s``, ``2m 03s``."""
    shown = f"{seconds:.1f}"
    if float(shown) < 60:
        return f"{shown}s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m {rest:02d}s"


@contextlib.contextmanager
def timed(what: str) -> Iterator[None]:
    """Part of a step whose milliseconds the debug output shows (``'what' took N ms``, as for
    the commands a step runs)."""
    started = time.monotonic()
    yield
    debug(f"{what!r} took {(time.monotonic() - started) * 1000:.0f} ms")


@contextlib.contextmanager
def step(title: str) -> Iterator[None]:
    """A step with a header and its duration when it ends."""
    header(title)
    started = time.monotonic()
    yield
    elapsed = time.monotonic() - started
    debug(f"step {title!r} took {elapsed * 1000:.0f} ms")
    info(f"Done ({duration(elapsed)})")
