"""The direct fetch of a hash-pinned file from a package index, over real HTTP on 127.0.0.1.

The repository's local index (PEP 691 JSON and PEP 503 HTML, optional Basic auth and TLS)
serves real wheels; the static test server serves hand-written pages, whose files may live on
another server, so that we can see which headers each server received.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import socket
import threading
import urllib.parse
from pathlib import Path
from typing import Iterator, Mapping, Optional

import pytest

from python_cnb.config.index import IndexSettings
from python_cnb.support.simple_index import (
    PROXY_VARIABLES,
    IndexFile,
    fetch_pinned,
    parse_project_page,
    project_versions,
)
from tests.support import tls
from tests.support.contexts import INDEX_PROJECT as PROJECT
from tests.support.contexts import INDEX_WHEEL as WHEEL
from tests.support.contexts import clear_proxies, index_root  # noqa: F401 (the fixtures)
from tests.support.servers import Fault, FileServer
from tests.support.wheels import make_wheel, sha256_of
from tools import local_index

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
USER, PASSWORD = "ci-bot", "s3cr3t:@/?#pw"
"""A password that needs percent-encoding in a URL."""
ENV: Mapping[str, str] = {"PATH": "/usr/bin:/bin"}
"""A build environment without HOME (no ~/.netrc), proxies or CA bundles."""


# -- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def wheel(root: Path) -> Path:
    return root / "files" / WHEEL


@pytest.fixture
def sha(wheel: Path) -> str:
    return sha256_of(wheel)


@pytest.fixture
def index(root: Path) -> Iterator[local_index.IndexServer]:
    with local_index.serve(root) as server:
        yield server


@pytest.fixture
def private_index(root: Path) -> Iterator[local_index.IndexServer]:
    with local_index.serve(root, auth=(USER, PASSWORD)) as server:
        yield server


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> tls.TestCertificates:
    return tls.make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def static(tmp_path: Path) -> Iterator[FileServer]:
    """A static server for hand-written pages (its root: ``tmp_path / "static"``)."""
    directory = tmp_path / "static"
    directory.mkdir()
    with FileServer(directory) as server:
        yield server


@pytest.fixture
def other(tmp_path: Path, wheel: Path) -> Iterator[FileServer]:
    """Another host (another port of 127.0.0.1), holding the wheel at its root."""
    directory = tmp_path / "other"
    directory.mkdir()
    (directory / WHEEL).write_bytes(wheel.read_bytes())
    with FileServer(directory) as server:
        yield server


# -- helpers -------------------------------------------------------------------------------


def fetch(
    tmp_path: Path,
    index_url: Optional[str],
    sha256: str,
    env: Mapping[str, str] = ENV,
    *,
    extra_index_urls: tuple[str, ...] = (),
) -> Optional[Path]:
    settings = IndexSettings(index_url=index_url, extra_index_urls=extra_index_urls)
    return fetch_pinned(PROJECT, [sha256], tmp_path / "wheels", settings, env)


def paths(server: local_index.IndexServer) -> list[tuple[str, int]]:
    """The local index's request log as (path, status)."""
    return [(path, status) for _method, path, status in server.requests]


def basic(user: str = USER, password: str = PASSWORD) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def with_credentials(server: FileServer, path: str = "simple/") -> str:
    userinfo = f"{USER}:{urllib.parse.quote(PASSWORD, safe='')}"
    return server.url(path).replace("://", f"://{userinfo}@", 1)


def json_page(*files: Mapping[str, object]) -> tuple[str, bytes]:
    document = {"meta": {"api-version": "1.1"}, "name": PROJECT, "files": list(files)}
    return JSON_TYPE, json.dumps(document).encode()


def html_page(*anchors: str) -> tuple[str, bytes]:
    body = "\n".join(f"    {anchor}<br>" for anchor in anchors)
    return "text/html", f"<!DOCTYPE html>\n<html><body>\n{body}\n</body></html>\n".encode()


def authorizations(server: FileServer) -> list[tuple[str, Optional[str]]]:
    return [(path, headers.get("authorization")) for path, headers in server.headers]


def listing(tmp_path: Path) -> list[str]:
    directory = tmp_path / "wheels"
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


# -- parse_project_page ----------------------------------------------------------------------


PAGE = "https://index.example/simple/demo-tool/"


