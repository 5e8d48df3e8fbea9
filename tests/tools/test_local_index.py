"""Tests for tools.local_index, the package index on 127.0.0.1 the integration tests install from.

The server is checked against hand-made wheels and an sdist, then with real pip. ``fill`` is
checked with the subprocess seam replaced; one ``integration`` test fills from PyPI for real.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import io
import json
import os
import socket
import subprocess
import sys
import tarfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Iterator, Mapping, Optional, Sequence

import pytest
from tests.support.contexts import pyenv_root
from tests.support.wheels import core_metadata, make_wheel

from tools import local_index

JSON_TYPE = "application/vnd.pypi.simple.v1+json"


# -- fixtures: a tiny repository ------------------------------------------------------------


def make_sdist(
    directory: Path,
    name: str,
    version: str,
    *,
    requires_python: str = ">=3.8",
    pyproject: Optional[bytes] = b"[build-system]\nrequires = []\n",
) -> Path:
    """An sdist ``.tar.gz`` with a PKG-INFO (not buildable; only listed)."""
    stem = f"{name.replace('-', '_')}-{version}"
    path = directory / f"{stem}.tar.gz"
    members = {f"{stem}/PKG-INFO": core_metadata(name, version, requires_python)}
    if pyproject is not None:
        members[f"{stem}/pyproject.toml"] = pyproject
    with tarfile.open(path, "w:gz") as archive:
        for member, data in members.items():
            info = tarfile.TarInfo(member)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """An index root: demo-pkg 1.0 (needs demo-dep), demo-dep 2.0, demo-sdist 0.5, junk."""
    index = tmp_path / "index"
    files = index / "files"
    files.mkdir(parents=True)
    make_wheel(files, "demo-pkg", "1.0", requires=["demo-dep>=2"])
    make_wheel(files, "demo-dep", "2.0", requires_python=">=3.8")
    make_sdist(files, "demo-sdist", "0.5", requires_python=">=3.8,<4")
    (files / "README.txt").write_text("not a distribution\n")
    (files / "broken-.whl").write_bytes(b"no")
    return index


@pytest.fixture
def server(root: Path) -> Iterator[local_index.IndexServer]:
    """The ``root`` repository, served without auth."""
    with local_index.serve(root) as index:
        yield index


# -- helpers -------------------------------------------------------------------------------


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def get(
    url: str, *, accept: Optional[str] = None, auth: Optional[tuple[str, str]] = None
) -> tuple[int, Mapping[str, str], bytes]:
    """GET (following redirects) → (status, headers, body); HTTP errors are returned too."""
    request = urllib.request.Request(url)
    if accept is not None:
        request.add_header("Accept", accept)
    if auth is not None:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with _OPENER.open(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), error.read()


def raw_request(index: local_index.IndexServer, method: str, path: str) -> http.client.HTTPResponse:
    """One request without redirect handling; the response body is read already."""
    connection = http.client.HTTPConnection("127.0.0.1", index.port, timeout=10)
    connection.request(method, path)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[dict[str, Optional[str]], str]] = []
        self._current: Optional[dict[str, Optional[str]]] = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, Optional[str]]]) -> None:
        if tag == "a":
            self._current = dict(attrs)

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self.links.append((self._current, data))
            self._current = None


def links(page: bytes) -> dict[str, dict[str, Optional[str]]]:
    """Anchor text → unescaped attributes."""
    parser = _Links()
    parser.feed(page.decode())
    return {text: attributes for attributes, text in parser.links}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pip_env() -> dict[str, str]:
    """This environment without the machine's pip configuration."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(
        PIP_CONFIG_FILE=os.devnull,
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_NO_INPUT="1",
        NO_PROXY="127.0.0.1,localhost",
    )
    return env


def make_venv(directory: Path) -> Path:
    """A fresh venv made with the dev interpreter; its python."""
    subprocess.run([sys.executable, "-m", "venv", str(directory)], check=True, env=pip_env())
    return directory / "bin" / "python"


