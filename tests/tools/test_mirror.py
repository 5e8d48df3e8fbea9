"""Tests for tools.mirror: pyenv CPythons packed like python-build-standalone install_only."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import tomllib
from tests.support.contexts import pyenv_root

from tools import mirror

PYENV_ROOT = pyenv_root()
PYENV_PREFIX = bytes(PYENV_ROOT)


def _source_312() -> Path:
    found = (PYENV_ROOT / "versions").glob("3.12.*")
    candidates = sorted(
        (p for p in found if re.fullmatch(r"3\.12\.\d+", p.name)),
        key=lambda p: int(p.name.rsplit(".", 1)[1]),
    )
    if not candidates:
        pytest.skip(f"no pyenv CPython 3.12 under {PYENV_ROOT / 'versions'}")
    return candidates[-1]


@pytest.fixture(scope="module")
def source() -> Path:
    """The newest pyenv 3.12 installation."""
    return _source_312()


@pytest.fixture(scope="module")
def packed(source: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3.12 packed once for the whole module."""
    return mirror.pack_version(source, tmp_path_factory.mktemp("mirror"))


@pytest.fixture(scope="module")
def members(packed: Path) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(packed, "r:gz") as tar:
        return {m.name: m for m in tar.getmembers()}


def _xy(source: Path) -> str:
    return ".".join(source.name.split(".")[:2])


