"""Pipfile.lock to a pinned requirement set, without Pipenv."""

from __future__ import annotations

from typing import Any

import pytest

from python_cnb.app.pipfile_lock import (
    PYPI_URLS,
    InvalidPipfileLock,
    LockedSet,
    MetaNotATable,
    NotPinned,
    PackageNotATable,
    PipfileLockProblem,
    SectionNotATable,
    SourcesNotAList,
    SourceWithoutUrl,
    convert,
    is_pypi,
)

HASH_A = "sha256:" + "a" * 64
HASH_B = "sha256:" + "b" * 64


def _lines(default: dict[str, Any]) -> tuple[str, ...]:
    return convert({"default": default}).lines


def test_hashed_versions() -> None:
    locked = convert(
        {
            "default": {
                "requests": {
                    "version": "==2.32.5",
                    "extras": ["socks", "security"],
                    "markers": "python_version >= '3.9'",
                    "hashes": [HASH_A, HASH_B],
                },
                "flask": {"version": "==3.1.3", "hashes": [HASH_B], "index": "pypi"},
            },
            "develop": {"pytest": {"version": "==9.0.0"}},
        }
    )
    assert locked == LockedSet(
        (
            f"flask==3.1.3 --hash={HASH_B}",
            f"requests[security,socks]==2.32.5 ; python_version >= '3.9' --hash={HASH_A} "
            f"--hash={HASH_B}",
        ),
        hashed=True,
        sources=(),
    )
    assert locked.text() == "\n".join(locked.lines) + "\n"


def test_one_entry_without_hashes_drops_them_all() -> None:
    locked = convert(
        {
            "default": {
                "flask": {"version": "==3.1.3", "hashes": [HASH_A]},
                "six": {"version": "==1.17.0", "hashes": []},
                "click": {"version": "==8.5.1", "hashes": [HASH_B], "markers": "os_name == 'nt'"},
            }
        }
    )
    assert locked.hashed is False
    assert locked.text() == "click==8.5.1 ; os_name == 'nt'\nflask==3.1.3\nsix==1.17.0\n"
    assert "--hash" not in locked.text()


@pytest.mark.parametrize(
    ("entry", "line"),
    [
        (
            {"git": "https://github.com/org/lib.git", "ref": "0123abc"},
            "lib @ git+https://github.com/org/lib.git@0123abc",
        ),
        (
            {"git": "git+ssh://git@github.com/org/lib.git", "extras": ["x"]},
            "lib[x] @ git+ssh://git@github.com/org/lib.git",
        ),
        (
            {"git": "https://github.com/org/lib.git", "ref": "v1", "editable": True},
            "-e git+https://github.com/org/lib.git@v1#egg=lib",
        ),
        (
            {"git": "https://github.com/org/mono.git", "ref": "v1", "subdirectory": "lib"},
            "lib @ git+https://github.com/org/mono.git@v1#subdirectory=lib",
        ),
        (
            {"git": "https://github.com/org/mono.git", "subdirectory": "lib", "editable": True},
            "-e git+https://github.com/org/mono.git#egg=lib&subdirectory=lib",
        ),
        (
            {"git": "https://github.com/org/lib.git", "markers": "sys_platform == 'linux'"},
            "lib @ git+https://github.com/org/lib.git ; sys_platform == 'linux'",
        ),
        ({"hg": "https://hg.test/lib", "ref": "tip"}, "lib @ hg+https://hg.test/lib@tip"),
        ({"svn": "svn://svn.test/lib"}, "lib @ svn+svn://svn.test/lib"),
        ({"bzr": "https://bzr.test/lib"}, "lib @ bzr+https://bzr.test/lib"),
        ({"path": ".", "editable": True}, "-e ."),
        ({"path": "./libs/lib", "extras": ["x"], "editable": True}, "-e ./libs/lib[x]"),
        ({"path": "./libs/lib"}, "./libs/lib"),
        (
            {"path": "./libs/lib", "extras": ["b", "a"], "markers": "os_name == 'posix'"},
            "./libs/lib[a,b] ; os_name == 'posix'",
        ),
        (
            {"file": "https://files.test/lib-1.0-py3-none-any.whl"},
            "lib @ https://files.test/lib-1.0-py3-none-any.whl",
        ),
        (
            {"file": "https://files.test/lib-1.0.tar.gz", "markers": "os_name == 'nt'"},
            "lib @ https://files.test/lib-1.0.tar.gz ; os_name == 'nt'",
        ),
        ({"version": "===1.0"}, "lib===1.0"),
    ],
)
def test_entries(entry: dict[str, Any], line: str) -> None:
    assert _lines({"lib": entry}) == (line,)