def pip_install(python: Path, index_url: str, *packages: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(python), "-m", "pip", "install", "--no-cache-dir", "--no-input",
            "--index-url", index_url, *packages,
        ],
        env=pip_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )  # fmt: skip


def installed(python: Path) -> dict[str, str]:
    output = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=json"],
        env=pip_env(),
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return {entry["name"]: entry["version"] for entry in json.loads(output)}


# -- serve: the simple API -----------------------------------------------------------------


def test_urls_and_port(server: local_index.IndexServer) -> None:
    assert server.port > 0
    assert server.base_url == f"http://127.0.0.1:{server.port}"
    assert server.url == f"{server.base_url}/simple/"
    assert server.authenticated_url == server.url


def test_project_list_html(server: local_index.IndexServer) -> None:
    status, headers, body = get(server.url)
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    found = links(body)
    assert set(found) == {"demo-dep", "demo-pkg", "demo-sdist"}
    assert found["demo-pkg"]["href"] == "demo-pkg/"
    assert ("GET", "/simple/", 200) in server.requests


def test_project_list_json(server: local_index.IndexServer) -> None:
    status, headers, body = get(server.url, accept=JSON_TYPE)
    assert status == 200
    assert headers["Content-Type"] == JSON_TYPE
    document = json.loads(body)
    assert document["meta"]["api-version"] == "1.1"
    assert [p["name"] for p in document["projects"]] == ["demo-dep", "demo-pkg", "demo-sdist"]


def test_project_page_html(server: local_index.IndexServer, root: Path) -> None:
    status, _, body = get(server.url + "demo-pkg/")
    assert status == 200
    found = links(body)
    assert list(found) == ["demo_pkg-1.0-py3-none-any.whl"]
    attributes = found["demo_pkg-1.0-py3-none-any.whl"]
    wheel = root / "files" / "demo_pkg-1.0-py3-none-any.whl"
    digest = sha256(wheel.read_bytes())
    assert attributes["href"] == f"../../files/{wheel.name}#sha256={digest}"
    assert attributes["data-requires-python"] == ">=3.9"
    assert b'data-requires-python="&gt;=3.9"' in body
    with zipfile.ZipFile(wheel) as archive:
        metadata = archive.read("demo_pkg-1.0.dist-info/METADATA")
    assert attributes["data-dist-info-metadata"] == f"sha256={sha256(metadata)}"
    assert attributes["data-core-metadata"] == f"sha256={sha256(metadata)}"

    # The href resolves against the page URL to the file itself.
    file_url = urllib.parse.urljoin(server.url + "demo-pkg/", attributes["href"])
    status, headers, data = get(file_url)
    assert status == 200
    assert headers["Content-Length"] == str(wheel.stat().st_size)
    assert sha256(data) == digest


def test_sdist_listing(server: local_index.IndexServer, root: Path) -> None:
    _, _, body = get(server.url + "demo-sdist/")
    attributes = links(body)["demo_sdist-0.5.tar.gz"]
    assert attributes["data-requires-python"] == ">=3.8,<4"
    assert b'data-requires-python="&gt;=3.8,&lt;4"' in body
    assert "data-core-metadata" not in attributes
    assert "data-dist-info-metadata" not in attributes
    sdist = root / "files" / "demo_sdist-0.5.tar.gz"
    assert attributes["href"] == f"../../files/{sdist.name}#sha256={sha256(sdist.read_bytes())}"


def test_project_page_json(server: local_index.IndexServer, root: Path) -> None:
    accept = f"{JSON_TYPE}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"
    status, headers, body = get(server.url + "demo-pkg/", accept=accept)
    assert status == 200
    assert headers["Content-Type"] == JSON_TYPE
    document = json.loads(body)
    wheel = root / "files" / "demo_pkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        metadata = archive.read("demo_pkg-1.0.dist-info/METADATA")
    assert document["meta"] == {"api-version": "1.1"}
    assert document["name"] == "demo-pkg"
    assert document["versions"] == ["1.0"]
    [entry] = document["files"]
    assert entry["filename"] == wheel.name
    assert entry["url"] == f"../../files/{wheel.name}"
    assert entry["hashes"] == {"sha256": sha256(wheel.read_bytes())}
    assert entry["requires-python"] == ">=3.9"
    assert entry["core-metadata"] == {"sha256": sha256(metadata)}
    assert "dist-info-metadata" not in entry  # PEP 714: pip < 23.2 crashes on it in JSON
    assert entry["size"] == wheel.stat().st_size
    assert "upload-time" not in entry  # machine-dependent (download time): kept out of locks

    _, _, sdist_body = get(server.url + "demo-sdist/", accept=JSON_TYPE)
    [sdist] = json.loads(sdist_body)["files"]
    assert "core-metadata" not in sdist
    assert sdist["requires-python"] == ">=3.8,<4"


