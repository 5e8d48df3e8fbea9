"""Downloads that stream to disk, time out, retry, and check a SHA-256 before use.

Every download is bounded: in time (``timeout`` seconds without progress on a read, and a
``deadline`` for the whole download, retries included, so a server that drips a byte a
second cannot hold a build forever) and in size (the size the manifest pins, or
``max_bytes``). Credentials in a URL (``https://user:password@host/...``) are sent as HTTP
basic auth to that URL's origin only, never on a redirect to another one.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Callable, Mapping, Optional, Union

from python_cnb import output
from python_cnb.buildpack_error import BuildpackError

CHUNK = 1024 * 1024
DEFAULT_MAX_BYTES = 1024 * 1024 * 1024
"""The most a download may be when nothing pins its size (BP_PYTHON_DOWNLOAD_MAX_SIZE)."""
DEFAULT_DEADLINE = 900.0
"""Seconds a download may take in all, retries included (BP_PYTHON_DOWNLOAD_DEADLINE)."""


@dataclass(eq=False)
class DownloadFailed(BuildpackError):
    """A download that did not complete, after every retry."""

    url: str
    reason: str
    attempts: int


@dataclass(eq=False)
class ChecksumMismatch(BuildpackError):
    """A download whose SHA-256 is not the pinned one."""

    url: str
    expected: str
    actual: str


@dataclass(eq=False)
class DownloadTooLarge(BuildpackError):
    """A download larger than its pinned size or the size limit."""

    url: str
    limit: int
    size: int
    """What the server announced (Content-Length) or sent before it was stopped."""
    pinned: bool
    """True when the limit is the size the manifest pins, False for the setting."""


@dataclass(eq=False)
class DownloadTooSlow(BuildpackError):
    """A download that did not finish within its deadline."""

    url: str
    deadline: float
    received: int
    attempts: int


@dataclass
class Limits:
    """The bounds of every download of a build (see :func:`configure`)."""

    max_bytes: int = DEFAULT_MAX_BYTES
    deadline: float = DEFAULT_DEADLINE


_limits = Limits()


def configure(*, max_bytes: int, deadline: float) -> None:
    """Set the size limit and deadline of the build's downloads (from its settings)."""
    _limits.max_bytes, _limits.deadline = max_bytes, deadline


class _Permanent(Exception):
    """A failure that retrying cannot fix (404, 403...)."""


class _TooLarge(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


class _TooSlow(Exception):
    pass


def split_credentials(url: str) -> tuple[str, Optional[str]]:
    """``url`` without its ``user:password@``, and the ``Authorization`` header they make.

    urllib does not read userinfo: it takes ``bob:pw@127.0.0.1`` for the host name. The
    password is registered as a secret, so that no log line shows it even decoded."""
    try:
        parts = urllib.parse.urlsplit(url)
        if "@" not in parts.netloc or parts.scheme.lower() not in ("http", "https"):
            return url, None
        user = urllib.parse.unquote(parts.username or "")
        password = urllib.parse.unquote(parts.password or "")
    except ValueError:  # not a URL urllib can take apart: the request will say so
        return url, None
    netloc = parts.netloc.rpartition("@")[2]
    for secret in (password, parts.password or ""):
        output.register_secret(secret)
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc)), f"Basic {token}"


def ssl_context(extra_ca_files: tuple[Path, ...] = ()) -> ssl.SSLContext:
    """The system trust store plus ``extra_ca_files`` (a ``ca-certificates`` binding)."""
    context = ssl.create_default_context()
    for ca_file in extra_ca_files:
        context.load_verify_locations(cafile=str(ca_file))
    return context


class TrustStore:
    """What a build's HTTPS connections trust: :func:`ssl_context` of ``extra_ca_files``,
    made on the first HTTPS connection and kept for the others.

    Loading the system's certificates takes tens of milliseconds, which a build that opens
    no HTTPS connection (a rebuild, a manifest on ``file:`` or plain HTTP) never spends.
    The binding's files were checked when they were read (``config.secrets``)."""

    def __init__(self, extra_ca_files: tuple[Path, ...] = ()) -> None:
        self.extra_ca_files = extra_ca_files
        self._context: Optional[ssl.SSLContext] = None

    def context(self) -> ssl.SSLContext:
        """The SSL context, made on first use."""
        if self._context is None:
            self._context = ssl_context(self.extra_ca_files)
        return self._context

    @property
    def loaded(self) -> bool:
        """Whether the context was made (an HTTPS connection was opened)."""
        return self._context is not None


