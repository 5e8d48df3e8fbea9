"""Downloads over real HTTP on 127.0.0.1: checksums, retries, timeouts, truncation."""

from __future__ import annotations

import base64
import hashlib
import socket
import ssl
from pathlib import Path
from typing import Iterator

import pytest

from python_cnb import output
from python_cnb.support.download import (
    ChecksumMismatch,
    DownloadFailed,
    DownloadTooLarge,
    DownloadTooSlow,
    TrustStore,
    download,
    read_limited,
    same_origin,
    split_credentials,
    ssl_context,
)
from tests.support.servers import Fault, FileServer
from tests.support.tls import make_certificates

DATA = bytes(range(256)) * 4096 + b"tail"
"""A little over 1 MiB, so that a download takes more than one read."""
SHA = hashlib.sha256(DATA).hexdigest()
SYSTEM_CA_FILE = Path("/etc/ssl/certs/ca-certificates.crt")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[FileServer]:
    root = tmp_path / "srv"
    root.mkdir()
    (root / "cpython.tar.gz").write_bytes(DATA)
    with FileServer(root) as served:
        yield served


def test_download(server: FileServer, tmp_path: Path) -> None:
    destination = tmp_path / "out.tar.gz"
    download(server.url("cpython.tar.gz"), destination, SHA)
    assert destination.read_bytes() == DATA
    assert server.requests == [("/cpython.tar.gz", 200)]


def test_checksum_is_compared_case_insensitively(server: FileServer, tmp_path: Path) -> None:
    destination = tmp_path / "out.tar.gz"
    download(server.url("cpython.tar.gz"), destination, SHA.upper())
    assert destination.read_bytes() == DATA


def test_checksum_mismatch_deletes_the_file(server: FileServer, tmp_path: Path) -> None:
    destination = tmp_path / "out.tar.gz"
    url = server.url("cpython.tar.gz")
    with pytest.raises(ChecksumMismatch) as caught:
        download(url, destination, "0" * 64)
    assert (caught.value.url, caught.value.expected, caught.value.actual) == (url, "0" * 64, SHA)
    assert not destination.exists()
    assert server.requests == [("/cpython.tar.gz", 200)]


@pytest.mark.parametrize("status", [404, 403, 401, 410])
def test_client_errors_are_not_retried(server: FileServer, tmp_path: Path, status: int) -> None:
    destination = tmp_path / "out.tar.gz"
    destination.write_bytes(b"stale")
    server.faults["/cpython.tar.gz"] = Fault(statuses=[status])
    calls: list[tuple[int, str]] = []
    with pytest.raises(DownloadFailed) as caught:
        download(
            server.url("cpython.tar.gz"),
            destination,
            SHA,
            backoff=0,
            on_retry=lambda attempt, reason: calls.append((attempt, reason)),
        )
    assert caught.value.attempts == 1
    assert caught.value.reason.startswith(f"HTTP {status} ")
    assert caught.value.url == server.url("cpython.tar.gz")
    assert calls == []
    assert not destination.exists()
    assert server.requests == [("/cpython.tar.gz", status)]


def test_missing_file_is_a_404(server: FileServer, tmp_path: Path) -> None:
    with pytest.raises(DownloadFailed) as caught:
        download(server.url("missing.tar.gz"), tmp_path / "out", SHA, backoff=0)
    assert (caught.value.attempts, caught.value.reason) == (1, "HTTP 404 File not found")


def test_server_errors_are_retried(server: FileServer, tmp_path: Path) -> None:
    server.faults["/cpython.tar.gz"] = Fault(statuses=[500, 503, 429])
    destination = tmp_path / "out.tar.gz"
    calls: list[tuple[int, str]] = []
    download(
        server.url("cpython.tar.gz"),
        destination,
        SHA,
        retries=3,
        backoff=0,
        on_retry=lambda attempt, reason: calls.append((attempt, reason)),
    )
    assert destination.read_bytes() == DATA
    assert calls == [
        (1, "HTTP 500 Internal Server Error"),
        (2, "HTTP 503 Service Unavailable"),
        (3, "HTTP 429 Too Many Requests"),
    ]
    assert [status for _, status in server.requests] == [500, 503, 429, 200]


