"""The spec validators: every check_* returns one exact sentence per broken rule."""

from __future__ import annotations

from typing import Any

import pytest

from python_cnb.cnb.validate import (
    SpecViolation,
    check_build_toml,
    check_buildpack_toml,
    check_env_dir_name,
    check_env_file,
    check_exec_d_output,
    check_launch_toml,
    check_layer_name,
    check_layer_toml,
    check_plan,
    check_process_type,
    check_sbom_file,
    check_store_toml,
    sbom_extension,
    validate_build_toml,
    validate_buildpack_toml,
    validate_launch_toml,
    validate_layer_toml,
    validate_plan,
)

CDX = "application/vnd.cyclonedx+json"

# --- build plan ------------------------------------------------------------------------------


def test_plan_valid_with_alternatives() -> None:
    plan = {
        "provides": [{"name": "python"}],
        "requires": [{"name": "python", "metadata": {"version": "3.12"}}],
        "or": [{"provides": [{"name": "cpython"}], "requires": [{"name": "cpython"}]}],
    }
    assert check_plan(plan) == []
    validate_plan(plan)


def test_empty_plan_is_valid() -> None:
    assert check_plan({}) == []


def test_plan_top_level_version_is_rejected() -> None:
    plan = {"requires": [{"name": "python", "version": "3.12"}]}
    assert check_plan(plan) == [
        "the plan: requires[0] has a top-level 'version'; put it in requires.metadata",
        "unknown key 'version' in the plan: requires[0]",
    ]


def test_plan_entries_need_names() -> None:
    plan = {"provides": [{"name": ""}, "python"], "requires": [{}]}
    assert check_plan(plan) == [
        "the plan: provides[0] needs a non-empty string 'name'",
        "the plan: provides[1] needs a non-empty string 'name'",
        "the plan: requires[0] needs a non-empty string 'name'",
    ]


def test_plan_unknown_keys_and_bad_metadata() -> None:
    plan = {
        "provide": [],
        "provides": [{"name": "python", "metadata": {}}],
        "requires": [{"name": "python", "metadata": "3.12"}],
    }
    assert check_plan(plan) == [
        "unknown key 'provide' in the plan",
        "unknown key 'metadata' in the plan: provides[0]",
        "the plan: requires[0]: 'metadata' must be a table",
    ]


def test_plan_arrays_must_be_arrays() -> None:
    assert check_plan({"provides": {"name": "python"}}) == [
        "'provides' and 'requires' in the plan must be arrays of tables"
    ]
    assert check_plan({"or": {"provides": []}}) == ["'or' must be an array of tables"]


def test_plan_alternatives_are_checked() -> None:
    plan = {"or": [{"provides": [{"name": "a"}], "or": []}, "b", {"requires": [{"name": ""}]}]}
    assert check_plan(plan) == [
        "unknown key 'or' in or[0]",
        "or[1] must be a table",
        "or[2]: requires[0] needs a non-empty string 'name'",
    ]


def test_validate_plan_raises_with_every_problem() -> None:
    with pytest.raises(SpecViolation) as caught:
        validate_plan({"requires": [{"name": "python", "version": "3"}], "x": 1})
    assert caught.value.file == "build plan"
    assert caught.value.problems == (
        "unknown key 'x' in the plan",
        "the plan: requires[0] has a top-level 'version'; put it in requires.metadata",
        "unknown key 'version' in the plan: requires[0]",
    )
    assert str(caught.value) == (
        "build plan breaks the buildpack spec: unknown key 'x' in the plan; "
        "the plan: requires[0] has a top-level 'version'; put it in requires.metadata; "
        "unknown key 'version' in the plan: requires[0]"
    )


# --- layers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["python", "venv", "pip-cache", "a_b-1", "0"])
def test_layer_name_valid(name: str) -> None:
    assert check_layer_name(name) == []


@pytest.mark.parametrize("name", ["a.b_c-1", "py.3", "python3.12"])
def test_layer_name_with_a_dot(name: str) -> None:
    """The lifecycle gives ``<file>.sbom.*.json`` to the layer named up to the file's first
    dot: a dotted layer's SBOM would be dropped or given to another layer."""
    assert check_layer_name(name) == [
        f"layer name {name!r} must not contain '.': the lifecycle takes an SBOM file "
        "to belong to the layer named up to the file's first dot"
    ]


@pytest.mark.parametrize("name", ["launch", "build", "store"])
def test_layer_name_reserved(name: str) -> None:
    assert check_layer_name(name) == [
        f"layer name {name!r} is reserved (it collides with {name}.toml)"
    ]


