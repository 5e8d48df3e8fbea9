"""The venv layer: its keep/sync/rebuild/discard decisions (against a real venv made by the
interpreter running the tests), files that belong to no installed distribution, and uv's
install stamp."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from python_cnb import output
from python_cnb.cnb import toml_file
from python_cnb.cnb.buildpack_toml import BuildpackDescriptor
from python_cnb.cnb.context import BuildContext, Target
from python_cnb.cnb.plan import BuildpackPlan
from python_cnb.layers import venv as venv_layer
from python_cnb.layers.manifest import MANIFEST_NAME, write_manifest
from python_cnb.layers.python import InstalledPython
from python_cnb.layers.venv import (
    LAYOUT,
    VenvState,
    _drop_uv_cache_info,
    drop_url_credentials,
    files_outside_records,
    finish_venv,
    prepare_venv,
    venv_path,
    venv_python,
)
from python_cnb.python.distributions import Distribution
from python_cnb.python.layout import PythonLayout
from python_cnb.python.version import PythonVersion
from tests.support.wheels import make_wheel, sha256_of

SITE = "lib/python3.12/site-packages"


def install(venv: Path, wheel: Path) -> None:
    """Unpack a wheel into site-packages, as an installer does (RECORD included)."""
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(venv / SITE)


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    root = tmp_path / "venv"
    (root / "bin").mkdir(parents=True)
    (root / SITE).mkdir(parents=True)
    (root / "pyvenv.cfg").write_text("home = /layers/python/bin\n")
    (root / ".lock").write_text("")
    (root / "lib64").symlink_to("lib")
    for name in ("python", "python3", "python3.12"):
        (root / "bin" / name).symlink_to("/layers/python/bin/python3.12")
    for name in ("activate", "activate.csh", "activate.fish", "Activate.ps1"):
        (root / "bin" / name).write_text("")
    install(root, make_wheel(tmp_path / "wheels", "tinypkg", "1.0"))
    (root / SITE / "tinypkg" / "__pycache__").mkdir()
    (root / SITE / "tinypkg" / "__pycache__" / "__init__.cpython-312.pyc").write_bytes(b"pyc")
    return root


def test_a_clean_venv_has_nothing_outside_the_records(venv: Path) -> None:
    assert files_outside_records(venv) == []


def test_a_planted_pth_belongs_to_no_package(venv: Path) -> None:
    (venv / SITE / "zzz_evil.pth").write_text("import os\n")
    assert files_outside_records(venv) == [f"{SITE}/zzz_evil.pth"]


def test_what_an_uninstall_leaves_is_found(venv: Path) -> None:
    """Bytecode of a removed distribution's module, and a planted script."""
    (venv / SITE / "tinypkg-1.0.dist-info" / "RECORD").unlink()
    (venv / "bin" / "backdoor").write_text("#!/bin/sh\n")
    assert files_outside_records(venv) == [
        "bin/backdoor",
        f"{SITE}/tinypkg-1.0.dist-info/METADATA",
        f"{SITE}/tinypkg-1.0.dist-info/WHEEL",
        f"{SITE}/tinypkg/__init__.py",
        f"{SITE}/tinypkg/__pycache__/__init__.cpython-312.pyc",
    ]


def test_bytecode_of_an_unlisted_module_is_not_owned(venv: Path) -> None:
    (venv / SITE / "tinypkg" / "__pycache__" / "planted.cpython-312.pyc").write_bytes(b"x")
    assert files_outside_records(venv) == [f"{SITE}/tinypkg/__pycache__/planted.cpython-312.pyc"]


