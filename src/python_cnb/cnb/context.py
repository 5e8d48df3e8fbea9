"""The contexts the lifecycle gives ``bin/detect`` and ``bin/build`` (Buildpack API 0.10).

Everything is read from the ``CNB_*`` environment variables; the deprecated positional
arguments are ignored. The working directory is the application directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

from python_cnb.cnb.buildpack_toml import BuildpackDescriptor, read_descriptor
from python_cnb.cnb.plan import BuildpackPlan


@dataclass(eq=False)
class MissingContextError(Exception):
    """A ``CNB_*`` variable the spec guarantees was not set: we are not run by a lifecycle."""

    variable: str
    phase: str


@dataclass(frozen=True)
class Target:
    """The target the app is built for (``CNB_TARGET_*``)."""

    os: str
    arch: str
    arch_variant: str = ""
    distro_name: str = ""
    distro_version: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Target:
        """Read the target from ``CNB_TARGET_*``; distro fields are empty when unknown."""
        return cls(
            os=env.get("CNB_TARGET_OS", ""),
            arch=env.get("CNB_TARGET_ARCH", ""),
            arch_variant=env.get("CNB_TARGET_ARCH_VARIANT", ""),
            distro_name=env.get("CNB_TARGET_DISTRO_NAME", ""),
            distro_version=env.get("CNB_TARGET_DISTRO_VERSION", ""),
        )

    def describe(self) -> str:
        """``linux/amd64 (ubuntu 24.04)``, for logs."""
        text = f"{self.os}/{self.arch}" + (f"/{self.arch_variant}" if self.arch_variant else "")
        distro = " ".join(part for part in (self.distro_name, self.distro_version) if part)
        return f"{text} ({distro})" if distro else text


def _require(env: Mapping[str, str], name: str, phase: str) -> str:
    value = env.get(name)
    if not value:
        raise MissingContextError(name, phase)
    return value


@dataclass(frozen=True)
class DetectContext:
    """What ``bin/detect`` is given."""

    app_dir: Path
    platform_dir: Path
    buildpack_dir: Path
    build_plan_path: Path
    target: Target
    buildpack: BuildpackDescriptor
    env: Mapping[str, str]

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> DetectContext:
        """Build the context from the process environment and working directory."""
        env = dict(os.environ if env is None else env)
        buildpack_dir = Path(_require(env, "CNB_BUILDPACK_DIR", "detect"))
        return cls(
            app_dir=Path.cwd(),
            platform_dir=Path(_require(env, "CNB_PLATFORM_DIR", "detect")),
            buildpack_dir=buildpack_dir,
            build_plan_path=Path(_require(env, "CNB_BUILD_PLAN_PATH", "detect")),
            target=Target.from_env(env),
            buildpack=read_descriptor(buildpack_dir),
            env=env,
        )


@dataclass(frozen=True)
class BuildContext:
    """What ``bin/build`` is given."""

    app_dir: Path
    layers_dir: Path
    platform_dir: Path
    buildpack_dir: Path
    plan: BuildpackPlan
    target: Target
    buildpack: BuildpackDescriptor
    env: Mapping[str, str]

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> BuildContext:
        """Build the context from the process environment and working directory."""
        env = dict(os.environ if env is None else env)
        buildpack_dir = Path(_require(env, "CNB_BUILDPACK_DIR", "build"))
        return cls(
            app_dir=Path.cwd(),
            layers_dir=Path(_require(env, "CNB_LAYERS_DIR", "build")),
            platform_dir=Path(_require(env, "CNB_PLATFORM_DIR", "build")),
            buildpack_dir=buildpack_dir,
            plan=BuildpackPlan.read(Path(_require(env, "CNB_BP_PLAN_PATH", "build"))),
            target=Target.from_env(env),
            buildpack=read_descriptor(buildpack_dir),
            env=env,
        )
