"""The dependencies step: one installer per package manager (an exhaustive table), and the
venv handle that adds the web process's server and finishes the layer once, without network."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Mapping, Sequence

import pytest

from python_cnb.app.package_manager import PackageManager
from python_cnb.cnb import toml_file
from python_cnb.cnb.buildpack_toml import read_descriptor
from python_cnb.cnb.context import BuildContext
from python_cnb.cnb.layers import Layer
from python_cnb.config.index import IndexSettings
from python_cnb.config.settings import Settings
from python_cnb.config.tool_specs import ToolSpec
from python_cnb.dependencies import install as dependencies
from python_cnb.dependencies.install import INSTALLERS, ServerNotInstalled, Tools, Venv
from python_cnb.dependencies.installers import Inputs, NoInstaller
from python_cnb.dependencies.plan import DependencyPlan
from python_cnb.layers.manifest import MANIFEST_NAME
from python_cnb.layers.python import InstalledPython
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
SBOM_FORMATS = ("application/vnd.cyclonedx+json",)
INDEX = IndexSettings()


def build_context(tmp_path: Path, servers: Mapping[str, str] = SERVERS) -> BuildContext:
    return contexts.build_context(
        tmp_path, servers=servers, env={"PATH": "/usr/bin:/bin"}, sbom_formats=SBOM_FORMATS
    )


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


class FakeInstaller:
    """The build's installer; ``add`` writes the packages instead of running a tool."""

    description = "uv 0.9.0"

    def __init__(self, state: VenvState) -> None:
        self.state = state
        self.added: list[list[str]] = []
        self.toml_during_add: list[bool] = []

    def prepare(self, plan: DependencyPlan, workdir: Path) -> Inputs:
        return Inputs(workdir)

    def install(self, plan: DependencyPlan, inputs: Inputs, venv: VenvState) -> None:
        raise AssertionError("not called by add_server")

    def add(self, requirements: Sequence[str]) -> None:
        self.added.append(list(requirements))
        self.toml_during_add.append(self.state.layer.toml_path.exists())
        name = requirements[0].split("==")[0]
        dist(self.state.site_packages, name, "27.0.1", f"{name}/__init__.py", f"{name}/app.py")
        script = self.state.path / "bin" / name
        script.write_text("#!/bin/sh\n", encoding="utf-8")

    def check(self) -> None:
        raise AssertionError("not called by add_server")


def handle(
    tmp_path: Path, *, fresh: bool = False, settings: Settings | None = None, **kwargs: Any
) -> tuple[Venv, FakeInstaller]:
    ctx = build_context(tmp_path, **kwargs)
    state = venv_state(ctx, fresh=fresh)
    installer = FakeInstaller(state)
    return Venv(ctx, settings or Settings.from_env({}), state, installer), installer


def test_every_package_manager_has_an_installer() -> None:
    assert set(INSTALLERS) == set(PackageManager)


def test_a_server_already_in_the_venv_is_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], compiled: Compiled
) -> None:
    venv, installer = handle(tmp_path)
    (venv.path / "bin" / "gunicorn").write_text("#!/bin/sh\n", encoding="utf-8")
    toml_before = venv.state.layer.toml_path.read_text(encoding="utf-8")
    venv.add_server("gunicorn", REASON)
    assert capsys.readouterr().out == "gunicorn is already in the virtualenv\n"
    assert installer.added == []
    assert (compiled.files, compiled.trees) == ([], [])
    assert venv.state.layer.toml_path.read_text(encoding="utf-8") == toml_before


def test_no_server_install(tmp_path: Path, compiled: Compiled) -> None:
    settings = Settings.from_env({"BP_PYTHON_NO_SERVER_INSTALL": "true"})
    venv, installer = handle(tmp_path, settings=settings)
    with pytest.raises(ServerNotInstalled) as caught:
        venv.add_server("uvicorn", REASON)
    assert (caught.value.server, caught.value.reason) == ("uvicorn", REASON)
    assert installer.added == []
    assert venv.state.layer.toml_path.is_file()


