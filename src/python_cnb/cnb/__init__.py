"""The Cloud Native Buildpacks contract, and nothing about Python.

This package implements the parts of the buildpack specification (Buildpack API 0.10) that
python-cnb needs: reading the contexts the lifecycle passes, writing the build plan, layers,
layer environment files, launch.toml, build.toml and SBOM files, and validating every one of
them before it is written. It knows nothing about Python; see ``python_cnb`` for that.
"""

from __future__ import annotations

BUILDPACK_API = "0.10"
"""The Buildpack API this buildpack implements (the lowest that has targets)."""

NORMALIZED_MTIME = 315532801
"""1980-01-01T00:00:01Z: the modification time the lifecycle gives every file it exports
(its ``archive.NormalizedModTime``), so that image layers are reproducible."""