def test_parse_json_page() -> None:
    body = json.dumps(
        {
            "meta": {"api-version": "1.1"},
            "name": PROJECT,
            "files": [
                {
                    "filename": WHEEL,
                    "url": "../../files/demo_tool-1.0-py3-none-any.whl",
                    "hashes": {"sha256": "ABC123", "md5": "x"},
                },
                {
                    "filename": "demo_tool-1.1.tar.gz",
                    "url": "https://files.example/p/demo_tool-1.1.tar.gz#sha256=DEF456",
                    "hashes": {},
                },
                {
                    "filename": "demo_tool-0.9.tar.gz",
                    "url": "/pool/demo_tool-0.9.tar.gz",
                    "hashes": {"blake2b": "0"},
                },
                {  # the hashes key wins over a fragment
                    "filename": "demo_tool-0.8.tar.gz",
                    "url": "demo_tool-0.8.tar.gz#sha256=fragment",
                    "hashes": {"sha256": "listed"},
                },
            ],
        }
    ).encode()
    assert parse_project_page(body, f"{JSON_TYPE}; charset=utf-8", PAGE) == [
        IndexFile(WHEEL, "https://index.example/files/demo_tool-1.0-py3-none-any.whl", "abc123"),
        IndexFile("demo_tool-1.1.tar.gz", "https://files.example/p/demo_tool-1.1.tar.gz", "def456"),
        IndexFile("demo_tool-0.9.tar.gz", "https://index.example/pool/demo_tool-0.9.tar.gz", None),
        IndexFile(
            "demo_tool-0.8.tar.gz",
            "https://index.example/simple/demo-tool/demo_tool-0.8.tar.gz",
            "listed",
        ),
    ]


def test_parse_html_page() -> None:
    body = b"""<!DOCTYPE html>
<html><head><meta name="pypi:repository-version" content="1.0"><title>Links</title></head>
<body><h1>Links for demo-tool</h1>
<a href="../../files/demo_tool-1.0-py3-none-any.whl#sha256=ABC123"
   data-requires-python="&gt;=3.9">demo_tool-1.0-py3-none-any.whl</a><br>
<a href="https://files.example/p/demo_tool-1.1.tar.gz?x=1&amp;y=2#sha256=def">
  demo_tool-1.1.tar.gz </a><br>
<a href="/pool/demo_tool%2B-0.9.tar.gz#md5=0"></a>
<a name="no-href">not a file</a>
</body></html>"""
    assert parse_project_page(body, "text/html; charset=utf-8", PAGE) == [
        IndexFile(WHEEL, "https://index.example/files/demo_tool-1.0-py3-none-any.whl", "abc123"),
        IndexFile(
            "demo_tool-1.1.tar.gz", "https://files.example/p/demo_tool-1.1.tar.gz?x=1&y=2", "def"
        ),
        # No text: the file name is the URL's last segment.
        IndexFile(
            "demo_tool+-0.9.tar.gz", "https://index.example/pool/demo_tool%2B-0.9.tar.gz", None
        ),
    ]


def test_parse_html_page_with_base() -> None:
    """pip resolves the links of a page against its ``<base href>``, as browsers do."""
    body = b"""<html><head><base href="https://mirror.example/packages/"></head><body>
<a href="demo_tool-1.0-py3-none-any.whl#sha256=abc">demo_tool-1.0-py3-none-any.whl</a>
</body></html>"""
    assert parse_project_page(body, "text/html", PAGE) == [
        IndexFile(WHEEL, "https://mirror.example/packages/demo_tool-1.0-py3-none-any.whl", "abc")
    ]


def test_parse_media_types_case_insensitively() -> None:
    body = json.dumps({"files": [{"filename": WHEEL, "url": WHEEL, "hashes": {}}]}).encode()
    files = parse_project_page(body, "Application/VND.pypi.simple.v1+JSON", PAGE)
    assert files == [IndexFile(WHEEL, PAGE + WHEEL, None)]


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"files": {}}',
        b'{"files": [42]}',
        b'{"files": [{"filename": "x.whl"}]}',
        b'{"files": [{"filename": "x.whl", "url": 1}]}',
        b'{"files": [{"filename": "x.whl", "url": "x.whl", "hashes": ["sha256"]}]}',
        b'{"files": [{"filename": "x.whl", "url": "x.whl", "hashes": {"sha256": 1}}]}',
        b'{"files": [{"filename": null, "url": "x.whl"}]}',
    ],
)
def test_malformed_json_pages_are_value_errors(body: bytes) -> None:
    """fetch_pinned turns a ValueError into None (pip then reports the real problem)."""
    with pytest.raises(ValueError):
        parse_project_page(body, JSON_TYPE, PAGE)


