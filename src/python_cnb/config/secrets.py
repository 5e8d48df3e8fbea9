"""Credentials for the build only: ``netrc`` and ``ca-certificates`` service bindings.

They become environment variables of the tools the build runs (``NETRC``, ``SSL_CERT_FILE``,
``PIP_CERT``, ``REQUESTS_CA_BUNDLE``) pointing at the binding or at a temporary file outside
the layers directory. Nothing of them is written to a layer, the launch environment or an
SBOM, and netrc passwords are registered as secrets, so the log never shows them.
"""

from __future__ import annotations

import netrc
import ssl
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional, Union

from python_cnb import output
from python_cnb.buildpack_error import BuildpackError
from python_cnb.cnb.bindings import Binding, bindings_of_type

SYSTEM_CA_BUNDLES = (
    Path("/etc/ssl/certs/ca-certificates.crt"),  # Debian, Ubuntu
    Path("/etc/pki/tls/certs/ca-bundle.crt"),  # RHEL, Fedora
    Path("/etc/ssl/cert.pem"),  # Alpine, macOS
)


@dataclass(frozen=True)
class NoPemCertificate:
    """A ca-certificates entry that OpenSSL cannot load."""

    detail: str
    """OpenSSL's (or the operating system's) message."""


@dataclass(frozen=True)
class UnreadablePipConf:
    """A pip binding's pip.conf that is not INI."""

    detail: str
    """configparser's message."""


BindingProblem = Union[NoPemCertificate, UnreadablePipConf]


@dataclass(eq=False)
class InvalidBinding(BuildpackError):
    """A service binding entry that cannot be used."""

    binding: str
    binding_type: str
    entry: str
    problem: BindingProblem


def _check_certificates(binding: Binding, path: Path) -> None:
    try:
        ssl.create_default_context().load_verify_locations(cafile=str(path))
    except (ssl.SSLError, OSError, ValueError) as error:
        raise InvalidBinding(
            binding.name, binding.type, path.name, NoPemCertificate(str(error))
        ) from None


@dataclass
class BuildSecrets:
    """Environment variables that give the build's tools the bindings' credentials."""

    env: dict[str, str] = field(default_factory=dict)
    ca_files: tuple[Path, ...] = ()
    notes: list[str] = field(default_factory=list)
    _tmp: Optional[tempfile.TemporaryDirectory[str]] = None

    def close(self) -> None:
        """Delete the temporary CA bundle."""
        if self._tmp is not None:
            self._tmp.cleanup()


def _netrc_file(binding: Binding) -> Optional[Path]:
    for entry in (".netrc", "netrc", "_netrc"):
        if entry in binding.entries:
            return binding.entry_path(entry)
    return binding.entry_path(binding.entries[0]) if len(binding.entries) == 1 else None


def _register_netrc_secrets(path: Path) -> None:
    try:
        parsed = netrc.netrc(str(path))
    except (netrc.NetrcParseError, OSError):
        return
    for _login, account, password in parsed.hosts.values():
        for secret in (password, account):
            if secret:
                output.register_secret(secret)


def _ca_files(bindings: Iterable[Binding]) -> tuple[Path, ...]:
    """Certificate entries (``*.pem``, ``*.crt``, ``*.cer``, or a binding's only entry),
    each checked to hold PEM certificates before anything relies on it."""
    files = []
    for binding in bindings:
        for entry in binding.entries:
            if entry.endswith((".pem", ".crt", ".cer")) or len(binding.entries) == 1:
                _check_certificates(binding, binding.entry_path(entry))
                files.append(binding.entry_path(entry))
    return tuple(files)


def prepare_build_secrets(bindings: tuple[Binding, ...]) -> BuildSecrets:
    """Read the ``netrc`` and ``ca-certificates`` bindings into tool environment variables."""
    secrets = BuildSecrets()
    for binding in bindings_of_type(bindings, "netrc"):
        path = _netrc_file(binding)
        if path is not None:
            _register_netrc_secrets(path)
            secrets.env["NETRC"] = str(path)
            secrets.notes.append(
                f"Using netrc credentials from binding {binding.name!r} (build only)"
            )
    ca_files = _ca_files(bindings_of_type(bindings, "ca-certificates"))
    if ca_files:
        secrets._tmp = tempfile.TemporaryDirectory(prefix="python-cnb-ca-")
        bundle = Path(secrets._tmp.name) / "ca-bundle.pem"
        system = next((p for p in SYSTEM_CA_BUNDLES if p.is_file()), None)
        parts = [p.read_text(encoding="utf-8", errors="replace") for p in (system, *ca_files) if p]
        bundle.write_text("\n".join(part.strip() for part in parts) + "\n", encoding="utf-8")
        for name in ("SSL_CERT_FILE", "PIP_CERT", "REQUESTS_CA_BUNDLE"):
            secrets.env[name] = str(bundle)
        secrets.ca_files = ca_files
        secrets.notes.append(
            f"Trusting {len(ca_files)} certificate file(s) from ca-certificates bindings"
            " (build only)"
        )
    return secrets
