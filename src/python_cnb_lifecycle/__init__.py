"""A local stand-in for the CNB lifecycle (detector, restorer, builder, exporter, launcher).

It runs buildpacks the way lifecycle 0.21 does (see docs/cnb-contract.md): the same
directories and environment for ``bin/detect`` and ``bin/build``, the same plan resolution,
the restoration table for rebuilds, the exporter's reuse rules, and the launcher's env
assembly and exec.d. Unlike the real lifecycle it validates everything a buildpack writes
against the spec and fails on violations the real one tolerates. It is for tests and local
use where ``pack`` is unavailable, not a replacement for it.

Workspace layout::

    WS/app/                the app, as exported (the image's /workspace)
    WS/layers/<bp>/        the layers; after export, exactly the image's launch layers
    WS/platform/env/       the platform's env files (--env)
    WS/platform/bindings/  service bindings
    WS/build-config/env/   the operator's env files (--build-config-env)
    WS/cache/              the build cache (cached layers, their metadata and digests)
    WS/image.json          the exported image's metadata (layers, digests, processes)
"""

from __future__ import annotations

from python_cnb_lifecycle.runner import BuildResult, LaunchSpec, Workspace, build, launch_spec

__all__ = ["BuildResult", "LaunchSpec", "Workspace", "build", "launch_spec"]
