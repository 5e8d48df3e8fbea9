"""launch.toml: processes, labels and slices, validated before they are written."""

from __future__ import annotations

from pathlib import Path

import pytest

from python_cnb.cnb import toml_file
from python_cnb.cnb.launch import Label, Launch, Process
from python_cnb.cnb.validate import SpecViolation


def test_process_to_toml_minimal() -> None:
    process = Process("web", ("gunicorn", "app:app"))
    assert process.to_toml() == {
        "type": "web",
        "command": ["gunicorn", "app:app"],
        "default": False,
    }


def test_process_to_toml_full() -> None:
    process = Process("web", ("python",), ("-m", "app"), default=True, working_dir="src")
    assert process.to_toml() == {
        "type": "web",
        "command": ["python"],
        "args": ["-m", "app"],
        "default": True,
        "working-dir": "src",
    }


def test_launch_to_toml() -> None:
    launch = Launch(
        processes=(Process("web", ("gunicorn",), default=True), Process("worker", ("celery",))),
        labels=(Label("org.example.a", "1"),),
        slices=(("static/*", "media/*"),),
    )
    assert launch.to_toml() == {
        "processes": [
            {"type": "web", "command": ["gunicorn"], "default": True},
            {"type": "worker", "command": ["celery"], "default": False},
        ],
        "labels": [{"key": "org.example.a", "value": "1"}],
        "slices": [{"paths": ["static/*", "media/*"]}],
    }
    assert Launch().to_toml() == {}


def test_write(tmp_path: Path) -> None:
    launch = Launch(processes=(Process("web", ("gunicorn", "app:app"), ("-w", "2"), True),))
    launch.write(tmp_path)
    assert (tmp_path / "launch.toml").read_text(encoding="utf-8") == (
        "[[processes]]\n"
        'type = "web"\n'
        "command = [\n"
        '    "gunicorn",\n'
        '    "app:app",\n'
        "]\n"
        "args = [\n"
        '    "-w",\n'
        '    "2",\n'
        "]\n"
        "default = true\n"
    )
    assert toml_file.read(tmp_path / "launch.toml") == launch.to_toml()


def test_write_nothing_removes_the_file(tmp_path: Path) -> None:
    (tmp_path / "launch.toml").write_text("stale")
    Launch().write(tmp_path)
    assert not (tmp_path / "launch.toml").exists()
    Launch().write(tmp_path)


@pytest.mark.parametrize(
    ("launch", "problems"),
    [
        (
            Launch(
                processes=(Process("web", ("a",), default=True), Process("w", ("b",), default=True))
            ),
            ("at most one process may have default = true",),
        ),
        (
            Launch(processes=(Process("web", ("a",)), Process("web", ("b",)))),
            ("processes[1]: process type 'web' is declared twice",),
        ),
        (
            Launch(processes=(Process("web", ()),)),
            ("processes[0]: 'command' must be a non-empty array of strings",),
        ),
        (
            Launch(processes=(Process("a:b", ("x",)),)),
            ("processes[0]: process type 'a:b' must be letters, digits, '.', '_' or '-'",),
        ),
        (
            Launch(labels=(Label("k", "1"), Label("k", "2"))),
            ("labels[1]: key 'k' is declared twice",),
        ),
    ],
)
def test_invalid_launch_is_not_written(
    tmp_path: Path, launch: Launch, problems: tuple[str, ...]
) -> None:
    (tmp_path / "launch.toml").write_text("previous")
    with pytest.raises(SpecViolation) as caught:
        launch.write(tmp_path)
    assert caught.value.file == "launch.toml"
    assert caught.value.problems == problems
    assert (tmp_path / "launch.toml").read_text() == "previous"
