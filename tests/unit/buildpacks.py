"""Tiny POSIX sh buildpacks written to a temporary directory, for the lifecycle's tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from python_cnb.cnb import toml_file
from python_cnb_lifecycle.workspace import Buildpack

SH_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def write_script(path: Path, body: str) -> Path:
    """An executable ``#!/bin/sh`` script running ``body`` with ``set -eu``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\nset -eu\n" + body, encoding="utf-8")
    path.chmod(0o755)
    return path


def write_buildpack(
    root: Path,
    buildpack_id: str,
    *,
    detect: str = "exit 0\n",
    build: str = "exit 0\n",
    extra: Optional[dict[str, Any]] = None,
    buildpack: Optional[dict[str, Any]] = None,
) -> Path:
    """``root/<escaped id>/`` with buildpack.toml, ``bin/detect`` and ``bin/build``."""
    path = root / buildpack_id.replace("/", "_")
    path.mkdir(parents=True)
    toml_file.write(
        path / "buildpack.toml",
        {
            "api": "0.10",
            "buildpack": {"id": buildpack_id, "version": "0.0.1", **(buildpack or {})},
            **(extra or {}),
        },
    )
    write_script(path / "bin" / "detect", detect)
    write_script(path / "bin" / "build", build)
    return path


def load(root: Path, buildpack_id: str, **kwargs: Any) -> Buildpack:
    """Write a buildpack and load it as the lifecycle does."""
    return Buildpack.load(write_buildpack(root, buildpack_id, **kwargs))


def plan_detect(plan: str, code: int = 0) -> str:
    """A ``bin/detect`` body that writes ``plan`` to ``$CNB_BUILD_PLAN_PATH`` and exits."""
    return f"cat > \"$CNB_BUILD_PLAN_PATH\" <<'EOF'\n{plan}\nEOF\nexit {code}\n"
