"""Env assembly, checked against the lifecycle's Go ``env`` package semantics."""

from __future__ import annotations

from pathlib import Path

import pytest

from python_cnb_lifecycle.env import BUILD_ROOT_DIRS, LAUNCH_ROOT_DIRS, Env


def _env_dir(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, value in files.items():
        (root / name).write_text(value, encoding="utf-8")
    return root


def _apply(
    start: dict[str, str], files: dict[str, str], tmp_path: Path, default_action: str = "override"
) -> dict[str, str]:
    env = Env(start, BUILD_ROOT_DIRS)
    env.add_env_dir(_env_dir(tmp_path / "env", files), default_action)
    return env.vars


# --- NewBuildEnv / NewLaunchEnv ----------------------------------------------------------------


def test_for_build_keeps_only_the_include_list_and_path_vars() -> None:
    environ = {
        "PATH": "/usr/bin",
        "LD_LIBRARY_PATH": "/l",
        "LIBRARY_PATH": "/lp",
        "CPATH": "/c",
        "PKG_CONFIG_PATH": "/p",
        "HOME": "/home/cnb",
        "HOSTNAME": "h",
        "HTTP_PROXY": "hp",
        "https_proxy": "sp",
        "NO_PROXY": "np",
        "CNB_STACK_ID": "s",
        "CNB_PLATFORM_API": "0.15",
        "PYTHONPATH": "/x",
        "LANG": "C.UTF-8",
        "USER": "me",
    }
    env = Env.for_build(environ)
    assert env.vars == {
        k: v
        for k, v in environ.items()
        if k not in ("CNB_PLATFORM_API", "PYTHONPATH", "LANG", "USER")
    }
    assert env.root_dirs == BUILD_ROOT_DIRS


def test_for_launch_drops_the_lifecycle_variables() -> None:
    environ = {
        "PATH": "/usr/bin",
        "CNB_LAYERS_DIR": "/layers",
        "CNB_APP_DIR": "/workspace",
        "CNB_PROCESS_TYPE": "web",
        "CNB_PLATFORM_API": "0.15",
        "CNB_DEPRECATION_MODE": "quiet",
        "CNB_EXEC_ENV": "production",
        "FOO": "bar",
    }
    env = Env.for_launch(environ)
    assert env.vars == {"PATH": "/usr/bin", "CNB_EXEC_ENV": "production", "FOO": "bar"}
    assert env.root_dirs == LAUNCH_ROOT_DIRS


def test_for_launch_strips_the_lifecycle_directories_from_path() -> None:
    env = Env.for_launch({"PATH": "/cnb/process:/usr/bin:/cnb/lifecycle:/bin"})
    assert env.get("PATH") == "/usr/bin:/bin"
    assert Env.for_launch({"PATH": "/cnb/process"}).vars == {"PATH": ""}
    assert Env.for_launch({}).vars == {}


def test_get_missing_is_empty() -> None:
    env = Env({}, BUILD_ROOT_DIRS)
    assert env.get("NOPE") == ""
    env.set("A", "1")
    assert env.vars == {"A": "1"}


# --- AddEnvDir ---------------------------------------------------------------------------------


def test_override(tmp_path: Path) -> None:
    assert _apply({"A": "old"}, {"A.override": "new", "B.override": "b"}, tmp_path) == {
        "A": "new",
        "B": "b",
    }


def test_unsuffixed_file_overrides(tmp_path: Path) -> None:
    assert _apply({"A": "old", "PATH": "/usr/bin"}, {"A": "new", "PATH": "/x"}, tmp_path) == {
        "A": "new",
        "PATH": "/x",
    }


def test_unsuffixed_file_with_default_action(tmp_path: Path) -> None:
    result = _apply({"A": "old", "E": ""}, {"A": "new", "B": "b", "E": "e"}, tmp_path, "default")
    assert result == {"A": "old", "B": "b", "E": "e"}


def test_default(tmp_path: Path) -> None:
    result = _apply(
        {"SET": "user", "EMPTY": ""},
        {"SET.default": "x", "EMPTY.default": "y", "NEW.default": "z"},
        tmp_path,
    )
    assert result == {"SET": "user", "EMPTY": "y", "NEW": "z"}


def test_prepend_without_delim_uses_no_separator(tmp_path: Path) -> None:
    assert _apply({"PATH": "/usr/bin"}, {"PATH.prepend": "/a"}, tmp_path) == {"PATH": "/a/usr/bin"}


def test_append_without_delim_uses_no_separator(tmp_path: Path) -> None:
    assert _apply({"PATH": "/usr/bin"}, {"PATH.append": "/a"}, tmp_path) == {"PATH": "/usr/bin/a"}


def test_prepend_and_append_with_delim(tmp_path: Path) -> None:
    files = {"P.prepend": "/a", "P.delim": ":", "Q.append": "-O2", "Q.delim": " "}
    assert _apply({"P": "/usr/bin", "Q": "-g"}, files, tmp_path) == {
        "P": "/a:/usr/bin",
        "Q": "-g -O2",
    }


def test_prepend_and_append_to_unset_variable_add_no_delim(tmp_path: Path) -> None:
    files = {"P.prepend": "/a", "P.delim": ":", "Q.append": "/b", "Q.delim": ":"}
    assert _apply({"Q": ""}, files, tmp_path) == {"P": "/a", "Q": "/b"}


def test_multi_character_delim(tmp_path: Path) -> None:
    assert _apply({"X": "b"}, {"X.prepend": "a", "X.delim": " :: "}, tmp_path) == {"X": "a :: b"}


def test_delim_file_alone_sets_nothing(tmp_path: Path) -> None:
    assert _apply({}, {"PATH.delim": ":"}, tmp_path) == {}


def test_unknown_suffix_is_ignored(tmp_path: Path) -> None:
    files = {"A.bogus": "x", "B.prepend.x": "y", "C.OVERRIDE": "z"}
    assert _apply({"A": "a"}, files, tmp_path) == {"A": "a"}


def test_empty_suffix_prepends_with_path_separator(tmp_path: Path) -> None:
    """Go: ``FOO.`` has the action "" (ActionTypePrependPath), with ``:`` unless a delim."""
    assert _apply({"A": "a"}, {"A.": "x"}, tmp_path) == {"A": "x:a"}
    assert _apply({"A": "a"}, {"A.": "x", "A.delim": ";"}, tmp_path / "2") == {"A": "x;a"}
    assert _apply({}, {"A.": "x"}, tmp_path / "3") == {"A": "x"}


def test_files_apply_in_file_name_order(tmp_path: Path) -> None:
    """``X.append`` < ``X.default`` < ``X.override`` < ``X.prepend`` (os.ReadDir sorts)."""
    files = {
        "X.prepend": "p",
        "X.override": "o",
        "X.append": "a",
        "X.default": "d",
        "X.delim": ",",
    }
    assert _apply({"X": "base"}, files, tmp_path) == {"X": "p,o"}
    assert _apply({}, files, tmp_path / "2") == {"X": "p,o"}


def test_values_are_verbatim(tmp_path: Path) -> None:
    files = {"A": "with newline\n", "B.override": "  spaced  ", "C": "$HOME"}
    assert _apply({}, files, tmp_path) == {"A": "with newline\n", "B": "  spaced  ", "C": "$HOME"}


def test_subdirectories_and_missing_dirs_are_skipped(tmp_path: Path) -> None:
    env_dir = _env_dir(tmp_path / "env", {"A": "1"})
    _env_dir(env_dir / "web", {"B": "2"})
    env = Env({}, BUILD_ROOT_DIRS)
    env.add_env_dir(env_dir)
    env.add_env_dir(tmp_path / "missing")
    assert env.vars == {"A": "1"}


# --- AddRootDir --------------------------------------------------------------------------------


def _layer(root: Path, *subdirs: str) -> Path:
    for sub in subdirs:
        (root / sub).mkdir(parents=True)
    return root


def test_add_root_dir_for_build(tmp_path: Path) -> None:
    layer = _layer(tmp_path / "layer", "bin", "lib", "include", "pkgconfig", "share")
    env = Env({"PATH": "/usr/bin", "CPATH": ""}, BUILD_ROOT_DIRS)
    env.add_root_dir(layer)
    assert env.vars == {
        "PATH": f"{layer}/bin:/usr/bin",
        "LD_LIBRARY_PATH": f"{layer}/lib",
        "LIBRARY_PATH": f"{layer}/lib",
        "CPATH": f"{layer}/include",
        "PKG_CONFIG_PATH": f"{layer}/pkgconfig",
    }


def test_add_root_dir_for_launch(tmp_path: Path) -> None:
    layer = _layer(tmp_path / "layer", "bin", "lib", "include", "pkgconfig")
    env = Env({"PATH": "/usr/bin", "LD_LIBRARY_PATH": "/usr/lib"}, LAUNCH_ROOT_DIRS)
    env.add_root_dir(layer)
    assert env.vars == {"PATH": f"{layer}/bin:/usr/bin", "LD_LIBRARY_PATH": f"{layer}/lib:/usr/lib"}


def test_add_root_dir_later_layers_come_first(tmp_path: Path) -> None:
    a = _layer(tmp_path / "a", "bin")
    b = _layer(tmp_path / "b", "bin")
    env = Env({"PATH": "/usr/bin"}, LAUNCH_ROOT_DIRS)
    env.add_root_dir(a)
    env.add_root_dir(b)
    env.add_root_dir(tmp_path / "missing")
    assert env.vars == {"PATH": f"{b}/bin:{a}/bin:/usr/bin"}


def test_add_root_dir_makes_paths_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _layer(tmp_path / "layer", "bin")
    monkeypatch.chdir(tmp_path)
    env = Env({}, LAUNCH_ROOT_DIRS)
    env.add_root_dir(Path("layer"))
    assert env.vars == {"PATH": f"{tmp_path}/layer/bin"}


# --- WithOverrides -----------------------------------------------------------------------------


def test_with_overrides_platform_env(tmp_path: Path) -> None:
    platform = tmp_path / "platform"
    _env_dir(
        platform / "env",
        {"PATH": "/p/bin", "CPATH": "/p/include", "HOME": "/p/home", "NEW": "n", "X.append": "y"},
    )
    env = Env({"PATH": "/usr/bin", "HOME": "/home"}, BUILD_ROOT_DIRS)
    assert env.with_overrides(platform, None) == {
        "PATH": "/p/bin:/usr/bin",
        "CPATH": "/p/include",
        "HOME": "/p/home",
        "NEW": "n",
        "X.append": "y",
    }
    assert env.vars == {"PATH": "/usr/bin", "HOME": "/home"}


def test_with_overrides_launch_map_decides_path_vars(tmp_path: Path) -> None:
    platform = tmp_path / "platform"
    _env_dir(platform / "env", {"LIBRARY_PATH": "/p", "LD_LIBRARY_PATH": "/q"})
    env = Env({"LIBRARY_PATH": "/l", "LD_LIBRARY_PATH": "/ld"}, LAUNCH_ROOT_DIRS)
    assert env.with_overrides(platform, None) == {"LIBRARY_PATH": "/p", "LD_LIBRARY_PATH": "/q:/ld"}


def test_with_overrides_build_config_env_is_default(tmp_path: Path) -> None:
    build_config = tmp_path / "build-config"
    _env_dir(
        build_config / "env",
        {
            "HOME": "/operator",
            "PIP_CONFIG_FILE": "/dev/null",
            "FORCED.override": "f",
            "PATH.append": "/op/bin",
            "PATH.delim": ":",
        },
    )
    env = Env({"PATH": "/usr/bin", "HOME": "/home", "FORCED": "x"}, BUILD_ROOT_DIRS)
    assert env.with_overrides(None, build_config) == {
        "PATH": "/usr/bin:/op/bin",
        "HOME": "/home",
        "PIP_CONFIG_FILE": "/dev/null",
        "FORCED": "f",
    }


def test_with_overrides_platform_before_build_config(tmp_path: Path) -> None:
    _env_dir(tmp_path / "platform" / "env", {"A": "platform"})
    _env_dir(tmp_path / "build-config" / "env", {"A": "operator", "B": "operator"})
    env = Env({}, BUILD_ROOT_DIRS)
    assert env.with_overrides(tmp_path / "platform", tmp_path / "build-config") == {
        "A": "platform",
        "B": "operator",
    }


def test_with_overrides_without_dirs(tmp_path: Path) -> None:
    env = Env({"A": "1"}, BUILD_ROOT_DIRS)
    assert env.with_overrides(None, None) == {"A": "1"}
    assert env.with_overrides(tmp_path / "none", tmp_path / "none") == {"A": "1"}
