"""Private indexes with credentials, service bindings, custom CAs and offline builds.

Credentials must never reach a layer, the image, the cache or the log."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Iterator

import pytest

from tests.conftest import CACHE
from tests.support.assertions import assert_one_error_block
from tests.support.lifecycle import Lifecycle
from tests.support.servers import FileServer
from tests.support.tls import make_certificates
from tools import local_index

pytestmark = pytest.mark.integration

USER, PASSWORD = "ci-user", "Sup3r-s3cret-Passw0rd"
PIP = {"BP_PYTHON_INSTALLER": "pip"}


@pytest.fixture
def private_index(package_index: str) -> Iterator[local_index.IndexServer]:
    """The test index again, behind HTTP basic auth."""
    with local_index.serve(CACHE / "index", auth=(USER, PASSWORD)) as server:
        yield server


def add_binding(
    lifecycle: Lifecycle, name: str, binding_type: str, entries: dict[str, str]
) -> None:
    """A service binding in the platform directory, as platforms mount them."""
    path = lifecycle.workspace.platform / "bindings" / name
    path.mkdir(parents=True)
    (path / "type").write_text(binding_type)
    for entry, value in entries.items():
        (path / entry).write_text(value)


def assert_secret_nowhere(secret: str, lifecycle: Lifecycle, output: str) -> None:
    """Not in the log, the image (layers, app, metadata), the SBOMs or the build cache."""
    assert secret not in output
    ws = lifecycle.workspace
    outputs = [ws.layers, ws.app, ws.cache, ws.root / "sbom", ws.image_metadata]
    scanned = 0
    for root in outputs:
        for path in [root] if root.is_file() else root.rglob("*"):
            if path.is_file() and not path.is_symlink():
                assert secret.encode() not in path.read_bytes(), path
                scanned += 1
    assert scanned > 1000  # the venv, the interpreter and the caches were all looked at


@pytest.mark.parametrize("env", [{}, PIP], ids=["uv", "pip"])
def test_basic_auth_credentials_appear_nowhere(
    lifecycle: Lifecycle, private_index: local_index.IndexServer, env: dict[str, str]
) -> None:
    url = private_index.url_with_credentials(USER, PASSWORD)
    result = lifecycle.build(lifecycle.app("flask-app"), {"PIP_INDEX_URL": url, **env})

    assert f"Package index: http://****@127.0.0.1:{private_index.port}/simple/" in result.output
    assert any(
        status == 200 for _, path, status in private_index.requests if path.startswith("/files/")
    )
    assert_secret_nowhere(PASSWORD, lifecycle, result.output)
    assert lifecycle.start().wait_for_http("/")[0] == 200


def test_wrong_credentials_fail_clearly(
    lifecycle: Lifecycle, private_index: local_index.IndexServer
) -> None:
    url = private_index.url_with_credentials(USER, "not-the-password")
    result = lifecycle.build(
        lifecycle.app("flask-app"), {"PIP_INDEX_URL": url}, expect_success=False
    )
    block = assert_one_error_block(result, "Could not install uv 0.13.9")
    assert "not-the-password" not in result.output
    assert any(status == 401 for *_, status in private_index.requests)
    assert "Check the package index settings" in block


@pytest.mark.parametrize("env", [{}, PIP], ids=["uv", "pip"])
def test_netrc_binding(
    lifecycle: Lifecycle, private_index: local_index.IndexServer, env: dict[str, str]
) -> None:
    add_binding(
        lifecycle,
        "index-credentials",
        "netrc",
        {".netrc": f"machine 127.0.0.1 login {USER} password {PASSWORD}\n"},
    )
    result = lifecycle.build(
        lifecycle.app("flask-app"), {"PIP_INDEX_URL": private_index.url, **env}
    )
    assert "Using netrc credentials from binding 'index-credentials' (build only)" in result.output
    assert_secret_nowhere(PASSWORD, lifecycle, result.output)
    env_at_launch = lifecycle.exec(["env"]).stdout
    assert "NETRC" not in env_at_launch and "bindings" not in env_at_launch


def test_pip_binding(lifecycle: Lifecycle, private_index: local_index.IndexServer) -> None:
    url = private_index.url_with_credentials(USER, PASSWORD)
    add_binding(lifecycle, "pip-config", "pip", {"pip.conf": f"[global]\nindex-url = {url}\n"})
    result = lifecycle.build(lifecycle.app("flask-app"), unset=["PIP_INDEX_URL"])
    assert "Using pip configuration from binding 'pip-config'" in result.output
    assert (
        f"Package index: http://****@127.0.0.1:{private_index.port}/simple/ (from the pip binding)"
        in result.output
    )
    assert_secret_nowhere(PASSWORD, lifecycle, result.output)


def test_ca_certificates_binding(lifecycle: Lifecycle, tmp_path: Path) -> None:
    """CPython, uv and the app's packages all come over HTTPS signed by a private CA."""
    certificates = make_certificates(tmp_path / "tls")
    with (
        FileServer(CACHE / "mirror", tls=certificates.server_context()) as mirror,
        local_index.serve(CACHE / "index", tls=certificates.server_context()) as index,
    ):
        env = {"BP_CPYTHON_MANIFEST": mirror.url("manifest.toml"), "PIP_INDEX_URL": index.url}
        app = lifecycle.app("flask-app")
        refused = lifecycle.build(app, env, expect_success=False)
        assert "CERTIFICATE_VERIFY_FAILED" in assert_one_error_block(
            refused, "Invalid CPython manifest"
        )

        add_binding(
            lifecycle,
            "company-ca",
            "ca-certificates",
            {"company-ca.pem": certificates.ca.read_text()},
        )
        result = lifecycle.build(app, env)
    assert (
        "Trusting 1 certificate file(s) from ca-certificates bindings (build only)" in result.output
    )
    assert f"Downloading CPython 3.12.1 from {mirror.url('')}cpython-3.12.1" in result.output
    assert "Installed 8 packages" in result.output
    env_at_launch = lifecycle.exec(["env"]).stdout
    assert "SSL_CERT_FILE" not in env_at_launch and "PIP_CERT" not in env_at_launch


