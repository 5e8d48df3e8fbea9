"""Shared fixtures: the CPython mirror and the package index on 127.0.0.1, and a lifecycle."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Iterator

import pytest

from python_cnb import output
from tests.support.contexts import pyenv_root
from tests.support.lifecycle import REPO, Lifecycle
from tests.support.servers import FileServer
from tests.support.shards import shards

CACHE = REPO / ".cache"
INDEX_REQUIREMENTS = (
    REPO / "tests" / "index" / "requirements.txt",
    REPO / "tests" / "index" / "aarch64.txt",
    REPO / "src" / "python_cnb" / "data" / "tools" / "pip-tools.txt",
    REPO / "src" / "python_cnb" / "data" / "tools" / "poetry.txt",
    REPO / "tests" / "index" / "tool-versions.txt",
    REPO / "tests" / "index" / "streamlit.txt",
)
"""The index holds the test apps' packages, the build tools the buildpack installs and other
releases of them (the tool-version tests), and Streamlit for one Python."""
INDEX_PORT = int(os.environ.get("PYTHON_CNB_TEST_INDEX_PORT", "3141"))
"""Fixture lock files (uv.lock, poetry.lock) record the index URL, so its port is fixed."""
INDEX_URL = f"http://127.0.0.1:{INDEX_PORT}/simple/"
MIRROR_VERSIONS = ("3.10", "3.11", "3.12", "3.13")


@pytest.fixture(autouse=True)
def _fresh_output() -> Iterator[None]:
    """Each test starts with no registered secret and debug output off, and leaves none."""
    output.reset()
    yield
    output.reset()


@pytest.fixture(scope="session")
def cpython_mirror() -> Iterator[FileServer]:
    """The machine's CPythons packed like python-build-standalone, served over HTTP."""
    from tools import mirror

    out = CACHE / "mirror"
    mirror.mirror(MIRROR_VERSIONS, out, pyenv_root())
    with FileServer(out) as server:
        yield server


@pytest.fixture(scope="session")
def package_index() -> Iterator[str]:
    """The local package index (filled from PyPI once, then served from disk)."""
    from tools import local_index

    root = CACHE / "index"
    local_index.fill(list(INDEX_REQUIREMENTS), root, local_index.default_pythons())
    with local_index.serve(root, port=INDEX_PORT):
        yield INDEX_URL


@pytest.fixture
def platform_env(cpython_mirror: FileServer, package_index: str) -> dict[str, str]:
    """What every integration build gets from the platform: our interpreters and index."""
    return {
        "BP_CPYTHON_MANIFEST": cpython_mirror.url("manifest.toml"),
        "PIP_INDEX_URL": package_index,
    }


@pytest.fixture(scope="session")
def buildpack() -> Iterator[Path]:
    """The packaged buildpack directory (what ships: no tests, no dev tools), one per test
    session: make test's lanes (tools/run_tests.sh) and side-by-side runs each package their
    own, since a build refuses a buildpack directory that changed under it. It lives under
    .cache (readable by the non-root builds' user, unlike pytest's tmp), and a session's own
    copy is removed at its end."""
    from tools import package

    lane = os.environ.get("PYTHON_CNB_TEST_LANE")
    root = CACHE / "buildpack" / (lane or f"session-{os.getpid()}")
    yield package.assemble(root / "python-cnb")
    if not lane:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def lifecycle(tmp_path: Path, platform_env: dict[str, str], buildpack: Path) -> Iterator[Lifecycle]:
    """A workspace to build, rebuild and launch one app in."""
    runner = Lifecycle(tmp_path, platform_env, buildpacks=(buildpack,))
    yield runner
    runner.close()


_CONTAINERS_BEFORE: set[str] = set()
"""Containers already running when the session started: not this session's to stop."""
_RUNS_CONTAINERS: list[bool] = []
"""Whether this session runs container-tier tests (only those start containers: another
session, such as the other lane of ``make test``, may run containers meanwhile)."""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--shard",
        default=None,
        metavar="K/N",
        help="run only the K-th (0-based) of N groups of test modules of nearly equal time "
        "(tests/durations.json); the container tier always goes to the last group "
        "(make test's lanes: tools/run_tests.sh)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    shard = config.getoption("--shard")
    if shard:
        _keep_shard(config, items, shard)
    _RUNS_CONTAINERS.append(any(item.nodeid.startswith("tests/e2e/") for item in items))


def _keep_shard(config: pytest.Config, items: list[pytest.Item], shard: str) -> None:
    index, _, count = shard.partition("/")
    if not (index.isdigit() and count.isdigit() and int(index) < int(count)):
        raise pytest.UsageError(f"--shard wants K/N with 0 <= K < N, not {shard!r}")
    modules = [item.nodeid.split("::")[0] for item in items]
    outside = {m for m, item in zip(modules, items) if item.get_closest_marker("host_network")}
    mine = shards(modules, int(count), host_network=outside)[int(index)]
    deselected = [item for item in items if item.nodeid.split("::")[0] not in mine]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if item.nodeid.split("::")[0] in mine]


def pytest_sessionstart(session: pytest.Session) -> None:
    from tests.support.leaks import running_containers

    _CONTAINERS_BEFORE.update(running_containers())


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when it leaves a process or a container behind (tests/support/leaks.py)."""
    from tests.support.leaks import descendants, running_containers

    if os.environ.get("PYTEST_XDIST_WORKER"):
        return
    started = [
        line
        for line in (running_containers() if any(_RUNS_CONTAINERS) else [])
        if line not in _CONTAINERS_BEFORE
    ]
    leaked = descendants(os.getpid()) + started
    if leaked:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = "the test session leaked these (stop them in the test that starts them):"
        lines = [message, *(f"  {line}" for line in leaked)]
        if reporter is not None:
            reporter.write_line("\n".join(lines), red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