def _run(argv: list[str | Path], cwd: Path) -> str:
    proc = subprocess.run(
        [str(a) for a in argv],
        capture_output=True,
        text=True,
        env=mirror.clean_env(),
        cwd=cwd,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


# ---------------------------------------------------------------------------------------------
# Pure helpers


def test_replace_prefix_respects_path_boundaries() -> None:
    old = "/root/.pyenv/versions/3.12.1"
    data = (
        b"prefix=/root/.pyenv/versions/3.12.1\n"
        b"'LIBDIR': '/root/.pyenv/versions/3.12.1/lib',\n"
        b"other=/root/.pyenv/versions/3.12.10/lib /root/.pyenv/versions/3.12.1-dev\n"
    )
    assert mirror.replace_prefix(data, old, "/install") == (
        b"prefix=/install\n"
        b"'LIBDIR': '/install/lib',\n"
        b"other=/root/.pyenv/versions/3.12.10/lib /root/.pyenv/versions/3.12.1-dev\n"
    )


def test_resolve_version_picks_newest_patch(tmp_path: Path) -> None:
    for name in ("3.12.1", "3.12.10", "3.12.9", "3.11.7", "3.13.0t", "system"):
        (tmp_path / "versions" / name).mkdir(parents=True)
    assert mirror.resolve_version("3.12", tmp_path).name == "3.12.10"
    assert mirror.resolve_version("3.12.1", tmp_path).name == "3.12.1"
    assert mirror.resolve_version("3.11", tmp_path).name == "3.11.7"
    with pytest.raises(mirror.MirrorError, match=r"no pyenv CPython 3\.13"):
        mirror.resolve_version("3.13", tmp_path)
    with pytest.raises(mirror.MirrorError, match=r"not X\.Y"):
        mirror.resolve_version("3", tmp_path)


# ---------------------------------------------------------------------------------------------
# The archive


def test_archive_name(packed: Path, source: Path) -> None:
    triple = mirror.host_arch()[1]
    assert packed.name == f"cpython-{source.name}+pyenv-{triple}-install_only_stripped.tar.gz"


def test_layout(members: dict[str, tarfile.TarInfo], source: Path) -> None:
    xy = _xy(source)
    names = list(members)
    assert names == sorted(names)
    assert all(n.startswith("python/") for n in names)
    for info in members.values():
        assert info.isfile() or info.issym(), f"{info.name} is not a file or symlink"
        assert info.mtime == mirror.EPOCH
        assert (info.uid, info.gid, info.uname, info.gname) == (0, 0, "", "")
        if info.isfile():
            assert info.mode in {0o644, 0o755}, f"{info.name}: {oct(info.mode)}"

    bin_names = {n.removeprefix("python/bin/") for n in names if n.startswith("python/bin/")}
    assert bin_names == {
        "2to3",
        "2to3-3.12",
        "idle3",
        f"idle{xy}",
        "pip",
        "pip3",
        f"pip{xy}",
        "pydoc3",
        f"pydoc{xy}",
        "python",
        "python3",
        "python3-config",
        f"python{xy}",
        f"python{xy}-config",
    }
    assert members[f"python/bin/python{xy}"].isfile()
    assert members[f"python/bin/python{xy}"].mode == 0o755
    for link, target in (
        ("python3", f"python{xy}"),
        ("python", f"python{xy}"),
        ("python3-config", f"python{xy}-config"),
    ):
        info = members[f"python/bin/{link}"]
        assert info.issym()
        assert info.linkname == target

    lib = f"python/lib/python{xy}"
    assert f"python/lib/libpython{xy}.so.1.0" in members
    assert members[f"python/lib/libpython{xy}.so"].linkname == f"libpython{xy}.so.1.0"
    assert f"{lib}/os.py" in members
    assert any(n.startswith(f"python/include/python{xy}/Python.h") for n in names)
    assert any(n.startswith("python/lib/pkgconfig/") for n in names)

    site_top = {
        n[len(f"{lib}/site-packages/") :].split("/")[0]
        for n in names
        if n.startswith(f"{lib}/site-packages/")
    }
    assert "pip" in site_top
    assert site_top <= {"README.txt", "pip"} | {t for t in site_top if t.startswith("pip-")}
    assert not any(n.endswith((".pyc", ".pyo")) or "/__pycache__/" in n for n in names)
    assert not any(n.endswith(".a") for n in names)
    for test_dir in ("test", "idlelib/idle_test", "tkinter/test", "unittest/test", "ctypes/test"):
        assert not any(n.startswith(f"{lib}/{test_dir}/") for n in names), test_dir
    assert f"{lib}/unittest/__init__.py" in members
    assert f"{lib}/ensurepip/__init__.py" in members


def test_no_text_file_mentions_pyenv(packed: Path) -> None:
    with tarfile.open(packed, "r:gz") as tar:
        for info in tar:
            if info.isfile():
                f = tar.extractfile(info)
                assert f is not None
                data = f.read()
                if not data.startswith(b"\x7fELF"):
                    assert PYENV_PREFIX not in data, info.name


def test_binaries_are_not_corrupted(packed: Path, source: Path, tmp_path: Path) -> None:
    """sys.version shares bytes with the compiled-in prefix: the ELF files stay intact."""
    xy = _xy(source)
    home = mirror.extract(packed, tmp_path / "relocated")
    code = "import sys; print(sys.version)"
    relocated = subprocess.run(
        [str(home / "bin" / f"python{xy}"), "-I", "-c", code],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    original = subprocess.run(
        [str(source / "bin" / f"python{xy}"), "-I", "-c", code],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert relocated == original


def test_scripts_use_trampoline(packed: Path, source: Path) -> None:
    xy = _xy(source)
    with tarfile.open(packed, "r:gz") as tar:
        f = tar.extractfile(f"python/bin/pip{xy}")
        assert f is not None
        head = f.read().decode().splitlines()[:3]
    assert head[0] == "#!/bin/sh"
    assert f"'python{xy}'" in head[1]
    assert head[2] == "' '''"


def test_build_prefix_is_install(packed: Path, source: Path) -> None:
    xy = _xy(source)
    config = rf"python/lib/python{xy}/config-{xy}[^/]*"
    with tarfile.open(packed, "r:gz") as tar:
        texts = {}
        for info in tar:
            name = info.name
            if info.isfile() and (
                re.fullmatch(rf"python/lib/python{xy}/_sysconfigdata_.*\.py", name)
                or re.fullmatch(rf"{config}/(Makefile|python-config\.py)", name)
                or name.startswith("python/lib/pkgconfig/")
                or name == f"python/bin/python{xy}-config"
            ):
                f = tar.extractfile(info)
                assert f is not None
                texts[name] = f.read().decode()
    assert any("_sysconfigdata_" in n for n in texts)
    assert any(n.endswith("/Makefile") for n in texts)
    assert any(n.endswith(".pc") for n in texts)
    assert f"python/bin/python{xy}-config" in texts
    for name, text in texts.items():
        assert str(PYENV_ROOT) not in text, name
    sysconfigdata = next(t for n, t in texts.items() if "_sysconfigdata_" in n)
    assert "'prefix': '/install'" in sysconfigdata
    assert "'LIBDIR': '/install/lib'" in sysconfigdata
    pc = next(t for n, t in texts.items() if n.endswith(f"python-{xy}.pc"))
    assert "prefix=/install\n" in pc


def test_deterministic(packed: Path, source: Path, tmp_path: Path) -> None:
    again = mirror.pack_version(source, tmp_path)
    assert again.name == packed.name
    assert mirror.sha256_file(again) == mirror.sha256_file(packed)


def test_gzip_header_is_normalised(packed: Path) -> None:
    header = packed.read_bytes()[:10]
    assert header[:2] == b"\x1f\x8b"
    assert header[3] & 0x08 == 0  # FNAME flag: no embedded file name
    assert header[4:8] == b"\0\0\0\0"  # mtime 0


# ---------------------------------------------------------------------------------------------
# Relocation


def _check_runs_from(root: Path, xy: str) -> None:
    root = root.resolve()
    out = _run([root / "bin" / "python3", "-I", "-c", mirror.VERIFY_CODE], cwd=root)
    info = json.loads(out)
    assert info["prefix"] == str(root)
    assert info["base_prefix"] == str(root)
    assert info["stdlib"] == str(root / "lib" / f"python{xy}")
    assert info["openssl"]
    pip = _run([root / "bin" / "python3", "-m", "pip", "--version"], cwd=root)
    assert str(root / "lib" / f"python{xy}" / "site-packages" / "pip") in pip
    pip = _run([root / "bin" / "pip3", "--version"], cwd=root)
    assert str(root / "lib" / f"python{xy}" / "site-packages" / "pip") in pip
    assert f"(python {xy})" in pip
    pip = _run([root / "bin" / "pip", "--version"], cwd=root)  # symlink to pip3.X
    assert str(root) in pip


def _rpaths(root: Path) -> dict[str, str]:
    patchelf = mirror._tool("patchelf")
    found = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink() and mirror._is_linked_elf(path):
            proc = subprocess.run(
                [patchelf, "--print-rpath", str(path)], capture_output=True, text=True, check=True
            )
            found[str(path.relative_to(root))] = proc.stdout.strip()
    return found


def test_relocation(packed: Path, source: Path, tmp_path: Path) -> None:
    xy = _xy(source)
    first = mirror.extract(packed, tmp_path / "first place")
    second = mirror.extract(packed, tmp_path / "b" / "second")
    _check_runs_from(first, xy)
    _check_runs_from(second, xy)
    moved = tmp_path / "moved-after-extraction"
    first.rename(moved)
    _check_runs_from(moved, xy)

    rpaths = _rpaths(second)
    assert rpaths[f"bin/python{xy}"] == "$ORIGIN/../lib"
    assert any("lib-dynload" in name for name in rpaths)
    for name, rpath in rpaths.items():
        assert str(PYENV_ROOT) not in rpath, name
        if name != f"bin/python{xy}":
            assert rpath == "", name
    assert (
        str(PYENV_ROOT)
        not in subprocess.run(
            ["readelf", "-d", str(second / "lib" / f"libpython{xy}.so.1.0")],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )


def test_venv_from_relocated(packed: Path, tmp_path: Path) -> None:
    root = mirror.extract(packed, tmp_path / "py").resolve()
    _run([root / "bin" / "python3", "-m", "venv", "--without-pip", tmp_path / "venv"], cwd=tmp_path)
    out = _run(
        [tmp_path / "venv" / "bin" / "python", "-c", "import sys; print(sys.base_prefix)"],
        cwd=tmp_path,
    )
    assert out.strip() == str(root)


def test_verify(packed: Path, tmp_path: Path) -> None:
    mirror.verify(packed, tmp_path)


def test_verify_rejects_broken_archive(tmp_path: Path) -> None:
    broken = tmp_path / "cpython-3.12.1+pyenv-x86_64-unknown-linux-gnu-install_only_stripped.tar.gz"
    script = tmp_path / "python3"
    script.write_text("#!/bin/sh\nexit 3\n")
    script.chmod(0o755)
    with tarfile.open(broken, "w:gz") as tar:
        tar.add(script, arcname="python/bin/python3")
    with pytest.raises(mirror.MirrorError, match="exited with 3"):
        mirror.verify(broken, tmp_path / "work")


# ---------------------------------------------------------------------------------------------
# Manifest and the cached pipeline


def test_manifest(packed: Path, source: Path) -> None:
    manifest = mirror.write_manifest(packed.parent)
    assert manifest == packed.parent / "manifest.toml"
    data = tomllib.loads(manifest.read_text())
    (entry,) = data["dependencies"]
    digest = hashlib.sha256(packed.read_bytes()).hexdigest()
    assert entry == {
        "id": "cpython",
        "name": "CPython",
        "version": source.name,
        "uri": packed.name,
        "checksum": f"sha256:{digest}",
        "arch": mirror.host_arch()[0],
        "os": "linux",
        "stacks": ["*"],
        "purl": f"pkg:generic/cpython@{source.name}?checksum=sha256:{digest}",
        "cpe": f"cpe:2.3:a:python:python:{source.name}:*:*:*:*:*:*:*",
        "licenses": ["PSF-2.0"],
        "source": f"pyenv {source}",
    }
    assert (manifest.parent / entry["uri"]).is_file()


def test_manifest_sorted_by_version(tmp_path: Path) -> None:
    triple = mirror.host_arch()[1]
    for version in ("3.12.10", "3.9.18", "3.12.9", "3.13.0"):
        (tmp_path / mirror.archive_name(version, triple)).write_bytes(version.encode())
    (tmp_path / "unrelated.tar.gz").write_bytes(b"")
    data = tomllib.loads(mirror.write_manifest(tmp_path).read_text())
    assert [d["version"] for d in data["dependencies"]] == ["3.9.18", "3.12.9", "3.12.10", "3.13.0"]
    assert data["dependencies"][0]["source"] == "pyenv"


def test_mirror_skips_up_to_date(packed: Path, source: Path) -> None:
    before = packed.stat().st_mtime_ns
    logged: list[str] = []
    manifest = mirror.mirror([_xy(source)], packed.parent, source.parent.parent, log=logged.append)
    assert packed.stat().st_mtime_ns == before
    assert any("up to date" in line for line in logged)
    assert manifest == packed.parent / "manifest.toml"
    assert tomllib.loads(manifest.read_text())["dependencies"][0]["uri"] == packed.name


def test_mirror_repacks_on_new_identity(packed: Path, source: Path) -> None:
    stamp = packed.with_name(packed.name + ".stamp")
    original = stamp.read_text()
    stale = json.loads(original)
    stale["format"] = -1
    stamp.write_text(json.dumps(stale))
    try:
        logged: list[str] = []
        mirror.mirror([source.name], packed.parent, source.parent.parent, log=logged.append)
        assert any("packed" in line for line in logged)
        assert stamp.read_text() == original
    finally:
        stamp.write_text(original)


def test_cli_help() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "tools.mirror", "--help"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert proc.returncode == 0
    assert "--verify" in proc.stdout


# ---------------------------------------------------------------------------------------------
# Stand-ins for the other architecture (no real aarch64 CPython can be had on this machine)


def _elf_machine(data: bytes) -> int:
    return int.from_bytes(data[18:20], "little" if data[5] == 1 else "big")


def test_stand_in_rewrites_every_elf_machine_and_nothing_else(packed: Path, tmp_path: Path) -> None:
    """The arm64 stand-in is the x86-64 archive with e_machine = AArch64 (183) in every ELF
    header, byte for byte otherwise. It is never run (it cannot be)."""
    if mirror.host_arch()[0] != "amd64":
        pytest.skip("the stand-in is checked from an x86-64 archive")
    stand_in = mirror.pack_stand_in(packed, tmp_path, "arm64")
    version = packed.name.split("-")[1].split("+")[0]
    assert stand_in.name == (
        f"cpython-{version}+standin-aarch64-unknown-linux-gnu-install_only_stripped.tar.gz"
    )
    with tarfile.open(packed, "r:gz") as real, tarfile.open(stand_in, "r:gz") as fake:
        real_members, fake_members = real.getmembers(), fake.getmembers()
        assert [m.get_info() for m in fake_members] == [m.get_info() for m in real_members]
        elves = 0
        for original, changed in zip(real_members, fake_members):
            if not original.isfile():
                continue
            before = real.extractfile(original).read()  # type: ignore[union-attr]
            after = fake.extractfile(changed).read()  # type: ignore[union-attr]
            if before[:4] == b"\x7fELF":
                elves += 1
                assert _elf_machine(before) == 62, original.name
                assert _elf_machine(after) == 183, changed.name
                assert after[:18] == before[:18] and after[20:] == before[20:]
            else:
                assert after == before, changed.name
    assert elves > 10  # the interpreter, libpython, every extension module
    again = mirror.pack_stand_in(packed, tmp_path / "again", "arm64")
    assert mirror.sha256_file(again) == mirror.sha256_file(stand_in)

    data = tomllib.loads(mirror.write_manifest(tmp_path).read_text())
    (entry,) = data["dependencies"]
    assert (entry["arch"], entry["version"], entry["uri"]) == ("arm64", version, stand_in.name)
    assert entry["checksum"] == f"sha256:{mirror.sha256_file(stand_in)}"
    assert entry["source"].startswith("STAND-IN, not a real aarch64-unknown-linux-gnu build")
    assert packed.name in entry["source"]


def test_mirror_publishes_a_stand_in_for_the_newest_version(
    packed: Path, source: Path, tmp_path: Path
) -> None:
    for path in (packed, packed.with_name(packed.name + ".stamp")):
        shutil.copy2(path, tmp_path / path.name)
    logged: list[str] = []
    manifest = mirror.mirror([_xy(source)], tmp_path, source.parent.parent, log=logged.append)
    entries = tomllib.loads(manifest.read_text())["dependencies"]
    assert [(e["version"], e["arch"]) for e in entries] == [
        (source.name, "amd64"),
        (source.name, "arm64"),
    ]
    assert entries[1]["source"].startswith("STAND-IN")
    assert any("STAND-IN" in line for line in logged)
    logged.clear()
    mirror.mirror([_xy(source)], tmp_path, source.parent.parent, log=logged.append)
    assert any("stand-in up to date" in line for line in logged)
