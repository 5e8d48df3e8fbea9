"""The hashes the app's lock files record, per package, for the venv's SBOM."""

from __future__ import annotations

from pathlib import Path

import pytest

from python_cnb.app.files import AppFiles
from python_cnb.app.lock_hashes import from_uv_lock, recorded_hashes
from python_cnb.app.package_manager import PackageManager

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FLASK = "f4bcbefc124291925f1a26446da31a5178f9483862233b23c0c96a20701f670c"
CLICK = "8bb5376d2006950386f8c6427613334a2acadc5f559cb80e638d00b4df957e37"


def test_a_hashed_requirements_file_gives_every_pin_its_hashes() -> None:
    """pip-compile's output, with a comment ending in ``\\`` (not a continuation for pip)
    and a pin written ``click == 8.5.1``: each package keeps the hashes it is checked with."""
    hashes = recorded_hashes(AppFiles(FIXTURES / "hashed_requirements"), PackageManager.PIP)
    assert sorted(hashes) == [
        ("blinker", "1.9.0"),
        ("click", "8.5.1"),
        ("flask", "3.1.3"),
        ("itsdangerous", "2.2.0"),
        ("jinja2", "3.1.6"),
        ("markupsafe", "3.0.4"),
        ("werkzeug", "3.1.9"),
    ]
    assert hashes[("flask", "3.1.3")] == (FLASK,)
    assert hashes[("click", "8.5.1")] == (CLICK,)
    assert len(hashes[("markupsafe", "3.0.4")]) == 3


@pytest.mark.parametrize(
    ("fixture", "manager"),
    [
        ("uv_app", PackageManager.UV),
        ("poetry_app", PackageManager.POETRY),
        ("pipenv_app", PackageManager.PIPENV),
    ],
)
def test_each_lock_file_format(fixture: str, manager: PackageManager) -> None:
    hashes = recorded_hashes(AppFiles(FIXTURES / fixture), manager)
    assert hashes[("flask", "3.1.3")] == (FLASK,)


def test_unlocked_requirements_record_nothing(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("flask==3.1.3\n", encoding="utf-8")
    assert recorded_hashes(AppFiles(tmp_path), PackageManager.PIP) == {}
    assert recorded_hashes(AppFiles(tmp_path), PackageManager.NONE) == {}


def test_only_sha256_digests_of_well_formed_entries() -> None:
    lock = {
        "package": [
            {
                "name": "Flask",
                "version": "3.1.3",
                "sdist": {"hash": "sha512:" + "0" * 128},
                "wheels": [{"hash": f"sha256:{FLASK}"}, "not a table"],
            },
            {"name": 3, "version": "1.0", "wheels": [{"hash": f"sha256:{CLICK}"}]},
            "not a table",
        ]
    }
    assert from_uv_lock(lock) == {("flask", "3.1.3"): (FLASK,)}