def test_retries_run_out(server: FileServer, tmp_path: Path) -> None:
    server.faults["/cpython.tar.gz"] = Fault(statuses=[503, 503, 503])
    calls: list[tuple[int, str]] = []
    with pytest.raises(DownloadFailed) as caught:
        download(
            server.url("cpython.tar.gz"),
            tmp_path / "out",
            SHA,
            retries=2,
            backoff=0,
            on_retry=lambda attempt, reason: calls.append((attempt, reason)),
        )
    assert (caught.value.attempts, caught.value.reason) == (3, "HTTP 503 Service Unavailable")
    assert [attempt for attempt, _ in calls] == [1, 2]
    assert not (tmp_path / "out").exists()


def test_no_retries(server: FileServer, tmp_path: Path) -> None:
    server.faults["/cpython.tar.gz"] = Fault(statuses=[500])
    with pytest.raises(DownloadFailed) as caught:
        download(server.url("cpython.tar.gz"), tmp_path / "out", SHA, retries=0, backoff=0)
    assert caught.value.attempts == 1


def test_truncated_download_is_retried(server: FileServer, tmp_path: Path) -> None:
    server.faults["/cpython.tar.gz"] = Fault(truncate_to=1000)
    destination = tmp_path / "out.tar.gz"
    calls: list[tuple[int, str]] = []
    with pytest.raises(DownloadFailed) as caught:
        download(
            server.url("cpython.tar.gz"),
            destination,
            SHA,
            retries=2,
            backoff=0,
            on_retry=lambda attempt, reason: calls.append((attempt, reason)),
        )
    reason = f"the connection closed after 1000 of {len(DATA)} bytes"
    assert (caught.value.attempts, caught.value.reason) == (3, reason)
    assert calls == [(1, reason), (2, reason)]
    assert not destination.exists()
    assert len(server.requests) == 3


def test_truncated_then_complete(server: FileServer, tmp_path: Path) -> None:
    fault = Fault(truncate_to=10)
    server.faults["/cpython.tar.gz"] = fault
    calls: list[tuple[int, str]] = []

    def on_retry(attempt: int, reason: str) -> None:
        calls.append((attempt, reason))
        fault.truncate_to = None

    destination = tmp_path / "out.tar.gz"
    download(server.url("cpython.tar.gz"), destination, SHA, backoff=0, on_retry=on_retry)
    assert destination.read_bytes() == DATA
    assert calls == [(1, f"the connection closed after 10 of {len(DATA)} bytes")]


