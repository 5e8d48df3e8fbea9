"""What a virtualenv has installed, and what a sync changed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from python_cnb.installed import Changes, Distribution, compare, normalize, snapshot


def _install(
    site_packages: Path,
    name: str,
    version: str,
    record: list[str] | None = None,
    directory: str | None = None,
) -> Path:
    dist_info = site_packages / (directory or f"{name.replace('-', '_')}-{version}.dist-info")
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: x\n\nLong text.\n",
        encoding="utf-8",
    )
    if record is not None:
        (dist_info / "RECORD").write_text("\n".join(record) + "\n", encoding="utf-8")
    return dist_info


def _dist(name: str, version: str, identity: tuple[int, int] = (1, 1)) -> Distribution:
    return Distribution(name, version, Path(f"/sp/{name}-{version}.dist-info"), identity)


@pytest.mark.parametrize(
    ("name", "normalized"),
    [
        ("Flask", "flask"),
        ("zope.interface", "zope-interface"),
        ("typing_extensions", "typing-extensions"),
        ("A__b-.-C", "a-b-c"),
        ("six", "six"),
    ],
)
def test_normalize(name: str, normalized: str) -> None:
    assert normalize(name) == normalized


def test_snapshot(tmp_path: Path) -> None:
    flask = _install(tmp_path, "Flask", "3.1.3")
    zope = _install(tmp_path, "zope.interface", "7.2")
    broken = tmp_path / "broken-1.0.dist-info"
    broken.mkdir()
    (tmp_path / "noversion-1.0.dist-info").mkdir()
    (tmp_path / "noversion-1.0.dist-info" / "METADATA").write_text(
        "Name: noversion\n", encoding="utf-8"
    )
    (tmp_path / "old_style.egg-info").mkdir()
    (tmp_path / "flask").mkdir()
    found = snapshot(tmp_path)
    assert list(found) == ["flask", "zope-interface"]
    assert found["flask"] == Distribution(
        "Flask", "3.1.3", flask, (flask.stat().st_ino, flask.stat().st_mtime_ns)
    )
    assert (found["zope-interface"].name, found["zope-interface"].version) == (
        "zope.interface",
        "7.2",
    )
    assert found["zope-interface"].dist_info == zope


def test_snapshot_of_a_missing_directory(tmp_path: Path) -> None:
    assert snapshot(tmp_path / "missing") == {}
    assert snapshot(tmp_path) == {}


def test_files_from_record(tmp_path: Path) -> None:
    site_packages = tmp_path / "lib" / "python3.12" / "site-packages"
    dist_info = _install(
        site_packages,
        "app-tools",
        "1.0",
        [
            "app_tools/__init__.py,sha256=abc,10",
            "app_tools/cli.py,,",
            '"app_tools/with,comma.py",sha256=def,3',
            "app_tools-1.0.dist-info/RECORD,,",
            "../../../bin/app-tools,sha256=ghi,20",
            "",
        ],
    )
    distribution = snapshot(site_packages)["app-tools"]
    assert distribution.files() == [
        site_packages.resolve() / "app_tools" / "__init__.py",
        site_packages.resolve() / "app_tools" / "cli.py",
        site_packages.resolve() / "app_tools" / "with,comma.py",
        dist_info.resolve() / "RECORD",
        tmp_path.resolve() / "bin" / "app-tools",
    ]


def test_files_without_record(tmp_path: Path) -> None:
    _install(tmp_path, "six", "1.17.0")
    assert snapshot(tmp_path)["six"].files() == []


def test_compare() -> None:
    before = {
        "flask": _dist("Flask", "3.1.2", (10, 100)),
        "six": _dist("six", "1.17.0", (11, 100)),
        "click": _dist("click", "8.5.1", (12, 100)),
        "app": _dist("app", "0.1", (13, 100)),
        "idna": _dist("idna", "3.10", (14, 100)),
        "old": _dist("old", "1.0", (15, 100)),
    }
    after = {
        "flask": _dist("Flask", "3.1.3", (20, 200)),
        "six": _dist("six", "1.17.0", (11, 100)),
        "click": _dist("click", "8.5.1", (12, 100)),
        "app": _dist("app", "0.1", (13, 200)),
        "idna": _dist("idna", "3.10", (21, 100)),
        "new": _dist("new", "2.0", (22, 200)),
        "another": _dist("another", "1.0", (23, 200)),
    }
    changes = compare(before, after)
    assert changes == Changes(
        added=(after["another"], after["new"]),
        removed=(before["old"],),
        upgraded=((before["flask"], after["flask"]),),
        reinstalled=(after["app"], after["idna"]),
        unchanged=(after["click"], after["six"]),
    )
    assert changes.touched == (
        after["another"],
        after["new"],
        after["flask"],
        after["app"],
        after["idna"],
    )
    assert changes.summary() == [
        "Added: another 1.0, new 2.0",
        "Removed: old 1.0",
        "Changed: Flask 3.1.2 -> 3.1.3",
        "Reinstalled: app 0.1, idna 3.10",
        "Unchanged (not reinstalled): 2 packages",
    ]


def test_downgrades_are_changes() -> None:
    changes = compare({"a": _dist("a", "2.0")}, {"a": _dist("a", "1.0")})
    assert changes.summary() == ["Changed: a 2.0 -> 1.0", "Unchanged (not reinstalled): 0 packages"]


@pytest.mark.parametrize(
    ("count", "line"),
    [
        (0, "Unchanged (not reinstalled): 0 packages"),
        (1, "Unchanged (not reinstalled): 1 package"),
        (3, "Unchanged (not reinstalled): 3 packages"),
    ],
)
def test_summary_of_unchanged_packages(count: int, line: str) -> None:
    installed = {f"p{n}": _dist(f"p{n}", "1.0") for n in range(count)}
    changes = compare(installed, dict(installed))
    assert changes.touched == ()
    assert changes.summary() == [line]


def test_compare_snapshots(tmp_path: Path) -> None:
    _install(tmp_path, "flask", "3.1.2")
    _install(tmp_path, "six", "1.17.0")
    editable = _install(tmp_path, "app", "0.1")
    _install(tmp_path, "gone", "1.0")
    before = snapshot(tmp_path)

    (tmp_path / "flask-3.1.2.dist-info" / "METADATA").unlink()
    (tmp_path / "flask-3.1.2.dist-info").rmdir()
    _install(tmp_path, "flask", "3.1.3")
    (tmp_path / "gone-1.0.dist-info" / "METADATA").unlink()
    _install(tmp_path, "Added_Pkg", "2.0")
    stat = editable.stat()
    os.utime(editable, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))

    changes = compare(before, snapshot(tmp_path))
    assert changes.summary() == [
        "Added: Added_Pkg 2.0",
        "Removed: gone 1.0",
        "Changed: flask 3.1.2 -> 3.1.3",
        "Reinstalled: app 0.1",
        "Unchanged (not reinstalled): 1 package",
    ]
