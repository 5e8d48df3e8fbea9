"""Running the lifecycle's phases and the app inside containers (testcontainers + Docker).

Every container uses host networking, so it reaches the tests' servers on 127.0.0.1 and the
app answers on 127.0.0.1; nothing talks to another address. Nothing is pulled: the images
come from debootstrap (tools.e2e_images).

As with Paketo's stacks, the phases run as the build user (1001:1000) and the app as the run
user (1002:1000): they share only the group.
"""

from __future__ import annotations

import os

os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")  # Ryuk would be pulled

import shutil
import time
import urllib.error
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Optional, Sequence

from testcontainers.core.container import DockerContainer
from tools.e2e_images import BUILD_UID, GID, RUN_UID
from tools.ports import free_port

from python_cnb.cnb.buildpack_toml import escape_id
from python_cnb_lifecycle.runner import BuildResult, Executor, Workspace, build
from tests.support.lifecycle import OPERATOR_ENV, REPO, http_get
from tools import package

BUILD_USER = f"{BUILD_UID}:{GID}"
RUN_USER = f"{RUN_UID}:{GID}"
BUILDPACK_ID = "python-cnb/python"
LIFECYCLE_SRC = "/cnb/lifecycle"
"""Where the launcher stand-in's code is mounted in the run container."""
IMAGE_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME": "/home/cnb",
}
"""The build image's own environment, as its configuration gives it."""


@dataclass(frozen=True)
class Mount:
    host: Path
    container: str
    mode: str = "rw"


def docker_usable() -> Optional[str]:
    """None when a Docker daemon answers; otherwise why not."""
    try:
        import docker

        docker.from_env().ping()
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    return None


class BuildContainer:
    """A build image's container the runner's phases execute in (``executor=``).

    It starts at the first phase: the runner has then set up the workspace's ``app/`` and
    ``layers/``, which the container binds (a rebuild renames the previous ones aside).
    """

    def __init__(self, image: str, mounts: Sequence[Mount], user: str = BUILD_USER) -> None:
        self.image, self.mounts, self.user = image, list(mounts), user
        self.mapping = sorted(
            ((str(m.host), m.container) for m in mounts), key=lambda m: -len(m[0])
        )
        self._container: Optional[DockerContainer] = None

    @property
    def container(self) -> DockerContainer:
        if self._container is None:
            container = DockerContainer(self.image).with_command("sleep infinity")
            container = container.with_kwargs(network_mode="host", user=self.user)
            for mount in self.mounts:
                mount.host.mkdir(parents=True, exist_ok=True)
                container = container.with_volume_mapping(
                    str(mount.host), mount.container, mount.mode
                )
            self._container = container.start()
        return self._container

    def translate(self, text: str) -> str:
        """Host paths to the container's."""
        for host, inside in self.mapping:
            text = text.replace(host, inside)
        return text

    def __call__(self, argv: list[str], cwd: Path, env: Mapping[str, str]) -> tuple[int, str]:
        """Run a phase with exactly ``env``, as the lifecycle sets ``cmd.Env``: ``docker exec``
        would add the image's configured Env (and HOSTNAME), so ``env -i`` starts it empty."""
        command = [self.translate(arg) for arg in argv]
        if "=" in command[0]:  # env would take it for one more variable
            raise ValueError(f"cannot run {command[0]!r} through env -i")
        assignments = [f"{name}={self.translate(value)}" for name, value in env.items()]
        result = self.container.get_wrapped_container().exec_run(
            ["/usr/bin/env", "-i", *assignments, *command],
            workdir=self.translate(str(cwd)),
            user=self.user,
        )
        return int(result.exit_code), result.output.decode("utf-8", "replace")

    def exec(self, argv: Sequence[str]) -> tuple[int, str]:
        """Run a command in the container (as the build user)."""
        result = self.container.get_wrapped_container().exec_run(list(argv), user=self.user)
        return int(result.exit_code), result.output.decode("utf-8", "replace")

    def close(self) -> None:
        if self._container is not None:
            self._container.stop()


def build_mounts(workspace: Path, buildpack: Path, version: str) -> list[Mount]:
    """The standard layout of a build: /workspace, /layers, /platform (read-only), the
    buildpack (read-only) and the runner's plan files."""
    return [
        Mount(workspace / "app", "/workspace"),
        Mount(workspace / "layers", "/layers"),
        Mount(workspace / "platform", "/platform", "ro"),
        Mount(workspace / ".lifecycle", "/lifecycle"),
        Mount(buildpack, f"/cnb/buildpacks/{escape_id(BUILDPACK_ID)}/{version}", "ro"),
    ]