def test_layer_name_ignore_suffix() -> None:
    assert check_layer_name("venv.ignore")[-1] == (
        "layer name 'venv.ignore' collides with the lifecycle's ignored layers"
    )


@pytest.mark.parametrize("name", ["", ".hidden", "a/b", "a b", "-x", "é", "a.b/c"])
def test_layer_name_bad_characters(name: str) -> None:
    assert check_layer_name(name) == [f"layer name {name!r} must be letters, digits, '_' or '-'"]


def test_layer_toml_valid() -> None:
    data = {"types": {"launch": True, "build": False, "cache": True}, "metadata": {"a": [1, "b"]}}
    assert check_layer_toml(data) == []
    assert check_layer_toml({}) == []
    validate_layer_toml(data)


def test_layer_toml_top_level_flags() -> None:
    assert check_layer_toml({"launch": True, "cache": True}) == [
        "unknown key 'launch' in the layer TOML",
        "unknown key 'cache' in the layer TOML",
        "type flag 'launch' must be inside [types], not at the top level",
        "type flag 'cache' must be inside [types], not at the top level",
    ]


def test_layer_toml_bad_types_and_metadata() -> None:
    assert check_layer_toml({"types": {"launch": "yes", "run": True}, "metadata": 3}) == [
        "unknown key 'run' in [types]",
        "types.launch must be a boolean",
        "[metadata] must be a table",
    ]
    assert check_layer_toml({"types": [True]}) == ["[types] must be a table"]


def test_validate_layer_toml_raises() -> None:
    with pytest.raises(SpecViolation) as caught:
        validate_layer_toml({"build": True})
    assert caught.value.file == "layer TOML"
    assert caught.value.problems == (
        "unknown key 'build' in the layer TOML",
        "type flag 'build' must be inside [types], not at the top level",
    )


# --- env files --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "file_name",
    ["PATH", "PATH.prepend", "PATH.append", "PATH.delim", "X.override", "_Y.default", "a1"],
)
def test_env_file_valid(file_name: str) -> None:
    assert check_env_file(file_name, "value") == []


def test_env_file_bad_name() -> None:
    assert check_env_file("1X.override", "v") == [
        "env file '1X.override': '1X' is not a valid variable name"
    ]
    assert check_env_file("A-B", "v") == ["env file 'A-B': 'A-B' is not a valid variable name"]


def test_env_file_unknown_suffix() -> None:
    assert check_env_file("PATH.prepend.x", "v") == [
        "env file 'PATH.prepend.x': unknown suffix 'prepend.x' (the lifecycle ignores it)"
    ]


def test_env_file_trailing_newline_and_nul() -> None:
    assert check_env_file("PORT.default", "8000\n") == [
        "env file 'PORT.default' ends with a newline, which would become part of the value"
    ]
    assert check_env_file("X", "a\0b") == ["env file 'X' contains a NUL byte"]
    assert check_env_file("X", "a\nb") == []


@pytest.mark.parametrize("directory", ["env", "env.build", "env.launch", "env.launch/web"])
def test_env_dir_valid(directory: str) -> None:
    assert check_env_dir_name(directory) == []


@pytest.mark.parametrize(
    "directory", ["env/web", "env.build/web", "env.launch/web/x", "environment", "env.launch2"]
)
def test_env_dir_unread(directory: str) -> None:
    assert check_env_dir_name(directory) == [
        f"{directory!r} is not an env directory the lifecycle reads"
    ]


def test_env_dir_bad_process_type() -> None:
    assert check_env_dir_name("env.launch/we:b") == [
        "process type 'we:b' must be letters, digits, '.', '_' or '-'"
    ]


# --- launch.toml ------------------------------------------------------------------------------


def test_process_type() -> None:
    assert check_process_type("web.1_x-y") == []
    assert check_process_type("") == ["process type '' must be letters, digits, '.', '_' or '-'"]
    assert check_process_type("a b") == [
        "process type 'a b' must be letters, digits, '.', '_' or '-'"
    ]


def _process(**fields: Any) -> dict[str, Any]:
    return {"type": "web", "command": ["gunicorn"], **fields}


def test_launch_toml_valid() -> None:
    data = {
        "processes": [
            _process(args=["app:app"], default=True, **{"working-dir": "/workspace"}),
            _process(type="worker", command=["celery", "worker"]),
        ],
        "labels": [{"key": "a", "value": "1"}],
        "slices": [{"paths": ["static/*"]}],
    }
    assert check_launch_toml(data) == []
    assert check_launch_toml({}) == []
    validate_launch_toml(data)


