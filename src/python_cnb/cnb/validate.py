"""Validators for every file a buildpack writes, from the Buildpack API 0.10 spec.

Each ``check_*`` function returns the list of problems it found (empty means valid); each
``validate_*`` function raises :class:`SpecViolation` listing all of them. The writers in this
package call these before they write, and the lifecycle runner calls them on everything a
buildpack left behind, so a file that breaks the spec fails loudly in the tests instead of
being tolerated, as the real lifecycle tolerates several violations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, Iterable, Mapping

from python_cnb.cnb import toml_file

RESERVED_LAYER_NAMES = frozenset({"build", "launch", "store"})
"""Layer names that collide with the buildpack's own output files."""

RESERVED_BUILDPACK_IDS = frozenset({"app", "config", "generated", "sbom"})

ENV_ACTIONS = ("override", "default", "prepend", "append", "delim")
"""Env file suffixes the lifecycle understands (no suffix means override)."""

SBOM_MEDIA_TYPES = {
    "cdx.json": "application/vnd.cyclonedx+json",
    "spdx.json": "application/spdx+json",
    "syft.json": "application/vnd.syft+json",
}
"""SBOM file extensions and the media types buildpack.toml must declare for them."""

_PROCESS_TYPE = re.compile(r"^[A-Za-z0-9._-]+$")
_LAYER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_BUILDPACK_ID = re.compile(r"^[A-Za-z0-9./-]+$")
_SEMVER = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")
_API = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")


@dataclass(eq=False)
class SpecViolation(Exception):
    """A file that does not follow the buildpack spec."""

    file: str
    """The file (or file kind) that was checked."""
    problems: tuple[str, ...]
    """Every rule it breaks, one sentence each."""

    def __str__(self) -> str:
        return f"{self.file} breaks the buildpack spec: " + "; ".join(self.problems)


def _raise_if(file: str, problems: list[str]) -> None:
    if problems:
        raise SpecViolation(file, tuple(problems))


def _unknown_keys(table: Mapping[str, Any], allowed: Iterable[str], where: str) -> list[str]:
    allowed_set = set(allowed)
    return [f"unknown key {key!r} in {where}" for key in table if key not in allowed_set]


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


# --- build plan (detect output) -------------------------------------------------------------


def check_plan(data: Mapping[str, Any]) -> list[str]:
    """Check a build plan as written by ``bin/detect`` to ``$CNB_BUILD_PLAN_PATH``."""
    problems = _unknown_keys(data, ("provides", "requires", "or"), "the plan")
    problems += _check_plan_alternative(data, "the plan")
    alternatives = data.get("or", [])
    if not isinstance(alternatives, list):
        return [*problems, "'or' must be an array of tables"]
    for index, alternative in enumerate(alternatives):
        where = f"or[{index}]"
        if not isinstance(alternative, dict):
            problems.append(f"{where} must be a table")
            continue
        problems += _unknown_keys(alternative, ("provides", "requires"), where)
        problems += _check_plan_alternative(alternative, where)
    return problems


def _check_plan_alternative(data: Mapping[str, Any], where: str) -> list[str]:
    problems: list[str] = []
    provides = data.get("provides", [])
    requires = data.get("requires", [])
    if not isinstance(provides, list) or not isinstance(requires, list):
        return [f"'provides' and 'requires' in {where} must be arrays of tables"]
    for index, entry in enumerate(provides):
        label = f"{where}: provides[{index}]"
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("name"), str)
            or not entry["name"]
        ):
            problems.append(f"{label} needs a non-empty string 'name'")
            continue
        problems += _unknown_keys(entry, ("name",), label)
    for index, entry in enumerate(requires):
        label = f"{where}: requires[{index}]"
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("name"), str)
            or not entry["name"]
        ):
            problems.append(f"{label} needs a non-empty string 'name'")
            continue
        if "version" in entry:
            problems.append(f"{label} has a top-level 'version'; put it in requires.metadata")
        problems += _unknown_keys(entry, ("name", "metadata"), label)
        if "metadata" in entry and not isinstance(entry["metadata"], dict):
            problems.append(f"{label}: 'metadata' must be a table")
    return problems


