"""Requirements from a version control URL, from a real git repository (git+file://).

uv cannot install a Git source editable: an editable line (``-e git+…#egg=name``) is
installed as a regular install. A URL that pins a full commit is as stable as a pinned
version (the venv is reused until the line changes); one that does not may name a moving
branch, so it is reinstalled on every build."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.lifecycle import Lifecycle

pytestmark = pytest.mark.integration

ENGINES = [pytest.param({}, id="uv"), pytest.param({"BP_PYTHON_INSTALLER": "pip"}, id="pip")]
REUSED = "Using cached virtualenv (dependencies unchanged)"
UPDATING = "Updating cached virtualenv since:"
REGULAR = "is installed from git+file://{repo}#egg=vcspkg as a regular, non-editable install"


def _git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout.strip()


def _commit(repo: Path, version: str) -> str:
    (repo / "vcspkg" / "__init__.py").write_text(f"VERSION = {version!r}\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", version)
    return _git(repo, "rev-parse", "HEAD")


def _app(lifecycle: Lifecycle, tmp_path: Path) -> tuple[Path, Path]:
    """The fixture app, its package moved into a git repository of its own."""
    assert shutil.which("git"), "the tests need git (.ci/run installs it)"
    app = lifecycle.app("editable_vcs_requirement")
    repo = tmp_path / "repo"
    shutil.move(app / "vcspkg", repo)
    _git(repo, "init", "-q", "-b", "main")
    return app, repo


def _require(app: Path, line: str) -> None:
    (app / "requirements.txt").write_text(f"{line}\n")


def _installed(lifecycle: Lifecycle) -> str:
    result = lifecycle.exec(["python", "-c", "import vcspkg; print(vcspkg.VERSION)"])
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip()


def _commit_id(lifecycle: Lifecycle) -> str:
    """The commit the installed vcspkg was built from (PEP 610 ``direct_url.json``)."""
    info = lifecycle.site_packages() / "vcspkg-1.0.dist-info"
    commit = json.loads((info / "direct_url.json").read_text())["vcs_info"]["commit_id"]
    assert isinstance(commit, str)
    return commit


@pytest.mark.parametrize("engine", ENGINES)
def test_an_editable_git_branch_is_installed_regular_and_reinstalled_every_build(
    lifecycle: Lifecycle, tmp_path: Path, engine: dict[str, str]
) -> None:
    app, repo = _app(lifecycle, tmp_path)
    first = _commit(repo, "one")
    _require(app, f"-e git+file://{repo}#egg=vcspkg")

    result = lifecycle.build(app, engine)
    assert f"requirements.txt line 1: vcspkg {REGULAR.format(repo=repo)}" in result.output, (
        result.output
    )
    assert _installed(lifecycle) == "one"
    # A regular install: the package's files in site-packages, no checkout, no .pth.
    site = lifecycle.site_packages()
    assert (site / "vcspkg" / "__init__.py").is_file()
    assert not list(site.glob("*.pth")) and not (lifecycle.layer("venv") / "src").exists()
    assert _commit_id(lifecycle) == first

    # Nothing in the app changed, but the branch may have moved: it is reinstalled.
    _commit(repo, "two")
    result = lifecycle.build(app, engine)
    assert REUSED not in result.output and UPDATING in result.output
    assert (
        f"- vcspkg comes from git+file://{repo}#egg=vcspkg, which names no commit: a branch or "
        "tag may have moved since, so it is reinstalled on every build" in result.output
    )
    assert "Reinstalling from unpinned version control URLs: vcspkg" in result.output
    assert _installed(lifecycle) == "two"


@pytest.mark.parametrize("engine", ENGINES)
def test_a_pinned_commit_is_reused_until_the_line_changes(
    lifecycle: Lifecycle, tmp_path: Path, engine: dict[str, str]
) -> None:
    app, repo = _app(lifecycle, tmp_path)
    first = _commit(repo, "one")
    second = _commit(repo, "two")
    _require(app, f"-e git+file://{repo}@{first}#egg=vcspkg")

    lifecycle.build(app, engine)
    assert _installed(lifecycle) == "one"
    assert REUSED in lifecycle.build(app, engine).output  # a commit cannot move

    _require(app, f"-e git+file://{repo}@{second}#egg=vcspkg")  # a new commit ref
    result = lifecycle.build(app, engine)
    assert UPDATING in result.output
    assert "- The dependency files changed (requirements.txt)" in result.output
    assert _installed(lifecycle) == "two"
    assert _commit_id(lifecycle) == second
