"""The builder: run every ``bin/build``, then check everything it wrote against the spec."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

from python_cnb.cnb import toml_file
from python_cnb.cnb.validate import (
    check_build_toml,
    check_env_dir_name,
    check_env_file,
    check_launch_toml,
    check_layer_name,
    check_layer_toml,
    check_sbom_file,
    check_store_toml,
)
from python_cnb_lifecycle.env import Env
from python_cnb_lifecycle.errors import BUILD_FAILED, SPEC_VIOLATION, LifecycleError
from python_cnb_lifecycle.workspace import Buildpack

RunFn = Callable[[list[str], Path, Mapping[str, str]], int]
_OUTPUT_FILES = ("launch.toml", "build.toml", "store.toml")


@dataclass
class BuildOutput:
    """What one buildpack left for the exporter."""

    layer_types: dict[str, dict[str, bool]] = field(default_factory=dict)
    layer_metadata: dict[str, dict[str, Any]] = field(default_factory=dict)
    launch: dict[str, Any] = field(default_factory=dict)
    unmet: list[str] = field(default_factory=list)
    store: dict[str, Any] = field(default_factory=dict)


def _violation(bp: Buildpack, problems: list[str]) -> None:
    if problems:
        raise LifecycleError("build", SPEC_VIOLATION, f"{bp.id}: " + "; ".join(problems))


def _check_env_dirs(layer: Path) -> list[str]:
    problems = []
    for env_root in ("env", "env.build", "env.launch"):
        base = layer / env_root
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            relative_dir = path.parent.relative_to(layer).as_posix()
            if path.is_dir():
                if path.parent != base or env_root != "env.launch":
                    problems.append(f"{layer.name}: unexpected directory {path.relative_to(layer)}")
                continue
            problems += [f"{layer.name}: {p}" for p in check_env_dir_name(relative_dir)]
            value = path.read_text(encoding="utf-8", errors="surrogateescape")
            problems += [f"{layer.name}: {p}" for p in check_env_file(path.name, value)]
    return problems


def process_layers(  # noqa: PLR0912 - one branch per file kind, as the lifecycle reads them
    bp: Buildpack, layers_dir: Path, plan_names: list[str]
) -> BuildOutput:
    """Validate layers, env files, SBOMs, launch.toml, build.toml; rename ignored layers."""
    result = BuildOutput()
    problems: list[str] = []
    for toml_path in sorted(layers_dir.glob("*.toml")):
        if toml_path.name in _OUTPUT_FILES:
            continue
        name = toml_path.stem
        problems += check_layer_name(name)
        try:
            data = toml_file.read(toml_path)
        except toml_file.TOMLDecodeError as error:
            raise LifecycleError(
                "build", BUILD_FAILED, f"{bp.id}: failed to parse metadata for layers: {error}"
            ) from None
        problems += [f"{toml_path.name}: {p}" for p in check_layer_toml(data)]
        table = data.get("types", {})  # not a table: a problem reported above, not a crash
        table = table if isinstance(table, dict) else {}
        types = {k: bool(table.get(k, False)) for k in ("launch", "build", "cache")}
        layer = layers_dir / name
        if layer.is_dir():
            problems += _check_env_dirs(layer)
        if not any(types.values()):
            if layer.is_dir():
                layer.rename(layers_dir / f"{name}.ignore")
            continue
        result.layer_types[name] = types
        result.layer_metadata[name] = data.get("metadata", {})
    for sbom in sorted(layers_dir.glob("*.sbom.*")):
        problems += check_sbom_file(sbom.name, bp.descriptor.sbom_formats)
    for path in (layers_dir / "launch.toml", layers_dir / "build.toml", layers_dir / "store.toml"):
        if not path.is_file():
            continue
        try:
            data = toml_file.read(path)
        except toml_file.TOMLDecodeError as error:
            raise LifecycleError(
                "build", BUILD_FAILED, f"{bp.id}: invalid {path.name}: {error}"
            ) from None
        if path.name == "launch.toml":
            problems += [f"launch.toml: {p}" for p in check_launch_toml(data)]
            result.launch = data
        elif path.name == "build.toml":
            problems += [f"build.toml: {p}" for p in check_build_toml(data, plan_names)]
            unmet = data.get("unmet", [])
            result.unmet = [
                entry["name"]
                for entry in (unmet if isinstance(unmet, list) else [])
                if isinstance(entry, dict) and isinstance(entry.get("name"), str)
            ]
        else:
            problems += [f"store.toml: {p}" for p in check_store_toml(data)]
            result.store = data
    _violation(bp, problems)
    return result


def build_one(
    bp: Buildpack,
    layers_dir: Path,
    plan: list[dict[str, Any]],
    app_dir: Path,
    env: dict[str, str],
    run: RunFn,
    *,
    user: Optional[str] = None,
    scratch: Optional[Path] = None,
) -> BuildOutput:
    """Run one buildpack's ``bin/build`` (as ``user``) and process what it wrote."""
    layers_dir.mkdir(parents=True, exist_ok=True)
    if user is not None:
        chown_tree(layers_dir, user)
    with tempfile.TemporaryDirectory(prefix="lifecycle-plan-", dir=scratch) as tmp:
        plan_path = Path(tmp) / "plan.toml"
        toml_file.write(plan_path, {"entries": plan} if plan else {})
        if user is not None:
            chown_tree(Path(tmp), user)
        env = {**env, "CNB_BP_PLAN_PATH": str(plan_path), "CNB_LAYERS_DIR": str(layers_dir)}
        code = run([str(bp.path / "bin" / "build")], app_dir, env)
    if code != 0:
        raise LifecycleError("build", BUILD_FAILED, f"{bp.id} build failed (exit {code})")
    return process_layers(bp, layers_dir, [entry["name"] for entry in plan])


def add_build_layers(env: Env, layers_dir: Path, output: BuildOutput) -> None:
    """``setupEnv``: later buildpacks see this one's build layers (paths, env, env.build)."""
    for name in sorted(output.layer_types):
        if not output.layer_types[name]["build"]:
            continue
        layer = layers_dir / name
        env.add_root_dir(layer)
        env.add_env_dir(layer / "env", "override")
        env.add_env_dir(layer / "env.build", "override")


def chown_tree(path: Path, user: str) -> None:
    """Give ``path`` to ``uid[:gid]`` (to build as a non-root user)."""
    uid, _, gid = user.partition(":")
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.lchown(Path(root, name), int(uid), int(gid or uid))
    os.lchown(path, int(uid), int(gid or uid))