def validate_plan(data: Mapping[str, Any]) -> None:
    """Raise :class:`SpecViolation` unless ``data`` is a valid build plan."""
    _raise_if("build plan", check_plan(data))


# --- layers ----------------------------------------------------------------------------------


def check_layer_name(name: str) -> list[str]:
    """Check a layer directory name."""
    problems = []
    if "." in name and _LAYER_NAME.match(name.replace(".", "_")):
        # bomfile.go: <file>.sbom.*.json is the SBOM of the layer named up to its first dot
        problems.append(
            f"layer name {name!r} must not contain '.': the lifecycle takes an SBOM file "
            "to belong to the layer named up to the file's first dot"
        )
    elif not _LAYER_NAME.match(name):
        problems.append(f"layer name {name!r} must be letters, digits, '_' or '-'")
    if name in RESERVED_LAYER_NAMES:
        problems.append(f"layer name {name!r} is reserved (it collides with {name}.toml)")
    if name.endswith(".ignore"):
        problems.append(f"layer name {name!r} collides with the lifecycle's ignored layers")
    return problems


def check_layer_toml(data: Mapping[str, Any]) -> list[str]:
    """Check ``<layers>/<layer>.toml``: a ``[types]`` table and a free-form ``[metadata]``."""
    problems = _unknown_keys(data, ("types", "metadata"), "the layer TOML")
    for flag in ("launch", "build", "cache"):
        if flag in data:
            problems.append(f"type flag {flag!r} must be inside [types], not at the top level")
    types = data.get("types", {})
    if not isinstance(types, dict):
        problems.append("[types] must be a table")
    else:
        problems += _unknown_keys(types, ("launch", "build", "cache"), "[types]")
        problems += [
            f"types.{flag} must be a boolean"
            for flag, value in types.items()
            if flag in ("launch", "build", "cache") and not isinstance(value, bool)
        ]
    if "metadata" in data and not isinstance(data["metadata"], dict):
        problems.append("[metadata] must be a table")
    return problems


def validate_layer_toml(data: Mapping[str, Any]) -> None:
    """Raise :class:`SpecViolation` unless ``data`` is valid layer content metadata."""
    _raise_if("layer TOML", check_layer_toml(data))


# --- environment files -------------------------------------------------------------------------


def check_env_file(file_name: str, value: str) -> list[str]:
    """Check one file of a layer's ``env/``, ``env.build/`` or ``env.launch/`` directory."""
    name, _, action = file_name.partition(".")
    problems = []
    if not _ENV_NAME.match(name):
        problems.append(f"env file {file_name!r}: {name!r} is not a valid variable name")
    if action and action not in ENV_ACTIONS:
        problems.append(
            f"env file {file_name!r}: unknown suffix {action!r} (the lifecycle ignores it)"
        )
    if value.endswith("\n"):
        problems.append(
            f"env file {file_name!r} ends with a newline, which would become part of the value"
        )
    if "\0" in value:
        problems.append(f"env file {file_name!r} contains a NUL byte")
    return problems


def check_env_dir_name(relative: str) -> list[str]:
    """Check the directory of an env file: ``env``, ``env.build``, ``env.launch[/<type>]``."""
    parts = PurePosixPath(relative).parts
    if parts[:1] in (("env",), ("env.build",)) and len(parts) == 1:
        return []
    if parts[:1] == ("env.launch",) and len(parts) == 1:
        return []
    if parts[:1] == ("env.launch",) and len(parts) == 2:
        return check_process_type(parts[1])
    return [f"{relative!r} is not an env directory the lifecycle reads"]


# --- launch.toml -------------------------------------------------------------------------------


def check_process_type(process_type: str) -> list[str]:
    """Check a process type: letters, digits, '.', '_' and '-' (the spec's charset)."""
    if not isinstance(process_type, str) or not _PROCESS_TYPE.match(process_type):
        return [f"process type {process_type!r} must be letters, digits, '.', '_' or '-'"]
    return []


