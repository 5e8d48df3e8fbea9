"""Fetching a hash-pinned file straight from a package index (the simple repository API).

The build tools (uv's wheel) are pinned by SHA-256 in buildpack.toml, so nothing needs
resolving: the file whose hash is pinned is looked up on the project's page (PEP 691 JSON, or
PEP 503 HTML) of each configured index in turn, downloaded and checked. This takes a tenth of
a second where starting pip to do the same takes more than one.

It covers the plain cases only: an index URL with or without ``user:password@``, netrc
credentials for the index's host, a CA bundle from a binding. Anything else (proxies,
find-links, trusted hosts, a pip.conf binding or ``PIP_CONFIG_FILE``, client certificates, an
offline build) returns ``None`` and the caller uses pip, which knows all of them; so does any
failure here, and pip then reports it.

Credentials go to the index's origin (scheme, host, port) only: not to files listed on another
host, and not along a redirect that leaves the origin.
"""

from __future__ import annotations

import base64
import html.parser
import http.client
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

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

from python_cnb import output
from python_cnb.config.index import IndexSettings
from python_cnb.support.download import (
    ChecksumMismatch,
    DownloadFailed,
    download,
    open_url,
    same_origin,
    ssl_context,
)

PYPI_SIMPLE = "https://pypi.org/simple/"
JSON_TYPE = "application/vnd.pypi.simple.v1+json"
ACCEPT = f"{JSON_TYPE}, text/html;q=0.1"
PROXY_VARIABLES = (
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
)
"""What urllib (from this process's environment) and pip (from the build's) use as proxies."""
PIP_ONLY_VARIABLES = ("PIP_PROXY", "PIP_CLIENT_CERT")
"""pip settings this module does not apply (``PIP_CONFIG_FILE`` is checked apart)."""
CA_BUNDLE_VARIABLES = ("SSL_CERT_FILE", "PIP_CERT", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
TIMEOUT = 30.0


class MalformedPage(ValueError):
    """A JSON page that is not a PEP 691 project page."""


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
        self.base: Optional[str] = None
        self._href: Optional[str] = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, Optional[str]]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href")
            self._text = []
        elif tag == "base" and self.base is None:
            self.base = dict(attrs).get("href")

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
    """The files of a PEP 691 JSON or PEP 503 HTML project page, with absolute URLs.

    Raises :class:`MalformedPage` (a ValueError, as for JSON that does not parse) for a JSON
    page that is not a PEP 691 project page."""
    if content_type.partition(";")[0].strip().lower() == JSON_TYPE:
        return _json_files(body, page_url)
    files: list[IndexFile] = []
    parser = _Anchors()
    parser.feed(body.decode("utf-8", "replace"))
    parser.close()
    base = urllib.parse.urljoin(page_url, parser.base) if parser.base else page_url
    for href, text in parser.links:
        url, sha256 = _split_hash(urllib.parse.urljoin(base, href))
        filename = text or urllib.parse.unquote(url.rsplit("/", 1)[-1])
        files.append(IndexFile(filename, url, sha256))
    return files


def _json_files(body: bytes, page_url: str) -> list[IndexFile]:
    document = json.loads(body)
    entries = document.get("files", []) if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise MalformedPage("no list of files")
    files: list[IndexFile] = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise MalformedPage(f"not a file entry: {entry!r}")
        filename, href, hashes = entry.get("filename"), entry.get("url"), entry.get("hashes")
        listed = hashes.get("sha256") if isinstance(hashes, dict) else None
        if (
            not isinstance(filename, str)
            or not isinstance(href, str)
            or not isinstance(hashes, (dict, type(None)))
            or not isinstance(listed, (str, type(None)))
        ):
            raise MalformedPage(f"not a file entry: {entry!r}")
        url, fragment_hash = _split_hash(urllib.parse.urljoin(page_url, href))
        sha256 = listed or fragment_hash
        files.append(IndexFile(filename, url, sha256.lower() if sha256 else None))
    return files


def _safe_filename(name: str) -> bool:
    """A plain file name, which cannot leave the destination directory."""
    return bool(name) and name not in (".", "..") and "/" not in name and "\\" not in name