def test_html_preferred_when_asked(server: local_index.IndexServer) -> None:
    accept = f"application/vnd.pypi.simple.v1+html, {JSON_TYPE};q=0.5"
    _, headers, body = get(server.url + "demo-pkg/", accept=accept)
    assert headers["Content-Type"] == "application/vnd.pypi.simple.v1+html"
    assert b"<a " in body
    _, headers, _ = get(server.url + "demo-pkg/", accept="*/*")
    assert headers["Content-Type"].startswith("text/html")
    _, headers, _ = get(server.url + f"demo-pkg/?format={urllib.parse.quote(JSON_TYPE)}")
    assert headers["Content-Type"] == JSON_TYPE


def test_metadata_file(server: local_index.IndexServer, root: Path) -> None:
    _, _, page = get(server.url + "demo-dep/")
    attributes = links(page)["demo_dep-2.0-py3-none-any.whl"]
    status, _, metadata = get(server.base_url + "/files/demo_dep-2.0-py3-none-any.whl.metadata")
    assert status == 200
    assert attributes["data-core-metadata"] == f"sha256={sha256(metadata)}"
    assert b"Name: demo-dep" in metadata
    status, _, _ = get(server.base_url + "/files/demo_sdist-0.5.tar.gz.metadata")
    assert status == 404


def test_pages_revalidate_with_etags_and_files_are_immutable(
    server: local_index.IndexServer, root: Path
) -> None:
    status, headers, _ = get(server.url + "demo-dep/")
    assert status == 200 and headers["Cache-Control"] == "max-age=0"
    etag = headers["ETag"]
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("GET", "/simple/demo-dep/", headers={"If-None-Match": f"W/{etag}"})
    response = connection.getresponse()
    assert (response.status, response.read()) == (304, b"")
    connection.close()
    json_headers = get(server.url + "demo-dep/", accept="application/vnd.pypi.simple.v1+json")[1]
    assert json_headers["ETag"] != etag  # a representation of its own
    make_wheel(root / "files", "demo-dep", "3.0")
    assert get(server.url + "demo-dep/")[1]["ETag"] != etag  # a changed page, a new tag
    for name in ("demo_dep-2.0-py3-none-any.whl", "demo_dep-2.0-py3-none-any.whl.metadata"):
        headers = get(f"{server.base_url}/files/{name}")[1]
        assert headers["Cache-Control"] == "max-age=365000000, immutable, public"


def test_redirects_and_not_found(server: local_index.IndexServer) -> None:
    response = raw_request(server, "GET", "/simple/Demo_Pkg/")
    assert response.status == 301
    assert response.getheader("Location") == "/simple/demo-pkg/"
    assert raw_request(server, "GET", "/simple/demo-pkg").status == 301
    assert raw_request(server, "GET", "/simple").status == 301
    assert get(server.url + "Demo.Pkg/")[0] == 200  # followed
    assert get(server.url + "no-such-project/")[0] == 404
    assert get(server.base_url + "/files/README.txt")[0] == 404
    assert raw_request(server, "GET", "/files/../index/files/README.txt").status == 404
    assert raw_request(server, "GET", "/files/%2E%2E%2Ffiles%2Fx.whl").status == 404
    assert ("GET", "/simple/Demo_Pkg/", 301) in server.requests
    assert ("GET", "/simple/no-such-project/", 404) in server.requests