def check_launch_toml(data: Mapping[str, Any]) -> list[str]:  # noqa: PLR0912 - one rule each
    """Check launch.toml (Buildpack API 0.10)."""
    problems = _unknown_keys(data, ("processes", "labels", "slices"), "launch.toml")
    processes = data.get("processes", [])
    if not isinstance(processes, list):
        return [*problems, "'processes' must be an array of tables"]
    seen: set[str] = set()
    defaults = 0
    for index, process in enumerate(processes):
        where = f"processes[{index}]"
        if not isinstance(process, dict):
            problems.append(f"{where} must be a table")
            continue
        problems += _unknown_keys(
            process, ("type", "command", "args", "default", "working-dir"), where
        )
        if "direct" in process:
            problems.append(f"{where}: 'direct' is an error at Buildpack API 0.9 and later")
        process_type = process.get("type")
        if not isinstance(process_type, str) or not process_type:
            problems.append(f"{where} needs a non-empty string 'type'")
        else:
            problems += [f"{where}: {p}" for p in check_process_type(process_type)]
            if process_type in seen:
                problems.append(f"{where}: process type {process_type!r} is declared twice")
            seen.add(process_type)
        command = process.get("command")
        if isinstance(command, str):
            problems.append(f"{where}: 'command' must be an array, not a string")
        elif not _is_str_list(command) or not command or not command[0]:
            problems.append(f"{where}: 'command' must be a non-empty array of strings")
        if "args" in process and not _is_str_list(process["args"]):
            problems.append(f"{where}: 'args' must be an array of strings")
        if "default" in process and not isinstance(process["default"], bool):
            problems.append(f"{where}: 'default' must be a boolean")
        defaults += process.get("default") is True
        if "working-dir" in process and not isinstance(process["working-dir"], str):
            problems.append(f"{where}: 'working-dir' must be a string")
    if defaults > 1:
        problems.append("at most one process may have default = true")
    problems += _check_labels(data.get("labels", []))
    problems += _check_slices(data.get("slices", []))
    return problems


def _check_labels(labels: Any) -> list[str]:
    if not isinstance(labels, list):
        return ["'labels' must be an array of tables"]
    problems: list[str] = []
    keys: set[str] = set()
    for index, label in enumerate(labels):
        if not isinstance(label, dict) or not all(
            isinstance(label.get(k), str) for k in ("key", "value")
        ):
            problems.append(f"labels[{index}] needs string 'key' and 'value'")
            continue
        problems += _unknown_keys(label, ("key", "value"), f"labels[{index}]")
        if label["key"] in keys:
            problems.append(f"labels[{index}]: key {label['key']!r} is declared twice")
        keys.add(label["key"])
    return problems


def _check_slices(slices: Any) -> list[str]:
    if not isinstance(slices, list):
        return ["'slices' must be an array of tables"]
    return [
        f"slices[{index}] needs 'paths', an array of strings"
        for index, item in enumerate(slices)
        if not isinstance(item, dict) or not _is_str_list(item.get("paths"))
    ]


def validate_launch_toml(data: Mapping[str, Any]) -> None:
    """Raise :class:`SpecViolation` unless ``data`` is a valid launch.toml."""
    _raise_if("launch.toml", check_launch_toml(data))


# --- build.toml and store.toml ------------------------------------------------------------------


def check_build_toml(data: Mapping[str, Any], plan_names: Iterable[str]) -> list[str]:
    """Check build.toml: ``[[unmet]]`` entries must name entries of the buildpack plan."""
    problems = _unknown_keys(data, ("unmet",), "build.toml")
    names = set(plan_names)
    unmet = data.get("unmet", [])
    if not isinstance(unmet, list):
        return [*problems, "'unmet' must be an array of tables"]
    for index, entry in enumerate(unmet):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            problems.append(f"unmet[{index}] needs a string 'name'")
        elif entry["name"] not in names:
            problems.append(f"unmet[{index}]: {entry['name']!r} is not in the buildpack plan")
    return problems


