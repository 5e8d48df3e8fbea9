"""The exporter: the image's launch layers, the build cache, and the image's metadata."""

from __future__ import annotations

import datetime as dt
import math
import shutil
from pathlib import Path
from typing import Any, Optional

from python_cnb.cnb.buildpack_toml import escape_id
from python_cnb.cnb.validate import SBOM_MEDIA_TYPES
from python_cnb_lifecycle.builder import BuildOutput
from python_cnb_lifecycle.digest import digest, normalize_mtimes
from python_cnb_lifecycle.errors import EXPORT_FAILED, LifecycleError
from python_cnb_lifecycle.restorer import _layers
from python_cnb_lifecycle.workspace import Buildpack, Workspace


def _go_time(value: dt.datetime, year: Optional[int] = None) -> str:
    """Go's ``time.Time`` in JSON: RFC 3339 with nanoseconds, trailing zeros trimmed."""
    text = f"{value.year if year is None else year:04d}-" + value.strftime("%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}".rstrip("0")
    offset = value.utcoffset() or dt.timedelta(0)
    if not offset:
        return text + "Z"
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f"{text}{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def as_label_json(value: Any, what: str) -> Any:
    """``value`` (decoded TOML) as the lifecycle keeps it in a JSON label or cache metadata.

    BurntSushi/toml decodes every date and time into a ``time.Time`` (a local one in the
    lifecycle's own zone, UTC in a build container; a bare time on 0000-01-01), which
    ``encoding/json`` writes as an RFC 3339 string; it refuses NaN and infinities.
    """
    if isinstance(value, dict):
        return {key: as_label_json(item, what) for key, item in value.items()}
    if isinstance(value, list):
        return [as_label_json(item, what) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        raise LifecycleError(
            "export",
            EXPORT_FAILED,
            f"failed to encode the metadata of {what}: json: unsupported value: "
            + ("NaN" if math.isnan(value) else f"{value:+}".replace("inf", "Inf")),
        )
    if isinstance(value, dt.datetime):
        return _go_time(value)
    if isinstance(value, dt.date):
        return _go_time(dt.datetime.combine(value, dt.time()))
    if isinstance(value, dt.time):
        return _go_time(dt.datetime.combine(dt.date(1, 1, 1), value), year=0)
    return value


def layer_sboms(layers_dir: Path, layers: set[str]) -> dict[str, list[tuple[Path, str]]]:
    """Each layer's SBOM files, and the name each is exported as, as ``bomfile.go`` finds
    them: every ``*.sbom.*.json`` in name order belongs to the layer named up to the file's
    FIRST dot, and is skipped when there is no such layer (or it was ignored). The media
    type comes from the suffix, so ``a.b.sbom.cdx.json`` is exported as ``a.sbom.cdx.json``;
    a later file for the same layer and type replaces an earlier one."""
    found: dict[str, list[tuple[Path, str]]] = {}
    for path in sorted(layers_dir.glob("*.sbom.*.json")):
        layer = path.name.split(".", 1)[0]
        extension = next((x for x in SBOM_MEDIA_TYPES if path.name.endswith(f".sbom.{x}")), None)
        if layer in layers and extension is not None:  # unknown types: the builder's error
            found.setdefault(layer, []).append((path, f"{layer}.sbom.{extension}"))
    return found


def merge_processes(
    buildpacks: list[Buildpack], outputs: dict[str, BuildOutput], log: list[str]
) -> tuple[list[dict[str, Any]], Optional[str]]:
    """Across buildpacks later definitions win, and the last ``default = true`` wins."""
    processes: dict[str, dict[str, Any]] = {}
    default: Optional[str] = None
    for bp in buildpacks:
        for process in outputs[bp.id].launch.get("processes", []):
            processes[process["type"]] = {**process, "buildpack": bp.id}
            if process.get("default"):
                default = process["type"]
            elif process["type"] == default:
                log.append(
                    f"Warning: redefining the default process type {default!r} without default\n"
                )
                default = None
    return list(processes.values()), default


def export(  # noqa: PLR0915 - the exporter's rules, in the lifecycle's order
    buildpacks: list[Buildpack],
    workspace: Workspace,
    outputs: dict[str, BuildOutput],
    previous_image: Optional[dict[str, Any]],
    log: list[str],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Write the image (launch layers stay in ``layers/``) and the new cache; return both
    metadata documents. Nothing of the old cache or image is touched until all succeeds."""
    staging_cache = workspace.root / ".cache-next"
    shutil.rmtree(staging_cache, ignore_errors=True)
    staging_cache.mkdir(parents=True)
    sbom_dir = workspace.root / ".sbom-next" / "launch"
    image_bps, cache_bps = [], []
    for bp in buildpacks:
        layers_dir = workspace.bp_layers(bp.id)
        output = outputs[bp.id]
        image_layers, cache_layers = {}, {}
        bp_cache = staging_cache / escape_id(bp.id)
        bp_cache.mkdir(parents=True, exist_ok=True)
        previous_layers = _layers(previous_image, bp.id)
        sboms = layer_sboms(layers_dir, set(output.layer_types))
        for name, types in sorted(output.layer_types.items()):
            layer = layers_dir / name
            metadata = as_label_json(output.layer_metadata[name], f"layer {bp.id}:{name}")
            if types["cache"] and types["launch"] and not layer.is_dir():
                raise LifecycleError(
                    "export",
                    EXPORT_FAILED,
                    f"layer {bp.id}:{name} has cache=true but has no contents",
                )
            sha = None
            if types["launch"]:
                if layer.is_dir():
                    normalize_mtimes(layer)
                    sha = digest(layer)
                    log.append(f"Adding layer '{bp.id}:{name}'\n")
                else:
                    previous = previous_layers.get(name)
                    source = workspace.previous_layers / escape_id(bp.id) / name
                    if previous is None or not source.is_dir():
                        raise LifecycleError(
                            "export",
                            EXPORT_FAILED,
                            f"cannot reuse '{bp.id}:{name}', "
                            "previous image has no metadata for layer",
                        )
                    # a copy: the previous image must stay whole until this export succeeds
                    shutil.copytree(source, layer, symlinks=True)
                    sha = previous["sha"]
                    log.append(f"Reusing layer '{bp.id}:{name}'\n")
                image_layers[name] = {"sha": sha, "types": types, "metadata": metadata}
                for sbom, target in sboms.get(name, []):
                    (sbom_dir / escape_id(bp.id)).mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(sbom, sbom_dir / escape_id(bp.id) / target)
            if types["cache"]:
                if not layer.is_dir():
                    log.append(f"Warning: cache layer {bp.id}:{name} has no contents; not cached\n")
                    continue
                normalize_mtimes(layer)
                shutil.copytree(layer, bp_cache / name, symlinks=True)
                for sbom, target in sboms.get(name, []):
                    shutil.copyfile(sbom, bp_cache / target)
                cache_layers[name] = {
                    "sha": sha or digest(layer),
                    "types": types,
                    "metadata": metadata,
                }
                log.append(f"Adding cache layer '{bp.id}:{name}'\n")
        image_bps.append(
            {
                "id": bp.id,
                "version": bp.descriptor.version,
                "api": bp.descriptor.api,
                "layers": image_layers,
                **(
                    {"store": as_label_json(output.store, f"{bp.id}'s store.toml")}
                    if output.store
                    else {}
                ),
            }
        )
        cache_bps.append({"id": bp.id, "version": bp.descriptor.version, "layers": cache_layers})
        _prune_to_image(layers_dir, set(image_layers))
    processes, default = merge_processes(buildpacks, outputs, log)
    normalize_mtimes(workspace.app)
    image = {
        "buildpacks": image_bps,
        "processes": processes,
        "default_process": default,
        "app_sha": digest(workspace.app),
    }
    cache = {"buildpacks": cache_bps}
    shutil.rmtree(workspace.cache, ignore_errors=True)
    staging_cache.rename(workspace.cache)
    shutil.rmtree(workspace.root / "sbom", ignore_errors=True)
    if sbom_dir.parent.is_dir():
        sbom_dir.parent.rename(workspace.root / "sbom")
    return image, cache


def _prune_to_image(layers_dir: Path, launch_layers: set[str]) -> None:
    """Leave exactly the image's launch layers (no TOML, no build or cache-only layers)."""
    for entry in list(layers_dir.iterdir()):
        if entry.is_dir() and entry.name in launch_layers:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
