"""Downloading CPython: checksums, failures, retries, timeouts and mirrors, over real HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest
import tomli_w

from python_cnb.cnb import toml_file
from tests.conftest import CACHE
from tests.support.assertions import assert_one_error_block
from tests.support.lifecycle import Lifecycle
from tests.support.servers import Fault, FileServer

pytestmark = pytest.mark.integration


@pytest.fixture
def server(cpython_mirror: FileServer) -> Iterator[FileServer]:
    """A server of the mirror's tarballs whose faults this test controls."""
    with FileServer(CACHE / "mirror") as server:
        yield server


def entry_312() -> dict[str, Any]:
    manifest = toml_file.read(CACHE / "mirror" / "manifest.toml")
    return next(e for e in manifest["dependencies"] if e["version"].startswith("3.12."))


def write_manifest(tmp_path: Path, **changes: Any) -> str:
    entry = {**entry_312(), **changes}
    path = tmp_path / "manifest.toml"
    path.write_text(tomli_w.dumps({"dependencies": [entry]}))
    return str(path)


def test_checksum_mismatch_installs_nothing(
    lifecycle: Lifecycle, server: FileServer, tmp_path: Path
) -> None:
    tarball = entry_312()["uri"]
    manifest = write_manifest(tmp_path, uri=server.url(tarball), checksum="sha256:" + "0" * 64)
    result = lifecycle.build(
        lifecycle.app("flask-app"), {"BP_CPYTHON_MANIFEST": manifest}, expect_success=False
    )
    block = assert_one_error_block(result, "Downloaded file failed its checksum")
    assert f"but the buildpack expects\n    {'0' * 64}" in block
    assert "It was deleted before anything was extracted" in block
    assert (f"/{tarball}", 200) in server.requests
    assert "Installed CPython" not in result.output


def test_missing_file_fails_without_retrying(
    lifecycle: Lifecycle, server: FileServer, tmp_path: Path
) -> None:
    manifest = write_manifest(tmp_path, uri=server.url("nope/cpython.tar.gz"))
    result = lifecycle.build(
        lifecycle.app("flask-app"), {"BP_CPYTHON_MANIFEST": manifest}, expect_success=False
    )
    block = assert_one_error_block(result, "Download failed")
    assert "failed (once): HTTP 404" in block
    assert server.requests == [("/nope/cpython.tar.gz", 404)]


def test_transient_errors_are_retried(
    lifecycle: Lifecycle, server: FileServer, tmp_path: Path
) -> None:
    tarball = entry_312()["uri"]
    server.faults[f"/{tarball}"] = Fault(statuses=[503, 500])
    manifest = write_manifest(tmp_path, uri=server.url(tarball))
    result = lifecycle.build(lifecycle.app("flask-app"), {"BP_CPYTHON_MANIFEST": manifest})
    assert "Download attempt 1 failed (HTTP 503 Service Unavailable); retrying" in result.output
    assert "Download attempt 2 failed (HTTP 500 Internal Server Error); retrying" in result.output
    assert "Installed CPython 3.12.1" in result.output
    assert [status for _, status in server.requests] == [503, 500, 200]


def test_truncated_download_is_retried_then_fails(
    lifecycle: Lifecycle, server: FileServer, tmp_path: Path
) -> None:
    tarball = entry_312()["uri"]
    server.faults[f"/{tarball}"] = Fault(truncate_to=1000)
    manifest = write_manifest(tmp_path, uri=server.url(tarball))
    result = lifecycle.build(
        lifecycle.app("flask-app"),
        {"BP_CPYTHON_MANIFEST": manifest, "BP_PYTHON_DOWNLOAD_RETRIES": "1"},
        expect_success=False,
    )
    block = assert_one_error_block(result, "Download failed")
    assert "failed (2 times): the connection closed after 1000 of" in block


def test_timeout(lifecycle: Lifecycle, server: FileServer, tmp_path: Path) -> None:
    tarball = entry_312()["uri"]
    server.faults[f"/{tarball}"] = Fault(delay=3)
    manifest = write_manifest(tmp_path, uri=server.url(tarball))
    result = lifecycle.build(
        lifecycle.app("flask-app"),
        {
            "BP_CPYTHON_MANIFEST": manifest,
            "BP_PYTHON_DOWNLOAD_TIMEOUT": "1",
            "BP_PYTHON_DOWNLOAD_RETRIES": "0",
        },
        expect_success=False,
    )
    block = assert_one_error_block(result, "Download failed")
    assert "failed (once): timed out" in block