def test_launch_toml_command_string_and_direct() -> None:
    data = {"processes": [_process(command="gunicorn app:app", direct=True)]}
    assert check_launch_toml(data) == [
        "unknown key 'direct' in processes[0]",
        "processes[0]: 'direct' is an error at Buildpack API 0.9 and later",
        "processes[0]: 'command' must be an array, not a string",
    ]


@pytest.mark.parametrize("command", [[], [""], [1], None])
def test_launch_toml_bad_command(command: Any) -> None:
    process = {"type": "web"} if command is None else _process(command=command)
    assert check_launch_toml({"processes": [process]}) == [
        "processes[0]: 'command' must be a non-empty array of strings"
    ]


def test_launch_toml_types_and_defaults() -> None:
    data = {
        "processes": [
            _process(default=True),
            _process(default=True),
            _process(type="a/b"),
            {"command": ["x"]},
            "web",
        ]
    }
    assert check_launch_toml(data) == [
        "processes[1]: process type 'web' is declared twice",
        "processes[2]: process type 'a/b' must be letters, digits, '.', '_' or '-'",
        "processes[3] needs a non-empty string 'type'",
        "processes[4] must be a table",
        "at most one process may have default = true",
    ]


def test_launch_toml_field_types() -> None:
    data = {"processes": [_process(args="x", default="yes", **{"working-dir": 1}, exec_env=[])]}
    assert check_launch_toml(data) == [
        "unknown key 'exec_env' in processes[0]",
        "processes[0]: 'args' must be an array of strings",
        "processes[0]: 'default' must be a boolean",
        "processes[0]: 'working-dir' must be a string",
    ]


def test_launch_toml_processes_not_an_array() -> None:
    assert check_launch_toml({"processes": {"type": "web"}, "x": 1}) == [
        "unknown key 'x' in launch.toml",
        "'processes' must be an array of tables",
    ]


def test_launch_toml_labels_and_slices() -> None:
    data = {
        "labels": [
            {"key": "a", "value": "1"},
            {"key": "a", "value": "2"},
            {"key": "b"},
            {"key": "c", "value": "3", "x": 1},
        ],
        "slices": [{"paths": ["a"]}, {"paths": "b"}, {}],
    }
    assert check_launch_toml(data) == [
        "labels[1]: key 'a' is declared twice",
        "labels[2] needs string 'key' and 'value'",
        "unknown key 'x' in labels[3]",
        "slices[1] needs 'paths', an array of strings",
        "slices[2] needs 'paths', an array of strings",
    ]
    assert check_launch_toml({"labels": {}, "slices": "x"}) == [
        "'labels' must be an array of tables",
        "'slices' must be an array of tables",
    ]


def test_validate_launch_toml_raises() -> None:
    with pytest.raises(SpecViolation) as caught:
        validate_launch_toml({"processes": [_process(default=True), _process(default=True)]})
    assert caught.value.file == "launch.toml"
    assert caught.value.problems == (
        "processes[1]: process type 'web' is declared twice",
        "at most one process may have default = true",
    )


# --- build.toml, store.toml -----------------------------------------------------------------------


def test_build_toml() -> None:
    assert check_build_toml({"unmet": [{"name": "python"}]}, ["python"]) == []
    assert check_build_toml({}, []) == []
    assert check_build_toml({"unmet": [{"name": "node"}, {}, "x"], "bom": []}, ("python",)) == [
        "unknown key 'bom' in build.toml",
        "unmet[0]: 'node' is not in the buildpack plan",
        "unmet[1] needs a string 'name'",
        "unmet[2] needs a string 'name'",
    ]
    assert check_build_toml({"unmet": {"name": "x"}}, ["x"]) == [
        "'unmet' must be an array of tables"
    ]
    with pytest.raises(SpecViolation) as caught:
        validate_build_toml({"unmet": [{"name": "node"}]}, ["python"])
    assert caught.value.file == "build.toml"
    assert caught.value.problems == ("unmet[0]: 'node' is not in the buildpack plan",)


def test_store_toml() -> None:
    assert check_store_toml({"metadata": {"a": 1}}) == []
    assert check_store_toml({"metadata": 1, "types": {}}) == [
        "unknown key 'types' in store.toml",
        "[metadata] must be a table",
    ]


# --- SBOM ---------------------------------------------------------------------------------------


def test_sbom_extension() -> None:
    assert sbom_extension("python.sbom.cdx.json") == "cdx.json"
    assert sbom_extension("launch.sbom.spdx.json") == "spdx.json"
    assert sbom_extension("python.toml") is None


