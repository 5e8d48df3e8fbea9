"""Environment assembly exactly as the lifecycle's ``env`` package does it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Optional

BUILD_ROOT_DIRS = {
    "bin": ("PATH",),
    "lib": ("LD_LIBRARY_PATH", "LIBRARY_PATH"),
    "include": ("CPATH",),
    "pkgconfig": ("PKG_CONFIG_PATH",),
}
LAUNCH_ROOT_DIRS = {"bin": ("PATH",), "lib": ("LD_LIBRARY_PATH",)}

BUILD_ENV_INCLUDELIST = (
    "CNB_STACK_ID",
    "HOSTNAME",
    "HOME",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "NO_PROXY",
    "no_proxy",
)
LAUNCH_ENV_EXCLUDELIST = (
    "CNB_LAYERS_DIR",
    "CNB_APP_DIR",
    "CNB_PROCESS_TYPE",
    "CNB_PLATFORM_API",
    "CNB_DEPRECATION_MODE",
)
LAUNCH_PATH_EXCLUDELIST = ("/cnb/process", "/cnb/lifecycle")
"""``launch.ProcessDir`` and ``launch.LifecycleDir``, which ``NewLaunchEnv`` strips from PATH."""


def _prefix(value: str, separator: str) -> str:
    return separator + value if value else ""


def _suffix(value: str, separator: str) -> str:
    return value + separator if value else ""


class Env:
    """A set of variables and the root-dir map (which layer dirs feed which path vars)."""

    def __init__(self, variables: Mapping[str, str], root_dirs: Mapping[str, tuple[str, ...]]):
        self.vars = dict(variables)
        self.root_dirs = dict(root_dirs)

    @classmethod
    def for_build(cls, environ: Mapping[str, str]) -> Env:
        """``NewBuildEnv``: only the include-list and the path variables pass through."""
        keep = set(BUILD_ENV_INCLUDELIST) | {v for vs in BUILD_ROOT_DIRS.values() for v in vs}
        return cls({k: v for k, v in environ.items() if k in keep}, BUILD_ROOT_DIRS)

    @classmethod
    def for_launch(cls, environ: Mapping[str, str]) -> Env:
        """``NewLaunchEnv``: the container env minus the lifecycle's own variables, and
        minus the lifecycle's directories in PATH."""
        variables = {k: v for k, v in environ.items() if k not in LAUNCH_ENV_EXCLUDELIST}
        if "PATH" in variables:
            variables["PATH"] = os.pathsep.join(
                part
                for part in variables["PATH"].split(os.pathsep)
                if part not in LAUNCH_PATH_EXCLUDELIST
            )
        return cls(variables, LAUNCH_ROOT_DIRS)

    def get(self, name: str) -> str:
        """The value, or empty."""
        return self.vars.get(name, "")

    def set(self, name: str, value: str) -> None:
        """Set a variable."""
        self.vars[name] = value

    def add_root_dir(self, directory: Path) -> None:
        """Prepend ``<dir>/bin`` to PATH and so on, for each sub-directory that exists."""
        for sub, names in self.root_dirs.items():
            child = directory / sub
            if not child.exists():
                continue
            for name in names:
                self.set(name, str(child.absolute()) + _prefix(self.get(name), os.pathsep))

    def add_env_dir(self, env_dir: Path, default_action: str = "override") -> None:
        """Apply a layer's env directory: every file, in name order, by its suffix."""
        for name, value in _env_files(env_dir):
            var, dot, action = name.partition(".")
            if not dot:  # ``FOO.`` has the action "" (prepend-path), not the default action
                action = default_action
            if action == "prepend":
                self.set(var, value + _prefix(self.get(var), _delim(env_dir, var, "")))
            elif action == "append":
                self.set(var, _suffix(self.get(var), _delim(env_dir, var, "")) + value)
            elif action == "override":
                self.set(var, value)
            elif action == "default":
                if not self.get(var):
                    self.set(var, value)
            elif action == "":
                self.set(var, value + _prefix(self.get(var), _delim(env_dir, var, os.pathsep)))

    def with_overrides(
        self, platform_dir: Optional[Path], build_config_dir: Optional[Path]
    ) -> dict[str, str]:
        """``WithOverrides``: platform env files (path vars prepended), then operator defaults."""
        result = Env(self.vars, self.root_dirs)
        path_vars = {v for vs in self.root_dirs.values() for v in vs}
        if platform_dir is not None:
            for name, value in _env_files(platform_dir / "env"):
                if name in path_vars:
                    result.set(name, value + _prefix(result.get(name), os.pathsep))
                else:
                    result.set(name, value)
        if build_config_dir is not None:
            result.add_env_dir(build_config_dir / "env", "default")
        return dict(result.vars)


def _env_files(directory: Path) -> list[tuple[str, str]]:
    if not directory.is_dir():
        return []
    files = []
    for entry in sorted(directory.iterdir(), key=lambda p: p.name):
        if entry.is_dir():
            continue
        files.append((entry.name, entry.read_text(encoding="utf-8", errors="surrogateescape")))
    return files


def _delim(env_dir: Path, name: str, default: str) -> str:
    path = env_dir / f"{name}.delim"
    return path.read_text(encoding="utf-8") if path.is_file() else default