# -- fetching from the local index ---------------------------------------------------------


def test_pinned_file_from_json_page(
    index: local_index.IndexServer, tmp_path: Path, wheel: Path, sha: str
) -> None:
    fetched = fetch(tmp_path, index.url, sha)
    assert fetched == tmp_path / "wheels" / WHEEL
    assert fetched.read_bytes() == wheel.read_bytes()
    assert paths(index) == [(f"/simple/{PROJECT}/", 200), (f"/files/{WHEEL}", 200)]


def test_sha256s_are_compared_case_insensitively(
    index: local_index.IndexServer, tmp_path: Path, sha: str
) -> None:
    assert fetch_pinned(
        PROJECT, ["0" * 64, sha.upper()], tmp_path / "w", IndexSettings(index.url), ENV
    ) == (tmp_path / "w" / WHEEL)


def test_project_name_is_normalized(
    index: local_index.IndexServer, tmp_path: Path, sha: str
) -> None:
    """The page of ``Demo_Tool`` is ``/simple/demo-tool/`` (no redirect needed)."""
    fetched = fetch_pinned("Demo_Tool", [sha], tmp_path, IndexSettings(index.url), ENV)
    assert fetched == tmp_path / WHEEL
    assert paths(index)[0] == (f"/simple/{PROJECT}/", 200)


@pytest.mark.parametrize("url_form", ["{base}/simple", "{base}/simple/", "{base}/simple//"])
def test_index_url_with_or_without_slash(
    index: local_index.IndexServer, tmp_path: Path, sha: str, url_form: str
) -> None:
    assert fetch(tmp_path, url_form.format(base=index.base_url), sha) is not None
    assert paths(index)[0] == (f"/simple/{PROJECT}/", 200)


def test_pinned_file_from_html_page(
    static: FileServer, tmp_path: Path, wheel: Path, sha: str
) -> None:
    """A PEP 503 page written by hand: relative and absolute links, hash fragments."""
    (tmp_path / "static" / "packages").mkdir()
    (tmp_path / "static" / "packages" / WHEEL).write_bytes(wheel.read_bytes())
    static.pages[f"/simple/{PROJECT}/"] = html_page(
        '<a href="../../packages/demo_tool-0.1-py3-none-any.whl#sha256=' + "1" * 64 + '">'
        "demo_tool-0.1-py3-none-any.whl</a>",
        f'<a href="{static.url("packages/" + WHEEL)}#sha256={sha.upper()}">{WHEEL}</a>',
    )
    fetched = fetch(tmp_path, static.url("simple/"), sha)
    assert fetched is not None
    assert fetched.read_bytes() == wheel.read_bytes()
    assert static.requests == [(f"/simple/{PROJECT}/", 200), (f"/packages/{WHEEL}", 200)]
    page_headers = static.headers[0][1]
    assert page_headers["accept"].startswith(JSON_TYPE)


def test_html_page_with_a_relative_link(
    static: FileServer, tmp_path: Path, wheel: Path, sha: str
) -> None:
    (tmp_path / "static" / "simple" / PROJECT).mkdir(parents=True)
    (tmp_path / "static" / "simple" / PROJECT / WHEEL).write_bytes(wheel.read_bytes())
    (tmp_path / "static" / "simple" / PROJECT / "index.html").write_text(
        f'<html><body><a href="{WHEEL}#sha256={sha}">{WHEEL}</a></body></html>'
    )
    assert fetch(tmp_path, static.url("simple"), sha) == tmp_path / "wheels" / WHEEL
    assert static.requests == [(f"/simple/{PROJECT}/", 200), (f"/simple/{PROJECT}/{WHEEL}", 200)]


