"""Fetching a hash-pinned file straight from a package index (the simple repository API).

The build tools (uv's wheel) are pinned by SHA-256 in buildpack.toml, so nothing needs
resolving: the file whose hash is pinned is looked up on the project's page (PEP 691 JSON, or
PEP 503 HTML) of each configured index in turn, downloaded and checked. This takes a tenth of
a second where starting pip to do the same takes more than one.

It covers the plain cases only: an index URL with or without ``user:password@``, netrc
credentials for the index's host, a CA bundle from a binding. Anything else (proxies,
find-links, trusted hosts, a pip.conf binding, an offline build) returns ``None`` and the
caller uses pip, which knows all of them; so does any failure here, and pip then reports it.
"""

from __future__ import annotations

import base64
import html.parser
import json
import netrc
import os
import ssl
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional, Sequence

from packaging.utils import canonicalize_name

from python_cnb import output
from python_cnb.download import ChecksumMismatch, DownloadFailed, download, ssl_context
from python_cnb.package_index import IndexSettings

PYPI_SIMPLE = "https://pypi.org/simple/"
ACCEPT = "application/vnd.pypi.simple.v1+json, text/html;q=0.1"
PROXY_VARIABLES = (
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
)
TIMEOUT = 30.0


@dataclass(frozen=True)
class IndexFile:
    """A file listed on a project page."""

    filename: str
    url: str
    """Absolute, without the hash fragment."""
    sha256: Optional[str]


class _Anchors(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._href: Optional[str] = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, Optional[str]]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href")
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append((self._href, "".join(self._text).strip()))
            self._href = None


def _split_hash(url: str) -> tuple[str, Optional[str]]:
    base, _, fragment = url.partition("#")
    name, _, value = fragment.partition("=")
    return base, value.lower() if name == "sha256" and value else None


def parse_project_page(body: bytes, content_type: str, page_url: str) -> list[IndexFile]:
    """The files of a PEP 691 JSON or PEP 503 HTML project page, with absolute URLs."""
    files: list[IndexFile] = []
    if content_type.partition(";")[0].strip() == "application/vnd.pypi.simple.v1+json":
        for entry in json.loads(body).get("files", []):
            url, fragment_hash = _split_hash(urllib.parse.urljoin(page_url, entry["url"]))
            sha256 = (entry.get("hashes") or {}).get("sha256") or fragment_hash
            files.append(IndexFile(entry["filename"], url, sha256.lower() if sha256 else None))
        return files
    parser = _Anchors()
    parser.feed(body.decode("utf-8", "replace"))
    for href, text in parser.links:
        url, sha256 = _split_hash(urllib.parse.urljoin(page_url, href))
        filename = text or urllib.parse.unquote(url.rsplit("/", 1)[-1])
        files.append(IndexFile(filename, url, sha256))
    return files


def _credentials(url: str, env: Mapping[str, str]) -> tuple[str, Optional[str]]:
    """The URL without ``user:password@`` and an ``Authorization`` header for its host
    (from the URL, else from netrc), if any."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    bare = urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1]))
    if parts.username is not None:
        user = urllib.parse.unquote(parts.username)
        password = urllib.parse.unquote(parts.password or "")
        return bare, _basic(user, password)
    netrc_path = Path(env["NETRC"]) if env.get("NETRC") else None
    if netrc_path is None and env.get("HOME"):
        netrc_path = Path(env["HOME"]) / ".netrc"
    if netrc_path is not None and netrc_path.is_file():
        try:
            entry = netrc.netrc(str(netrc_path)).authenticators(host)
        except (netrc.NetrcParseError, OSError):
            entry = None
        if entry is not None and entry[0]:
            return bare, _basic(entry[0], entry[2] or "")
    return bare, None


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def _same_host(first: str, second: str) -> bool:
    a, b = urllib.parse.urlsplit(first), urllib.parse.urlsplit(second)
    return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)


def _context(env: Mapping[str, str]) -> ssl.SSLContext:
    bundle = env.get("SSL_CERT_FILE") or env.get("PIP_CERT")
    return ssl_context((Path(bundle),) if bundle else ())


def _supported(index: IndexSettings, env: Mapping[str, str]) -> bool:
    return not (
        index.no_index
        or index.find_links
        or index.trusted_hosts
        or index.pip_conf is not None
        or any(env.get(name) or os.environ.get(name) for name in PROXY_VARIABLES)
    )


def fetch_pinned(
    project: str,
    sha256s: Sequence[str],
    destination: Path,
    index: IndexSettings,
    env: Mapping[str, str],
) -> Optional[Path]:
    """Download the file of ``project`` whose SHA-256 is one of ``sha256s`` into
    ``destination`` (a directory); None when this cannot be done here (see the module)."""
    if not sha256s or not _supported(index, env):
        return None
    wanted = {h.lower() for h in sha256s}
    context = _context(env)
    for index_url in (index.index_url or PYPI_SIMPLE, *index.extra_index_urls):
        try:
            found = _fetch_from(index_url, project, wanted, destination, context, env)
        except (OSError, ValueError, DownloadFailed, ChecksumMismatch) as error:
            output.debug(f"direct fetch of {project} failed ({error}); using pip")
            return None
        if found is not None:
            return found
    return None


def _fetch_from(
    index_url: str,
    project: str,
    wanted: set[str],
    destination: Path,
    context: ssl.SSLContext,
    env: Mapping[str, str],
) -> Optional[Path]:
    base, authorization = _credentials(index_url, env)
    page_url = urllib.parse.urljoin(base.rstrip("/") + "/", f"{canonicalize_name(project)}/")
    headers = {"Accept": ACCEPT, "User-Agent": "python-cnb"}
    if authorization:
        headers["Authorization"] = authorization
    request = urllib.request.Request(page_url, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT, context=context) as response:  # noqa: S310
            files = parse_project_page(
                response.read(), response.headers.get("Content-Type", ""), response.geturl()
            )
    except urllib.error.HTTPError as error:
        error.close()
        if error.code == 404:  # not on this index: try the next one
            return None
        raise
    for entry in files:
        if entry.sha256 in wanted and "/" not in entry.filename:
            target = destination / entry.filename
            destination.mkdir(parents=True, exist_ok=True)
            same = authorization and _same_host(entry.url, base)
            download(
                entry.url,
                target,
                entry.sha256 or "",
                timeout=TIMEOUT,
                retries=2,
                context=context,
                headers={"Authorization": authorization} if same and authorization else None,
            )
            return target
    return None