def test_uv_cache_info_and_its_record_line_are_dropped(venv: Path) -> None:
    dist_info = venv / SITE / "tinypkg-1.0.dist-info"
    (dist_info / "uv_cache.json").write_text('{"timestamp":{"secs_since_epoch":1}}')
    record = dist_info / "RECORD"
    before = record.read_text()
    record.write_text(before + "tinypkg-1.0.dist-info/uv_cache.json,sha256=abc,36\n")

    _drop_uv_cache_info(venv / SITE)

    assert not (dist_info / "uv_cache.json").exists()
    assert record.read_text() == before
    assert files_outside_records(venv) == []


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("git+https://bot:t0ken@host/repo", "git+https://host/repo"),
        ("https://t0ken@host/repo", "https://host/repo"),
        ("ssh://git@host/repo", "ssh://git@host/repo"),
        ("file:///srv/repo", "file:///srv/repo"),
    ],
)
def test_credentials_are_dropped_from_direct_url(venv: Path, url: str, kept: str) -> None:
    dist_info = venv / SITE / "tinypkg-1.0.dist-info"
    document = {"url": url, "vcs_info": {"vcs": "git", "commit_id": "ab" * 20}}
    (dist_info / "direct_url.json").write_text(json.dumps(document))
    record = dist_info / "RECORD"
    record.write_text(record.read_text() + "tinypkg-1.0.dist-info/direct_url.json,,\n")

    drop_url_credentials(venv / SITE)

    written = (dist_info / "direct_url.json").read_bytes()
    assert json.loads(written) == {**document, "url": kept}
    if kept != url:
        assert b"t0ken" not in written
        digest = base64.urlsafe_b64encode(hashlib.sha256(written).digest()).rstrip(b"=")
        listed = [r for r in record.read_text().splitlines() if "direct_url.json" in r]
        assert listed == [
            f"tinypkg-1.0.dist-info/direct_url.json,sha256={digest.decode()},{len(written)}"
        ]
    assert files_outside_records(venv) == []


# The decisions, against a real venv in a tmp_path layers directory.

SBOM_FORMATS = ("application/vnd.cyclonedx+json",)
VERSION = PythonVersion(*sys.version_info[:3])


def build_context(tmp_path: Path) -> BuildContext:
    (tmp_path / "app").mkdir(exist_ok=True)
    return BuildContext(
        app_dir=tmp_path / "app",
        layers_dir=tmp_path / "layers",
        platform_dir=tmp_path / "platform",
        buildpack_dir=tmp_path / "buildpack",
        plan=BuildpackPlan(),
        target=Target("linux", "amd64", distro_name="ubuntu", distro_version="24.04"),
        buildpack=BuildpackDescriptor(
            api="0.10", id="python-cnb/python", version="0.1.0", sbom_formats=SBOM_FORMATS
        ),
        env={"PATH": "/usr/bin:/bin"},
    )


@pytest.fixture(scope="module")
def interpreter(tmp_path_factory: pytest.TempPathFactory) -> InstalledPython:
    """The interpreter running the tests, laid out as the python layer lays CPython out."""
    home = tmp_path_factory.mktemp("python")
    (home / "bin").mkdir()
    (home / "bin" / f"python{VERSION.line}").symlink_to(os.path.realpath(sys.executable))
    distribution = Distribution(VERSION, "https://example.com/cpython", "1" * 64, "linux", "amd64")
    return InstalledPython(home, VERSION, distribution, reused=True)


def prepare(
    ctx: BuildContext,
    python: InstalledPython,
    *,
    installer: str = "uv 0.9.0",
    dependencies: str = "fp-a",
    package_manager: str = "pip",
    keep_cache: bool = True,
    always_update: tuple[str, ...] = (),
) -> VenvState:
    return prepare_venv(
        ctx,
        python,
        installer=installer,
        package_manager=package_manager,
        dependencies=dependencies,
        keep_cache=keep_cache,
        explain=lambda previous: [f"The dependencies changed from {previous}"],
        always_update=always_update,
    )


def built(ctx: BuildContext, python: InstalledPython, capsys: pytest.CaptureFixture[str]) -> Path:
    """A venv built and finished by a previous build, as the restorer leaves it."""
    state = prepare(ctx, python)
    add_distribution(state.site_packages, "tinypkg")
    finish_venv(state, {}, SBOM_FORMATS)
    capsys.readouterr()
    return state.path


def add_distribution(site_packages: Path, name: str) -> None:
    """A distribution with its RECORD, as an installer leaves it."""
    (site_packages / name).mkdir()
    (site_packages / name / "__init__.py").write_text("x = 1\n", encoding="utf-8")
    info = site_packages / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Name: {name}\nVersion: 1.0\n", encoding="utf-8")
    (info / "RECORD").write_text(
        f"{name}/__init__.py,,\n{info.name}/METADATA,,\n{info.name}/RECORD,,\n",
        encoding="utf-8",
    )


def metadata_of(ctx: BuildContext) -> Any:
    return toml_file.read(ctx.layers_dir / "venv.toml")["metadata"]


def test_the_layer_owns_its_path(tmp_path: Path) -> None:
    assert venv_path(tmp_path) == tmp_path / "venv"
    assert venv_python(tmp_path) == tmp_path / "venv" / "bin" / "python"