def test_pinned_file_from_hand_written_json_page(
    static: FileServer, tmp_path: Path, wheel: Path, sha: str
) -> None:
    (tmp_path / "static" / WHEEL).write_bytes(wheel.read_bytes())
    static.pages[f"/simple/{PROJECT}/"] = json_page(
        {"filename": WHEEL, "url": f"/{WHEEL}", "hashes": {"sha256": sha}}
    )
    assert fetch(tmp_path, static.url("simple/"), sha) == tmp_path / "wheels" / WHEEL


def test_not_on_the_primary_index_but_on_an_extra_one(
    tmp_path: Path, wheel: Path, sha: str, index: local_index.IndexServer
) -> None:
    empty = tmp_path / "empty"
    (empty / "files").mkdir(parents=True)
    with local_index.serve(empty) as primary:
        fetched = fetch(tmp_path, primary.url, sha, extra_index_urls=(index.url,))
        assert paths(primary) == [(f"/simple/{PROJECT}/", 404)]
    assert fetched is not None
    assert fetched.read_bytes() == wheel.read_bytes()
    assert paths(index) == [(f"/simple/{PROJECT}/", 200), (f"/files/{WHEEL}", 200)]


def test_primary_lists_the_project_but_not_the_pinned_file(
    tmp_path: Path, sha: str, index: local_index.IndexServer
) -> None:
    mirror = tmp_path / "mirror"
    make_wheel(mirror / "files", PROJECT, "0.9")
    with local_index.serve(mirror) as primary:
        fetched = fetch(tmp_path, primary.url, sha, extra_index_urls=(index.url,))
        assert paths(primary) == [(f"/simple/{PROJECT}/", 200)]
    assert fetched == tmp_path / "wheels" / WHEEL


def test_no_file_with_the_pinned_hash(index: local_index.IndexServer, tmp_path: Path) -> None:
    assert fetch(tmp_path, index.url, "ab" * 32) is None
    assert paths(index) == [(f"/simple/{PROJECT}/", 200)]
    assert listing(tmp_path) == []


def test_no_hashes_no_fetch(index: local_index.IndexServer, tmp_path: Path) -> None:
    settings = IndexSettings(index_url=index.url)
    assert fetch_pinned(PROJECT, [], tmp_path, settings, ENV) is None
    assert index.requests == []


def test_file_whose_bytes_do_not_match_the_listed_hash(
    static: FileServer, tmp_path: Path, sha: str
) -> None:
    (tmp_path / "static" / WHEEL).write_bytes(b"tampered")
    static.pages[f"/simple/{PROJECT}/"] = json_page(
        {"filename": WHEEL, "url": f"/{WHEEL}", "hashes": {"sha256": sha}}
    )
    assert fetch(tmp_path, static.url("simple/"), sha) is None
    assert static.requests == [(f"/simple/{PROJECT}/", 200), (f"/{WHEEL}", 200)]
    assert listing(tmp_path) == []


def test_listed_file_missing(static: FileServer, tmp_path: Path, sha: str) -> None:
    static.pages[f"/simple/{PROJECT}/"] = html_page(f'<a href="/{WHEEL}#sha256={sha}">{WHEEL}</a>')
    assert fetch(tmp_path, static.url("simple/"), sha) is None
    assert listing(tmp_path) == []


@pytest.mark.parametrize("name", ["..", ".", "", "sub/demo.whl", "..\\demo.whl"])
def test_unsafe_file_names_are_skipped(
    static: FileServer, tmp_path: Path, sha: str, name: str
) -> None:
    static.pages[f"/simple/{PROJECT}/"] = json_page(
        {"filename": name, "url": f"/{WHEEL}", "hashes": {"sha256": sha}}
    )
    assert fetch(tmp_path / "deep" / "er", static.url("simple/"), sha) is None
    assert static.requests == [(f"/simple/{PROJECT}/", 200)]


@pytest.mark.parametrize(
    "page",
    [
        (JSON_TYPE, b"{not json"),
        (JSON_TYPE, b"[1, 2]"),
        (JSON_TYPE, b'{"files": [{"filename": "x"}]}'),
        (JSON_TYPE, b'{"files": [{"filename": "x", "url": "x", "hashes": ["sha256"]}]}'),
    ],
)
def test_malformed_pages_give_none(
    static: FileServer, tmp_path: Path, sha: str, page: tuple[str, bytes]
) -> None:
    static.pages[f"/simple/{PROJECT}/"] = page
    assert fetch(tmp_path, static.url("simple/"), sha) is None