def test_timeout(server: FileServer, tmp_path: Path) -> None:
    server.faults["/cpython.tar.gz"] = Fault(delay=0.5)
    calls: list[tuple[int, str]] = []
    with pytest.raises(DownloadFailed) as caught:
        download(
            server.url("cpython.tar.gz"),
            tmp_path / "out",
            SHA,
            timeout=0.1,
            retries=1,
            backoff=0,
            on_retry=lambda attempt, reason: calls.append((attempt, reason)),
        )
    assert (caught.value.attempts, caught.value.reason) == (2, "timed out")
    assert calls == [(1, "timed out")]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_connection_refused(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/cpython.tar.gz"
    calls: list[tuple[int, str]] = []
    with pytest.raises(DownloadFailed) as caught:
        download(
            url,
            tmp_path / "out",
            SHA,
            retries=1,
            backoff=0,
            on_retry=lambda attempt, reason: calls.append((attempt, reason)),
        )
    assert caught.value.attempts == 2
    assert "Connection refused" in caught.value.reason
    assert calls == [(1, caught.value.reason)]
    assert not (tmp_path / "out").exists()


def test_file_url(tmp_path: Path) -> None:
    source = tmp_path / "cpython 3.12+x.tar.gz"
    source.write_bytes(DATA)
    destination = tmp_path / "out.tar.gz"
    download(source.as_uri(), destination, SHA)
    assert destination.read_bytes() == DATA
    with pytest.raises(ChecksumMismatch):
        download(source.as_uri(), destination, "0" * 64)
    assert not destination.exists()


def test_missing_file_url_fails_without_retrying(tmp_path: Path) -> None:
    retries: list[int] = []
    with pytest.raises(DownloadFailed) as caught:
        download(
            (tmp_path / "missing.tar.gz").as_uri(),
            tmp_path / "out",
            SHA,
            backoff=0,
            on_retry=lambda attempt, _: retries.append(attempt),
        )
    assert "No such file or directory" in caught.value.reason
    assert (caught.value.attempts, retries) == (1, [])


def test_malformed_url_fails_without_retrying(tmp_path: Path) -> None:
    with pytest.raises(DownloadFailed) as caught:
        download("nope://x/y.tar.gz", tmp_path / "out", SHA, backoff=0)
    assert caught.value.attempts == 1


def test_ssl_context_with_extra_ca_files() -> None:
    default = ssl_context()
    assert default.verify_mode == ssl.CERT_REQUIRED
    assert default.check_hostname
    if not SYSTEM_CA_FILE.is_file():
        pytest.skip(f"{SYSTEM_CA_FILE} is not on this machine")
    extended = ssl_context((SYSTEM_CA_FILE,))
    assert extended.cert_store_stats()["x509_ca"] > 0
    assert extended.verify_mode == ssl.CERT_REQUIRED


def test_ssl_context_with_a_missing_ca_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        ssl_context((tmp_path / "missing.pem",))
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n", encoding="utf-8")
    with pytest.raises(ssl.SSLError):
        ssl_context((garbage,))


def test_a_trust_store_loads_no_certificates_for_plain_http(
    server: FileServer, tmp_path: Path
) -> None:
    store = TrustStore()
    download(server.url("cpython.tar.gz"), tmp_path / "out.tar.gz", SHA, context=store)
    assert read_limited(server.url("cpython.tar.gz"), timeout=5, context=store, max_bytes=2**21)
    assert not store.loaded


def test_a_trust_store_trusts_its_ca_files_over_https(tmp_path: Path) -> None:
    certificates = make_certificates(tmp_path / "certs")
    root = tmp_path / "srv"
    root.mkdir()
    (root / "cpython.tar.gz").write_bytes(DATA)
    with FileServer(root, tls=certificates.server_context()) as served:
        url = served.url("cpython.tar.gz")
        assert url.startswith("https://127.0.0.1:")
        with pytest.raises(DownloadFailed, match="CERTIFICATE_VERIFY_FAILED"):
            download(url, tmp_path / "untrusted", SHA, context=TrustStore(), retries=0)
        store = TrustStore((certificates.ca,))
        download(url, tmp_path / "out.tar.gz", SHA, context=store)
        first = store.context()
        download(url, tmp_path / "again.tar.gz", SHA, context=store)
    assert store.loaded
    assert store.context() is first  # one context for every connection of the build
    assert (tmp_path / "again.tar.gz").read_bytes() == DATA


def test_same_origin() -> None:
    assert same_origin("https://h.example/simple/", "https://H.example:443/files/x.whl")
    assert same_origin("http://127.0.0.1:8080/a", "http://127.0.0.1:8080/b?c#d")
    assert not same_origin("http://127.0.0.1:8080/a", "http://127.0.0.1:8081/a")
    assert not same_origin("http://h.example/a", "https://h.example/a")
    assert not same_origin("https://h.example/a", "https://files.h.example/a")


def test_authorization_stays_within_the_origin_on_redirects(tmp_path: Path) -> None:
    """urllib copies every header to a redirect; the index's password must not reach a CDN."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "moved.tar.gz").write_bytes(DATA)
    (tmp_path / "b" / "cdn.tar.gz").write_bytes(DATA)
    with FileServer(tmp_path / "a") as index, FileServer(tmp_path / "b") as cdn:
        index.faults["/same.tar.gz"] = Fault(redirect_to=index.url("moved.tar.gz"))
        index.faults["/other.tar.gz"] = Fault(redirect_to=cdn.url("cdn.tar.gz"))
        auth = {"Authorization": "Basic dTpw"}
        download(index.url("same.tar.gz"), tmp_path / "1", SHA, headers=auth)
        download(index.url("other.tar.gz"), tmp_path / "2", SHA, headers=auth)
        sent = [(path, h.get("authorization")) for path, h in index.headers + cdn.headers]
    assert sent == [
        ("/same.tar.gz", "Basic dTpw"),
        ("/moved.tar.gz", "Basic dTpw"),
        ("/other.tar.gz", "Basic dTpw"),
        ("/cdn.tar.gz", None),
    ]
    assert (tmp_path / "2").read_bytes() == DATA


def test_no_size_cap_without_content_length_is_unbounded(
    server: FileServer, tmp_path: Path
) -> None:
    """LOW-3: 200 MB of zeros with no Content-Length were all read for a 13 MB archive."""
    server.faults["/cpython.tar.gz"] = Fault(endless=True)
    with pytest.raises(DownloadTooLarge) as caught:
        download(server.url("cpython.tar.gz"), tmp_path / "out", SHA, max_bytes=3 * 1024 * 1024)
    error = caught.value
    assert (error.limit, error.pinned) == (3 * 1024 * 1024, False)
    assert 3 * 1024 * 1024 < error.size <= 4 * 1024 * 1024  # one read past the limit at most
    assert not (tmp_path / "out").exists()


def test_pinned_size_refuses_a_longer_announced_body(server: FileServer, tmp_path: Path) -> None:
    with pytest.raises(DownloadTooLarge) as caught:
        download(server.url("cpython.tar.gz"), tmp_path / "out", SHA, size=len(DATA) - 1)
    assert (caught.value.size, caught.value.limit, caught.value.pinned) == (
        len(DATA),
        len(DATA) - 1,
        True,
    )
    download(server.url("cpython.tar.gz"), tmp_path / "out", SHA, size=len(DATA))
    assert (tmp_path / "out").read_bytes() == DATA


def test_default_limit_comes_from_configure(
    server: FileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from python_cnb.support import download as module

    monkeypatch.setattr(module, "_limits", module.Limits())
    module.configure(max_bytes=1024, deadline=60)
    with pytest.raises(DownloadTooLarge) as caught:
        download(server.url("cpython.tar.gz"), tmp_path / "out", SHA)
    assert caught.value.limit == 1024


def test_a_drip_ends_at_the_deadline(tmp_path: Path) -> None:
    """LOW-3: one byte a second never trips the per-read timeout."""
    root = tmp_path / "srv"
    root.mkdir()
    (root / "slow.tar.gz").write_bytes(b"x" * 100)
    with FileServer(root) as server:
        server.faults["/slow.tar.gz"] = Fault(drip=1.0)
        with pytest.raises(DownloadTooSlow) as caught:
            download(
                server.url("slow.tar.gz"),
                tmp_path / "out",
                SHA,
                timeout=3,
                retries=3,
                backoff=0,
                deadline=2.5,
            )
    error = caught.value
    assert (error.deadline, error.attempts) == (2.5, 1)
    assert 1 <= error.received < 100
    assert not (tmp_path / "out").exists()


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_split_credentials() -> None:
    assert split_credentials("http://bob:p%40ss@127.0.0.1:8080/x?y") == (
        "http://127.0.0.1:8080/x?y",
        _basic("bob", "p@ss"),
    )
    assert split_credentials("https://token@h.test/x") == ("https://h.test/x", _basic("token", ""))
    assert split_credentials("https://h.test/x@y") == ("https://h.test/x@y", None)
    assert split_credentials("file:///x") == ("file:///x", None)
    assert output.mask("p@ss and p%40ss") == "**** and ****"


def test_credentials_in_the_url_are_basic_auth_for_its_origin_only(tmp_path: Path) -> None:
    """LOW-5: urllib took `bob:pw@127.0.0.1` for a host name ("Name or service not known")."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "cpython.tar.gz").write_bytes(DATA)
    (tmp_path / "b" / "cdn.tar.gz").write_bytes(DATA)
    with FileServer(tmp_path / "a") as mirror, FileServer(tmp_path / "b") as cdn:
        mirror.required_authorization = _basic("bob", "pw")
        mirror.faults["/away.tar.gz"] = Fault(redirect_to=cdn.url("cdn.tar.gz"))
        authed = f"http://bob:pw@127.0.0.1:{mirror.port}"
        download(f"{authed}/cpython.tar.gz", tmp_path / "1", SHA)
        download(f"{authed}/away.tar.gz", tmp_path / "2", SHA)
        with pytest.raises(DownloadFailed) as caught:
            download(
                f"http://bob:wrong@127.0.0.1:{mirror.port}/cpython.tar.gz", tmp_path / "3", SHA
            )
        assert (
            read_limited(f"{authed}/cpython.tar.gz", timeout=5, context=None, max_bytes=len(DATA))
            == DATA
        )
        with pytest.raises(DownloadTooLarge):
            read_limited(f"{authed}/cpython.tar.gz", timeout=5, context=None, max_bytes=1000)
        sent = [(path, h.get("authorization")) for path, h in mirror.headers + cdn.headers]
    assert (tmp_path / "1").read_bytes() == DATA == (tmp_path / "2").read_bytes()
    assert caught.value.reason == "HTTP 401 Unauthorized"
    assert sent[:2] == [
        ("/cpython.tar.gz", _basic("bob", "pw")),
        ("/away.tar.gz", _basic("bob", "pw")),
    ]
    assert sent[-1] == ("/cdn.tar.gz", None)
    assert output.mask(caught.value.url) == f"http://****@127.0.0.1:{mirror.port}/cpython.tar.gz"
