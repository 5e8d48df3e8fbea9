"""Downloads that stream to disk, time out, retry, and check a SHA-256 before use."""

from __future__ import annotations

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
from typing import IO, Callable, Mapping, Optional

from python_cnb.buildpack_error import BuildpackError

CHUNK = 1024 * 1024


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


class _Permanent(Exception):
    """A failure that retrying cannot fix (404, 403...)."""


def ssl_context(extra_ca_files: tuple[Path, ...] = ()) -> ssl.SSLContext:
    """The system trust store plus ``extra_ca_files`` (a ``ca-certificates`` binding)."""
    context = ssl.create_default_context()
    for ca_file in extra_ca_files:
        context.load_verify_locations(cafile=str(ca_file))
    return context


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
    request: urllib.request.Request, *, timeout: float, context: ssl.SSLContext
) -> http.client.HTTPResponse:
    """``urlopen`` that keeps ``Authorization`` within the request's origin on redirects."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=context), _OriginRedirects()
    )
    response: http.client.HTTPResponse = opener.open(request, timeout=timeout)
    return response


def _fetch_once(
    url: str,
    destination: Path,
    timeout: float,
    context: ssl.SSLContext,
    headers: Mapping[str, str],
) -> str:
    digest = hashlib.sha256()
    request = urllib.request.Request(url, headers={"User-Agent": "python-cnb", **headers})  # noqa: S310
    try:
        response = open_url(request, timeout=timeout, context=context)
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
        received = 0
        while chunk := response.read(CHUNK):
            digest.update(chunk)
            stream.write(chunk)
            received += len(chunk)
        if expected_length is not None and received != int(expected_length):
            raise OSError(f"the connection closed after {received} of {expected_length} bytes")
    return digest.hexdigest()


def download(
    url: str,
    destination: Path,
    sha256: str,
    *,
    timeout: float = 60,
    retries: int = 3,
    context: Optional[ssl.SSLContext] = None,
    backoff: float = 1.0,
    on_retry: Callable[[int, str], None] = lambda attempt, reason: None,
    headers: Optional[Mapping[str, str]] = None,
) -> None:
    """Download ``url`` to ``destination`` and check its SHA-256.

    Transient failures (timeouts, resets, HTTP 5xx/408/429, short reads) are retried
    ``retries`` times with exponential back-off; others fail at once. On any failure,
    ``destination`` is removed, so nothing unverified is ever left behind. ``headers`` are
    sent with the request (an index's ``Authorization``).
    """
    context = context or ssl_context()
    attempts = 0
    while True:
        attempts += 1
        try:
            actual = _fetch_once(url, destination, timeout, context, headers or {})
            break
        except _Permanent as error:
            destination.unlink(missing_ok=True)
            raise DownloadFailed(url, str(error), attempts) from None
        except (OSError, http.client.HTTPException, socket.timeout, ValueError) as error:
            destination.unlink(missing_ok=True)
            reason = _describe(error)
            if attempts > retries:
                raise DownloadFailed(url, reason, attempts) from None
            on_retry(attempts, reason)
            time.sleep(backoff * 2 ** (attempts - 1))
    if actual != sha256.lower():
        destination.unlink(missing_ok=True)
        raise ChecksumMismatch(url, sha256.lower(), actual)


def _describe(error: BaseException) -> str:
    if isinstance(error, urllib.error.URLError) and not isinstance(error, urllib.error.HTTPError):
        return str(error.reason)
    if isinstance(error, (socket.timeout, TimeoutError)):
        return "timed out"
    return str(error) or type(error).__name__