def test_server_error_gives_none(static: FileServer, tmp_path: Path, sha: str) -> None:
    static.faults[f"/simple/{PROJECT}/"] = Fault(statuses=[503])
    assert fetch(tmp_path, static.url("simple/"), sha) is None
    assert static.requests == [(f"/simple/{PROJECT}/", 503)]


def test_unreachable_index_gives_none(tmp_path: Path, sha: str) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert fetch(tmp_path, f"http://127.0.0.1:{port}/simple/", sha) is None


def test_index_that_does_not_speak_http_gives_none(tmp_path: Path, sha: str) -> None:
    """http.client's errors (BadStatusLine here) are not OSErrors."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]

        def answer() -> None:
            connection, _ = listener.accept()
            with connection:
                connection.recv(65536)
                connection.sendall(b"garbage\r\n\r\n")

        thread = threading.Thread(target=answer, daemon=True)
        thread.start()
        assert fetch(tmp_path, f"http://127.0.0.1:{port}/simple/", sha) is None
        thread.join(timeout=5)


# -- credentials -----------------------------------------------------------------------------


def test_basic_auth_from_the_url(
    private_index: local_index.IndexServer, tmp_path: Path, wheel: Path, sha: str
) -> None:
    fetched = fetch(tmp_path, private_index.url_with_credentials(USER, PASSWORD), sha)
    assert fetched is not None
    assert fetched.read_bytes() == wheel.read_bytes()
    assert paths(private_index) == [(f"/simple/{PROJECT}/", 200), (f"/files/{WHEEL}", 200)]


def test_auth_is_required(private_index: local_index.IndexServer, tmp_path: Path, sha: str) -> None:
    assert fetch(tmp_path, private_index.url, sha) is None
    assert paths(private_index) == [(f"/simple/{PROJECT}/", 401)]


def test_wrong_credentials(
    private_index: local_index.IndexServer, tmp_path: Path, sha: str
) -> None:
    assert fetch(tmp_path, private_index.url_with_credentials(USER, "wrong"), sha) is None
    assert paths(private_index) == [(f"/simple/{PROJECT}/", 401)]
    assert listing(tmp_path) == []


def write_netrc(path: Path, machine: str, user: str = USER, password: str = PASSWORD) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'machine {machine}\n  login {user}\n  password "{password}"\n')
    path.chmod(0o600)
    return path


def test_basic_auth_from_netrc(
    private_index: local_index.IndexServer, tmp_path: Path, sha: str
) -> None:
    netrc = write_netrc(tmp_path / "binding" / ".netrc", "127.0.0.1")
    fetched = fetch(tmp_path, private_index.url, sha, {**ENV, "NETRC": str(netrc)})
    assert fetched == tmp_path / "wheels" / WHEEL
    assert paths(private_index) == [(f"/simple/{PROJECT}/", 200), (f"/files/{WHEEL}", 200)]


def test_basic_auth_from_home_netrc(
    private_index: local_index.IndexServer, tmp_path: Path, sha: str
) -> None:
    write_netrc(tmp_path / "home" / ".netrc", "127.0.0.1")
    env = {**ENV, "HOME": str(tmp_path / "home")}
    assert fetch(tmp_path, private_index.url, sha, env) == tmp_path / "wheels" / WHEEL


def test_netrc_default_entry(
    private_index: local_index.IndexServer, tmp_path: Path, sha: str
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text(
        f"machine elsewhere.example login x password y\ndefault login {USER} "
        f'password "{PASSWORD}"\n'
    )
    assert fetch(tmp_path, private_index.url, sha, {**ENV, "NETRC": str(netrc)}) is not None


def test_netrc_for_another_host_only(
    private_index: local_index.IndexServer, tmp_path: Path, sha: str
) -> None:
    netrc = write_netrc(tmp_path / "netrc", "index.example")
    assert fetch(tmp_path, private_index.url, sha, {**ENV, "NETRC": str(netrc)}) is None
    assert paths(private_index) == [(f"/simple/{PROJECT}/", 401)]


def test_netrc_with_wrong_password(
    private_index: local_index.IndexServer, tmp_path: Path, sha: str
) -> None:
    netrc = write_netrc(tmp_path / "netrc", "127.0.0.1", password="wrong")
    assert fetch(tmp_path, private_index.url, sha, {**ENV, "NETRC": str(netrc)}) is None


@pytest.mark.parametrize("content", ["machine 127.0.0.1 login", '\x00garbage "unclosed'])
def test_unreadable_netrc_means_no_credentials(
    index: local_index.IndexServer, tmp_path: Path, sha: str, content: str
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text(content)
    assert fetch(tmp_path, index.url, sha, {**ENV, "NETRC": str(netrc)}) is not None


def test_user_in_the_url_password_from_netrc(
    private_index: local_index.IndexServer, tmp_path: Path, sha: str
) -> None:
    """``https://user@host/``: pip takes the password from netrc, and so do we."""
    netrc = write_netrc(tmp_path / "netrc", "127.0.0.1")
    url = private_index.url.replace("://", f"://{USER}@")
    assert fetch(tmp_path, url, sha, {**ENV, "NETRC": str(netrc)}) is not None
    assert fetch(tmp_path / "without", url, sha) is None  # no netrc: an empty password


