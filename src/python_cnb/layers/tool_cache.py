"""Cache-only layers for the tools' caches: ``pip-cache``, ``uv-cache``, ``poetry-cache``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from python_cnb.cnb.context import BuildContext
from python_cnb.cnb.layers import LayerTypes, cached_layer
from python_cnb.layers import log_decision

TYPES = LayerTypes(cache=True)


@dataclass(frozen=True)
class ToolCacheMetadata:
    """Caches hold platform-specific wheels: a different target gets a fresh cache."""

    os: str = field(metadata={"label": "target OS"})
    arch: str = field(metadata={"label": "target architecture"})
    distro_name: str = field(metadata={"label": "target distribution"})
    distro_version: str = field(metadata={"label": "target distribution version"})


def prepare_tool_cache(ctx: BuildContext, name: str, what: str, *, keep_cache: bool = True) -> Path:
    """The directory of the cache-only layer ``name`` (e.g. ``uv-cache``), kept across builds."""
    metadata = ToolCacheMetadata(
        os=ctx.target.os,
        arch=ctx.target.arch,
        distro_name=ctx.target.distro_name,
        distro_version=ctx.target.distro_version,
    )
    decision = cached_layer(ctx.layers_dir, name, types=TYPES, metadata=metadata, keep=keep_cache)
    log_decision(decision, what)  # type: ignore[arg-type]
    decision.layer.write(TYPES, metadata)
    return decision.layer.path
