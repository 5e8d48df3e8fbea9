"""netrc and ca-certificates bindings become build-only tool environment variables."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

import pytest

from python_cnb import output
from python_cnb.cnb.bindings import Binding, read_bindings
from python_cnb.config import secrets as build_secrets
from python_cnb.config.secrets import BuildSecrets, prepare_build_secrets

NETRC = (
    "machine pkgs.test login deploy password n3trc-pw\n"
    "default login anon account acc0unt password d3fault\n"
)


def _real_certificates() -> list[str]:
    """Three real CA certificates (binding entries are checked to hold certificates)."""
    bundle = Path("/etc/ssl/certs/ca-certificates.crt").read_text(encoding="utf-8")
    end = "-----END CERTIFICATE-----"
    return [block.strip() + "\n" + end for block in bundle.split(end)[:3]]


SYSTEM, _CORPORATE, PROXY = _real_certificates()
CORPORATE = _CORPORATE + "\n\n"
CERT_VARIABLES = ("SSL_CERT_FILE", "PIP_CERT", "REQUESTS_CA_BUNDLE")


@pytest.fixture
def system_bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bundle = tmp_path / "system" / "ca-certificates.crt"
    bundle.parent.mkdir()
    bundle.write_text(SYSTEM, encoding="utf-8")
    monkeypatch.setattr(
        build_secrets, "SYSTEM_CA_BUNDLES", (tmp_path / "system" / "missing.crt", bundle)
    )
    return bundle


def _bindings(tmp_path: Path, bindings: dict[str, dict[str, str]]) -> tuple[Binding, ...]:
    for name, files in bindings.items():
        path = tmp_path / "platform" / "bindings" / name
        path.mkdir(parents=True)
        for entry, text in files.items():
            (path / entry).write_text(text, encoding="utf-8")
    return read_bindings(tmp_path / "platform", {})


@contextlib.contextmanager
def _prepare(bindings: tuple[Binding, ...]) -> Iterator[BuildSecrets]:
    secrets = prepare_build_secrets(bindings)
    try:
        yield secrets
    finally:
        secrets.close()


def test_no_bindings() -> None:
    secrets = prepare_build_secrets(())
    assert (secrets.env, secrets.ca_files, secrets.notes) == ({}, (), [])
    secrets.close()


def test_unrelated_bindings(tmp_path: Path) -> None:
    bindings = _bindings(tmp_path, {"pip": {"type": "pip", "pip.conf": "[global]\n"}})
    secrets = prepare_build_secrets(bindings)
    assert (secrets.env, secrets.ca_files) == ({}, ())
    secrets.close()


@pytest.mark.parametrize("entry", ["netrc", "_netrc", "credentials"])
def test_netrc(tmp_path: Path, entry: str) -> None:
    bindings = _bindings(tmp_path, {"creds": {"type": "netrc", entry: NETRC}})
    with _prepare(bindings) as secrets:
        assert secrets.env == {"NETRC": str(bindings[0].path / entry)}
        assert secrets.ca_files == ()
        assert secrets.notes == ["Using netrc credentials from binding 'creds' (build only)"]
    assert output.mask("n3trc-pw d3fault acc0unt deploy anon") == "**** **** **** deploy anon"


def test_netrc_binding_with_several_other_entries(tmp_path: Path) -> None:
    bindings = _bindings(tmp_path, {"creds": {"type": "netrc", "a": NETRC, "b": NETRC}})
    with _prepare(bindings) as secrets:
        assert secrets.env == {}
    assert output.mask("n3trc-pw") == "n3trc-pw"


def test_unparseable_netrc_is_still_used(tmp_path: Path) -> None:
    bindings = _bindings(tmp_path, {"creds": {"type": "netrc", "netrc": "machine\n"}})
    with _prepare(bindings) as secrets:
        assert secrets.env == {"NETRC": str(bindings[0].path / "netrc")}


def test_ca_certificates(tmp_path: Path, system_bundle: Path) -> None:
    bindings = _bindings(
        tmp_path,
        {
            "ca": {"type": "ca-certificates", "corporate.pem": CORPORATE, "proxy.crt": PROXY},
            "more": {"type": "ca-certificates", "other.cer": PROXY, "notes.txt": "not a cert"},
        },
    )
    secrets = prepare_build_secrets(bindings)
    bundle = Path(secrets.env["SSL_CERT_FILE"])
    assert secrets.env == dict.fromkeys(CERT_VARIABLES, str(bundle))
    assert secrets.ca_files == (
        bindings[0].path / "corporate.pem",
        bindings[0].path / "proxy.crt",
        bindings[1].path / "other.cer",
    )
    assert bundle.read_text(encoding="utf-8") == (
        f"{SYSTEM.strip()}\n{CORPORATE.strip()}\n{PROXY}\n{PROXY}\n"
    )
    assert not bundle.is_relative_to(tmp_path)
    assert secrets.notes == [
        "Trusting 3 certificate file(s) from ca-certificates bindings (build only)"
    ]
    secrets.close()
    assert not bundle.exists()
    assert not bundle.parent.exists()
    secrets.close()


def test_a_single_entry_of_any_name_is_a_certificate(tmp_path: Path, system_bundle: Path) -> None:
    bindings = _bindings(tmp_path, {"ca": {"type": "ca-certificates", "certificate": PROXY}})
    with _prepare(bindings) as secrets:
        assert secrets.ca_files == (bindings[0].path / "certificate",)
        assert Path(secrets.env["PIP_CERT"]).read_text(encoding="utf-8") == (
            f"{SYSTEM.strip()}\n{PROXY}\n"
        )


def test_ca_certificates_without_a_system_bundle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(build_secrets, "SYSTEM_CA_BUNDLES", (tmp_path / "missing.crt",))
    bindings = _bindings(tmp_path, {"ca": {"type": "ca-certificates", "ca.pem": CORPORATE}})
    with _prepare(bindings) as secrets:
        bundle = Path(secrets.env["REQUESTS_CA_BUNDLE"])
        assert bundle.read_text(encoding="utf-8") == f"{CORPORATE.strip()}\n"


def test_ca_certificates_binding_without_certificates(tmp_path: Path, system_bundle: Path) -> None:
    bindings = _bindings(tmp_path, {"ca": {"type": "ca-certificates", "a.txt": "", "b.txt": ""}})
    with _prepare(bindings) as secrets:
        assert (secrets.env, secrets.ca_files, secrets.notes) == ({}, (), [])


def test_netrc_and_ca_certificates(tmp_path: Path, system_bundle: Path) -> None:
    bindings = _bindings(
        tmp_path,
        {
            "ca": {"type": "ca-certificates", "ca.pem": CORPORATE},
            "creds": {"type": "NetRC", "netrc": NETRC},
        },
    )
    with _prepare(bindings) as secrets:
        assert sorted(secrets.env) == ["NETRC", "PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"]
        assert secrets.notes == [
            "Using netrc credentials from binding 'creds' (build only)",
            "Trusting 1 certificate file(s) from ca-certificates bindings (build only)",
        ]


def test_netrc_entry_preference(tmp_path: Path) -> None:
    path = tmp_path / "creds"
    path.mkdir()
    for entry in (".netrc", "netrc", "other"):
        (path / entry).write_text(NETRC, encoding="utf-8")
    for entries, chosen in (
        ((".netrc", "netrc", "other"), ".netrc"),
        (("netrc", "other"), "netrc"),
        (("other",), "other"),
    ):
        binding = Binding("creds", "netrc", None, path, entries)
        with _prepare((binding,)) as secrets:
            assert secrets.env == {"NETRC": str(path / chosen)}


def test_a_file_that_is_not_a_certificate_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "bindings" / "ca"
    root.mkdir(parents=True)
    (root / "type").write_text("ca-certificates")
    (root / "ca.pem").write_text(
        "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"
    )
    with pytest.raises(build_secrets.InvalidBinding) as raised:
        prepare_build_secrets(read_bindings(tmp_path, {}))
    assert (raised.value.binding, raised.value.entry) == ("ca", "ca.pem")
    assert isinstance(raised.value.problem, build_secrets.NoPemCertificate)