WHEELS = (
    "flask-3.1.3",
    "werkzeug-3.1.9",
    "jinja2-3.1.6",
    "markupsafe-3.0.4-cp312",
    "itsdangerous-2.2.0",
    "click-8.5.1",
    "blinker-1.9.0",
    "gunicorn-27.0.1",
    "packaging-26.3",
    "uv-0.13.9",
)


@pytest.mark.parametrize("env", [{}, PIP], ids=["uv", "pip"])
def test_vendored_wheels_build_offline(lifecycle: Lifecycle, env: dict[str, str]) -> None:
    app = lifecycle.app("flask-app")
    (app / "vendor").mkdir()
    for prefix in WHEELS:
        for wheel in (CACHE / "index" / "files").glob(f"{prefix}*.whl"):
            shutil.copyfile(wheel, app / "vendor" / wheel.name)
    if env == PIP:  # the pip engine's tools come from the vendor directory too
        pip_tools = (
            Path(__file__).parents[2] / "src/python_cnb/data/tools/pip-tools.txt"
        ).read_text()
        for line in pip_tools.splitlines():
            if "==" in line and "python_full_version < '3.10'" not in line:
                name, version = line.split(";")[0].strip(" \\").split("==")
                for wheel in (CACHE / "index" / "files").glob(
                    f"{name.replace('-', '_')}-{version}-*.whl"
                ):
                    shutil.copyfile(wheel, app / "vendor" / wheel.name)
    unreachable = {"PIP_INDEX_URL": "http://127.0.0.1:9/simple/"}

    result = lifecycle.build(app, {**unreachable, **env})

    assert "Installing offline from the vendored packages in vendor/" in result.output
    assert "Package index: none (offline, from " in result.output
    # the slim package carries no uv: the vendored wheel is used, and the log says it ships
    assert ("uv came from the app's vendored uv-0.13.9-" in result.output) is (env != PIP)
    assert lifecycle.start().wait_for_http("/")[0] == 200
