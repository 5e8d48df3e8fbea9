"""Building and running fixture apps with the lifecycle runner, for integration tests."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional, Sequence

from tools.ports import free_port

from python_cnb.cnb import toml_file
from python_cnb_lifecycle.process_runner import as_user
from python_cnb_lifecycle.runner import BuildResult, LaunchSpec, Workspace, build, launch_spec

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
EXAMPLES = REPO / "examples"

OPERATOR_ENV = {"PIP_CONFIG_FILE": "/dev/null"}
"""The build image's operator settings. This machine's global pip configuration (extra
indexes, find-links, constraints under /etc) is not part of any real build image, so the
tests' "operator" turns pip configuration files off, as /cnb/build-config/env would."""


def http_get(url: str, timeout: float = 10) -> tuple[int, str]:
    """Status and body of a GET (errors are statuses, not exceptions)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


@dataclass
class Running:
    """A launched process of a built app."""

    process: subprocess.Popen[str]
    port: int
    log_path: Path

    @property
    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def get(self, path: str = "/") -> tuple[int, str]:
        return http_get(f"http://127.0.0.1:{self.port}{path}")

    def wait_for_http(self, path: str = "/", timeout: float = 60) -> tuple[int, str]:
        """Poll until the app answers (any status) or exits; fail with its output."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"the app exited with {self.process.returncode}:\n{self.output}"
                )
            try:
                return self.get(path)
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        raise AssertionError(f"no HTTP answer within {timeout}s:\n{self.output}")

    def wait_for_output(self, text: str, count: int = 1, timeout: float = 20) -> str:
        """Poll the log until ``text`` appears ``count`` times (servers log after they
        answer, and workers boot in their own time); return the log."""
        deadline = time.monotonic() + timeout
        while self.output.count(text) < count and time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        output = self.output
        assert output.count(text) >= count, f"{text!r} not logged {count} times:\n{output}"
        return output

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@dataclass
class Lifecycle:
    """One app's workspace: build it, rebuild it, launch its processes."""

    root: Path
    platform_env: dict[str, str]
    buildpacks: Sequence[Path] = (REPO,)
    running: list[Running] = field(default_factory=list)

    @property
    def workspace(self) -> Workspace:
        return Workspace(self.root / "workspace")

    def app(self, name: str) -> Path:
        """A fresh, writable copy of a fixture app (tests/fixtures/<name> or examples/<name>)."""
        source = FIXTURES / name if (FIXTURES / name).is_dir() else EXAMPLES / name
        target = self.root / "apps" / name
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source, target, symlinks=True)
        return target

    def apply_changes(self, app_dir: Path, name: str) -> None:
        """Copy tests/fixtures/changes/<name>/* over the app (a dependency change)."""
        for source in (FIXTURES / "changes" / name).iterdir():
            shutil.copyfile(source, app_dir / source.name)

    def site_packages(self) -> Path:
        """The venv layer's site-packages in the exported image."""
        return next((self.layer("venv") / "lib").glob("python3*/site-packages"))

    def build(
        self,
        app_dir: Path,
        env: Optional[Mapping[str, str]] = None,
        *,
        expect_success: bool = True,
        unset: Sequence[str] = (),
        user: Optional[str] = None,
    ) -> BuildResult:
        """Build (or rebuild) ``app_dir``; ``env`` adds to the platform env, ``unset`` removes."""
        platform_env = {**self.platform_env, **(env or {})}
        for name in unset:
            platform_env.pop(name, None)
        result = build(
            app_dir,
            self.workspace,
            env=platform_env,
            build_config_env=OPERATOR_ENV,
            buildpacks=self.buildpacks,
            user=user,
        )
        if expect_success and not result.success:
            raise AssertionError(f"build failed ({result.error}):\n{result.output}")
        if not expect_success and result.success:
            raise AssertionError(f"build unexpectedly succeeded:\n{result.output}")
        return result

    def start(
        self,
        process_type: Optional[str] = None,
        env: Optional[Mapping[str, str]] = None,
        args: Optional[Sequence[str]] = None,
        user: Optional[str] = None,
    ) -> Running:
        """Launch a process type with PORT set to a free port (as ``user``, if given).

        ``BIND_HOST=127.0.0.1`` keeps servers on loopback: the tests' processes listen on
        127.0.0.1 only (deployments default to all interfaces)."""
        port = free_port()
        spec = launch_spec(
            self.workspace,
            process_type=process_type,
            args=args,
            env={"PORT": str(port), "BIND_HOST": "127.0.0.1", **(env or {})},
        )
        log_path = self.root / f"launch-{len(self.running)}.log"
        with log_path.open("w") as log:
            executable, argv = spec.executable, list(spec.argv)
            if user is not None:  # setpriv cannot keep argv[0]: the program is named instead
                argv = as_user([spec.executable, *argv[1:]], user)
                executable = "setpriv"
            process = subprocess.Popen(
                argv,
                executable=shutil.which(executable) or executable,
                cwd=spec.cwd,
                env=spec.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
            )
        running = Running(process, port, log_path)
        self.running.append(running)
        return running

    def exec(
        self, command: Sequence[str], env: Optional[Mapping[str, str]] = None
    ) -> subprocess.CompletedProcess[str]:
        """Run a command in the launch environment (like ``launcher -- cmd``)."""
        return self.launcher(["--", *command], env)

    def launcher(
        self, command: Sequence[str], env: Optional[Mapping[str, str]] = None
    ) -> subprocess.CompletedProcess[str]:
        """``docker run --entrypoint launcher IMAGE COMMAND...``: after ``--``, run directly;
        otherwise through bash, which sources the profile scripts and the app's .profile."""
        direct = len(command) > 1 and command[0] == "--"
        spec = launch_spec(
            self.workspace,
            command=command[1:] if direct else command,
            direct=direct,
            env=dict(env or {}),
        )
        return run_launch(spec)

    def launch(
        self,
        process_type: Optional[str] = None,
        args: Sequence[str] = (),
        env: Optional[Mapping[str, str]] = None,
        timeout: float = 60,
    ) -> subprocess.CompletedProcess[str]:
        """``docker run [--entrypoint TYPE] IMAGE ARGS...`` to completion: the process type
        (default: the image's default process) with the user's ``args`` replacing its own."""
        spec = launch_spec(
            self.workspace, process_type=process_type, args=args, env=dict(env or {})
        )
        return run_launch(spec, timeout)

    def layer(self, name: str) -> Path:
        """A layer of python-cnb in the exported image."""
        return self.workspace.layers / "python-cnb_python" / name

    def image_layer(self, name: str) -> dict[str, object]:
        """The image's record of a layer (digest, types, metadata)."""
        import json

        image = json.loads(self.workspace.image_metadata.read_text())
        layers: dict[str, dict[str, object]] = image["buildpacks"][0]["layers"]
        return layers[name]

    def cache_layer(self, name: str) -> dict[str, object]:
        import json

        cache = json.loads(self.workspace.cache_metadata.read_text())
        layers: dict[str, dict[str, object]] = cache["buildpacks"][0]["layers"]
        return layers[name]

    def close(self) -> None:
        for running in self.running:
            running.stop()


def run_launch(
    spec: LaunchSpec, timeout: float = 120, *, check: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run a launch to completion, argv[0] as the launcher passes it, stdin empty."""
    return subprocess.run(
        list(spec.argv),
        executable=spec.executable,
        cwd=spec.cwd,
        env=spec.env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=check,
    )


def read_toml(path: Path) -> dict[str, object]:
    return toml_file.read(path)
