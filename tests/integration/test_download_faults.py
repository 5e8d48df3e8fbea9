"""Hostile or broken servers for the CPython download (install-integrity.md LOW-3, LOW-5):
every download is bounded in size and time, ends with one clear block and leaves the cache
as it was; credentials in manifest and mirror URLs work and never reach the log."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Iterator

import pytest

from python_cnb.cnb import toml_file
from tests.conftest import CACHE
from tests.support.assertions import assert_one_error_block
from tests.support.lifecycle import Lifecycle
from tests.support.servers import Fault, FileServer

pytestmark = pytest.mark.integration

MIRROR = CACHE / "mirror"
PASSWORD = "s3cret-pw"
AUTHORIZATION = "Basic " + base64.b64encode(f"bob:{PASSWORD}".encode()).decode()


def _archive(version: str) -> str:
    """The mirror's file name of CPython ``version`` (3.12 -> the 3.12.x tarball)."""
    return next(p.name for p in MIRROR.glob(f"cpython-{version}.*.tar.gz"))


@pytest.fixture
def hostile(cpython_mirror: FileServer) -> Iterator[FileServer]:
    """A second server of the same mirror, to misbehave on."""
    with FileServer(MIRROR) as server:
        yield server


def test_a_drip_ends_at_the_deadline_and_the_cache_survives(
    lifecycle: Lifecycle, hostile: FileServer
) -> None:
    """One byte a second never tripped BP_PYTHON_DOWNLOAD_TIMEOUT: the build hung."""
    app = lifecycle.app("bad_input")
    lifecycle.build(app)
    hostile.faults[f"/{_archive('3.13')}"] = Fault(drip=1.0)
    result = lifecycle.build(
        app,
        {
            "BP_PYTHON_VERSION": "3.13",
            "BP_CPYTHON_MANIFEST": hostile.url("manifest.toml"),
            "BP_PYTHON_DOWNLOAD_DEADLINE": "3",
        },
        expect_success=False,
    )
    block = assert_one_error_block(result, "Download too slow")
    assert "did not finish within 3 seconds (tried once;" in block
    again = lifecycle.build(app)
    assert "Using cached Python 3.12" in again.output
    assert "Using cached virtualenv" in again.output


def test_an_endless_body_stops_at_the_size_limit(lifecycle: Lifecycle, hostile: FileServer) -> None:
    """Zeros with no Content-Length were read until the disk or the checksum gave out."""
    hostile.faults[f"/{_archive('3.12')}"] = Fault(endless=True)
    result = lifecycle.build(
        lifecycle.app("bad_input"),
        {"BP_CPYTHON_MANIFEST": hostile.url("manifest.toml"), "BP_PYTHON_DOWNLOAD_MAX_SIZE": "20"},
        expect_success=False,
    )
    block = assert_one_error_block(result, "Download too large")
    assert "more than the limit of 20.0 MB (BP_PYTHON_DOWNLOAD_MAX_SIZE)" in block


def test_a_pinned_size_is_enforced(
    lifecycle: Lifecycle, cpython_mirror: FileServer, tmp_path: Path
) -> None:
    manifest = toml_file.read(MIRROR / "manifest.toml")
    for entry in manifest["dependencies"]:
        entry["size"] = (MIRROR / entry["uri"]).stat().st_size - 1
        entry["uri"] = cpython_mirror.url(entry["uri"])
    toml_file.write(tmp_path / "manifest.toml", manifest)
    result = lifecycle.build(
        lifecycle.app("bad_input"),
        {"BP_CPYTHON_MANIFEST": str(tmp_path / "manifest.toml")},
        expect_success=False,
    )
    block = assert_one_error_block(result, "Download too large")
    assert "the CPython manifest pins for it" in block


@pytest.fixture
def authenticated(cpython_mirror: FileServer, tmp_path: Path) -> Iterator[FileServer]:
    """The mirror behind basic auth, also under /127.0.0.1/ (for BP_DEPENDENCY_MIRROR's
    ``{originalHost}``)."""
    root = tmp_path / "authenticated"
    root.mkdir()
    for entry in MIRROR.iterdir():
        (root / entry.name).symlink_to(entry)
    (root / "127.0.0.1").symlink_to(MIRROR)
    with FileServer(root) as server:
        server.required_authorization = AUTHORIZATION
        yield server


def test_credentials_in_the_manifest_url(lifecycle: Lifecycle, authenticated: FileServer) -> None:
    """LOW-5: urllib took `bob:pw@127.0.0.1` for a host name, so authenticated mirrors
    could not serve CPython."""
    url = f"http://bob:{PASSWORD}@127.0.0.1:{authenticated.port}/manifest.toml"
    result = lifecycle.build(lifecycle.app("bad_input"), {"BP_CPYTHON_MANIFEST": url})
    assert "Installed CPython 3.12" in result.output
    assert PASSWORD not in result.output
    assert f"http://****@127.0.0.1:{authenticated.port}/cpython-3.12" in result.output
    assert [path for path, status in authenticated.requests if status != 200] == []
    assert {h.get("authorization") for _, h in authenticated.headers} == {AUTHORIZATION}


def test_credentials_in_the_dependency_mirror(
    lifecycle: Lifecycle, authenticated: FileServer
) -> None:
    mirror = f"http://bob:{PASSWORD}@127.0.0.1:{authenticated.port}/{{originalHost}}"
    result = lifecycle.build(lifecycle.app("bad_input"), {"BP_DEPENDENCY_MIRROR": mirror})
    assert "Installed CPython 3.12" in result.output
    assert PASSWORD not in result.output
    assert [(path, status) for path, status in authenticated.requests] == [
        (f"/127.0.0.1/{_archive('3.12')}", 200)
    ]
