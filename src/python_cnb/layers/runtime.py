"""The ``runtime`` layer: launch-time defaults (launch only, written anew every build)."""

from __future__ import annotations

from python_cnb.cnb.context import BuildContext
from python_cnb.cnb.layer_env import LayerEnv, Scope
from python_cnb.cnb.layers import Layer, LayerTypes

LAYER_NAME = "runtime"
TYPES = LayerTypes(launch=True)
DEFAULT_PORT = "8080"


def write_runtime_layer(ctx: BuildContext) -> None:
    """``PORT`` defaults to 8080; a value set by the user or the platform wins."""
    layer = Layer(ctx.layers_dir, LAYER_NAME)
    layer.reset()
    LayerEnv().default("PORT", DEFAULT_PORT, Scope.LAUNCH).write(layer.path)
    layer.write(TYPES)
