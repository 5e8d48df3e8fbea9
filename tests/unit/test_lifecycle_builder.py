"""The runner's builder: what one ``bin/build`` is given, and how its layers are read back."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

import pytest

from python_cnb.cnb import toml_file
from python_cnb_lifecycle.builder import build_one, chown_tree, process_layers
from python_cnb_lifecycle.errors import BUILD_FAILED, SPEC_VIOLATION, LifecycleError
from python_cnb_lifecycle.workspace import Buildpack
from tests.unit.buildpacks import write_buildpack


@pytest.fixture
def bp(tmp_path: Path) -> Buildpack:
    return Buildpack.load(write_buildpack(tmp_path / "buildpacks", "test/bp"))


def _layer(layers: Path, name: str, toml: str, *files: str) -> Path:
    layers.mkdir(parents=True, exist_ok=True)
    (layers / f"{name}.toml").write_text(toml, encoding="utf-8")
    for relative in files:
        path = layers / name / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("value", encoding="utf-8")
    (layers / name).mkdir(exist_ok=True)
    return layers / name


def test_layers_with_their_types_and_metadata(bp: Buildpack, tmp_path: Path) -> None:
    layers = tmp_path / "layers"
    _layer(layers, "venv", '[types]\nlaunch = true\ncache = true\n[metadata]\nkey = "v"\n')
    output = process_layers(bp, layers, [])
    assert output.layer_types == {"venv": {"launch": True, "build": False, "cache": True}}
    assert output.layer_metadata == {"venv": {"key": "v"}}


def test_a_layer_of_no_type_is_set_aside(bp: Buildpack, tmp_path: Path) -> None:
    """The lifecycle renames it ``<name>.ignore``: neither exported, cached nor restored."""
    layers = tmp_path / "layers"
    _layer(layers, "scratch", "[types]\n", "file")
    assert process_layers(bp, layers, []).layer_types == {}
    assert not (layers / "scratch").exists()
    assert (layers / "scratch.ignore" / "file").is_file()


def test_an_unparsable_layer_toml_fails_the_build(bp: Buildpack, tmp_path: Path) -> None:
    layers = tmp_path / "layers"
    _layer(layers, "venv", "[types\n")
    with pytest.raises(LifecycleError) as raised:
        process_layers(bp, layers, [])
    assert raised.value.code == BUILD_FAILED
    assert "failed to parse metadata for layers" in raised.value.message


@pytest.mark.parametrize(
    "files",
    [("env.build/sub/dir/X",), ("env/web/X",)],
    ids=["nested env.build", "a process directory outside env.launch"],
)
def test_env_directories_follow_the_spec(
    bp: Buildpack, tmp_path: Path, files: tuple[str, ...]
) -> None:
    layers = tmp_path / "layers"
    _layer(layers, "venv", "[types]\nlaunch = true\n", *files)
    with pytest.raises(LifecycleError) as raised:
        process_layers(bp, layers, [])
    assert raised.value.code == SPEC_VIOLATION
    assert "venv: unexpected directory" in raised.value.message


def test_a_process_env_directory_in_env_launch_is_allowed(bp: Buildpack, tmp_path: Path) -> None:
    layers = tmp_path / "layers"
    _layer(layers, "venv", "[types]\nlaunch = true\n", "env.launch/web/X.default")
    assert list(process_layers(bp, layers, []).layer_types) == ["venv"]


def test_launch_build_and_store_toml(bp: Buildpack, tmp_path: Path) -> None:
    layers = tmp_path / "layers"
    layers.mkdir()
    launch = {"processes": [{"type": "web", "command": ["gunicorn"], "default": True}]}
    toml_file.write(layers / "launch.toml", launch)
    toml_file.write(layers / "build.toml", {"unmet": [{"name": "cpython"}]})
    toml_file.write(layers / "store.toml", {"metadata": {"k": "v"}})
    output = process_layers(bp, layers, ["cpython", "site-packages"])
    assert output.launch == launch
    assert output.unmet == ["cpython"]
    assert output.store == {"metadata": {"k": "v"}}


def test_build_one_gives_the_plan_and_the_layers_dir(bp: Buildpack, tmp_path: Path) -> None:
    seen: dict[str, object] = {}

    def run(argv: list[str], cwd: Path, env: Mapping[str, str]) -> int:
        seen.update(argv=argv, cwd=cwd, env=dict(env))
        seen["plan"] = toml_file.read(Path(env["CNB_BP_PLAN_PATH"]))
        _layer(Path(env["CNB_LAYERS_DIR"]), "venv", "[types]\nlaunch = true\n")
        return 0

    plan = [{"name": "cpython", "metadata": {"version": "3.12"}}]
    layers = tmp_path / "layers" / "test_bp"
    output = build_one(bp, layers, plan, tmp_path / "app", {"PATH": "/usr/bin"}, run)
    assert seen["argv"] == [str(bp.path / "bin" / "build")]
    assert seen["cwd"] == tmp_path / "app"
    assert seen["plan"] == {"entries": plan}
    env = seen["env"]
    assert isinstance(env, dict)
    assert (env["PATH"], env["CNB_LAYERS_DIR"]) == ("/usr/bin", str(layers))
    assert not Path(env["CNB_BP_PLAN_PATH"]).exists()  # the plan lives for the build only
    assert list(output.layer_types) == ["venv"]


def test_build_one_fails_on_a_non_zero_exit(bp: Buildpack, tmp_path: Path) -> None:
    with pytest.raises(LifecycleError) as raised:
        build_one(bp, tmp_path / "layers", [], tmp_path, {}, lambda argv, cwd, env: 7)
    assert (raised.value.code, raised.value.message) == (
        BUILD_FAILED,
        "test/bp build failed (exit 7)",
    )


@pytest.mark.skipif(os.geteuid() != 0, reason="only root may give files away")
def test_chown_tree_gives_every_entry_and_links_themselves(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    (root / "dir").mkdir(parents=True)
    (root / "dir" / "file").write_text("x", encoding="utf-8")
    outside = tmp_path / "outside"
    outside.write_text("not ours", encoding="utf-8")
    (root / "link").symlink_to(outside)
    chown_tree(root, "1001:1000")
    for path in (root, root / "dir", root / "dir" / "file", root / "link"):
        status = path.lstat()
        assert (status.st_uid, status.st_gid) == (1001, 1000), path
    assert outside.stat().st_uid == os.geteuid()  # the link's target is left alone
    chown_tree(root, "1002")
    assert (root.stat().st_uid, root.stat().st_gid) == (1002, 1002)