TLS = Union[ssl.SSLContext, TrustStore]
"""What the functions here take for HTTPS: a context, or a store that makes one when needed."""


def _tls_context(tls: TLS) -> ssl.SSLContext:
    return tls.context() if isinstance(tls, TrustStore) else tls


class _HTTPSHandler(urllib.request.HTTPSHandler):
    """urllib's handler, with the SSL context asked for when a connection is opened."""

    def __init__(self, tls: TLS) -> None:
        super().__init__()
        self._tls = tls

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(http.client.HTTPSConnection, req, context=_tls_context(self._tls))


_DEFAULT_PORTS = {"http": 80, "https": 443}


def same_origin(first: str, second: str) -> bool:
    """Whether two URLs have the same scheme, host and port (``https://h/`` is
    ``https://h:443/``): where an index's credentials may be sent."""

    def origin(url: str) -> tuple[str, str, Optional[int]]:
        parts = urllib.parse.urlsplit(url)
        scheme = parts.scheme.lower()
        return scheme, (parts.hostname or ""), parts.port or _DEFAULT_PORTS.get(scheme)

    return origin(first) == origin(second)


class _OriginRedirects(urllib.request.HTTPRedirectHandler):
    """Redirects that drop ``Authorization`` when they leave the origin, as pip does.

    urllib's own handler copies every header of a request to its redirect, so a file on the
    index host that redirects to a CDN would hand the index's password to the CDN."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> Optional[urllib.request.Request]:
        redirected = super().redirect_request(req, fp, code, msg, headers, newurl)
        if redirected is not None and not same_origin(req.full_url, redirected.full_url):
            redirected.remove_header("Authorization")
        return redirected


def open_url(
    request: urllib.request.Request, *, timeout: float, context: TLS
) -> http.client.HTTPResponse:
    """``urlopen`` that keeps ``Authorization`` within the request's origin on redirects."""
    opener = urllib.request.build_opener(_HTTPSHandler(context), _OriginRedirects())
    response: http.client.HTTPResponse = opener.open(request, timeout=timeout)
    return response


def request_for(
    url: str, headers: Mapping[str, str], accept: Optional[str] = None
) -> urllib.request.Request:
    """A GET of ``url`` with its credentials as basic auth (unless ``headers`` already
    authorize it) and python-cnb's User-Agent."""
    clean, authorization = split_credentials(url)
    sent = {"User-Agent": "python-cnb", **headers}
    if accept:
        sent["Accept"] = accept
    if authorization and not any(name.lower() == "authorization" for name in sent):
        sent["Authorization"] = authorization
    return urllib.request.Request(clean, headers=sent)  # noqa: S310


def _remaining(end: float) -> float:
    left = end - time.monotonic()
    if left <= 0:
        raise _TooSlow
    return left


def _fetch_once(
    url: str,
    destination: Path,
    timeout: float,
    context: TLS,
    headers: Mapping[str, str],
    max_bytes: int,
    end: float,
    received: list[int],
) -> str:
    digest = hashlib.sha256()
    try:
        request = request_for(url, headers)
        response = open_url(request, timeout=min(timeout, _remaining(end)), context=context)
    except urllib.error.HTTPError as error:
        error.close()  # it holds the connection
        if error.code in (408, 429) or error.code >= 500:
            raise OSError(f"HTTP {error.code} {error.reason}") from None
        raise _Permanent(f"HTTP {error.code} {error.reason}") from None
    except urllib.error.URLError as error:
        # A missing local file or an unknown scheme does not get better by waiting.
        if url.lower().startswith("file:") or "unknown url type" in str(error.reason):
            raise _Permanent(_describe(error)) from None
        raise
    except ValueError as error:  # not a URL urllib can open
        raise _Permanent(str(error)) from None
    with response, destination.open("wb") as stream:
        expected_length = response.headers.get("Content-Length")
        announced = int(expected_length) if expected_length and expected_length.isdigit() else 0
        if announced > max_bytes:  # refused before a byte of it is read
            raise _TooLarge(announced)
        received[0] = 0
        # read1: one read of the socket at a time, so that the deadline is checked even
        # when a server drips a byte a second (read(CHUNK) would wait for the whole chunk).
        while chunk := response.read1(CHUNK):
            received[0] += len(chunk)
            if received[0] > max_bytes:
                raise _TooLarge(received[0])
            digest.update(chunk)
            stream.write(chunk)
            _remaining(end)
        if expected_length is not None and received[0] != int(expected_length):
            raise OSError(f"the connection closed after {received[0]} of {expected_length} bytes")
    return digest.hexdigest()


