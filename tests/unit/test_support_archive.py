"""Extracting CPython tarballs safely, with their top directory stripped."""

from __future__ import annotations

import errno
import io
import os
import stat
import tarfile
from pathlib import Path
from typing import Optional, Sequence

import pytest

from python_cnb.buildpack_error import FileSystemFault
from python_cnb.support.archive import (
    HardLinkToTopDirectory,
    SymlinkChainOutside,
    UnsafeArchive,
    _fallback_filter,
    extract,
)

Member = tuple[tarfile.TarInfo, Optional[bytes]]


def _file(name: str, data: bytes = b"", mode: int = 0o644) -> Member:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), mode
    return info, data


def _dir(name: str, mode: int = 0o755) -> Member:
    info = tarfile.TarInfo(name)
    info.type, info.mode = tarfile.DIRTYPE, mode
    return info, None


def _link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> Member:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info, None


def _special(name: str, kind: bytes) -> Member:
    info = tarfile.TarInfo(name)
    info.type = kind
    return info, None


def _tar(path: Path, members: Sequence[Member], mode: str = "w:gz") -> Path:
    with tarfile.open(path, mode) as tar:  # type: ignore[call-overload]
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def _tree(root: Path) -> dict[str, str]:
    """Every path under ``root``: file contents, ``-> target`` for links, ``/`` for dirs."""
    tree = {}
    for path in sorted(root.rglob("*")):
        name = path.relative_to(root).as_posix()
        if path.is_symlink():
            tree[name] = f"-> {os.readlink(path)}"
        elif path.is_dir():
            tree[name] = "/"
        else:
            tree[name] = path.read_text(encoding="utf-8")
    return tree