def test_head(server: local_index.IndexServer, root: Path) -> None:
    response = raw_request(server, "HEAD", "/files/demo_dep-2.0-py3-none-any.whl")
    assert response.status == 200
    size = (root / "files" / "demo_dep-2.0-py3-none-any.whl").stat().st_size
    assert response.getheader("Content-Length") == str(size)


def test_new_and_changed_files_are_seen(server: local_index.IndexServer, root: Path) -> None:
    _, _, before = get(server.url + "demo-dep/")
    old = root / "files" / "demo_dep-2.0-py3-none-any.whl"
    old_hash = sha256(old.read_bytes())
    old.unlink()
    make_wheel(root / "files", "demo-dep", "2.0", requires_python=">=3.10")
    os.utime(old, ns=(1, 1))  # a different mtime, whatever the clock's resolution
    make_wheel(root / "files", "demo-dep", "3.0")
    _, _, after = get(server.url + "demo-dep/")
    found = links(after)
    assert list(found) == ["demo_dep-2.0-py3-none-any.whl", "demo_dep-3.0-py3-none-any.whl"]
    assert found["demo_dep-2.0-py3-none-any.whl"]["data-requires-python"] == ">=3.10"
    assert old_hash not in after.decode()
    assert before != after


def test_only_localhost(root: Path) -> None:
    with pytest.raises(ValueError, match=r"127\.0\.0\.1"):
        local_index.serve(root, host="0.0.0.0")
    with pytest.raises(ValueError, match=r"127\.0\.0\.1"):
        local_index.serve(root, host="localhost")