@pytest.mark.parametrize("fresh", [False, True])
@pytest.mark.parametrize(
    ("server", "requirement"), [("gunicorn", "gunicorn==27.0.1"), ("uvicorn", "uvicorn==0.54.0")]
)
def test_the_pinned_server_is_installed_and_the_layer_finished_once(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    compiled: Compiled,
    server: str,
    requirement: str,
    fresh: bool,
) -> None:
    venv, installer = handle(tmp_path, fresh=fresh)
    state = venv.state
    venv.add_server(server, REASON)
    assert installer.added == [[requirement]]
    assert installer.toml_during_add == [False]  # invalidated while the venv changes
    assert not state.layer.toml_path.exists()  # not finished by the server install
    assert capsys.readouterr().out == (
        f"Installed {requirement} into the virtualenv: the web process needs it and the app's "
        "dependencies do not include it (BP_PYTHON_NO_SERVER_INSTALL=true turns this off)\n"
    )
    venv.finish({("flask", "3.1.0"): ("sha256:" + "a" * 64,)})
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
    sbom = state.layer.sbom_path("cdx.json").read_text(encoding="utf-8")
    assert server in sbom and "a" * 64 in sbom  # what the server brought, and the lock's hash
    # only what the server brought is compiled, even in a venv created this build
    site_packages = state.site_packages.resolve()
    assert compiled.files == [
        [site_packages / server / "__init__.py", site_packages / server / "app.py"]
    ]
    assert compiled.trees == []
    with pytest.raises(AssertionError):
        venv.finish({})
    with pytest.raises(AssertionError):
        venv.add_server("uvicorn", REASON)


def test_an_unpinned_server_is_installed_by_name(tmp_path: Path, compiled: Compiled) -> None:
    venv, installer = handle(tmp_path, servers={})
    venv.add_server("uvicorn", REASON)
    assert installer.added == [["uvicorn"]]


def test_the_buildpack_pins_both_servers() -> None:
    metadata = read_descriptor(REPO).metadata
    assert sorted(metadata["servers"]) == ["gunicorn", "uvicorn"]
    assert all(version.count(".") == 2 for version in metadata["servers"].values())


@pytest.mark.parametrize(
    ("manager", "pinned"),
    [(PackageManager.POETRY, "poetry"), (PackageManager.UV, "uv"), (PackageManager.PIP, None)],
)
def test_the_version_setting_pins_only_the_package_managers_own_tool(
    tmp_path: Path, manager: PackageManager, pinned: str | None
) -> None:
    ctx = replace(build_context(tmp_path), buildpack=read_descriptor(REPO))
    settings = Settings.from_env({"BP_PYTHON_PACKAGE_MANAGER_VERSION": "9.9.9"})
    tools = Tools(ctx, python(tmp_path), settings, INDEX, INDEX, {})
    assert settings.package_manager_version == ("BP_PYTHON_PACKAGE_MANAGER_VERSION", "9.9.9")
    for tool in ("uv", "poetry", "pip-tools"):
        spec = tools.spec(tool, pinned)
        assert (spec.version == "9.9.9") is (tool == pinned), (manager, tool)
        assert spec.overridden is (tool == pinned)


@pytest.mark.parametrize(
    ("manager", "installer", "overridden"),
    [
        (PackageManager.PIP, "uv", "uv"),  # uv installs the requirement set: it is pinned
        (PackageManager.PYPROJECT, "uv", "uv"),
        (PackageManager.PIP_TOOLS, "uv", "uv"),
        (PackageManager.NONE, "uv", "uv"),
        (PackageManager.PIP, "pip", "pip-tools"),
        (PackageManager.PIP_TOOLS, "pip", "pip-tools"),
        (PackageManager.UV, "uv", "uv"),
        (PackageManager.UV, "pip", "uv"),  # pip-tools adds the server only
        (PackageManager.POETRY, "uv", "poetry"),  # not the uv that installs Poetry
    ],
)
def test_the_version_setting_pins_the_tool_that_installs_the_dependencies(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    manager: PackageManager,
    installer: str,
    overridden: str,
) -> None:
    installed: dict[str, Any] = {}

    def record(*args: Any, **kwargs: Any) -> Any:
        spec = next(a for a in args if isinstance(a, ToolSpec))
        installed[spec.name] = spec
        return FakeTool(tmp_path / spec.name, spec.version)

    for name in ("install_uv", "install_pip_tools", "install_poetry"):
        monkeypatch.setattr(dependencies, name, record)
    monkeypatch.setattr(dependencies, "prepare_tool_cache", lambda *a, **k: tmp_path / "cache")
    ctx = replace(build_context(tmp_path), buildpack=read_descriptor(REPO))
    settings = Settings.from_env(
        {"BP_PYTHON_PACKAGE_MANAGER_VERSION": "9.9.9", "BP_PYTHON_INSTALLER": installer}
    )
    tools = Tools(ctx, python(tmp_path), settings, INDEX, INDEX, {})
    made = INSTALLERS[manager](tools)
    if isinstance(made, NoInstaller):  # its tool is installed when a server is added
        made.adder()
    assert installed[overridden].version == "9.9.9"
    assert installed[overridden].origin == "BP_PYTHON_PACKAGE_MANAGER_VERSION=9.9.9"
    assert all(s.version != "9.9.9" for n, s in installed.items() if n != overridden)
    assert tools.chosen == [installed[overridden]]


class FakeTool:
    def __init__(self, binary: Path, version: str) -> None:
        self.binary, self.version, self.mirror_plugin = binary, version, True
        self.description = f"tool {version}"