def test_sbom_file() -> None:
    assert check_sbom_file("python.sbom.cdx.json", [CDX]) == []
    assert check_sbom_file("python.json", [CDX]) == ["'python.json' is not named <name>.sbom.<ext>"]
    assert check_sbom_file("python.sbom.cdx.xml", [CDX]) == [
        "'python.sbom.cdx.xml': SBOM extension 'cdx.xml' is not one the lifecycle accepts"
    ]
    assert check_sbom_file("python.sbom.spdx.json", [CDX]) == [
        "'python.sbom.spdx.json': media type application/spdx+json is not declared in sbom-formats"
    ]


# --- exec.d ---------------------------------------------------------------------------------------


def test_exec_d_output() -> None:
    assert check_exec_d_output('A = "1"\nB = "two words"\n') == []
    assert check_exec_d_output("") == []
    assert check_exec_d_output('A = 1\nB = true\nC = "c"') == [
        "exec.d output: 'A' must be a string, not int",
        "exec.d output: 'B' must be a string, not bool",
    ]
    [problem] = check_exec_d_output("A = ")
    assert problem.startswith("exec.d output is not valid TOML: ")


# --- buildpack.toml -------------------------------------------------------------------------------


def _descriptor(**buildpack: Any) -> dict[str, Any]:
    return {
        "api": "0.10",
        "buildpack": {"id": "python-cnb/python", "version": "1.2.3", **buildpack},
    }


def test_buildpack_toml_valid() -> None:
    data = {
        **_descriptor(**{"sbom-formats": [CDX], "clear-env": False}),
        "targets": [{"os": "linux", "arch": "amd64", "distros": [{"name": "ubuntu"}]}],
        "metadata": {"anything": [1, 2]},
    }
    assert check_buildpack_toml(data) == []
    validate_buildpack_toml(data)


@pytest.mark.parametrize("api", ["0.1o", "1", "0.010", 0.10, "v0.10"])
def test_buildpack_toml_bad_api(api: Any) -> None:
    assert check_buildpack_toml({**_descriptor(), "api": api}) == [
        "'api' must be a string like \"0.10\""
    ]


def test_buildpack_toml_missing_table() -> None:
    assert check_buildpack_toml({"api": "0.10"}) == ["[buildpack] is required"]
    assert check_buildpack_toml({}) == [
        "'api' must be a string like \"0.10\"",
        "[buildpack] is required",
    ]


@pytest.mark.parametrize("bp_id", ["", "a b", "a_b", "a:b", None])
def test_buildpack_toml_bad_id(bp_id: Any) -> None:
    assert check_buildpack_toml(_descriptor(id=bp_id)) == [
        "buildpack.id must be letters, digits, '.', '/' and '-'"
    ]


@pytest.mark.parametrize("bp_id", ["app", "config", "generated", "sbom", "SBOM"])
def test_buildpack_toml_reserved_id(bp_id: str) -> None:
    assert check_buildpack_toml(_descriptor(id=bp_id)) == [f"buildpack.id {bp_id!r} is reserved"]


@pytest.mark.parametrize("version", ["1.02.3", "1.2", "1.2.3-rc1", "v1.2.3", 1])
def test_buildpack_toml_bad_version(version: Any) -> None:
    assert check_buildpack_toml(_descriptor(version=version)) == [
        "buildpack.version must be X.Y.Z without leading zeros"
    ]


def test_buildpack_toml_exec_env_and_sbom_formats() -> None:
    data = _descriptor(**{"exec-env": ["production"], "sbom-formats": [CDX, "text/plain"]})
    assert check_buildpack_toml(data) == [
        "buildpack.exec-env is read differently by spec and lifecycle; omit it",
        "sbom-formats: 'text/plain' is not an SBOM media type",
    ]


def test_buildpack_toml_order_targets_and_unknown_keys() -> None:
    data = {
        **_descriptor(),
        "order": [],
        "targets": [{"os": "linux", "arch-variant": "v8", "distros": [{"name": "a", "id": "b"}]}],
    }
    assert check_buildpack_toml(data) == [
        "[[order]] cannot be combined with [[targets]] or [[stacks]]",
        "unknown key 'arch-variant' in targets[0]",
        "unknown key 'id' in targets[0].distros",
    ]
    assert check_buildpack_toml({**_descriptor(), "order": [], "stacks": []}) == [
        "[[order]] cannot be combined with [[targets]] or [[stacks]]"
    ]


def test_validate_buildpack_toml_raises() -> None:
    with pytest.raises(SpecViolation) as caught:
        validate_buildpack_toml(_descriptor(id="app", version="1"))
    assert caught.value.file == "buildpack.toml"
    assert caught.value.problems == (
        "buildpack.id 'app' is reserved",
        "buildpack.version must be X.Y.Z without leading zeros",
    )