def test_credentials_in_the_url_win_over_netrc(
    private_index: local_index.IndexServer, tmp_path: Path, sha: str
) -> None:
    netrc = write_netrc(tmp_path / "netrc", "127.0.0.1", password="wrong")
    url = private_index.url_with_credentials(USER, PASSWORD)
    assert fetch(tmp_path, url, sha, {**ENV, "NETRC": str(netrc)}) is not None


def test_credentials_are_not_sent_to_the_files_host(
    static: FileServer, other: FileServer, tmp_path: Path, wheel: Path, sha: str
) -> None:
    """Files on another host (here another port) get no Authorization, as with pip."""
    static.pages[f"/simple/{PROJECT}/"] = json_page(
        {"filename": WHEEL, "url": other.url(WHEEL), "hashes": {"sha256": sha}}
    )
    fetched = fetch(tmp_path, with_credentials(static), sha)
    assert fetched is not None
    assert fetched.read_bytes() == wheel.read_bytes()
    assert authorizations(static) == [(f"/simple/{PROJECT}/", basic())]
    assert authorizations(other) == [(f"/{WHEEL}", None)]


def test_netrc_credentials_are_not_sent_to_the_files_host(
    static: FileServer, other: FileServer, tmp_path: Path, sha: str
) -> None:
    static.pages[f"/simple/{PROJECT}/"] = html_page(
        f'<a href="{other.url(WHEEL)}#sha256={sha}">{WHEEL}</a>'
    )
    netrc = write_netrc(tmp_path / "netrc", "127.0.0.1")
    assert fetch(tmp_path, static.url("simple/"), sha, {**ENV, "NETRC": str(netrc)}) is not None
    assert authorizations(static) == [(f"/simple/{PROJECT}/", basic())]
    assert authorizations(other) == [(f"/{WHEEL}", None)]


def test_credentials_are_sent_for_files_on_the_index_host(
    static: FileServer, tmp_path: Path, sha: str, wheel: Path
) -> None:
    (tmp_path / "static" / WHEEL).write_bytes(wheel.read_bytes())
    static.pages[f"/simple/{PROJECT}/"] = json_page(
        {"filename": WHEEL, "url": f"../../{WHEEL}", "hashes": {"sha256": sha}}
    )
    assert fetch(tmp_path, with_credentials(static), sha) is not None
    assert authorizations(static) == [(f"/simple/{PROJECT}/", basic()), (f"/{WHEEL}", basic())]


def test_credentials_do_not_follow_a_redirect_to_another_host(
    static: FileServer, other: FileServer, tmp_path: Path, wheel: Path, sha: str
) -> None:
    """A file on the index host that redirects to a CDN (Artifactory, GitLab, S3 URLs)."""
    static.pages[f"/simple/{PROJECT}/"] = json_page(
        {"filename": WHEEL, "url": f"/files/{WHEEL}", "hashes": {"sha256": sha}}
    )
    static.faults[f"/files/{WHEEL}"] = Fault(redirect_to=other.url(WHEEL))
    fetched = fetch(tmp_path, with_credentials(static), sha)
    assert fetched is not None
    assert fetched.read_bytes() == wheel.read_bytes()
    assert authorizations(static) == [
        (f"/simple/{PROJECT}/", basic()),
        (f"/files/{WHEEL}", basic()),
    ]
    assert authorizations(other) == [(f"/{WHEEL}", None)]


