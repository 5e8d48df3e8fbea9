"""The ``pip-cache`` layer: pip's download and wheel cache (cache only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from python_cnb.cnb.context import BuildContext
from python_cnb.cnb.layers import LayerTypes, cached_layer
from python_cnb.layers import log_decision

LAYER_NAME = "pip-cache"
TYPES = LayerTypes(cache=True)


@dataclass(frozen=True)
class PipCacheMetadata:
    """Wheels are tagged for their platform; a different target gets a fresh cache."""

    os: str = field(metadata={"label": "target OS"})
    arch: str = field(metadata={"label": "target architecture"})
    distro_name: str = field(metadata={"label": "target distribution"})
    distro_version: str = field(metadata={"label": "target distribution version"})


def prepare_pip_cache(ctx: BuildContext, *, keep_cache: bool = True) -> Path:
    """The directory to give pip as ``PIP_CACHE_DIR``."""
    metadata = PipCacheMetadata(
        os=ctx.target.os,
        arch=ctx.target.arch,
        distro_name=ctx.target.distro_name,
        distro_version=ctx.target.distro_version,
    )
    decision = cached_layer(
        ctx.layers_dir, LAYER_NAME, types=TYPES, metadata=metadata, keep=keep_cache
    )
    log_decision(decision, "pip download cache")  # type: ignore[arg-type]
    decision.layer.write(TYPES, metadata)
    return decision.layer.path
