"""Layer env files: names, values, delimiters, process-specific dirs, and writing."""

from __future__ import annotations

from pathlib import Path

import pytest

from python_cnb.cnb.layer_env import Action, EnvModification, LayerEnv, Scope
from python_cnb.cnb.validate import SpecViolation


def _tree(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_modification_files_and_directory() -> None:
    prepend = EnvModification(Scope.ALL, "PATH", Action.PREPEND, "/layer/bin", ":")
    assert prepend.directory == "env"
    assert prepend.files() == {"PATH.prepend": "/layer/bin", "PATH.delim": ":"}
    default = EnvModification(Scope.LAUNCH, "PORT", Action.DEFAULT, "8000", process="web")
    assert default.directory == "env.launch/web"
    assert default.files() == {"PORT.default": "8000"}
    assert EnvModification(Scope.BUILD, "X", Action.OVERRIDE, "1").directory == "env.build"


@pytest.mark.parametrize("scope", [Scope.ALL, Scope.BUILD])
def test_process_specific_env_is_launch_only(scope: Scope) -> None:
    modification = EnvModification(scope, "X", Action.OVERRIDE, "1", process="web")
    with pytest.raises(ValueError, match="process-specific env applies at launch only"):
        _ = modification.directory


def test_files_names_and_values() -> None:
    env = (
        LayerEnv()
        .override("PYTHONHOME", "/layers/python")
        .default("PORT", "8000", Scope.LAUNCH)
        .prepend("PYTHONPATH", "/layers/venv/lib", ":", Scope.BUILD)
        .append("CFLAGS", "-O2", " ")
        .default("WEB_CONCURRENCY", "4", Scope.LAUNCH, process="web")
        .override("CELERY", "1", Scope.LAUNCH, process="worker")
    )
    assert env.files() == {
        "env/PYTHONHOME.override": "/layers/python",
        "env.launch/PORT.default": "8000",
        "env.build/PYTHONPATH.prepend": "/layers/venv/lib",
        "env.build/PYTHONPATH.delim": ":",
        "env/CFLAGS.append": "-O2",
        "env/CFLAGS.delim": " ",
        "env.launch/web/WEB_CONCURRENCY.default": "4",
        "env.launch/worker/CELERY.override": "1",
    }


def test_iteration_yields_modifications_in_order() -> None:
    env = LayerEnv().override("A", "1").default("B", "2")
    assert list(env) == [
        EnvModification(Scope.ALL, "A", Action.OVERRIDE, "1"),
        EnvModification(Scope.ALL, "B", Action.DEFAULT, "2"),
    ]


def test_later_modification_of_the_same_file_replaces() -> None:
    env = LayerEnv().override("A", "1").override("A", "2").override("A", "3", Scope.LAUNCH)
    assert env.files() == {"env/A.override": "2", "env.launch/A.override": "3"}
    assert len(list(env)) == 2


def test_prepend_and_append_share_one_delimiter() -> None:
    env = LayerEnv().prepend("PATH", "/a", ":").append("PATH", "/z", ":")
    assert env.files() == {"env/PATH.prepend": "/a", "env/PATH.delim": ":", "env/PATH.append": "/z"}
    conflicting = LayerEnv().prepend("PATH", "/a", ":").append("PATH", "/z", ";")
    with pytest.raises(SpecViolation) as caught:
        conflicting.files()
    assert caught.value.problems == ("env/PATH.delim is given two different values",)


def test_refuses_trailing_newline() -> None:
    with pytest.raises(SpecViolation) as caught:
        LayerEnv().default("PORT", "8000\n", Scope.LAUNCH).files()
    assert caught.value.file == "layer env"
    assert caught.value.problems == (
        "env file 'PORT.default' ends with a newline, which would become part of the value",
    )


def test_refuses_newline_delimiter() -> None:
    with pytest.raises(SpecViolation) as caught:
        LayerEnv().append("X", "a", "\n").files()
    assert caught.value.problems == (
        "env file 'X.delim' ends with a newline, which would become part of the value",
    )


@pytest.mark.parametrize("name", ["1X", "A-B", "A.B", "", "PATH "])
def test_refuses_bad_names(name: str) -> None:
    with pytest.raises(SpecViolation) as caught:
        LayerEnv().override(name, "v").files()
    assert caught.value.problems[0].startswith(f"env file '{name}.override': ")


def test_bad_name_exact_problem() -> None:
    with pytest.raises(SpecViolation) as caught:
        LayerEnv().override("1X", "v").files()
    assert caught.value.problems == ("env file '1X.override': '1X' is not a valid variable name",)


@pytest.mark.parametrize(
    ("process", "problem"),
    [
        ("we:b", "process type 'we:b' must be letters, digits, '.', '_' or '-'"),
        ("a/b", "'env.launch/a/b' is not an env directory the lifecycle reads"),
    ],
)
def test_refuses_bad_process_types(process: str, problem: str) -> None:
    with pytest.raises(SpecViolation) as caught:
        LayerEnv().override("X", "1", Scope.LAUNCH, process=process).files()
    assert caught.value.problems == (problem,)


def test_every_problem_is_reported() -> None:
    env = LayerEnv().override("1X", "v").default("PORT", "1\n")
    with pytest.raises(SpecViolation) as caught:
        env.files()
    assert caught.value.problems == (
        "env file '1X.override': '1X' is not a valid variable name",
        "env file 'PORT.default' ends with a newline, which would become part of the value",
    )


def test_write_files_verbatim(tmp_path: Path) -> None:
    layer = tmp_path / "python"
    env = (
        LayerEnv()
        .override("PYTHONHOME", "/layers/python")
        .prepend("PYTHONPATH", "/lib", ":", Scope.BUILD)
        .default("PORT", "8000", Scope.LAUNCH, process="web")
        .override("SPACES", "  a b  ")
    )
    env.write(layer)
    assert _tree(layer) == {
        "env/PYTHONHOME.override": "/layers/python",
        "env/SPACES.override": "  a b  ",
        "env.build/PYTHONPATH.delim": ":",
        "env.build/PYTHONPATH.prepend": "/lib",
        "env.launch/web/PORT.default": "8000",
    }
    assert (layer / "env" / "PYTHONHOME.override").read_bytes() == b"/layers/python"


def test_write_replaces_previous_env_dirs_only(tmp_path: Path) -> None:
    layer = tmp_path / "python"
    for relative in ("env/OLD", "env.build/OLD.default", "env.launch/OLD", "env.launch/web/OLD"):
        (layer / relative).parent.mkdir(parents=True, exist_ok=True)
        (layer / relative).write_text("old")
    (layer / "bin").mkdir()
    (layer / "bin" / "python").write_text("binary")
    (layer / "exec.d").mkdir()
    (layer / "exec.d" / "port").write_text("script")
    LayerEnv().override("NEW", "new", Scope.LAUNCH).write(layer)
    assert _tree(layer) == {
        "bin/python": "binary",
        "exec.d/port": "script",
        "env.launch/NEW.override": "new",
    }
    assert sorted(p.name for p in layer.iterdir()) == ["bin", "env.launch", "exec.d"]


def test_write_nothing_removes_all_env_dirs(tmp_path: Path) -> None:
    layer = tmp_path / "python"
    (layer / "env").mkdir(parents=True)
    (layer / "env" / "A").write_text("1")
    LayerEnv().write(layer)
    assert list(layer.iterdir()) == []


def test_invalid_env_writes_nothing(tmp_path: Path) -> None:
    layer = tmp_path / "python"
    (layer / "env").mkdir(parents=True)
    (layer / "env" / "A").write_text("1")
    with pytest.raises(SpecViolation):
        LayerEnv().override("B", "2\n").write(layer)
    assert _tree(layer) == {"env/A": "1"}