def _credentials(url: str, env: Mapping[str, str]) -> tuple[str, Optional[str]]:
    """The URL without ``user:password@`` and an ``Authorization`` header for its host
    (from the URL, else from netrc), if any."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    bare = urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1]))
    if parts.username is not None and parts.password is not None:
        user = urllib.parse.unquote(parts.username)
        return bare, _basic(user, urllib.parse.unquote(parts.password))
    # Else netrc, as pip does (also for a user without a password in the URL).
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
    if parts.username is not None:
        return bare, _basic(urllib.parse.unquote(parts.username), "")
    return bare, None


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def _context(env: Mapping[str, str]) -> ssl.SSLContext:
    """The system store plus every CA bundle the build's tools are given (raises OSError,
    ssl.SSLError included, for a missing or unreadable one)."""
    bundles = dict.fromkeys(env[name] for name in CA_BUNDLE_VARIABLES if env.get(name))
    return ssl_context(tuple(Path(bundle) for bundle in bundles))


def _supported(index: IndexSettings, env: Mapping[str, str]) -> bool:
    config_file = env.get("PIP_CONFIG_FILE")
    return not (
        index.no_index
        or index.find_links
        or index.trusted_hosts
        or index.pip_conf is not None
        or (config_file and config_file != os.devnull)
        or any(env.get(name) for name in PIP_ONLY_VARIABLES)
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
    try:
        context = _context(env)
    except (OSError, ValueError) as error:  # ssl.SSLError is an OSError
        output.debug(f"direct fetch of {project} impossible ({error}); using pip")
        return None
    for index_url in (index.index_url or PYPI_SIMPLE, *index.extra_index_urls):
        try:
            found = _fetch_from(index_url, project, wanted, destination, context, env)
        except (
            OSError,
            ValueError,
            http.client.HTTPException,
            DownloadFailed,
            ChecksumMismatch,
        ) as error:
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
    files = _project_page(index_url, project, context, env)
    if files is None:
        return None
    for entry in files:
        if entry.sha256 in wanted and _safe_filename(entry.filename):
            target = destination / entry.filename
            destination.mkdir(parents=True, exist_ok=True)
            # The index's credentials are for the index's origin only (as with pip).
            send = authorization is not None and same_origin(entry.url, base)
            download(
                entry.url,
                target,
                entry.sha256 or "",
                timeout=TIMEOUT,
                retries=2,
                context=context,
                headers={"Authorization": authorization} if send and authorization else None,
            )
            return target
    return None


def _file_version(filename: str, machine: Optional[str]) -> Optional[str]:
    """The version of a wheel (for Linux on ``machine`` when given) or, without ``machine``,
    of a wheel or sdist; None for any other file."""
    try:
        if filename.endswith(".whl"):
            _, version, _, tags = parse_wheel_filename(filename)
            platforms = {tag.platform for tag in tags}
            if machine is not None and not any(
                "linux" in p and p.endswith(machine) for p in platforms
            ):
                return None
            return str(version)
        if machine is None:
            return str(parse_sdist_filename(filename)[1])
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    return None


def project_files(
    project: str, index: IndexSettings, env: Mapping[str, str]
) -> Optional[list[IndexFile]]:
    """The files the first configured index that knows ``project`` lists on its project
    page; None when no index knows it, or it cannot be asked here (see the module)."""
    if not _supported(index, env):
        return None
    try:
        context = _context(env)
        for index_url in (index.index_url or PYPI_SIMPLE, *index.extra_index_urls):
            files = _project_page(index_url, project, context, env)
            if files is not None:
                return files
    except (OSError, ValueError, http.client.HTTPException) as error:
        output.debug(f"reading the index page of {project} failed ({error})")
    return None


def _project_page(
    index_url: str, project: str, context: ssl.SSLContext, env: Mapping[str, str]
) -> Optional[list[IndexFile]]:
    """The files of ``project`` on one index, None when the index does not have it."""
    base, authorization = _credentials(index_url, env)
    page_url = urllib.parse.urljoin(base.rstrip("/") + "/", f"{canonicalize_name(project)}/")
    headers = {"Accept": ACCEPT, "User-Agent": "python-cnb"}
    if authorization:
        headers["Authorization"] = authorization
    request = urllib.request.Request(page_url, headers=headers)  # noqa: S310
    try:
        with open_url(request, timeout=TIMEOUT, context=context) as response:
            return parse_project_page(
                response.read(), response.headers.get("Content-Type", ""), response.geturl()
            )
    except urllib.error.HTTPError as error:
        error.close()
        if error.code == 404:  # not on this index: try the next one
            return None
        raise


def project_versions(
    project: str,
    index: IndexSettings,
    env: Mapping[str, str],
    machine: Optional[str] = None,
) -> Optional[list[str]]:
    """The versions of ``project`` the configured indexes list (with a Linux wheel for
    ``machine`` when given); None when they cannot be listed here (see the module)."""
    if not _supported(index, env):
        return None
    found: set[str] = set()
    try:
        context = _context(env)
        for index_url in (index.index_url or PYPI_SIMPLE, *index.extra_index_urls):
            files = _project_page(index_url, project, context, env)
            for entry in files or ():
                version = _file_version(entry.filename, machine)
                if version is not None:
                    found.add(version)
    except (OSError, ValueError, http.client.HTTPException, DownloadFailed) as error:
        output.debug(f"listing {project} failed ({error}); using pip")
        return None
    return sorted(found)
