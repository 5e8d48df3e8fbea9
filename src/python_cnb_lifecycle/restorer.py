"""The restorer: what a rebuild starts with, by the spec's "Layer Types" table.

| previous types          | <layer>.toml ([metadata] only)      | contents        |
| launch only             | from the previous image             | no              |
| launch+cache (+build)   | from the image (else the cache)     | from the cache  |
| cache (+build)          | from the cache                      | from the cache  |
| build without cache     | no                                  | no              |

Launch+cache layers are all or nothing: restored only when the cache has the layer with
cache=true and the image's digest equals the cache's. ``[types]`` is never restored.
``store.toml`` is restored from the previous image only.

``[metadata]`` and ``store.toml`` come back as the lifecycle decodes them from JSON into Go's
``any``: every number is a float64, which BurntSushi/toml writes as ``1.0``
(buildpacks/lifecycle#884).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Optional

from python_cnb.cnb import toml_file
from python_cnb.cnb.buildpack_toml import escape_id
from python_cnb.cnb.validate import SBOM_MEDIA_TYPES
from python_cnb_lifecycle.workspace import Buildpack, Workspace


def _layers(metadata: Optional[dict[str, Any]], buildpack_id: str) -> dict[str, Any]:
    if not metadata:
        return {}
    for bp in metadata.get("buildpacks", []):
        if bp["id"] == buildpack_id:
            layers: dict[str, Any] = bp.get("layers", {})
            return layers
    return {}


def _store(metadata: Optional[dict[str, Any]], buildpack_id: str) -> dict[str, Any]:
    for bp in (metadata or {}).get("buildpacks", []):
        if bp["id"] == buildpack_id:
            store: dict[str, Any] = bp.get("store", {})
            return store
    return {}


def from_label_json(value: Any) -> Any:
    """JSON as Go decodes it into ``any``: every number becomes a float64."""
    return json.loads(json.dumps(value), parse_int=float)


def _write_metadata(layers_dir: Path, name: str, metadata: dict[str, Any]) -> None:
    metadata = from_label_json(metadata)
    toml_file.write(layers_dir / f"{name}.toml", {"metadata": metadata} if metadata else {})


def _copy_sboms(source_dir: Path, layers_dir: Path, name: str) -> None:
    for extension in SBOM_MEDIA_TYPES:
        source = source_dir / f"{name}.sbom.{extension}"
        if source.is_file():
            shutil.copyfile(source, layers_dir / source.name)


def restore(
    buildpacks: list[Buildpack],
    workspace: Workspace,
    image: Optional[dict[str, Any]],
    cache: Optional[dict[str, Any]],
    log: list[str],
) -> None:
    """Fill the (empty) layers directory from the previous image's metadata and the cache."""
    for bp in buildpacks:
        layers_dir = workspace.bp_layers(bp.id)
        layers_dir.mkdir(parents=True, exist_ok=True)
        image_layers = _layers(image, bp.id)
        cache_layers = _layers(cache, bp.id)
        cache_dir = workspace.cache / escape_id(bp.id)
        image_sbom_dir = workspace.root / "sbom" / "launch" / escape_id(bp.id)
        store = _store(image, bp.id)
        if store:  # store.toml comes from the previous image only
            toml_file.write(layers_dir / "store.toml", from_label_json(store))
        for name in sorted(set(image_layers) | set(cache_layers)):
            in_image, in_cache = image_layers.get(name), cache_layers.get(name)
            cached = in_cache is not None and in_cache["types"].get("cache", False)
            source = _metadata_source(in_image, in_cache, cached)
            if source is None:
                continue
            if not cached:
                _write_metadata(layers_dir, name, source.get("metadata", {}))
                _copy_sboms(image_sbom_dir, layers_dir, name)
                log.append(f"Restoring metadata for {bp.id}:{name} from app image\n")
                continue
            assert in_cache is not None
            if source["sha"] != in_cache["sha"]:
                log.append(f"Removing {bp.id}:{name}, wrong sha\n")
                continue
            _write_metadata(layers_dir, name, source.get("metadata", {}))
            log.append(f"Restoring data for {bp.id}:{name} from cache\n")
            if not (cache_dir / name).is_dir():  # a cache read error: the metadata stays
                log.append(
                    f"Warning: Skipping restore for layer {bp.id}:{name}: "
                    f"failed to find cache layer with SHA '{in_cache['sha']}'\n"
                )
                continue
            shutil.copytree(cache_dir / name, layers_dir / name, symlinks=True)
            _copy_sboms(cache_dir, layers_dir, name)


def _metadata_source(
    in_image: Optional[dict[str, Any]], in_cache: Optional[dict[str, Any]], cached: bool
) -> Optional[dict[str, Any]]:
    """Where the lifecycle restores a layer's metadata (and its SHA) from, if anywhere.

    ``restoreLayerMetadata``: image layers first, unless launch=false, build=true without
    cache, or cache=true but not cached; then cached layers, unless launch=true and in the
    image (already handled).
    """
    if (
        cached
        and in_cache is not None
        and (in_image is None or not in_cache["types"].get("launch", False))
    ):
        return in_cache
    if in_image is None:
        return None
    types = in_image.get("types", {})
    if not types.get("launch", False):
        return None
    if types.get("build", False) and not types.get("cache", False):
        return None
    if types.get("cache", False) and not cached:
        return None
    return in_image
