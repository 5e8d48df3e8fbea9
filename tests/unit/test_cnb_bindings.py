"""Service bindings under <platform>/bindings or $SERVICE_BINDING_ROOT."""

from __future__ import annotations

from pathlib import Path

from python_cnb.cnb.bindings import Binding, bindings_of_type, bindings_root, read_bindings


def _binding(root: Path, name: str, files: dict[str, str]) -> Path:
    path = root / name
    path.mkdir(parents=True)
    for file_name, value in files.items():
        (path / file_name).write_text(value, encoding="utf-8")
    return path


def test_bindings_root(tmp_path: Path) -> None:
    assert bindings_root(tmp_path, {}) == tmp_path / "bindings"
    assert bindings_root(tmp_path, {"SERVICE_BINDING_ROOT": ""}) == tmp_path / "bindings"
    assert bindings_root(tmp_path, {"SERVICE_BINDING_ROOT": "/sb"}) == Path("/sb")


def test_no_bindings(tmp_path: Path) -> None:
    assert read_bindings(tmp_path, {}) == ()
    (tmp_path / "bindings").mkdir()
    assert read_bindings(tmp_path, {}) == ()


def test_read_bindings(tmp_path: Path) -> None:
    root = tmp_path / "bindings"
    pip = _binding(
        root,
        "pip-index",
        {
            "type": " PIP\n",
            "provider": "artifactory\n",
            "url": "https://example.test/simple\n",
            "netrc": "secret",
            ".netrc": "machine x",
            "..2026_11_22_01.1": "x",
        },
    )
    (pip / "..data").mkdir()
    ca = _binding(root, "a-ca", {"type": "ca-certificates", "cert.pem": "PEM"})
    _binding(root, "untyped", {"url": "x"})
    (root / "stray-file").write_text("x")
    assert read_bindings(tmp_path, {}) == (
        Binding("a-ca", "ca-certificates", None, ca, ("cert.pem",)),
        Binding("pip-index", "pip", "artifactory", pip, (".netrc", "netrc", "url")),
    )


def test_service_binding_root_wins(tmp_path: Path) -> None:
    _binding(tmp_path / "bindings", "ignored", {"type": "pip"})
    root = tmp_path / "sb"
    used = _binding(root, "used", {"type": "pip"})
    assert read_bindings(tmp_path, {"SERVICE_BINDING_ROOT": str(root)}) == (
        Binding("used", "pip", None, used, ()),
    )


def test_entry_values_are_read_on_demand_and_stripped(tmp_path: Path) -> None:
    path = _binding(tmp_path / "bindings", "b", {"type": "pip", "url": "  https://x.test/  \n"})
    [binding] = read_bindings(tmp_path, {})
    assert binding.entry_path("url") == path / "url"
    assert binding.read("url") == "https://x.test/"


def test_bindings_of_type(tmp_path: Path) -> None:
    root = tmp_path / "bindings"
    _binding(root, "a", {"type": "pip"})
    _binding(root, "b", {"type": "ca-certificates"})
    _binding(root, "c", {"type": "Pip"})
    bindings = read_bindings(tmp_path, {})
    assert [b.name for b in bindings_of_type(bindings, "PIP")] == ["a", "c"]
    assert bindings_of_type(bindings, "npmrc") == ()