@pytest.fixture(params=["data_filter", "fallback"])
def filtering(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run each test with the stdlib data filter and with the fallback for old interpreters."""
    if request.param == "fallback":
        monkeypatch.delattr(tarfile, "data_filter")
    return str(request.param)


PYTHON = [
    _dir("python/"),
    _dir("python/bin"),
    _file("python/bin/python3.12", b"ELF", 0o755),
    _link("python/bin/python3", "python3.12"),
    _link("python/bin/python", "./python3"),
    _dir("python/lib/python3.12"),
    _file("python/lib/python3.12/os.py", b"import abc"),
    _link("python/lib/libpython3.so", "python3.12/../../bin/python3.12"),
    _file("python/include/python3.12/Python.h", b"#pragma once"),
]


@pytest.mark.parametrize("compression", ["w:gz", "w:xz", "w:bz2", "w"])
def test_strip_components(tmp_path: Path, filtering: str, compression: str) -> None:
    archive = _tar(tmp_path / "cpython.tar", PYTHON, compression)
    destination = tmp_path / "layer"
    extract(archive, destination, strip_components=1)
    assert _tree(destination) == {
        "bin": "/",
        "bin/python": "-> ./python3",
        "bin/python3": "-> python3.12",
        "bin/python3.12": "ELF",
        "include": "/",
        "include/python3.12": "/",
        "include/python3.12/Python.h": "#pragma once",
        "lib": "/",
        "lib/libpython3.so": "-> python3.12/../../bin/python3.12",
        "lib/python3.12": "/",
        "lib/python3.12/os.py": "import abc",
    }
    assert (destination / "bin" / "python").read_text(encoding="utf-8") == "ELF"
    assert stat.S_IMODE((destination / "bin" / "python3.12").stat().st_mode) == 0o755
    assert stat.S_IMODE((destination / "lib/python3.12/os.py").stat().st_mode) == 0o644


def test_no_stripping(tmp_path: Path, filtering: str) -> None:
    archive = _tar(tmp_path / "a.tgz", [_file("python/bin/x", b"1"), _file("top.txt", b"2")])
    extract(archive, tmp_path / "out")
    assert _tree(tmp_path / "out") == {
        "python": "/",
        "python/bin": "/",
        "python/bin/x": "1",
        "top.txt": "2",
    }


def test_extracts_into_an_existing_destination(tmp_path: Path, filtering: str) -> None:
    destination = tmp_path / "layer"
    (destination / "bin").mkdir(parents=True)
    (destination / "keep").write_text("k", encoding="utf-8")
    extract(_tar(tmp_path / "a.tgz", [_file("p/bin/x", b"1")]), destination, strip_components=1)
    assert _tree(destination) == {"bin": "/", "bin/x": "1", "keep": "k"}


def test_members_that_are_only_the_top_directory_are_skipped(
    tmp_path: Path, filtering: str
) -> None:
    members = [_dir("python"), _dir("python/"), _dir("./python/"), _file("python/x", b"1")]
    archive = _tar(tmp_path / "a.tgz", members)
    extract(archive, tmp_path / "out", strip_components=1)
    assert _tree(tmp_path / "out") == {"x": "1"}
    extract(archive, tmp_path / "two", strip_components=2)
    assert _tree(tmp_path / "two") == {}


def test_missing_parent_directories_are_created(tmp_path: Path, filtering: str) -> None:
    archive = _tar(
        tmp_path / "a.tgz",
        [
            _file("python/lib/python3.12/encodings/utf_8.py", b"u"),
            _link("python/share/man/man1/python3.1", "python3.12.1"),
        ],
    )
    extract(archive, tmp_path / "out", strip_components=1)
    assert _tree(tmp_path / "out") == {
        "lib": "/",
        "lib/python3.12": "/",
        "lib/python3.12/encodings": "/",
        "lib/python3.12/encodings/utf_8.py": "u",
        "share": "/",
        "share/man": "/",
        "share/man/man1": "/",
        "share/man/man1/python3.1": "-> python3.12.1",
    }


def test_hard_links_get_stripped_targets(tmp_path: Path, filtering: str) -> None:
    archive = _tar(
        tmp_path / "a.tgz",
        [
            _file("python/bin/python3.12", b"ELF", 0o755),
            _link("python/bin/python3", "python/bin/python3.12", tarfile.LNKTYPE),
        ],
    )
    destination = tmp_path / "out"
    extract(archive, destination, strip_components=1)
    original, linked = destination / "bin/python3.12", destination / "bin/python3"
    assert linked.read_text(encoding="utf-8") == "ELF"
    assert not linked.is_symlink()
    assert original.stat().st_ino == linked.stat().st_ino


def test_hard_link_to_the_top_directory(tmp_path: Path, filtering: str) -> None:
    archive = _tar(
        tmp_path / "a.tgz", [_file("python/x", b"1"), _link("python/y", "python", tarfile.LNKTYPE)]
    )
    with pytest.raises(UnsafeArchive) as caught:
        extract(archive, tmp_path / "out", strip_components=1)
    error = caught.value
    assert (error.archive, error.member) == (str(archive), "y")
    assert error.problem == HardLinkToTopDirectory()


@pytest.mark.parametrize(
    ("members", "strip", "member"),
    [
        ([_file("/etc/passwd", b"x")], 0, "/etc/passwd"),
        ([_file("/python/bin/x", b"x")], 1, "/python/bin/x"),
        ([_file("python/../../etc/passwd", b"x")], 1, "../../etc/passwd"),
        ([_file("../x", b"x")], 0, "../x"),
        ([_file("python/bin/../../../x", b"x")], 1, "bin/../../../x"),
        ([_link("python/etc", "../../etc")], 1, "etc"),
        ([_link("python/bin/sh", "/bin/sh")], 1, "bin/sh"),
        ([_link("python/lib/x", "../../../x")], 1, "lib/x"),
        ([_link("python/x", "/etc/passwd", tarfile.LNKTYPE)], 1, "python/x"),
        ([_link("python/x", "python/../../../etc/passwd", tarfile.LNKTYPE)], 1, "x"),
        ([_special("python/null", tarfile.CHRTYPE)], 1, "null"),
        ([_special("python/sda", tarfile.BLKTYPE)], 1, "sda"),
        ([_special("python/pipe", tarfile.FIFOTYPE)], 1, "pipe"),
    ],
)
def test_unsafe_members(
    tmp_path: Path, filtering: str, members: list[Member], strip: int, member: str
) -> None:
    archive = _tar(tmp_path / "a.tgz", [_file("python/ok", b"1"), *members])
    destination = tmp_path / "root" / "out"
    with pytest.raises(UnsafeArchive) as caught:
        extract(archive, destination, strip_components=strip)
    assert (caught.value.archive, caught.value.member) == (str(archive), member)
    assert caught.value.problem
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a.tgz", "root"]
    assert [path.name for path in (tmp_path / "root").iterdir()] == ["out"]


def test_setuid_and_group_write_bits_are_cleared(tmp_path: Path, filtering: str) -> None:
    archive = _tar(
        tmp_path / "a.tgz",
        [
            _file("python/bin/su", b"x", 0o4755),
            _file("python/bin/sg", b"x", 0o2775),
            _file("python/bin/sticky", b"x", 0o1777),
        ],
    )
    destination = tmp_path / "out"
    extract(archive, destination, strip_components=1)
    for name in ("su", "sg", "sticky"):
        assert stat.S_IMODE((destination / "bin" / name).stat().st_mode) == 0o755


def _info(
    name: str, kind: bytes = tarfile.REGTYPE, linkname: str = "", mode: int = 0o644
) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode = kind, linkname, mode
    return info


@pytest.mark.parametrize(
    ("info", "mode"),
    [
        (_info("bin/python3", mode=0o4755), 0o755),
        (_info("lib", tarfile.DIRTYPE, mode=0o2777), 0o755),
        (_info("bin/python", tarfile.SYMTYPE, "python3"), 0o644),
        (_info("lib/libpython3.so", tarfile.SYMTYPE, "../bin/python3"), 0o644),
        (_info("a/b/c", tarfile.SYMTYPE, "../.."), 0o644),
        (_info("bin/python3.12", tarfile.LNKTYPE, "bin/python3"), 0o644),
    ],
)
def test_fallback_filter_accepts(tmp_path: Path, info: tarfile.TarInfo, mode: int) -> None:
    assert _fallback_filter(info, str(tmp_path)) is info
    assert info.mode == mode


@pytest.mark.parametrize(
    ("info", "message"),
    [
        (_info("/etc/passwd"), "'/etc/passwd' would be outside the destination"),
        (_info("../x"), "'../x' would be outside the destination"),
        (_info("a/../../x"), "'a/../../x' would be outside the destination"),
        (_info("."), "'.' would be outside the destination"),
        (_info("dev/null", tarfile.CHRTYPE), "'dev/null' is a device or a pipe"),
        (_info("dev/sda", tarfile.BLKTYPE), "'dev/sda' is a device or a pipe"),
        (_info("pipe", tarfile.FIFOTYPE), "'pipe' is a device or a pipe"),
        (_info("sh", tarfile.SYMTYPE, "/bin/sh"), "'sh' links outside the destination"),
        (_info("a/up", tarfile.SYMTYPE, "../../x"), "'a/up' links outside the destination"),
        (_info("h", tarfile.LNKTYPE, "/etc/passwd"), "'h' links outside the destination"),
        (_info("h", tarfile.LNKTYPE, "../etc/passwd"), "'h' links outside the destination"),
        (_info("a/h", tarfile.LNKTYPE, "a/../../x"), "'a/h' links outside the destination"),
    ],
)
def test_fallback_filter_refuses(tmp_path: Path, info: tarfile.TarInfo, message: str) -> None:
    destination = tmp_path / "out"
    destination.mkdir()
    with pytest.raises(tarfile.TarError) as caught:
        _fallback_filter(info, str(destination))
    assert str(caught.value) == message


def _chain(order: str) -> list[Member]:
    """LOW-4's chain: `a/link` resolves inside while `k1/k2/k3/q` does not exist; then
    `q -> ../../..` (the destination itself, allowed) sends `a/link` four levels up."""
    link = _link("a/link", "../k1/k2/k3/q/../../../../outside")
    q = _link("k1/k2/k3/q", "../../..")
    dirs = [_dir("a"), _dir("k1"), _dir("k1/k2"), _dir("k1/k2/k3")]
    return [*dirs, link, q] if order == "link first" else [*dirs, q, link]


@pytest.mark.parametrize("order", ["link first", "q first"])
def test_link_chains_out_of_the_destination_are_refused(
    tmp_path: Path, filtering: str, order: str
) -> None:
    """The stdlib filter checks each member against the tree as it is at that moment."""
    destination = tmp_path / "p1" / "p2" / "p3" / "dest"
    (tmp_path / "outside").mkdir()
    archive = _tar(tmp_path / "chain.tar.gz", _chain(order))
    with pytest.raises(UnsafeArchive) as caught:
        extract(archive, destination)
    assert caught.value.member == "a/link"
    if order == "link first":
        assert caught.value.problem == SymlinkChainOutside()
    assert list((tmp_path / "outside").iterdir()) == []


def test_links_that_stay_inside_after_a_chain_are_kept(tmp_path: Path, filtering: str) -> None:
    members = [_dir("k1"), _dir("k1/k2"), _link("a", "k1/q/../k2"), _link("k1/q", "k2")]
    extract(_tar(tmp_path / "ok.tar.gz", members), tmp_path / "dest")
    assert os.path.realpath(tmp_path / "dest" / "a") == str(
        (tmp_path / "dest" / "k1" / "k2").resolve()
    )


def test_a_full_disk_during_extraction_names_the_destination(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MEDIUM-4: ENOSPC in the extraction was an internal error with a traceback."""

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tarfile.TarFile, "makefile", full)
    archive = _tar(tmp_path / "python.tar.gz", PYTHON)
    with pytest.raises(FileSystemFault) as caught:
        extract(archive, tmp_path / "dest", strip_components=1)
    fault = caught.value
    assert (fault.path, fault.doing, fault.errno, fault.reason) == (
        str(tmp_path / "dest"),
        "extract python.tar.gz into",
        errno.ENOSPC,
        "No space left on device",
    )
