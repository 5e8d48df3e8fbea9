"""Files that look like a dependency file, named when nothing declares the app's imports."""

from __future__ import annotations

from pathlib import Path

from python_cnb.dependencies.undeclared import LookAlikes, look_alikes


def _touch(root: Path, *names: str) -> Path:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("")
    return root


def test_misspelled_and_miscased_dependency_files(tmp_path: Path) -> None:
    app = _touch(tmp_path, "requirments.txt", "Requirements.txt", "pipfile", "app.py", "README.md")
    assert look_alikes(app).near_misses == (
        ("Requirements.txt", "requirements.txt"),
        ("pipfile", "Pipfile"),
        ("requirments.txt", "requirements.txt"),
    )


def test_conda_and_split_requirements(tmp_path: Path) -> None:
    app = _touch(tmp_path, "environment.yml", "requirements/base.txt", "requirements/prod.txt")
    assert look_alikes(app) == LookAlikes(
        (), "environment.yml", ("requirements/base.txt", "requirements/prod.txt")
    )


def test_nothing_alike(tmp_path: Path) -> None:
    alikes = look_alikes(_touch(tmp_path, "app.py", "Procfile", "README.md", "setup.sh"))
    assert alikes == LookAlikes()
    assert not alikes