@pytest.mark.parametrize(
    "entry",
    [
        {"git": "https://github.com/org/lib.git", "hashes": [HASH_A]},
        {"path": "./lib", "hashes": [HASH_A]},
        {"path": ".", "editable": True, "hashes": [HASH_A]},
    ],
)
def test_entries_that_cannot_be_hash_checked_make_the_set_unhashed(entry: dict[str, Any]) -> None:
    locked = convert(
        {"default": {"lib": entry, "six": {"version": "==1.17.0", "hashes": [HASH_B]}}}
    )
    assert locked.hashed is False
    assert locked.lines[1] == "six==1.17.0"


def test_file_entries_keep_their_hashes() -> None:
    locked = convert(
        {
            "default": {
                "lib": {"file": "https://files.test/lib-1.0.tar.gz", "hashes": [HASH_A]},
                "six": {"version": "==1.17.0", "hashes": [HASH_B]},
            }
        }
    )
    assert locked.hashed is True
    assert locked.lines == (
        f"lib @ https://files.test/lib-1.0.tar.gz --hash={HASH_A}",
        f"six==1.17.0 --hash={HASH_B}",
    )


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ({"version": "*"}, NotPinned("*")),
        ({"version": ">=1.0"}, NotPinned(">=1.0")),
        ({"version": "1.0"}, NotPinned("1.0")),
        ({"hashes": [HASH_A]}, NotPinned(None)),
        ({"version": 1}, NotPinned(1)),
    ],
)
def test_unpinned_versions(entry: dict[str, Any], reason: PipfileLockProblem) -> None:
    with pytest.raises(InvalidPipfileLock) as caught:
        _lines({"flask": {"version": "==3.1.3"}, "lib": entry})
    assert (caught.value.package, caught.value.problem) == ("lib", reason)


def test_entries_that_are_not_tables() -> None:
    with pytest.raises(InvalidPipfileLock) as caught:
        _lines({"flask": {"version": "==3.1.3"}, "requests": "*"})
    assert (caught.value.package, caught.value.problem) == ("requests", PackageNotATable())


def test_default_that_is_not_a_table() -> None:
    with pytest.raises(InvalidPipfileLock) as caught:
        convert({"default": ["flask"]})
    assert (caught.value.package, caught.value.problem) == ("default", SectionNotATable())


@pytest.mark.parametrize("lock", [{}, {"default": {}}, {"default": None}])
def test_empty(lock: dict[str, Any]) -> None:
    assert convert(lock) == LockedSet((), hashed=False, sources=())
    assert convert(lock).text() == "\n"


def test_sources() -> None:
    locked = convert(
        {
            "_meta": {
                "sources": [
                    {"name": "pypi", "url": "https://pypi.org/simple/", "verify_ssl": True},
                    {"name": "private", "url": "https://u:p@pkgs.test/simple"},
                ]
            },
            "default": {},
        }
    )
    assert locked.sources == ("https://pypi.org/simple", "https://u:p@pkgs.test/simple")


@pytest.mark.parametrize("lock", [{}, {"_meta": {}}, {"_meta": {"sources": []}}])
def test_sources_that_are_missing(lock: dict[str, Any]) -> None:
    assert convert(lock).sources == ()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://pypi.org/simple", True),
        ("https://pypi.org/simple/", True),
        ("https://PyPI.org/simple", True),
        ("https://pypi.python.org/simple/", True),
        ("https://pypi.org/", False),
        ("https://test.pypi.org/simple", False),
        ("https://pkgs.test/simple", False),
    ],
)
def test_is_pypi(url: str, expected: bool) -> None:
    assert is_pypi(url) is expected


def test_pypi_urls() -> None:
    assert PYPI_URLS == ("https://pypi.org/simple", "https://pypi.python.org/simple")


@pytest.mark.parametrize(
    ("meta", "package", "reason"),
    [
        ([], "_meta", MetaNotATable([])),
        (None, "_meta", MetaNotATable(None)),
        ("x", "_meta", MetaNotATable("x")),
        ({"sources": None}, "_meta.sources", SourcesNotAList(None)),
        ({"sources": [{"name": "nameless"}]}, "_meta.sources", SourceWithoutUrl(1)),
        (
            {"sources": {"url": "https://pypi.org/simple"}},
            "_meta.sources",
            SourcesNotAList({"url": "https://pypi.org/simple"}),
        ),
        ({"sources": ["https://pypi.org/simple"]}, "_meta.sources", SourceWithoutUrl(1)),
        ({"sources": [{"url": 3}]}, "_meta.sources", SourceWithoutUrl(1)),
    ],
)
def test_wrong_typed_meta_is_reported(meta: Any, package: str, reason: PipfileLockProblem) -> None:
    """LOW-6: these were ignored, so the lock's own index was silently not used."""
    with pytest.raises(InvalidPipfileLock) as caught:
        convert({"_meta": meta, "default": {}})
    assert (caught.value.package, caught.value.problem) == (package, reason)
