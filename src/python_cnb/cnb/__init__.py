"""The Cloud Native Buildpacks contract, and nothing about Python.

This package implements the parts of the buildpack specification (Buildpack API 0.10) that
python-cnb needs: reading the contexts the lifecycle passes, writing the build plan, layers,
layer environment files, launch.toml, build.toml and SBOM files, and validating every one of
them before it is written. It knows nothing about Python; see ``python_cnb`` for that.
"""

from __future__ import annotations

BUILDPACK_API = "0.10"
"""The Buildpack API this buildpack implements (the lowest that has targets)."""
