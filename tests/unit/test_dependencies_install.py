"""Adding the generated web process's server to the venv (ensure_server), without network."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Mapping, Sequence

import pytest

from python_cnb.cnb import toml_file
from python_cnb.cnb.buildpack_toml import read_descriptor
from python_cnb.cnb.context import BuildContext
from python_cnb.cnb.layers import Layer
from python_cnb.config.index import IndexSettings
from python_cnb.config.settings import Settings
from python_cnb.dependencies import install as dependencies
from python_cnb.dependencies.install import ServerNotInstalled, ensure_server
from python_cnb.dependencies.installers.uv import UvEngine, UvProjectSync
from python_cnb.layers.manifest import MANIFEST_NAME
from python_cnb.layers.python import InstalledPython
from python_cnb.layers.uv import UvTool
from python_cnb.layers.venv import TYPES, VenvLayerMetadata, VenvState
from python_cnb.python.version import PythonVersion
from tests.support import contexts
from tests.support.contexts import installed_python
from tests.support.wheels import sha256_of

REPO = Path(__file__).resolve().parents[2]
VERSION = PythonVersion(3, 12, 8)
SERVERS = {"gunicorn": "27.0.1", "uvicorn": "0.54.0"}
REASON = "`app` in app.py (WSGI, flask)"
METADATA = VenvLayerMetadata(
    python_version="3.12.8",
    python_checksum="0" * 64,
    os="linux",
    arch="amd64",
    distro_name="ubuntu",
    distro_version="24.04",
    installer="uv 0.9.0",
    layout="2",
    package_manager="pip",
    dependencies="fingerprint",
)
INDEX = IndexSettings()
UV = UvTool(Path("/nonexistent/uv"), "0.9.0")


def build_context(tmp_path: Path, servers: Mapping[str, str] = SERVERS) -> BuildContext:
    return contexts.build_context(tmp_path, servers=servers, env={"PATH": "/usr/bin:/bin"})


def python(tmp_path: Path) -> InstalledPython:
    return installed_python(tmp_path, VERSION)


def dist(site_packages: Path, name: str, version: str, *modules: str) -> None:
    """A dist-info with a RECORD listing ``modules`` (written too)."""
    info = site_packages / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Name: {name}\nVersion: {version}\n", encoding="utf-8")
    records = []
    for module in modules:
        path = site_packages / module
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x = 1\n", encoding="utf-8")
        records.append(f"{module},,")
    records.append(f"{info.name}/METADATA,,")
    (info / "RECORD").write_text("\n".join(records) + "\n", encoding="utf-8")


def venv_state(ctx: BuildContext, *, fresh: bool = False) -> VenvState:
    """A complete venv layer with Flask in it, its TOML written."""
    layer = Layer(ctx.layers_dir, "venv")
    (layer.path / "bin").mkdir(parents=True)
    site_packages = layer.path / "lib" / "python3.12" / "site-packages"
    dist(site_packages, "flask", "3.1.0", "flask/__init__.py")
    state = VenvState(layer, METADATA, fresh=fresh, up_to_date=True)
    layer.write(TYPES, METADATA)
    return state


class Compiled:
    """Records what would have been compiled (no interpreter runs)."""

    def __init__(self) -> None:
        self.files: list[list[Path]] = []
        self.trees: list[list[Path]] = []

    def compile_files(self, python: Path, files: Sequence[Path], *, cwd: Path) -> None:
        self.files.append(list(files))

    def compile_site_packages(self, python: Path, site_packages: Path, **kwargs: Any) -> None:
        self.trees.append([site_packages])


@pytest.fixture
def compiled(monkeypatch: pytest.MonkeyPatch) -> Compiled:
    recorder = Compiled()
    monkeypatch.setattr(dependencies, "compile_files", recorder.compile_files)
    monkeypatch.setattr(dependencies, "compile_site_packages", recorder.compile_site_packages)
    return recorder


class FakeEngine(UvEngine):
    """The build's own engine; ``install`` writes the packages instead of running uv."""

    def __init__(self, state: VenvState) -> None:
        super().__init__(UV, state.python, state.path, {}, INDEX)
        self.state = state
        self.installed: list[list[str]] = []
        self.toml_during_install: list[bool] = []

    def install(self, requirements: Sequence[str]) -> None:
        self.installed.append(list(requirements))
        self.toml_during_install.append(self.state.layer.toml_path.exists())
        name = requirements[0].split("==")[0]
        dist(self.state.site_packages, name, "27.0.1", f"{name}/__init__.py", f"{name}/app.py")
        script = self.state.path / "bin" / name
        script.write_text("#!/bin/sh\n", encoding="utf-8")