def build_in_container(
    image: str,
    app: Path,
    workspace: Workspace,
    buildpack: Path,
    version: str,
    *,
    env: Optional[Mapping[str, str]] = None,
    build_config_env: Optional[Mapping[str, str]] = None,
    observe: Callable[[BuildContainer], Executor] = lambda executor: executor,
) -> BuildResult:
    """The runner's build of ``app`` with ``buildpack`` (at ``version``), its detect and build
    phases in a container of ``image`` as the build user; ``observe`` may wrap the executor."""
    executor = BuildContainer(image, build_mounts(workspace.root, buildpack, version))
    try:
        return build(
            app,
            workspace,
            env=env,
            build_config_env=build_config_env,
            buildpacks=[buildpack],
            image_env=IMAGE_ENV,
            user=BUILD_USER,
            executor=observe(executor),
        )
    finally:
        executor.close()


class AppContainer:
    """The built app in the run image, as the run user: only the launch layers and the app,
    read-only.

    ``process`` is ``docker run --entrypoint <type>``, ``launcher=True`` is ``--entrypoint
    launcher``, and ``args`` the container's command (``docker run IMAGE ARGS...``)."""

    def __init__(
        self,
        image: str,
        workspace: Path,
        repo: Path,
        env: Mapping[str, str],
        python_version: str,
        process: Optional[str] = None,
        args: Sequence[str] = (),
        *,
        launcher: bool = False,
    ) -> None:
        layers = f"/layers/{escape_id(BUILDPACK_ID)}"
        python = f"{layers}/python/bin/python{python_version}"
        bootstrap = (
            "import sys; sys.path[:0] = ['/cnb/lifecycle/src', '/cnb/lifecycle/vendor'];"
            "from python_cnb_lifecycle.in_image import main; sys.exit(main(sys.argv[1:]))"
        )
        command = [python, "-I", "-c", bootstrap, "--metadata", "/cnb/image.json"]
        if process:
            command += ["--process", process]
        if launcher:
            command += ["--launcher"]
        command += ["--", *args]
        container = (
            DockerContainer(image)
            .with_command(command[1:])
            .with_kwargs(network_mode="host", user=RUN_USER, entrypoint=command[0])
        )
        for host, inside in (
            (workspace / "layers", "/layers"),
            (workspace / "app", "/workspace"),
            (repo / "src", f"{LIFECYCLE_SRC}/src"),
            (repo / "vendor", f"{LIFECYCLE_SRC}/vendor"),
            (workspace / "image.json", "/cnb/image.json"),
        ):
            container = container.with_volume_mapping(str(host), inside, "ro")
        for name, value in env.items():
            container = container.with_env(name, value)
        self.container = container.start()

    def wait(self, timeout: float = 60) -> int:
        """Wait for the process to exit; its exit status (fails with its logs if it runs on)."""
        import requests

        try:
            result = self.container.get_wrapped_container().wait(timeout=timeout)
        except requests.exceptions.ConnectionError:  # docker-py's read timeout
            raise AssertionError(f"still running after {timeout}s:\n{self.logs()}") from None
        return int(result["StatusCode"])

    def logs(self) -> str:
        stdout, stderr = self.container.get_logs()
        return (stdout + stderr).decode("utf-8", "replace")

    def close(self) -> None:
        self.container.stop()


SYSTEM_CA = Path("/etc/ssl/certs/ca-certificates.crt")


class E2E:
    """One app's workspace, built in containers and run in a container."""

    def __init__(self, root: Path, images: dict[str, str], platform_env: dict[str, str]) -> None:
        self.root, self.images, self.platform_env = root, images, platform_env
        self.workspace = Workspace(root / "ws")
        self.apps: list[AppContainer] = []
        bindings = self.workspace.platform / "bindings" / "host-ca"
        bindings.mkdir(parents=True)
        (bindings / "type").write_text("ca-certificates")
        if SYSTEM_CA.is_file():  # the host's trust store, given the way platforms give it
            shutil.copyfile(SYSTEM_CA, bindings / "ca-certificates.crt")

    def app(self, name: str) -> Path:
        source = REPO / "tests" / "fixtures" / name
        source = source if source.is_dir() else REPO / "examples" / name
        target = self.root / "apps" / name
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source, target)
        return target

    def build(self, app: Path, buildpack: Path, *, image: str = "build") -> BuildResult:
        result = build_in_container(
            self.images[image],
            app,
            self.workspace,
            buildpack,
            package.version(),
            env=self.platform_env,
            build_config_env=OPERATOR_ENV,
        )
        assert result.success, result.output
        return result

    def run(self, python_version: str = "3.12") -> tuple[AppContainer, int]:
        port = free_port()
        container = AppContainer(
            self.images["run"],
            self.workspace.root,
            REPO,
            {"PORT": str(port), "BIND_HOST": "127.0.0.1"},
            python_version,
        )
        self.apps.append(container)
        return container, port

    def wait_for_http(self, container: AppContainer, port: int, path: str = "/") -> tuple[int, str]:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                return http_get(f"http://127.0.0.1:{port}{path}")
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.3)
        raise AssertionError(f"no answer from the app container:\n{container.logs()}")

    def close(self) -> None:
        for container in self.apps:
            container.close()