def test_credentials_do_not_follow_a_page_redirect_to_another_host(
    static: FileServer, other: FileServer, tmp_path: Path, sha: str
) -> None:
    static.faults[f"/simple/{PROJECT}/"] = Fault(redirect_to=other.url(f"simple/{PROJECT}/"))
    other.pages[f"/simple/{PROJECT}/"] = html_page(
        f'<a href="../../{WHEEL}#sha256={sha}">{WHEEL}</a>'
    )
    assert fetch(tmp_path, with_credentials(static), sha) == tmp_path / "wheels" / WHEEL
    assert authorizations(static) == [(f"/simple/{PROJECT}/", basic())]
    assert authorizations(other) == [(f"/simple/{PROJECT}/", None), (f"/{WHEEL}", None)]


def test_credentials_follow_a_redirect_on_the_same_host(
    static: FileServer, tmp_path: Path, wheel: Path, sha: str
) -> None:
    (tmp_path / "static" / "pool").mkdir()
    (tmp_path / "static" / "pool" / WHEEL).write_bytes(wheel.read_bytes())
    static.pages[f"/simple/{PROJECT}/"] = json_page(
        {"filename": WHEEL, "url": f"/files/{WHEEL}", "hashes": {"sha256": sha}}
    )
    static.faults[f"/files/{WHEEL}"] = Fault(redirect_to=static.url(f"pool/{WHEEL}"))
    assert fetch(tmp_path, with_credentials(static), sha) is not None
    assert authorizations(static) == [
        (f"/simple/{PROJECT}/", basic()),
        (f"/files/{WHEEL}", basic()),
        (f"/pool/{WHEEL}", basic()),
    ]


# -- settings only pip knows -------------------------------------------------------------------


@pytest.mark.parametrize(
    "settings",
    [
        IndexSettings(no_index=True),
        IndexSettings(find_links=("/workspace/vendor",)),
        IndexSettings(trusted_hosts=("127.0.0.1",)),
        IndexSettings(pip_conf=Path("/platform/bindings/pip/pip.conf")),
    ],
    ids=["no_index", "find_links", "trusted_hosts", "pip_conf"],
)
def test_unsupported_settings_make_no_request(
    index: local_index.IndexServer, tmp_path: Path, sha: str, settings: IndexSettings
) -> None:
    settings = dataclasses.replace(settings, index_url=index.url)
    assert fetch_pinned(PROJECT, [sha], tmp_path, settings, ENV) is None
    assert index.requests == []


@pytest.mark.parametrize("name", PROXY_VARIABLES)
def test_proxy_in_the_build_env(
    index: local_index.IndexServer, tmp_path: Path, sha: str, name: str
) -> None:
    assert fetch(tmp_path, index.url, sha, {**ENV, name: "http://127.0.0.1:9"}) is None
    assert index.requests == []