def test_a_server_already_in_the_venv_is_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], compiled: Compiled
) -> None:
    ctx = build_context(tmp_path)
    state = venv_state(ctx)
    (state.path / "bin" / "gunicorn").write_text("#!/bin/sh\n", encoding="utf-8")
    engine = FakeEngine(state)
    toml_before = state.layer.toml_path.read_text(encoding="utf-8")
    ensure_server(
        ctx,
        python(tmp_path),
        state,
        engine,
        "gunicorn",
        REASON,
        Settings.from_env({}),
        INDEX,
        {},
    )
    assert capsys.readouterr().out == "gunicorn is already in the virtualenv\n"
    assert engine.installed == []
    assert (compiled.files, compiled.trees) == ([], [])
    assert state.layer.toml_path.read_text(encoding="utf-8") == toml_before


def test_no_server_install(tmp_path: Path, compiled: Compiled) -> None:
    ctx = build_context(tmp_path)
    state = venv_state(ctx)
    engine = FakeEngine(state)
    settings = Settings.from_env({"BP_PYTHON_NO_SERVER_INSTALL": "true"})
    with pytest.raises(ServerNotInstalled) as caught:
        ensure_server(ctx, python(tmp_path), state, engine, "uvicorn", REASON, settings, INDEX, {})
    assert (caught.value.server, caught.value.reason) == ("uvicorn", REASON)
    assert engine.installed == []
    assert state.layer.toml_path.is_file()


@pytest.mark.parametrize("fresh", [False, True])
@pytest.mark.parametrize(
    ("server", "requirement"), [("gunicorn", "gunicorn==27.0.1"), ("uvicorn", "uvicorn==0.54.0")]
)
def test_the_pinned_server_is_installed(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    compiled: Compiled,
    server: str,
    requirement: str,
    fresh: bool,
) -> None:
    ctx = build_context(tmp_path)
    state = venv_state(ctx, fresh=fresh)
    engine = FakeEngine(state)
    ensure_server(
        ctx, python(tmp_path), state, engine, server, REASON, Settings.from_env({}), INDEX, {}
    )
    assert engine.installed == [[requirement]]
    assert engine.toml_during_install == [False]  # invalidated while the venv changes
    assert toml_file.read(state.layer.toml_path) == {
        "types": {"build": True, "launch": True, "cache": True},
        "metadata": {
            "python_version": "3.12.8",
            "python_checksum": "0" * 64,
            "os": "linux",
            "arch": "amd64",
            "distro_name": "ubuntu",
            "distro_version": "24.04",
            "installer": "uv 0.9.0",
            "layout": "2",
            "package_manager": "pip",
            "dependencies": "fingerprint",
            "contents": sha256_of(state.path / MANIFEST_NAME),
        },
    }
    assert (state.path / "env" / "VIRTUAL_ENV.override").read_text() == str(state.path)
    # only what the server brought is compiled, even in a venv created this build
    site_packages = state.site_packages.resolve()
    assert compiled.files == [
        [site_packages / server / "__init__.py", site_packages / server / "app.py"]
    ]
    assert compiled.trees == []
    assert capsys.readouterr().out == (
        f"Installed {requirement} into the virtualenv: the web process needs it and the app's "
        "dependencies do not include it (BP_PYTHON_NO_SERVER_INSTALL=true turns this off)\n"
    )


def test_an_unpinned_server_is_installed_by_name(tmp_path: Path, compiled: Compiled) -> None:
    ctx = build_context(tmp_path, servers={})
    state = venv_state(ctx)
    engine = FakeEngine(state)
    ensure_server(
        ctx, python(tmp_path), state, engine, "uvicorn", REASON, Settings.from_env({}), INDEX, {}
    )
    assert engine.installed == [["uvicorn"]]


def test_a_locked_project_gets_a_uv_engine_for_its_venv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, compiled: Compiled
) -> None:
    ctx = build_context(tmp_path)
    state = venv_state(ctx)
    sync = UvProjectSync(UV, Path(sys.executable), state.path, ctx.app_dir, {"A": "1"}, INDEX)
    engines: list[tuple[UvEngine, list[str]]] = []

    def install(self: UvEngine, requirements: Sequence[str]) -> None:
        engines.append((self, list(requirements)))

    monkeypatch.setattr(UvEngine, "install", install)
    ensure_server(
        ctx, python(tmp_path), state, sync, "uvicorn", REASON, Settings.from_env({}), INDEX, {}
    )
    [(engine, requirements)] = engines
    assert requirements == ["uvicorn==0.54.0"]
    assert engine.uv is UV
    assert engine.venv_python == state.python
    assert engine.app_dir == ctx.app_dir
    assert engine.env == {"A": "1", "UV_PROJECT_ENVIRONMENT": str(state.path)}
    assert engine.index is INDEX
    assert compiled.files == [[]]


def test_the_buildpack_pins_both_servers() -> None:
    metadata = read_descriptor(REPO).metadata
    assert sorted(metadata["servers"]) == ["gunicorn", "uvicorn"]
    assert all(version.count(".") == 2 for version in metadata["servers"].values())