def test_fixed_port_can_be_reused(root: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    for _ in range(2):
        with local_index.serve(root, port=port) as index:
            assert index.port == port
            assert get(index.url)[0] == 200  # leaves a TIME_WAIT connection behind


# -- serve: basic auth ---------------------------------------------------------------------


def test_basic_auth_required(root: Path) -> None:
    with local_index.serve(root, auth=("alice", "s3cret")) as index:
        status, headers, _ = get(index.url)
        assert status == 401
        assert headers["WWW-Authenticate"] == 'Basic realm="python-cnb-test"'
        assert get(index.base_url + "/files/demo_dep-2.0-py3-none-any.whl")[0] == 401
        assert get(index.url, auth=("alice", "wrong"))[0] == 401
        assert get(index.url, auth=("alice", "s3cret"))[0] == 200
        assert index.requests[0] == ("GET", "/simple/", 401)
        assert index.requests[-1] == ("GET", "/simple/", 200)
        assert index.authenticated_url == f"http://alice:s3cret@127.0.0.1:{index.port}/simple/"
        assert index.url_with_credentials("a@b", "p:w/") == (
            f"http://a%40b:p%3Aw%2F@127.0.0.1:{index.port}/simple/"
        )


# -- serve: real pip -----------------------------------------------------------------------


def test_pip_installs_from_index(server: local_index.IndexServer, tmp_path: Path) -> None:
    python = make_venv(tmp_path / "venv")
    result = pip_install(python, server.url, "demo-pkg")
    assert result.returncode == 0, result.stdout + result.stderr
    packages = installed(python)
    assert packages["demo-pkg"] == "1.0"
    assert packages["demo-dep"] == "2.0"
    paths = {(method, path) for method, path, status in server.requests if status == 200}
    assert ("GET", "/simple/demo-pkg/") in paths
    assert ("GET", "/simple/demo-dep/") in paths
    assert ("GET", "/files/demo_pkg-1.0-py3-none-any.whl") in paths
    assert ("GET", "/files/demo_dep-2.0-py3-none-any.whl") in paths
    # pip >= 22.3 resolves from the PEP 658 metadata files, checking their hashes.
    assert ("GET", "/files/demo_pkg-1.0-py3-none-any.whl.metadata") in paths


OLD_PIP_PYTHON = pyenv_root() / "versions" / "3.10.13" / "bin" / "python3.10"  # bundles pip 23.0.1


@pytest.mark.skipif(
    not OLD_PIP_PYTHON.exists(), reason=f"needs pyenv's CPython 3.10.13 ({OLD_PIP_PYTHON})"
)
def test_old_pip_installs_from_index(server: local_index.IndexServer, tmp_path: Path) -> None:
    """pip 23.0 asks for JSON too, and fails hard on a PEP 658 "dist-info-metadata" key."""
    subprocess.run(
        [str(OLD_PIP_PYTHON), "-m", "venv", str(tmp_path / "venv")], check=True, env=pip_env()
    )
    python = tmp_path / "venv" / "bin" / "python"
    result = pip_install(python, server.url, "demo-pkg")
    assert result.returncode == 0, result.stdout + result.stderr
    assert installed(python)["demo-dep"] == "2.0"


def test_pip_with_basic_auth(root: Path, tmp_path: Path) -> None:
    python = make_venv(tmp_path / "venv")
    with local_index.serve(root, auth=("user", "pa ss")) as index:
        wrong = pip_install(python, index.url_with_credentials("user", "nope"), "demo-pkg")
        assert wrong.returncode != 0
        assert "demo-pkg" not in installed(python)
        assert ("GET", "/simple/demo-pkg/", 401) in index.requests
        anonymous = pip_install(python, index.url, "demo-pkg")
        assert anonymous.returncode != 0

        index.requests.clear()
        right = pip_install(python, index.authenticated_url, "demo-pkg")
        assert right.returncode == 0, right.stdout + right.stderr
        assert installed(python)["demo-dep"] == "2.0"
        assert ("GET", "/files/demo_dep-2.0-py3-none-any.whl", 200) in index.requests


# -- fill, with the subprocess seam replaced ------------------------------------------------


class FakePip:
    """Stands in for ``local_index._run``: answers probes, fakes downloads, records argv."""

    def __init__(self, pip_version: str = "24.0", fail: bool = False) -> None:
        self.pip_version = pip_version
        self.fail = fail
        self.calls: list[list[str]] = []
        self.envs: list[dict[str, str]] = []
        self.requirement_files: list[str] = []  # contents, as temporary files vanish
        self.sdists: dict[str, Path] = {}  # requirements file stem → sdist to "download"

    def __call__(
        self, argv: Sequence[str], *, env: Mapping[str, str], capture: bool = False
    ) -> str:
        argv = list(argv)
        self.calls.append(argv)
        self.envs.append(dict(env))
        if argv[1:3] == ["-I", "-c"]:
            version = Path(argv[0]).name.removeprefix("python")
            return json.dumps(
                {"version": f"{version}.0 (fake)", "machine": "x86_64", "pip": self.pip_version}
            )
        if "download" in argv:
            if self.fail:
                raise local_index.FillError("pip download failed")
            dest = Path(argv[argv.index("--dest") + 1])
            requirement = Path(argv[argv.index("--requirement") + 1])
            self.requirement_files.append(requirement.read_text())
            if requirement.stem in self.sdists:
                sdist = self.sdists[requirement.stem]
                (dest / sdist.name).write_bytes(sdist.read_bytes())
            else:
                (dest / f"{requirement.stem}-1.0-py3-none-any.whl").write_bytes(b"")
        return ""

    def downloads(self) -> list[list[str]]:
        return [argv for argv in self.calls if "download" in argv]


@pytest.fixture
def fake_pip(monkeypatch: pytest.MonkeyPatch) -> FakePip:
    fake = FakePip()
    monkeypatch.setattr(local_index, "_run", fake)
    monkeypatch.delenv("PYTHON_CNB_UPSTREAM_INDEX", raising=False)
    return fake


def _requirements(tmp_path: Path) -> list[Path]:
    first = tmp_path / "app.txt"
    first.write_text('six==1.16.0\ndjango==5.2.1; python_version >= "3.10"\n')
    second = tmp_path / "tools.txt"
    second.write_text("uv==0.13.9\n")
    return [first, second]


PYTHONS = [Path("/fake/bin/python3.11"), Path("/fake/bin/python3.12")]


def test_fill_downloads_for_each_python_and_file(fake_pip: FakePip, tmp_path: Path) -> None:
    dest = tmp_path / "index"
    requirements = _requirements(tmp_path)
    local_index.fill(requirements, dest, PYTHONS)
    downloads = fake_pip.downloads()
    assert len(downloads) == 4
    pairs = {(argv[0], argv[argv.index("--requirement") + 1]) for argv in downloads}
    assert pairs == {(str(p), str(r.resolve())) for p in PYTHONS for r in requirements}
    for argv in downloads:
        assert argv[1:4] == ["-m", "pip", "download"]
        assert argv[argv.index("--dest") + 1] == str(dest / "files")
        assert argv[argv.index("--index-url") + 1] == "https://pypi.org/simple"
        assert "--only-binary" not in argv
    assert (dest / "files" / "app-1.0-py3-none-any.whl").exists()
    assert len((dest / ".stamp").read_text().split()) == 1


def test_fill_is_isolated_from_pip_configuration(
    fake_pip: FakePip, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIP_FIND_LINKS", "/opt/wheels")
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "file:///opt/pypi/simple")
    monkeypatch.setenv("PIP_CONSTRAINT", "/etc/xdg/pip/constraints.txt")
    monkeypatch.setenv("PYTHON_CNB_UPSTREAM_INDEX", "https://mirror.example/simple")
    bundle = tmp_path / "ca.crt"
    bundle.write_text("")
    monkeypatch.setattr(local_index, "CA_BUNDLE", bundle)
    local_index.fill(_requirements(tmp_path), tmp_path / "index", PYTHONS[:1])
    [download] = fake_pip.downloads()[:1]
    assert download[download.index("--index-url") + 1] == "https://mirror.example/simple"
    assert download[download.index("--cert") + 1] == str(bundle)
    for env in fake_pip.envs:
        assert env["PIP_CONFIG_FILE"] == os.devnull
        assert "PIP_FIND_LINKS" not in env
        assert "PIP_EXTRA_INDEX_URL" not in env
        assert "PIP_CONSTRAINT" not in env
        assert env["PIP_INDEX_URL"] == "https://mirror.example/simple"

    monkeypatch.setattr(local_index, "CA_BUNDLE", tmp_path / "missing.crt")
    fake_pip.calls.clear()
    local_index.fill(_requirements(tmp_path), tmp_path / "other", PYTHONS[:1])
    assert all("--cert" not in argv for argv in fake_pip.downloads())


def test_fill_skips_when_stamped(fake_pip: FakePip, tmp_path: Path) -> None:
    dest = tmp_path / "index"
    requirements = _requirements(tmp_path)
    local_index.fill(requirements, dest, PYTHONS)
    stamp = (dest / ".stamp").read_text()
    fake_pip.calls.clear()

    local_index.fill(requirements, dest, PYTHONS)
    local_index.fill(list(reversed(requirements)), dest, list(reversed(PYTHONS)))
    assert fake_pip.downloads() == []
    assert (dest / ".stamp").read_text() == stamp

    # Other interpreters, other contents: fill again, and remember every key.
    local_index.fill(requirements, dest, PYTHONS[:1])
    assert len(fake_pip.downloads()) == 2
    requirements[1].write_text("uv==0.14.0\n")
    local_index.fill(requirements, dest, PYTHONS)
    assert len(fake_pip.downloads()) == 6
    assert len((dest / ".stamp").read_text().split()) == 3
    fake_pip.calls.clear()
    requirements[1].write_text("uv==0.13.9\n")
    local_index.fill(requirements, dest, PYTHONS[:1])
    assert fake_pip.downloads() == []


def test_fill_refills_when_files_are_gone(fake_pip: FakePip, tmp_path: Path) -> None:
    dest = tmp_path / "index"
    requirements = _requirements(tmp_path)
    local_index.fill(requirements, dest, PYTHONS)
    for path in (dest / "files").iterdir():
        path.unlink()
    (dest / "files").rmdir()
    fake_pip.calls.clear()
    local_index.fill(requirements, dest, PYTHONS)
    assert len(fake_pip.downloads()) == 4


def test_fill_key_depends_on_interpreter_version(tmp_path: Path) -> None:
    requirements = _requirements(tmp_path)
    key = local_index.fill_key(requirements, [("/p/python3.12", "3.12.1")])
    assert key == local_index.fill_key(requirements, [("/p/python3.12", "3.12.1")])
    assert key != local_index.fill_key(requirements, [("/p/python3.12", "3.12.2")])
    assert key != local_index.fill_key(requirements[:1], [("/p/python3.12", "3.12.1")])


def test_fill_failure_writes_no_stamp(fake_pip: FakePip, tmp_path: Path) -> None:
    dest = tmp_path / "index"
    fake_pip.fail = True
    with pytest.raises(local_index.FillError):
        local_index.fill(_requirements(tmp_path), dest, PYTHONS)
    assert not (dest / ".stamp").exists()
    fake_pip.fail = False
    local_index.fill(_requirements(tmp_path), dest, PYTHONS)
    assert (dest / ".stamp").exists()


def test_fill_uses_a_venv_when_pip_is_too_old(fake_pip: FakePip, tmp_path: Path) -> None:
    fake_pip.pip_version = "21.2.4"
    local_index.fill(_requirements(tmp_path)[:1], tmp_path / "index", PYTHONS[:1])
    venv_call = next(argv for argv in fake_pip.calls if argv[1:3] == ["-m", "venv"])
    assert venv_call[0] == str(PYTHONS[0])
    venv_python = str(Path(venv_call[3]) / "bin" / "python")
    upgrade = next(argv for argv in fake_pip.calls if "install" in argv)
    assert upgrade[0] == venv_python
    assert "--upgrade" in upgrade
    assert "pip" in upgrade
    [download] = fake_pip.downloads()
    assert download[0] == venv_python


def test_fill_rejects_missing_inputs(fake_pip: FakePip, tmp_path: Path) -> None:
    with pytest.raises(local_index.FillError, match="not found"):
        local_index.fill([tmp_path / "missing.txt"], tmp_path / "index", PYTHONS)
    with pytest.raises(local_index.FillError, match="no Python"):
        local_index.fill(_requirements(tmp_path), tmp_path / "index", [])


def test_fill_downloads_build_requirements_of_sdists(fake_pip: FakePip, tmp_path: Path) -> None:
    sdists = tmp_path / "sdists"
    sdists.mkdir()
    fake_pip.sdists["app"] = make_sdist(
        sdists, "needs-flit", "1.0", pyproject=b'[build-system]\nrequires = ["flit_core>=3.2,<4"]\n'
    )
    fake_pip.sdists["tools"] = make_sdist(sdists, "old-style", "0.1", pyproject=None)
    local_index.fill(_requirements(tmp_path), tmp_path / "index", PYTHONS[:1])
    # Two requirements files, then one download per distinct build requirement set.
    assert len(fake_pip.downloads()) == 4
    assert sorted(fake_pip.requirement_files[2:]) == [
        "flit_core>=3.2,<4\n",
        "setuptools>=40.8.0\nwheel\n",
    ]


def test_sdist_build_requires(tmp_path: Path) -> None:
    flit = make_sdist(tmp_path, "a", "1", pyproject=b'[build-system]\nrequires = ["flit_core"]\n')
    assert local_index.sdist_build_requires(flit) == ["flit_core"]
    legacy = ["setuptools>=40.8.0", "wheel"]
    assert (
        local_index.sdist_build_requires(make_sdist(tmp_path, "b", "1", pyproject=None)) == legacy
    )
    no_table = make_sdist(tmp_path, "c", "1", pyproject=b"[project]\nname = 'c'\n")
    assert local_index.sdist_build_requires(no_table) == legacy
    broken = make_sdist(tmp_path, "d", "1", pyproject=b"[build-system\n")
    assert local_index.sdist_build_requires(broken) == legacy
    zipped = tmp_path / "e-1.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("e-1/pyproject.toml", '[build-system]\nrequires = ["hatchling"]\n')
    assert local_index.sdist_build_requires(zipped) == ["hatchling"]


def test_default_pythons(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    versions = tmp_path / "versions"
    for version in ["3.9.18", "3.10.2", "3.10.13", "3.11.7", "3.13.0t", "3.12.1", "3.13.0"]:
        minor = ".".join(version.rstrip("t").split(".")[:2])
        binary = versions / version / "bin" / f"python{minor}"
        binary.parent.mkdir(parents=True)
        binary.write_text("")
    (versions / "3.12.1" / "bin" / "python3.12").unlink()
    monkeypatch.setattr(local_index, "PYENV_VERSIONS", versions)
    assert local_index.default_pythons() == [
        versions / "3.11.7" / "bin" / "python3.11",
        versions / "3.13.0" / "bin" / "python3.13",
    ]
    assert local_index.default_pythons(minimum=10)[0] == versions / "3.10.13" / "bin" / "python3.10"


def test_cli_fill(fake_pip: FakePip, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    requirements = _requirements(tmp_path)
    argv = ["fill", "--dest", str(tmp_path / "index"), "-r", str(requirements[0])]
    argv += ["--python", str(PYTHONS[0])]
    assert local_index.main(argv) == 0
    assert len(fake_pip.downloads()) == 1
    assert "filled" in capsys.readouterr().out


# -- fill for real -------------------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.host_network
def test_fill_from_pypi_then_install(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("six==1.16.0\n")
    dest = tmp_path / "index"
    local_index.fill([requirements], dest, [Path(sys.executable)])
    assert [p.name for p in (dest / "files").iterdir()] == ["six-1.16.0-py2.py3-none-any.whl"]
    stamp = (dest / ".stamp").read_text()

    def no_network(*args: Any, **kwargs: Any) -> str:
        if "download" in args[0]:
            raise AssertionError("a warm fill must not download")
        return str(original(*args, **kwargs))

    original = local_index._run
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(local_index, "_run", no_network)
        local_index.fill([requirements], dest, [Path(sys.executable)])
    assert (dest / ".stamp").read_text() == stamp

    python = make_venv(tmp_path / "venv")
    with local_index.serve(dest) as index:
        result = pip_install(python, index.url, "six==1.16.0")
        assert result.returncode == 0, result.stdout + result.stderr
        assert ("GET", "/files/six-1.16.0-py2.py3-none-any.whl", 200) in index.requests
    assert installed(python)["six"] == "1.16.0"


def test_a_platform_directive_downloads_that_platforms_wheels_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``# platform: <tag>`` (tests/index/aarch64.txt): binary-only, no dependencies, for that
    platform, and with the first interpreter only."""
    plain = tmp_path / "plain.txt"
    plain.write_text("six==1.17.0\n")
    foreign = tmp_path / "aarch64.txt"
    foreign.write_text("# the arm64 tools\n# platform: manylinux_2_28_aarch64\nuv==0.13.9\n")
    assert local_index.requirement_platforms(foreign) == ["manylinux_2_28_aarch64"]
    assert local_index.requirement_platforms(plain) == []
    runs: list[list[str]] = []
    monkeypatch.setattr(local_index, "_run", lambda argv, env: runs.append(list(argv)))
    pythons = [Path("/py/a"), Path("/py/b")]
    monkeypatch.setattr(
        local_index,
        "_probe",
        lambda path, env: local_index._Interpreter(path, "3.12.1", "x86_64", local_index.MIN_PIP),
    )
    monkeypatch.setattr(local_index, "_download_build_requirements", lambda *args: None)

    local_index.fill([plain, foreign], tmp_path / "index", pythons)

    downloads = [(r[0], r[-1]) for r in runs if "download" in r]
    assert downloads == [
        ("/py/a", str(plain)),
        ("/py/a", str(foreign)),
        ("/py/b", str(plain)),
    ]
    foreign_run = next(r for r in runs if r[-1] == str(foreign))
    assert "--platform" in foreign_run and "manylinux_2_28_aarch64" in foreign_run
    assert {"--no-deps", "--only-binary"} <= set(foreign_run)
    assert "--platform" not in next(r for r in runs if r[-1] == str(plain))