@pytest.mark.parametrize("name", PROXY_VARIABLES)
def test_proxy_in_this_process_env(
    index: local_index.IndexServer,
    tmp_path: Path,
    sha: str,
    name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(name, "http://127.0.0.1:9")
    assert fetch(tmp_path, index.url, sha) is None
    assert index.requests == []


@pytest.mark.parametrize(
    "variables",
    [
        {"PIP_PROXY": "http://127.0.0.1:9"},
        {"PIP_CONFIG_FILE": "/workspace/pip.conf"},
        {"PIP_CLIENT_CERT": "/workspace/client.pem"},
    ],
    ids=["PIP_PROXY", "PIP_CONFIG_FILE", "PIP_CLIENT_CERT"],
)
def test_pip_settings_only_pip_applies(
    index: local_index.IndexServer, tmp_path: Path, sha: str, variables: dict[str, str]
) -> None:
    assert fetch(tmp_path, index.url, sha, {**ENV, **variables}) is None
    assert index.requests == []


def test_empty_proxy_variables_are_ignored(
    index: local_index.IndexServer, tmp_path: Path, sha: str
) -> None:
    env = {**ENV, "https_proxy": "", "PIP_PROXY": "", "PIP_CONFIG_FILE": os.devnull}
    assert fetch(tmp_path, index.url, sha, env) is not None


# -- TLS ---------------------------------------------------------------------------------------


@pytest.fixture
def tls_index(root: Path, certificates: tls.TestCertificates) -> Iterator[local_index.IndexServer]:
    with local_index.serve(root, tls=certificates.server_context()) as server:
        yield server


@pytest.mark.parametrize("variable", ["SSL_CERT_FILE", "PIP_CERT", "REQUESTS_CA_BUNDLE"])
def test_tls_with_the_private_ca(
    tls_index: local_index.IndexServer,
    certificates: tls.TestCertificates,
    tmp_path: Path,
    wheel: Path,
    sha: str,
    variable: str,
) -> None:
    assert tls_index.url.startswith("https://")
    fetched = fetch(tmp_path, tls_index.url, sha, {**ENV, variable: str(certificates.ca)})
    assert fetched is not None
    assert fetched.read_bytes() == wheel.read_bytes()
    assert paths(tls_index) == [(f"/simple/{PROJECT}/", 200), (f"/files/{WHEEL}", 200)]


def test_tls_without_the_private_ca(
    tls_index: local_index.IndexServer, tmp_path: Path, sha: str
) -> None:
    assert fetch(tmp_path, tls_index.url, sha) is None
    assert tls_index.requests == []


def test_tls_with_credentials_and_the_private_ca(
    root: Path, certificates: tls.TestCertificates, tmp_path: Path, sha: str
) -> None:
    with local_index.serve(root, auth=(USER, PASSWORD), tls=certificates.server_context()) as idx:
        url = idx.url_with_credentials(USER, PASSWORD)
        assert fetch(tmp_path, url, sha, {**ENV, "SSL_CERT_FILE": str(certificates.ca)})
        assert paths(idx) == [(f"/simple/{PROJECT}/", 200), (f"/files/{WHEEL}", 200)]


@pytest.mark.parametrize("bundle", ["missing.pem", "garbage.pem"])
def test_unusable_ca_bundle_gives_none(
    index: local_index.IndexServer, tmp_path: Path, sha: str, bundle: str
) -> None:
    """pip reports a bad bundle better than we could; the build must not crash here."""
    (tmp_path / "garbage.pem").write_text("not a certificate\n")
    env = {**ENV, "SSL_CERT_FILE": str(tmp_path / bundle)}
    assert fetch(tmp_path, index.url, sha, env) is None


# -- listing a project's versions ----------------------------------------------------------


def test_project_versions_from_every_index(root: Path, tmp_path: Path) -> None:
    make_wheel(root / "files", PROJECT, "1.2")
    (root / "files" / f"{PROJECT.replace('-', '_')}-0.9.tar.gz").write_bytes(b"")
    other = tmp_path / "other"
    make_wheel(other / "files", PROJECT, "2.0rc1")
    with local_index.serve(root) as first, local_index.serve(other) as second:
        settings = IndexSettings(index_url=first.url, extra_index_urls=(second.url,))
        assert project_versions(PROJECT, settings, ENV) == ["0.9", "1.0", "1.2", "2.0rc1"]
        # a pure-Python wheel is no Linux wheel for a machine, nor is an sdist
        assert project_versions(PROJECT, settings, ENV, "x86_64") == []
        assert project_versions("not-there", settings, ENV) == []


def test_project_versions_for_a_machine(static: FileServer) -> None:
    files = [
        "uv-0.13.7-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "uv-0.13.8-py3-none-manylinux_2_28_aarch64.whl",
        "uv-0.13.9-py3-none-musllinux_1_1_x86_64.whl",
        "uv-0.14.0-py3-none-macosx_11_0_arm64.whl",
        "uv-0.14.1.tar.gz",
        "not a file name",
    ]
    static.pages["/simple/uv/"] = json_page(
        *({"filename": name, "url": f"/files/{name}", "hashes": {}} for name in files)
    )
    settings = IndexSettings(index_url=static.url("simple/"))
    assert project_versions("uv", settings, ENV, "x86_64") == ["0.13.7", "0.13.9"]
    assert project_versions("uv", settings, ENV, "aarch64") == ["0.13.8"]


def test_project_versions_are_not_listed_here_for_unsupported_settings(root: Path) -> None:
    assert project_versions(PROJECT, IndexSettings(find_links=("/workspace/vendor",)), ENV) is None