def validate_build_toml(data: Mapping[str, Any], plan_names: Iterable[str]) -> None:
    """Raise :class:`SpecViolation` unless ``data`` is a valid build.toml."""
    _raise_if("build.toml", check_build_toml(data, plan_names))


def check_store_toml(data: Mapping[str, Any]) -> list[str]:
    """Check store.toml: only a ``[metadata]`` table."""
    problems = _unknown_keys(data, ("metadata",), "store.toml")
    if "metadata" in data and not isinstance(data["metadata"], dict):
        problems.append("[metadata] must be a table")
    return problems


# --- SBOM ---------------------------------------------------------------------------------------


def sbom_extension(file_name: str) -> str | None:
    """The SBOM extension (``cdx.json``...) of ``<name>.sbom.<ext>``, or None."""
    _, sep, ext = file_name.partition(".sbom.")
    return ext if sep else None


def check_sbom_file(file_name: str, declared_media_types: Iterable[str]) -> list[str]:
    """Check an SBOM file name against the media types buildpack.toml declares."""
    ext = sbom_extension(file_name)
    if ext is None:
        return [f"{file_name!r} is not named <name>.sbom.<ext>"]
    media_type = SBOM_MEDIA_TYPES.get(ext)
    if media_type is None:
        return [f"{file_name!r}: SBOM extension {ext!r} is not one the lifecycle accepts"]
    if media_type not in set(declared_media_types):
        return [f"{file_name!r}: media type {media_type} is not declared in sbom-formats"]
    return []


# --- exec.d --------------------------------------------------------------------------------------


def check_exec_d_output(text: str) -> list[str]:
    """Check what an exec.d program wrote to fd 3: TOML of ``NAME = "string"`` pairs only."""
    try:
        data = toml_file.loads(text)
    except toml_file.TOMLDecodeError as error:
        return [f"exec.d output is not valid TOML: {error}"]
    return [
        f"exec.d output: {key!r} must be a string, not {type(value).__name__}"
        for key, value in data.items()
        if not isinstance(value, str)
    ]


# --- buildpack.toml ------------------------------------------------------------------------------


def check_buildpack_toml(data: Mapping[str, Any]) -> list[str]:
    """Check a buildpack's own descriptor, buildpack.toml."""
    problems: list[str] = []
    api = data.get("api")
    if not isinstance(api, str) or not _API.match(api):
        problems.append("'api' must be a string like \"0.10\"")
    buildpack = data.get("buildpack")
    if not isinstance(buildpack, dict):
        return [*problems, "[buildpack] is required"]
    bp_id = buildpack.get("id")
    if not isinstance(bp_id, str) or not _BUILDPACK_ID.match(bp_id):
        problems.append("buildpack.id must be letters, digits, '.', '/' and '-'")
    elif bp_id.lower() in RESERVED_BUILDPACK_IDS:
        problems.append(f"buildpack.id {bp_id!r} is reserved")
    version = buildpack.get("version")
    if not isinstance(version, str) or not _SEMVER.match(version):
        problems.append("buildpack.version must be X.Y.Z without leading zeros")
    if "exec-env" in buildpack:
        problems.append("buildpack.exec-env is read differently by spec and lifecycle; omit it")
    for media_type in buildpack.get("sbom-formats", []):
        if media_type not in SBOM_MEDIA_TYPES.values():
            problems.append(f"sbom-formats: {media_type!r} is not an SBOM media type")
    if "order" in data and ("targets" in data or "stacks" in data):
        problems.append("[[order]] cannot be combined with [[targets]] or [[stacks]]")
    for index, target in enumerate(data.get("targets", [])):
        where = f"targets[{index}]"
        problems += _unknown_keys(target, ("os", "arch", "variant", "distros"), where)
        for distro in target.get("distros", []):
            problems += _unknown_keys(distro, ("name", "version"), f"{where}.distros")
    return problems


def validate_buildpack_toml(data: Mapping[str, Any]) -> None:
    """Raise :class:`SpecViolation` unless ``data`` is a valid buildpack.toml."""
    _raise_if("buildpack.toml", check_buildpack_toml(data))