def download(
    url: str,
    destination: Path,
    sha256: str,
    *,
    timeout: float = 60,
    retries: int = 3,
    context: Optional[TLS] = None,
    backoff: float = 1.0,
    on_retry: Callable[[int, str], None] = lambda attempt, reason: None,
    headers: Optional[Mapping[str, str]] = None,
    size: Optional[int] = None,
    max_bytes: Optional[int] = None,
    deadline: Optional[float] = None,
) -> None:
    """Download ``url`` to ``destination`` and check its SHA-256.

    Transient failures (timeouts, resets, HTTP 5xx/408/429, short reads) are retried
    ``retries`` times with exponential back-off; others fail at once. On any failure,
    ``destination`` is removed, so nothing unverified is ever left behind. ``headers`` are
    sent with the request (an index's ``Authorization``); credentials in ``url`` are sent as
    basic auth. ``size`` is the pinned size, if any: more is refused as soon as it arrives,
    as is anything over ``max_bytes`` (default: :func:`configure`'s). The whole download,
    retries included, must end within ``deadline`` seconds (default: :func:`configure`'s).
    """
    context = context or TrustStore()
    limit = size if size is not None else max_bytes if max_bytes is not None else _limits.max_bytes
    allowed = deadline if deadline is not None else _limits.deadline
    end = time.monotonic() + allowed
    attempts = 0
    received = [0]
    while True:
        attempts += 1
        try:
            actual = _fetch_once(
                url, destination, timeout, context, headers or {}, limit, end, received
            )
            break
        except _Permanent as error:
            destination.unlink(missing_ok=True)
            raise DownloadFailed(url, str(error), attempts) from None
        except _TooLarge as error:
            destination.unlink(missing_ok=True)
            raise DownloadTooLarge(url, limit, error.size, size is not None) from None
        except _TooSlow:
            destination.unlink(missing_ok=True)
            raise DownloadTooSlow(url, allowed, received[0], attempts) from None
        except (OSError, http.client.HTTPException, socket.timeout, ValueError) as error:
            destination.unlink(missing_ok=True)
            reason = _describe(error)
            if attempts > retries:
                raise DownloadFailed(url, reason, attempts) from None
            on_retry(attempts, reason)
            pause = backoff * 2 ** (attempts - 1)
            if time.monotonic() + pause >= end:
                raise DownloadTooSlow(url, allowed, received[0], attempts) from None
            time.sleep(pause)
    if actual != sha256.lower():
        destination.unlink(missing_ok=True)
        raise ChecksumMismatch(url, sha256.lower(), actual)


def read_limited(
    url: str,
    *,
    timeout: float,
    context: Optional[TLS],
    max_bytes: int,
    deadline: Optional[float] = None,
) -> bytes:
    """The body of a small document at ``url`` (a manifest), read with the same bounds as a
    download: credentials as basic auth, at most ``max_bytes``, within the deadline.
    Raise OSError (or urllib's errors) when it cannot be read, DownloadTooLarge or
    DownloadTooSlow when it breaks a bound."""
    allowed = deadline if deadline is not None else _limits.deadline
    end = time.monotonic() + allowed
    request = request_for(url, {})
    chunks: list[bytes] = []
    received = 0
    try:
        with open_url(
            request, timeout=min(timeout, _remaining(end)), context=context or TrustStore()
        ) as response:
            while chunk := response.read1(CHUNK):
                received += len(chunk)
                if received > max_bytes:
                    raise DownloadTooLarge(url, max_bytes, received, pinned=False)
                chunks.append(chunk)
                _remaining(end)
    except _TooSlow:
        raise DownloadTooSlow(url, allowed, received, 1) from None
    return b"".join(chunks)


def _describe(error: BaseException) -> str:
    if isinstance(error, urllib.error.URLError) and not isinstance(error, urllib.error.HTTPError):
        return str(error.reason)
    if isinstance(error, (socket.timeout, TimeoutError)):
        return "timed out"
    return str(error) or type(error).__name__