def test_a_first_build_creates_the_venv(
    tmp_path: Path, interpreter: InstalledPython, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = build_context(tmp_path)
    state = prepare(ctx, interpreter)
    assert capsys.readouterr().out == "Creating virtual environment\n"
    assert (state.fresh, state.up_to_date) == (True, False)
    assert state.path == venv_path(ctx.layers_dir)
    assert state.python.is_file()
    assert state.site_packages.is_dir()
    assert not (state.path / "bin" / "pip").exists()  # nothing but the app's packages
    assert not state.layer.toml_path.exists()  # not complete until finish_venv


def test_finishing_writes_the_metadata_from_typed_inputs_and_the_sbom(
    tmp_path: Path, interpreter: InstalledPython, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = build_context(tmp_path)
    path = built(ctx, interpreter, capsys)
    assert metadata_of(ctx) == {
        "python_version": str(VERSION),
        "python_checksum": "1" * 64,
        "os": "linux",
        "arch": "amd64",
        "distro_name": "ubuntu",
        "distro_version": "24.04",
        "installer": "uv 0.9.0",
        "layout": LAYOUT,
        "package_manager": "pip",
        "dependencies": "fp-a",
        "contents": sha256_of(path / MANIFEST_NAME),
    }
    assert (path / "env" / "VIRTUAL_ENV.override").read_text() == str(path)
    sbom = json.loads((ctx.layers_dir / "venv.sbom.cdx.json").read_text(encoding="utf-8"))
    assert [component["name"] for component in sbom["components"]] == ["tinypkg"]


def test_unchanged_dependencies_keep_the_venv_untouched(
    tmp_path: Path, interpreter: InstalledPython, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = build_context(tmp_path)
    built(ctx, interpreter, capsys)
    contents = metadata_of(ctx)["contents"]
    state = prepare(ctx, interpreter)
    assert capsys.readouterr().out == "Using cached virtualenv (dependencies unchanged)\n"
    assert (state.fresh, state.up_to_date) == (False, True)
    assert state.verified == contents  # finish_venv need not hash it all again
    assert (state.site_packages / "tinypkg" / "__init__.py").is_file()


def test_a_moving_source_syncs_unchanged_dependencies_all_the_same(
    tmp_path: Path, interpreter: InstalledPython, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = build_context(tmp_path)
    built(ctx, interpreter, capsys)
    state = prepare(ctx, interpreter, always_update=("mypkg comes from a branch",))
    assert capsys.readouterr().out == (
        "Updating cached virtualenv since:\n  - mypkg comes from a branch\n"
    )
    assert (state.fresh, state.up_to_date) == (False, False)
    assert (state.site_packages / "tinypkg" / "__init__.py").is_file()


def test_checking_a_cached_venv_shows_its_milliseconds_in_debug(
    tmp_path: Path, interpreter: InstalledPython, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = build_context(tmp_path)
    built(ctx, interpreter, capsys)
    output.configure(debug=True)
    try:
        prepare(ctx, interpreter)
    finally:
        output.configure(debug=False)
    first, *_ = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"  \(debug\) 'verify the venv layer' took \d+ ms", first), first


def test_changed_dependencies_sync_the_venv_in_place(
    tmp_path: Path, interpreter: InstalledPython, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = build_context(tmp_path)
    built(ctx, interpreter, capsys)
    state = prepare(ctx, interpreter, dependencies="fp-b")
    assert capsys.readouterr().out == (
        "Updating cached virtualenv since:\n  - The dependencies changed from fp-a\n"
    )
    assert (state.fresh, state.up_to_date) == (False, False)
    assert (state.site_packages / "tinypkg" / "__init__.py").is_file()


def test_a_changed_package_manager_syncs_and_says_so(
    tmp_path: Path, interpreter: InstalledPython, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = build_context(tmp_path)
    built(ctx, interpreter, capsys)
    state = prepare(ctx, interpreter, package_manager="pipenv")
    assert capsys.readouterr().out == (
        "Updating cached virtualenv since:\n  - The package manager changed from pip to pipenv\n"
    )
    assert (state.fresh, state.up_to_date) == (False, False)


def test_a_file_no_package_owns_rebuilds_the_venv_on_a_sync(
    tmp_path: Path, interpreter: InstalledPython, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = build_context(tmp_path)
    path = built(ctx, interpreter, capsys)
    site_packages = next(path.glob("lib/python3*/site-packages"))
    (site_packages / "stray.pth").write_text("import os\n", encoding="utf-8")
    toml_file.write_text_atomically(  # the manifest is refreshed: the venv is not damaged
        ctx.layers_dir / "venv.toml", _with_refreshed_manifest(ctx, path)
    )
    state = prepare(ctx, interpreter, dependencies="fp-b")
    relative = site_packages.relative_to(path).as_posix()
    assert capsys.readouterr().out == (
        "Rebuilding the virtualenv from scratch since:\n"
        f"  - {relative}/stray.pth belongs to no installed package\n"
    )
    assert (state.fresh, state.up_to_date) == (True, False)
    assert not (state.site_packages / "tinypkg").exists()
    assert state.python.is_file()


def _with_refreshed_manifest(ctx: BuildContext, path: Path) -> str:
    data = toml_file.read(ctx.layers_dir / "venv.toml")
    data["metadata"]["contents"] = write_manifest(path)
    return tomli_w.dumps(data)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"installer": "uv 0.10.0"}, "The installer changed from uv 0.9.0 to uv 0.10.0"),
        ({"keep_cache": False}, "A clean build was requested"),
    ],
)
def test_a_changed_key_rebuilds_the_venv(
    tmp_path: Path,
    interpreter: InstalledPython,
    capsys: pytest.CaptureFixture[str],
    change: dict[str, Any],
    reason: str,
) -> None:
    ctx = build_context(tmp_path)
    built(ctx, interpreter, capsys)
    state = prepare(ctx, interpreter, **change)
    assert capsys.readouterr().out == (
        f"Discarding cached virtualenv since:\n  - {reason}\nCreating virtual environment\n"
    )
    assert (state.fresh, state.up_to_date) == (True, False)
    assert not (state.site_packages / "tinypkg").exists()


def test_another_layout_rebuilds_the_venv(
    tmp_path: Path, interpreter: InstalledPython, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = build_context(tmp_path)
    built(ctx, interpreter, capsys)
    data = toml_file.read(ctx.layers_dir / "venv.toml")
    data["metadata"]["layout"] = "1"
    toml_file.write_text_atomically(ctx.layers_dir / "venv.toml", tomli_w.dumps(data))
    state = prepare(ctx, interpreter)
    assert capsys.readouterr().out == (
        "Discarding cached virtualenv since:\n"
        f"  - The python-cnb virtualenv layout changed from 1 to {LAYOUT}\n"
        "Creating virtual environment\n"
    )
    assert state.fresh


def test_a_damaged_venv_is_discarded(
    tmp_path: Path, interpreter: InstalledPython, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = build_context(tmp_path)
    path = built(ctx, interpreter, capsys)
    module = next(path.glob("lib/python3*/site-packages")) / "tinypkg" / "__init__.py"
    module.write_text("x = 2\n", encoding="utf-8")
    state = prepare(ctx, interpreter)
    out = capsys.readouterr().out
    assert out.startswith("Discarding cached virtualenv since:\n  - ")
    assert "tinypkg/__init__.py" in out
    assert out.endswith("Creating virtual environment\n")
    assert (state.fresh, state.up_to_date) == (True, False)
    assert not (state.site_packages / "tinypkg").exists()


def test_a_layout_bump_in_the_layer_module_rebuilds_every_cached_venv(
    tmp_path: Path,
    interpreter: InstalledPython,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ctx = build_context(tmp_path)
    built(ctx, interpreter, capsys)
    monkeypatch.setattr(venv_layer, "LAYOUT", "999")
    state = prepare(ctx, interpreter)
    assert capsys.readouterr().out == (
        "Discarding cached virtualenv since:\n"
        f"  - The python-cnb virtualenv layout changed from {LAYOUT} to 999\n"
        "Creating virtual environment\n"
    )
    assert state.fresh


def test_a_sync_drops_the_bytecode_of_removed_modules(
    tmp_path: Path, interpreter: InstalledPython, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = build_context(tmp_path)
    venv = built(ctx, interpreter, capsys)
    state = prepare(ctx, interpreter, dependencies="fp-b")
    assert (state.fresh, state.up_to_date) == (False, False)
    # What the sync leaves: it uninstalled six.py (RECORD lists no bytecode python-cnb made).
    site_packages = PythonLayout.find(venv).site_packages
    orphan = site_packages / "__pycache__" / "six.cpython-313.pyc"
    orphan.parent.mkdir()
    orphan.write_bytes(b"bytecode")
    kept = site_packages / "tinypkg" / "__pycache__" / "__init__.cpython-313.pyc"
    kept.parent.mkdir()
    kept.write_bytes(b"bytecode")
    finish_venv(state, {}, SBOM_FORMATS)
    assert not orphan.parent.exists()  # nor its directory, which held nothing else
    assert kept.is_file()  # the bytecode of a source still there
    assert files_outside_records(venv) == []
