"""Bad input (install-integrity.md MEDIUM-3, MEDIUM-4, LOW-1, LOW-2, LOW-6, LOW-7): each gives
one clear error block, exit 1, no traceback, and the cache of the last good build stays
valid. Each test breaks one file of the ``bad_input`` fixture app (or of another fixture)."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

from tests.support.assertions import assert_one_error_block
from tests.support.lifecycle import REPO, Lifecycle

pytestmark = pytest.mark.integration

USER = "1000:1000"
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="switching users needs root")


@pytest.fixture
def non_root(platform_env: dict[str, str], buildpack: Path) -> Iterator[Lifecycle]:
    """A lifecycle whose tree a non-root build user can reach (pytest's tmp dirs are private
    to root)."""
    root = Path(tempfile.mkdtemp(prefix="python-cnb-bad-input-"))
    root.chmod(0o755)
    runner = Lifecycle(root, platform_env, buildpacks=(buildpack,))
    yield runner
    runner.close()
    shutil.rmtree(root, ignore_errors=True)


def _open_to_all(app: Path) -> None:
    for entry in [app.parent, app, *app.rglob("*")]:
        mode = stat.S_IMODE(entry.stat().st_mode)
        entry.chmod(mode | 0o755 if entry.is_dir() else 0o644)


# --- MEDIUM-4: the OS refuses a file ----------------------------------------------------------


@needs_root
@pytest.mark.parametrize(
    "name",
    [
        "requirements.txt",
        "base.txt",
        ".python-version",
        "runtime.txt",
        "Procfile",
        "pyproject.toml",
    ],
)
def test_an_unreadable_app_file_is_named_with_the_os_error(non_root: Lifecycle, name: str) -> None:
    """As uid 1000, a mode-000 file was an "Internal buildpack error" with a traceback."""
    app = non_root.app("bad_input")
    _open_to_all(app)
    (app / name).chmod(0)
    result = non_root.build(app, user=USER, expect_success=False)
    title = re.search(r"\[Error: (Cannot (read|use) \S*)\]", result.output)
    assert title is not None and title[1].endswith(name), result.output
    block = assert_one_error_block(result, title[1])
    assert f"{name}: Permission denied (EACCES)." in block
    assert "bug in python-cnb" not in result.output
    assert "Installing Python" not in result.output  # it stops before installing anything


@needs_root
def test_the_cache_survives_an_unreadable_file(non_root: Lifecycle) -> None:
    app = non_root.app("bad_input")
    _open_to_all(app)
    non_root.build(app, user=USER)
    (app / "base.txt").chmod(0)
    result = non_root.build(app, user=USER, expect_success=False)
    assert "Permission denied (EACCES)" in result.output
    (app / "base.txt").chmod(0o644)
    again = non_root.build(app, user=USER)
    assert "Using cached Python 3.12" in again.output
    assert "Using cached virtualenv" in again.output


@needs_root
def test_a_full_disk_during_the_cpython_extraction(
    tmp_path: Path, cpython_mirror: object, package_index: str, platform_env: dict[str, str]
) -> None:
    """ENOSPC while extracting CPython was an internal error: here the workspace is a 16 MB
    tmpfs (in a private mount namespace), too small for the interpreter."""
    app = tmp_path / "app"
    shutil.copytree(REPO / "tests" / "fixtures" / "bad_input", app)
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    env = [f"--env={name}={value}" for name, value in platform_env.items()]
    script = f'mount -t tmpfs -o size=16m tmpfs "{workspace}" && exec "$@"'

    build = [sys.executable, "-m", "python_cnb_lifecycle", "build", str(app)]
    completed = subprocess.run(
        ["unshare", "-m", "sh", "-c", script, "sh", *build, f"--workspace={workspace}", *env],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
        check=False,
    )
    output = completed.stdout + completed.stderr
    if "mount:" in output and "[Error: " not in output:
        pytest.skip(f"cannot mount a tmpfs here: {output}")
    assert completed.returncode != 0 and "build failed (exit 1)" in output, output
    assert output.count("[Error: ") == 1, output
    assert "[Error: No space left on device]" in output
    assert "python-cnb could not extract cpython.tar.gz into " in output
    assert "No space left on device (ENOSPC)." in output
    assert "Traceback" not in output and "bug in python-cnb" not in output


# --- LOW-1: odd version strings and settings --------------------------------------------------


@pytest.mark.parametrize(
    ("file", "content", "env", "title", "said"),
    [
        (".python-version", "\uff13.\uff11\uff12\n", {}, ".python-version", "U+FF13"),
        (".python-version", "\u0663.\u0661\u0662\n", {}, ".python-version", "U+0663"),
        (".python-version", "3." + "9" * 5000 + "\n", {}, ".python-version", "5002 characters"),
        ("runtime.txt", "python-\uff13.\uff11\uff12\n", {}, "runtime.txt", "U+FF13"),
        (None, None, {"BP_PYTHON_VERSION": "\u0663.\u0661\u0662"}, "BP_PYTHON_VERSION", "U+0663"),
    ],
    ids=["fullwidth", "arabic-indic", "5000-nines", "runtime-fullwidth", "setting"],
)
def test_odd_version_strings(
    lifecycle: Lifecycle,
    file: str | None,
    content: str | None,
    env: dict[str, str],
    title: str,
    said: str,
) -> None:
    app = lifecycle.app("bad_input")
    if file is not None and content is not None:
        (app / ".python-version").unlink()
        (app / file).write_text(content, encoding="utf-8")
    result = lifecycle.build(app, env, expect_success=False)
    block = assert_one_error_block(result, f"Invalid Python version in {title}")
    assert said in block
    assert len(block) < 2000  # the 5000 digits are clipped in the quote


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BP_PYTHON_DOWNLOAD_TIMEOUT", "1e300"),
        ("BP_PYTHON_DOWNLOAD_TIMEOUT", "-1"),
        ("BP_PYTHON_DOWNLOAD_TIMEOUT", "NaN"),
        ("BP_PYTHON_DOWNLOAD_RETRIES", "1e9"),
        ("BP_PYTHON_DOWNLOAD_DEADLINE", "1e300"),
        ("BP_PYTHON_DOWNLOAD_MAX_SIZE", "-5"),
    ],
)
def test_garbage_numeric_settings(lifecycle: Lifecycle, name: str, value: str) -> None:
    result = lifecycle.build(lifecycle.app("bad_input"), {name: value}, expect_success=False)
    block = assert_one_error_block(result, f"Invalid value for {name}")
    assert "It must be a number from " in block


# --- LOW-6: questionable input accepted silently ----------------------------------------------


@pytest.mark.parametrize(
    ("procfile", "said"),
    [
        ("web: gunicorn app:app\n..: python -c pass\n", "cannot be '.' or '..'"),
        ("web: gunicorn app:app\nworker: python\0 -c pass\n", "holds a NUL byte"),
        ("web: gunicorn app:app\nw/x: python -c pass\n", "only letters, digits"),
    ],
    ids=["dot-dot", "nul", "slash"],
)
def test_procfile_types_and_commands_the_lifecycle_refuses(
    lifecycle: Lifecycle, procfile: str, said: str
) -> None:
    app = lifecycle.app("bad_input")
    (app / "Procfile").write_text(procfile, encoding="utf-8")
    result = lifecycle.build(app, expect_success=False)
    block = assert_one_error_block(result, "Invalid Procfile")
    assert "Line 2 of Procfile reads:" in block and said in block


@pytest.mark.parametrize(
    ("change", "title", "said"),
    [
        (
            lambda lock: lock.update(_meta=[]),
            "Invalid Pipfile.lock",
            "'_meta' of Pipfile.lock cannot be installed: it is a list, not a table",
        ),
        (
            lambda lock: lock["_meta"].update(sources={"url": "http://127.0.0.1:3141/simple"}),
            "Invalid Pipfile.lock",
            "'_meta.sources' of Pipfile.lock cannot be installed: it is a table",
        ),
        (
            lambda lock: lock["_meta"]["requires"].update(python_version=3.12),
            "Invalid Pipfile.lock",
            "_meta.requires.python_version must be a string, but it is a number: 3.12",
        ),
    ],
    ids=["meta-array", "sources-table", "python-version-number"],
)
def test_wrong_typed_pipfile_lock_fields(
    lifecycle: Lifecycle, change: object, title: str, said: str
) -> None:
    app = lifecycle.app("pipenv_app")
    lock = json.loads((app / "Pipfile.lock").read_text(encoding="utf-8"))
    change(lock)  # type: ignore[operator]
    (app / "Pipfile.lock").write_text(json.dumps(lock), encoding="utf-8")
    result = lifecycle.build(app, expect_success=False)
    assert said in assert_one_error_block(result, title)


def test_an_invalid_pipfile_next_to_its_lock(lifecycle: Lifecycle) -> None:
    app = lifecycle.app("pipenv_app")
    (app / "Pipfile").write_text("[packages\nflask = '*'\n", encoding="utf-8")
    result = lifecycle.build(app, expect_success=False)
    assert "Pipfile cannot be parsed" in assert_one_error_block(result, "Invalid Pipfile")


def test_a_project_key_that_is_not_a_table(lifecycle: Lifecycle) -> None:
    app = lifecycle.app("pyproject_app")
    text = (app / "pyproject.toml").read_text(encoding="utf-8")
    build_system = text[text.index("[build-system]") :]
    (app / "pyproject.toml").write_text(f'project = "demo"\n\n{build_system}', encoding="utf-8")
    result = lifecycle.build(app, expect_success=False)
    block = assert_one_error_block(result, "Invalid pyproject.toml")
    assert "project must be a table, but it is a string: 'demo'" in block


# --- LOW-7: files that resolve outside the app ------------------------------------------------


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("Procfile", "/etc/shadow"),
        (".python-version", "/proc/self/environ"),
        ("requirements.txt", "/proc/self/environ"),
        ("base.txt", "/proc/self/environ"),  # a -r include of requirements.txt
    ],
)
def test_app_files_that_resolve_outside_the_app_are_not_read(
    lifecycle: Lifecycle, name: str, target: str
) -> None:
    app = lifecycle.app("bad_input")
    (app / name).unlink()
    (app / name).symlink_to(target)
    result = lifecycle.build(app, {"SOME_BUILD_SECRET": "ProcEnv-Secret-77"}, expect_success=False)
    block = assert_one_error_block(result, f"{name} points outside the app")
    assert f'"{target}"' in block or target.startswith("/proc")  # /proc/self is a symlink too
    assert "ProcEnv-Secret-77" not in result.output
    assert "root:" not in result.output and "daemon:" not in result.output


# --- MEDIUM-3 and LOW-2: hostile sizes that must not stop a build -----------------------------


def test_a_megabyte_word_in_a_procfile_and_an_app_file_too_deep_to_parse(
    lifecycle: Lifecycle,
) -> None:
    """A 1 MB Procfile command hung the build in the log masker; a main.py the parser
    cannot take failed it in the app inspector. Both now build."""
    app = lifecycle.app("bad_input")
    word = "x" * 1_000_000
    with (app / "Procfile").open("a", encoding="utf-8") as procfile:
        procfile.write(f"worker: python -c pass {word}\n")
    result = lifecycle.build(app)
    assert "[Configuring processes]" in result.output
    image = json.loads(lifecycle.workspace.image_metadata.read_text(encoding="utf-8"))
    assert word in json.dumps([p for p in image["processes"] if p["type"] == "worker"])

    (app / "Procfile").unlink()  # the web process is inferred: the inspector reads main.py
    (app / "main.py").write_text("x = " + "-" * 100_000 + "1\n", encoding="utf-8")
    lifecycle.build(app)
    web = lifecycle.start("web")
    assert web.wait_for_http("/") == (200, "bad input survived\n")


def test_a_tools_traceback_gives_its_reason_first(lifecycle: Lifecycle) -> None:
    """LOW-2: pip-tools prints three chained tracebacks for a missing package; the block
    held 15 frames and the reason was only the last line."""
    app = lifecycle.app("bad_input")
    (app / "base.txt").write_text("Flask==3.1.3\nno-such-package-anywhere==1.0\n")
    result = lifecycle.build(app, {"BP_PYTHON_INSTALLER": "pip"}, expect_success=False)
    block = assert_one_error_block(result, "'pip-compile requirements.txt' failed")
    reason = block.split("It stopped with this error:\n")[1].splitlines()[0]
    assert reason.endswith(
        "DistributionNotFound: No matching distribution found for no-such-package-anywhere==1.0"
    )
    assert 'File "' not in block
