"""``<layers>/build.toml``: the plan entries a buildpack did not meet."""

from __future__ import annotations

from pathlib import Path

from python_cnb.cnb import toml_file
from python_cnb.cnb.validate import validate_build_toml


def write_build_toml(layers_dir: Path, unmet: tuple[str, ...], plan_names: tuple[str, ...]) -> None:
    """Validate and write build.toml; with nothing unmet, there is no file."""
    data = {"unmet": [{"name": name} for name in unmet]} if unmet else {}
    validate_build_toml(data, plan_names)
    path = layers_dir / "build.toml"
    if data:
        toml_file.write(path, data)
    else:
        path.unlink(missing_ok=True)