def test_failures_leave_the_cache_valid(
    lifecycle: Lifecycle, server: FileServer, tmp_path: Path
) -> None:
    app = lifecycle.app("flask-app")
    lifecycle.build(app)
    cache_before = lifecycle.workspace.cache_metadata.read_text()
    bad = write_manifest(tmp_path, uri=server.url("gone.tar.gz"), version="3.12.7")
    (app / ".python-version").write_text("3.12.7\n")
    lifecycle.build(app, {"BP_CPYTHON_MANIFEST": bad}, expect_success=False)
    assert lifecycle.workspace.cache_metadata.read_text() == cache_before

    (app / ".python-version").write_text("3.12\n")
    result = lifecycle.build(app)
    assert "Using cached Python 3.12.1" in result.output
    assert "Using cached virtualenv" in result.output


def test_checksum_change_invalidates_the_layer(
    lifecycle: Lifecycle, server: FileServer, tmp_path: Path
) -> None:
    """A rebuilt interpreter with the same version number is a different interpreter."""
    app = lifecycle.app("flask-app")
    lifecycle.build(app)
    copy = tmp_path / "rebuilt.tar.gz"
    copy.write_bytes((CACHE / "mirror" / entry_312()["uri"]).read_bytes() + b"\0" * 512)
    import hashlib

    sha = hashlib.sha256(copy.read_bytes()).hexdigest()
    manifest = write_manifest(tmp_path, uri=copy.as_uri(), checksum=f"sha256:{sha}")
    result = lifecycle.build(app, {"BP_CPYTHON_MANIFEST": manifest})
    assert (
        "Discarding cached Python 3.12.1 since:\n  - The CPython archive checksum changed"
        in result.output
    )
    assert (
        "Discarding cached virtualenv since:\n  - The CPython archive checksum changed"
        in result.output
    )


def test_dependency_mirror_rewrites_downloads(
    lifecycle: Lifecycle, server: FileServer, tmp_path: Path
) -> None:
    tarball = entry_312()["uri"]
    (tmp_path / "mirror" / "releases.example.com" / "py").mkdir(parents=True)
    (tmp_path / "mirror" / "releases.example.com" / "py" / tarball).write_bytes(
        (CACHE / "mirror" / tarball).read_bytes()
    )
    manifest = write_manifest(tmp_path, uri=f"https://releases.example.com/py/{tarball}")
    with FileServer(tmp_path / "mirror") as mirror:
        result = lifecycle.build(
            lifecycle.app("flask-app"),
            {"BP_CPYTHON_MANIFEST": manifest, "BP_DEPENDENCY_MIRROR": mirror.url("{originalHost}")},
        )
        assert mirror.requests == [(f"/releases.example.com/py/{tarball}", 200)]
    assert (
        f"Downloading CPython 3.12.1 from {mirror.url('releases.example.com/py/' + tarball)}"
        in result.output
    )


def test_host_specific_mirror_and_file_scheme(lifecycle: Lifecycle, tmp_path: Path) -> None:
    tarball = entry_312()["uri"]
    manifest = write_manifest(tmp_path, uri=f"https://github.com/astral-sh/releases/{tarball}")
    target = tmp_path / "offline" / "astral-sh" / "releases"
    target.mkdir(parents=True)
    (target / tarball).write_bytes((CACHE / "mirror" / tarball).read_bytes())
    result = lifecycle.build(
        lifecycle.app("flask-app"),
        {
            "BP_CPYTHON_MANIFEST": manifest,
            "BP_DEPENDENCY_MIRROR": "https://unused.example.com",
            "BP_DEPENDENCY_MIRROR_GITHUB_COM": (tmp_path / "offline").as_uri(),
        },
    )
    assert f"from {(tmp_path / 'offline').as_uri()}/astral-sh/releases/" in result.output


def test_plain_http_mirror_refused_for_remote_hosts(lifecycle: Lifecycle, tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path, uri="https://github.com/x.tar.gz")
    result = lifecycle.build(
        lifecycle.app("flask-app"),
        {"BP_CPYTHON_MANIFEST": manifest, "BP_DEPENDENCY_MIRROR": "http://mirror.example.com"},
        expect_success=False,
    )
    block = assert_one_error_block(result, "Invalid dependency mirror")
    assert 'BP_DEPENDENCY_MIRROR is set to:\n    "http://mirror.example.com"' in block
