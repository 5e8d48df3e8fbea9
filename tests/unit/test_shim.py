"""libexec/python-cnb (the bootstrap interpreter) and bin/detect's answer without Python.

Every test runs the real shims with ``env -i`` and a PATH the test controls: a tools
directory holding only what the shims use (sh, od, uname), and a python3 only where the test
puts one. The buildpack is a fake directory whose bin/, libexec/, src/ and vendor/ are this
checkout's, with a runtime/ of the test's making: a real interpreter, a copy of one with its
ELF header patched to another architecture, one that cannot start. /bin/sh is dash here.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
from pathlib import Path
from typing import Optional, Sequence

import pytest

from python_cnb.cnb import toml_file
from python_cnb.cnb.buildpack_toml import read_descriptor
from python_cnb.cnb.context import DetectContext, Target
from python_cnb.detect import DETECT_FILES, FAIL, detect
from tests.support.contexts import missing, pythons, write_app

REPO = Path(__file__).resolve().parents[2]
NAMES = {  # uname -m or CNB_TARGET_ARCH, as CNB target names
    "x86_64": "amd64",
    "amd64": "amd64",
    "aarch64": "arm64",
    "arm64": "arm64",
    "armv7l": "arm",
    "armv6l": "arm",
    "i686": "386",
    "i386": "386",
    "ppc64le": "ppc64le",
    "s390x": "s390x",
    "riscv64": "riscv64",
    "loongarch64": "loong64",
}
MACHINE = platform.machine()
HOST = NAMES[MACHINE]
FOREIGN, FOREIGN_MACHINE = ("arm64", 183) if HOST != "arm64" else ("amd64", 62)
PLAN = {
    "provides": [{"name": "cpython"}, {"name": "site-packages"}],
    "requires": [
        {"name": "cpython", "metadata": {"build": True, "launch": True}},
        {"name": "site-packages", "metadata": {"build": True, "launch": True}},
    ],
}


SUPPORTED = [binary for line, binary in pythons().items() if line >= (3, 9)]
TOO_OLD = [binary for line, binary in pythons().items() if line < (3, 9)]
pytestmark = pytest.mark.skipif(not SUPPORTED, reason=missing(">= 3.9"))


def _ids(binaries: Sequence[Path]) -> list[str]:
    return [binary.name for binary in binaries]


# --- the pieces of a run -------------------------------------------------------------------


@pytest.fixture
def bp(tmp_path: Path) -> Path:
    """A buildpack directory made of this checkout's code; runtime/ is the test's."""
    root = tmp_path / "bp"
    root.mkdir()
    shutil.copyfile(REPO / "buildpack.toml", root / "buildpack.toml")
    for name in ("bin", "libexec", "src", "vendor"):
        (root / name).symlink_to(REPO / name)
    return root


@pytest.fixture
def tools(tmp_path: Path) -> Path:
    """A directory with only the commands the shims use: sh, od, uname."""
    return _tools(tmp_path / "tools", "sh", "od", "uname")


@pytest.fixture
def python(tmp_path: Path) -> Path:
    """A directory whose only entry is python3: the newest CPython found."""
    return _python_dir(tmp_path / "python", SUPPORTED[-1])


def _tools(directory: Path, *names: str) -> Path:
    directory.mkdir(parents=True)
    for name in names:
        found = shutil.which(name)
        assert found is not None, name
        (directory / name).symlink_to(found)
    return directory


def _python_dir(directory: Path, interpreter: Path, name: str = "python3") -> Path:
    directory.mkdir(parents=True)
    (directory / name).symlink_to(interpreter)
    return directory


def _app(tmp_path: Path, *files: str, name: str = "app") -> Path:
    """An app of empty ``files`` (a requirements.txt lists flask)."""
    contents = {file: "flask\n" if file == "requirements.txt" else "" for file in files}
    return write_app(tmp_path, contents, name=name)


def _run(
    bp: Path,
    app: Path,
    path: Sequence[Path],
    *,
    phase: str = "detect",
    args: Sequence[str] = (),
    env: Optional[dict[str, Optional[str]]] = None,
    scratch: Optional[Path] = None,
) -> subprocess.CompletedProcess[str]:
    """``env -i <the lifecycle's variables> bin/<phase> <args>`` in ``app``; the platform
    directory and the plan file are in ``scratch`` (the app's parent unless given)."""
    scratch = app.parent if scratch is None else scratch
    platform_dir = scratch / "platform"
    platform_dir.mkdir(parents=True, exist_ok=True)
    plan = scratch / "plan.toml"
    plan.write_text("", encoding="utf-8")  # the lifecycle creates it empty
    variables: dict[str, Optional[str]] = {
        "PATH": os.pathsep.join(str(p) for p in path) or "/nonexistent",
        "CNB_BUILDPACK_DIR": str(bp),
        "CNB_PLATFORM_DIR": str(platform_dir),
        "CNB_BUILD_PLAN_PATH": str(plan),
        "CNB_TARGET_OS": "linux",
        "CNB_TARGET_ARCH": HOST,
        **(env or {}),
    }
    command = ["env", "-i", *(f"{k}={v}" for k, v in variables.items() if v is not None)]
    return subprocess.run(
        [*command, str(bp / "bin" / phase), *args],
        cwd=app,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _plan(app: Path) -> object:
    return toml_file.read(app.parent / "plan.toml")


# --- runtimes -------------------------------------------------------------------------------


def _runtime_link(bp: Path, interpreter: Path) -> Path:
    """runtime/bin/python3 -> python3.X -> ``interpreter`` (a real, working CPython)."""
    runtime_bin = bp / "runtime" / "bin"
    runtime_bin.mkdir(parents=True)
    (runtime_bin / interpreter.name).symlink_to(interpreter)
    (runtime_bin / "python3").symlink_to(interpreter.name)
    return runtime_bin / "python3"


def _runtime_copy(bp: Path, interpreter: Path) -> Path:
    """runtime/bin/python3 -> python3.X, a copy of ``interpreter`` (to be patched)."""
    runtime_bin = bp / "runtime" / "bin"
    runtime_bin.mkdir(parents=True)
    shutil.copy2(interpreter, runtime_bin / interpreter.name)
    (runtime_bin / "python3").symlink_to(interpreter.name)
    return runtime_bin / interpreter.name


def _patch_elf(binary: Path, *, elf_class: int, data: int, machine: int) -> None:
    """Set EI_CLASS, EI_DATA and e_machine (in the byte order EI_DATA says)."""
    header = bytearray(binary.read_bytes())
    assert header[:4] == b"\x7fELF"
    header[4], header[5] = elf_class, data
    header[18:20] = machine.to_bytes(2, "little" if data == 1 else "big")
    binary.write_bytes(bytes(header))


def _foreign_runtime(bp: Path) -> Path:
    """A real interpreter's copy whose e_machine says another architecture (BUG-1)."""
    binary = _runtime_copy(bp, SUPPORTED[-1])
    _patch_elf(binary, elf_class=2, data=1, machine=FOREIGN_MACHINE)
    return binary


def _no_python_message(runtime: Path, problem: str, path: str) -> str:
    return (
        "[Error: No Python interpreter to run the buildpack]\n"
        "python-cnb needs a Python 3.9 or newer to run its detect and build steps, "
        "and found none:\n"
        f"  - its bundled runtime ({runtime}) cannot run here: {problem};\n"
        f'  - the build image has no `python3` (3.9+) on PATH ("{path}").\n'
        "\n"
        "To fix this, either:\n"
        "  1. use the python-cnb package built for this machine's architecture, or\n"
        "  2. use a build image that provides python3 3.9 or newer "
        "(e.g. Debian 12, Ubuntu 22.04+).\n"
    )


def _note(bp: Path, problem: str, python: Path) -> str:
    runtime = bp / "runtime" / "bin" / "python3"
    return f"Note: not using the bundled runtime ({runtime}): {problem}; using {python}.\n"


def _mismatch(built_for: str) -> str:
    return f"it is built for {built_for}, but this machine is {HOST} (uname -m: {MACHINE})"


# --- BUG-1: a foreign runtime is never run --------------------------------------------------


def test_foreign_runtime_falls_back_to_python3_on_path(
    bp: Path, tools: Path, python: Path, tmp_path: Path
) -> None:
    """BUG-1: this was `exec: ... Exec format error`, exit 126."""
    _foreign_runtime(bp)
    app = _app(tmp_path, "requirements.txt")
    result = _run(bp, app, [tools, python])
    assert (result.returncode, result.stdout) == (0, "Python app detected (requirements.txt)\n")
    assert result.stderr == _note(bp, _mismatch(FOREIGN), python / "python3")
    assert _plan(app) == PLAN


def test_foreign_runtime_and_no_python3_is_one_error(bp: Path, tools: Path, tmp_path: Path) -> None:
    _foreign_runtime(bp)
    app = _app(tmp_path, "requirements.txt")
    result = _run(bp, app, [tools])
    assert (result.returncode, result.stdout) == (1, "")
    runtime = bp / "runtime" / "bin" / "python3"
    assert result.stderr == _no_python_message(runtime, _mismatch(FOREIGN), str(tools))
    assert (app.parent / "plan.toml").read_text(encoding="utf-8") == ""


@pytest.mark.parametrize(
    ("elf_class", "data", "machine", "name"),
    [
        (2, 1, 62, "amd64"),
        (2, 1, 183, "arm64"),
        (1, 1, 3, "386"),
        (1, 1, 40, "arm"),
        (2, 1, 21, "ppc64le"),
        (2, 2, 21, "ppc64"),
        (2, 2, 22, "s390x"),
        (2, 1, 243, "riscv64"),
        (2, 1, 258, "loong64"),
        (2, 1, 999, "ELF class 2 machine 999"),
        (1, 1, 62, "ELF class 1 machine 62"),  # x32-like: not this machine's 64-bit ABI
    ],
)
def test_the_elf_header_names_the_architecture(
    bp: Path, tools: Path, tmp_path: Path, elf_class: int, data: int, machine: int, name: str
) -> None:
    binary = _runtime_copy(bp, SUPPORTED[-1])
    _patch_elf(binary, elf_class=elf_class, data=data, machine=machine)
    app = _app(tmp_path, "requirements.txt")
    result = _run(bp, app, [tools])
    if name == HOST:  # the unpatched header: the runtime is used (no python3 on PATH)
        assert (result.returncode, result.stderr) == (0, "")
        assert _plan(app) == PLAN
    else:
        assert result.returncode == 1
        assert f"cannot run here: {_mismatch(name)};\n" in result.stderr


@pytest.mark.parametrize("uname", sorted(NAMES))
def test_the_machine_is_what_uname_says(bp: Path, tmp_path: Path, uname: str) -> None:
    """uname -m's names mapped to CNB's: a working runtime is refused on any other machine."""
    tools = _tools(tmp_path / "tools", "sh", "od")
    (tools / "uname").write_text(f"#!/bin/sh\necho {uname}\n", encoding="utf-8")
    (tools / "uname").chmod(0o755)
    _runtime_link(bp, SUPPORTED[-1])
    app = _app(tmp_path, "requirements.txt")
    result = _run(bp, app, [tools], env={"CNB_TARGET_ARCH": None})
    if NAMES[uname] == HOST:
        assert (result.returncode, result.stderr) == (0, "")
    else:
        problem = f"it is built for {HOST}, but this machine is {NAMES[uname]} (uname -m: {uname})"
        assert result.returncode == 1
        assert f"cannot run here: {problem};\n" in result.stderr


@pytest.mark.parametrize("target", sorted(name for name in NAMES if NAMES[name] == HOST))
def test_target_arch_names_of_this_machine(
    bp: Path, tools: Path, tmp_path: Path, target: str
) -> None:
    _runtime_link(bp, SUPPORTED[-1])
    app = _app(tmp_path, "requirements.txt")
    result = _run(bp, app, [tools], env={"CNB_TARGET_ARCH": target})
    assert (result.returncode, result.stderr) == (0, "")
    assert _plan(app) == PLAN


def test_a_runtime_not_built_for_the_target_is_not_used(
    bp: Path, tools: Path, python: Path, tmp_path: Path
) -> None:
    _runtime_link(bp, SUPPORTED[-1])
    app = _app(tmp_path, "requirements.txt")
    problem = (
        f"it is built for {HOST}, but the build's target is {FOREIGN} (CNB_TARGET_ARCH: {FOREIGN})"
    )
    result = _run(bp, app, [tools, python], env={"CNB_TARGET_ARCH": FOREIGN})
    assert (result.returncode, result.stderr) == (0, _note(bp, problem, python / "python3"))
    result = _run(bp, app, [tools], env={"CNB_TARGET_ARCH": FOREIGN})
    assert result.returncode == 1
    assert f"cannot run here: {problem};\n" in result.stderr


def test_a_runtime_that_is_no_elf_file_is_never_run(
    bp: Path, tools: Path, python: Path, tmp_path: Path
) -> None:
    ran = tmp_path / "ran"
    runtime_bin = bp / "runtime" / "bin"
    runtime_bin.mkdir(parents=True)
    (runtime_bin / "python3").write_text(f"#!/bin/sh\n: > {ran}\nexit 0\n", encoding="utf-8")
    (runtime_bin / "python3").chmod(0o755)
    app = _app(tmp_path, "requirements.txt")
    result = _run(bp, app, [tools, python])
    assert result.returncode == 0
    assert result.stderr == _note(bp, "it is not an ELF executable", python / "python3")
    assert not ran.exists()


# --- runtimes of this machine's architecture that do not start ------------------------------


def _musl_runtime(bp: Path) -> Path:
    """A real interpreter whose ELF loader (PT_INTERP) is missing, as a musl build on glibc."""
    binary = _runtime_copy(bp, SUPPORTED[-1])
    content = binary.read_bytes()
    loader = re.search(rb"/lib[^\0]*/ld-[^\0]+\.so[^\0]*", content[:4096])
    assert loader is not None
    replacement = b"/lib/ld-musl.so.1".ljust(len(loader[0]), b"\0")
    binary.write_bytes(content[: loader.start()] + replacement + content[loader.end() :])
    return binary


def test_a_runtime_whose_loader_is_missing(
    bp: Path, tools: Path, python: Path, tmp_path: Path
) -> None:
    _musl_runtime(bp)
    app = _app(tmp_path, "requirements.txt")
    result = _run(bp, app, [tools, python])
    assert result.returncode == 0
    assert result.stderr.startswith(
        f"Note: not using the bundled runtime ({bp}/runtime/bin/python3): "
        "it does not start (exit 127: "
    )
    assert result.stderr.endswith(f"; using {python}/python3.\n")
    failed = _run(bp, app, [tools])
    assert (failed.returncode, failed.stdout) == (1, "")
    assert "cannot run here: it does not start (exit 127: " in (failed.stderr)


@pytest.mark.parametrize("old", TOO_OLD, ids=_ids(TOO_OLD))
def test_a_runtime_older_than_3_9_is_not_used(
    bp: Path, tools: Path, python: Path, tmp_path: Path, old: Path
) -> None:
    _runtime_link(bp, old)
    app = _app(tmp_path, "requirements.txt")
    version = subprocess.run([old, "-V"], capture_output=True, text=True).stdout.strip()
    problem = f"it is {version}, older than 3.9"
    result = _run(bp, app, [tools, python])
    assert (result.returncode, result.stderr) == (0, _note(bp, problem, python / "python3"))


# --- without od or uname --------------------------------------------------------------------


def test_without_od_the_runtime_is_not_used(bp: Path, python: Path, tmp_path: Path) -> None:
    """od reads the ELF header; without it the architecture is unknown, so never exec it."""
    tools = _tools(tmp_path / "tools", "sh", "uname")
    _runtime_link(bp, SUPPORTED[-1])
    app = _app(tmp_path, "requirements.txt")
    problem = "its architecture cannot be checked: there is no `od` on PATH"
    result = _run(bp, app, [tools, python])
    assert (result.returncode, result.stderr) == (0, _note(bp, problem, python / "python3"))
    failed = _run(bp, app, [tools])
    runtime = bp / "runtime" / "bin" / "python3"
    assert (failed.returncode, failed.stderr) == (
        1,
        _no_python_message(runtime, problem, str(tools)),
    )


def test_without_uname_the_target_arch_decides(bp: Path, tmp_path: Path) -> None:
    tools = _tools(tmp_path / "tools", "sh", "od")
    _runtime_link(bp, SUPPORTED[-1])
    app = _app(tmp_path, "requirements.txt")
    result = _run(bp, app, [tools])
    assert (result.returncode, result.stderr) == (0, "")
    unknown = _run(bp, app, [tools], env={"CNB_TARGET_ARCH": None})
    assert unknown.returncode == 1
    assert (
        f"cannot run here: it is built for {HOST}, and neither `uname -m` nor CNB_TARGET_ARCH "
        "tells this machine's architecture;\n"
    ) in unknown.stderr


# --- real interpreters ----------------------------------------------------------------------


@pytest.mark.parametrize("interpreter", SUPPORTED, ids=_ids(SUPPORTED))
def test_each_python_as_the_bundled_runtime(
    bp: Path, tools: Path, tmp_path: Path, interpreter: Path
) -> None:
    _runtime_link(bp, interpreter)
    app = _app(tmp_path, "requirements.txt")
    result = _run(bp, app, [tools])
    assert (result.returncode, result.stderr) == (0, "")
    assert _plan(app) == PLAN


@pytest.mark.parametrize("interpreter", SUPPORTED, ids=_ids(SUPPORTED))
def test_each_python_as_the_only_one_on_path(
    bp: Path, tools: Path, tmp_path: Path, interpreter: Path
) -> None:
    """Found as python3.X too, when the image has no `python3` name."""
    for name in ("python3", interpreter.name):
        directory = _python_dir(tmp_path / f"path-{name}", interpreter, name)
        app = _app(tmp_path, "requirements.txt", name=f"app-{name}")
        result = _run(bp, app, [tools, directory])
        assert (result.returncode, result.stderr) == (0, ""), name
        assert _plan(app) == PLAN


@pytest.mark.parametrize("old", TOO_OLD, ids=_ids(TOO_OLD))
def test_python_older_than_3_9_on_path_is_not_used(
    bp: Path, tools: Path, tmp_path: Path, old: Path
) -> None:
    directory = _python_dir(tmp_path / "old", old)
    result = _run(bp, _app(tmp_path, "requirements.txt"), [tools, directory])
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        "[Error: No Python interpreter to run the buildpack]\n"
        "python-cnb needs a Python 3.9 or newer to run its detect and build steps, "
        "and found none:\n"
        f'the build image has no `python3` (3.9+) on PATH ("{tools}:{directory}"), '
        "and this buildpack\n"
        "has no bundled runtime (it is the slim package).\n"
        "\n"
        "To fix this, either:\n"
        "  1. use a build image that provides python3 3.9 or newer "
        "(e.g. Debian 12, Ubuntu 22.04+), or\n"
        "  2. use the default python-cnb package, which bundles its own runtime.\n"
    )


# --- BUG-2: detect says no without Python ---------------------------------------------------


def _python_detect_output(tmp_path: Path, app: Path, capsys: pytest.CaptureFixture[str]) -> str:
    code, out = _python_detect(tmp_path, app, capsys)
    assert code == FAIL
    return out


def _python_detect(
    tmp_path: Path, app: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    """The Python detect's exit code and output, run in this process."""
    capsys.readouterr()
    tmp_path.mkdir(parents=True, exist_ok=True)
    ctx = DetectContext(
        app_dir=app,
        platform_dir=tmp_path,
        buildpack_dir=REPO,
        build_plan_path=tmp_path / "python-plan.toml",
        target=Target("linux", HOST),
        buildpack=read_descriptor(REPO),
        env={},
    )
    code = detect(ctx)
    return code, capsys.readouterr().out


def test_a_node_app_fails_detection_with_no_interpreter_at_all(
    bp: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """BUG-2: this was exit 1 and the no-Python error, for every app."""
    app = _app(tmp_path, "package.json", "index.js", "src/app.py")
    result = _run(bp, app, [])  # PATH=/nonexistent: not even od or uname
    assert (result.returncode, result.stderr) == (100, "")
    assert result.stdout == _python_detect_output(tmp_path, app, capsys)
    assert (app.parent / "plan.toml").read_text(encoding="utf-8") == ""


def test_detect_starts_no_interpreter_for_other_apps(bp: Path, tools: Path, tmp_path: Path) -> None:
    started = tmp_path / "started"
    spy = tmp_path / "spy"
    spy.mkdir()
    (spy / "python3").write_text(
        f'#!/bin/sh\n: > {started}\nexec {SUPPORTED[-1]} "$@"\n', encoding="utf-8"
    )
    (spy / "python3").chmod(0o755)
    node = _run(bp, _app(tmp_path, "package.json", name="node"), [tools, spy])
    assert node.returncode == 100
    assert not started.exists()
    python_app = _run(bp, _app(tmp_path, "main.py", name="python"), [tools, spy])
    assert python_app.returncode == 0
    assert started.exists()


def test_a_python_app_with_no_interpreter_is_an_error(bp: Path, tmp_path: Path) -> None:
    app = _app(tmp_path, "wsgi/application")
    result = _run(bp, app, [])
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.startswith("[Error: No Python interpreter to run the buildpack]\n")


def _apps() -> list[Path]:
    roots = [REPO / "tests" / "fixtures", REPO / "examples"]
    return sorted(path for root in roots for path in root.iterdir() if path.is_dir())


def test_sh_says_no_only_when_the_python_detect_says_no(
    bp: Path, tools: Path, python: Path, tmp_path: Path
) -> None:
    """Over every fixture app: sh's 100 (no interpreter) implies the Python detect's 100."""
    outcomes = {}
    for app in _apps():
        scratch = tmp_path / "runs" / app.name
        sh = _run(bp, app, [tools], scratch=scratch).returncode
        python_detect = _run(bp, app, [tools, python], scratch=scratch).returncode
        assert sh in (1, 100), app
        assert python_detect in (0, 100), app
        if sh == 100:
            assert python_detect == 100, app
        outcomes[app.name] = (sh, python_detect)
    assert outcomes["not_python"] == (100, 100)
    assert outcomes["flask-app"] == (1, 0)
    assert sum(1 for sh, _ in outcomes.values() if sh == 1) >= 10, outcomes


def test_sh_reads_the_same_rules_as_the_python_detect(
    bp: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = _app(tmp_path)
    result = _run(bp, app, [])
    assert result.stdout == _python_detect_output(tmp_path, app, capsys)
    assert result.stdout.splitlines()[1] == "  " + ", ".join(DETECT_FILES)


MAIN = "from python_cnb.__main__ import main"
"""In the Python that runs the buildpack's module (the version check runs only `-V`)."""


def _spy(tmp_path: Path, log: Path) -> Path:
    """A python3 that logs its arguments, then runs the newest CPython found."""
    spy = tmp_path / "spy"
    spy.mkdir()
    (spy / "python3").write_text(
        f'#!/bin/sh\nprintf "%s\\n" "$*" >> {log}\nexec {SUPPORTED[-1]} "$@"\n',
        encoding="utf-8",
    )
    (spy / "python3").chmod(0o755)
    return spy


def test_sh_decides_and_writes_the_plan_as_the_python_detect_would(
    bp: Path, tools: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Over every fixture app: when a rule without `~` matches, bin/detect's answer, line
    and plan are the Python detect's, and no Python module is loaded (the interpreter only
    answers libexec's version check); otherwise the Python detect decides."""
    log = tmp_path / "python3.log"
    spy = _spy(tmp_path, log)
    decided_in_sh = 0
    for app in _apps():
        log.write_text("", encoding="utf-8")
        scratch = tmp_path / "runs" / app.name
        result = _run(bp, app, [tools, spy], scratch=scratch)
        runs = log.read_text(encoding="utf-8").splitlines()
        in_sh = all(MAIN not in run for run in runs)
        code, expected = _python_detect(scratch, app, capsys)
        assert (result.returncode, result.stdout, result.stderr) == (code, expected, ""), app
        if result.returncode == 0:
            plan = scratch / "plan.toml"
            assert toml_file.read(plan) == PLAN, app
            if in_sh:
                decided_in_sh += 1
                assert len(runs) == 1, runs  # the version check
    assert decided_in_sh >= 10


def test_a_procfile_app_whose_only_match_is_refined_goes_to_the_python_detect(
    bp: Path, tools: Path, tmp_path: Path
) -> None:
    log = tmp_path / "python3.log"
    spy = _spy(tmp_path, log)
    runs_python = write_app(tmp_path, {"Procfile": "web: python web.py\n", "web.py": ""})
    result = _run(bp, runs_python, [tools, spy])
    assert (result.returncode, result.stdout) == (0, "Python app detected (Procfile *.py)\n")
    assert MAIN in log.read_text(encoding="utf-8")
    runs_node = write_app(
        tmp_path, {"Procfile": "web: node index.js\n", "tool.py": ""}, name="node"
    )
    assert _run(bp, runs_node, [tools, spy]).returncode == 100
    # with a plain rule too, the Procfile is not looked at: sh decides
    both = write_app(
        tmp_path, {"Procfile": "web: node x\n", "tool.py": "", "main.py": ""}, name="both"
    )
    log.write_text("", encoding="utf-8")
    result = _run(bp, both, [tools, spy])
    assert (result.returncode, result.stdout) == (0, "Python app detected (main.py)\n")
    assert MAIN not in log.read_text(encoding="utf-8")


def test_without_a_writable_plan_the_python_detect_says_why(
    bp: Path, tools: Path, python: Path, tmp_path: Path
) -> None:
    app = _app(tmp_path, "requirements.txt")
    result = _run(bp, app, [tools, python], env={"CNB_BUILD_PLAN_PATH": None})
    assert result.returncode == 1
    assert "CNB_BUILD_PLAN_PATH" in result.stderr
    unwritable = tmp_path / "missing" / "plan.toml"
    result = _run(bp, app, [tools, python], env={"CNB_BUILD_PLAN_PATH": str(unwritable)})
    assert result.returncode == 1
    assert "[Error:" in result.stderr


RULES = "# a comment, then a blank line\n\nProcfile *.py\nrequirements/*.txt\n  conf/app.ini \t \n"
LAYOUTS = {
    "procfile-and-py": (("Procfile", "web.py"), True),
    "procfile-alone": (("Procfile",), False),
    "py-alone": (("web.py",), False),
    "procfile-and-hidden-py": (("Procfile", ".web.py"), False),
    "procfile-and-nested-py": (("Procfile", "src/web.py"), False),
    "requirements-dir": (("requirements/base.txt",), True),
    "indented-rule": (("conf/app.ini",), True),
    "commented-out": (("#",), False),
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_rules_of_several_globs(tmp_path: Path, tools: Path, python: Path, layout: str) -> None:
    """A rule such as `Procfile *.py` is one line of the list: both readers agree on it."""
    bp = tmp_path / "bp"
    bp.mkdir()
    shutil.copyfile(REPO / "buildpack.toml", bp / "buildpack.toml")
    for name in ("bin", "libexec", "vendor"):
        (bp / name).symlink_to(REPO / name)
    shutil.copytree(REPO / "src", bp / "src", ignore=shutil.ignore_patterns("__pycache__"))
    (bp / "src" / "python_cnb" / "data" / "detect-files.txt").write_text(RULES, encoding="utf-8")
    files, passes = LAYOUTS[layout]
    app = _app(tmp_path, *files)
    (app / "requirements.txt").mkdir()  # a directory: no rule of the real list counts
    if (app / "Procfile").is_file():  # the Python detect also checks that it runs Python
        (app / "Procfile").write_text("web: python web.py\n", encoding="utf-8")
    sh = _run(bp, app, [tools])
    python_detect = _run(bp, app, [tools, python])
    assert (sh.returncode, python_detect.returncode) == ((1, 0) if passes else (100, 100))
    if not passes:
        assert (
            sh.stdout
            == python_detect.stdout
            == (
                "No Python app found: none of these files exist in the app directory:\n"
                "  Procfile *.py, requirements/*.txt, conf/app.ini\n"
            )
        )


# --- positional arguments and the shell -----------------------------------------------------


def test_detect_ignores_positional_arguments(bp: Path, tools: Path, python: Path) -> None:
    app = _app(bp.parent, "main.py")
    other = bp.parent / "other"
    args = [str(other / "platform"), str(other / "plan.toml")]
    result = _run(bp, app, [tools, python], args=args)
    assert (result.returncode, result.stderr) == (0, "")
    assert _plan(app) == PLAN
    assert not other.exists()
    node = _run(bp, _app(bp.parent, "package.json", name="node"), [tools], args=args)
    assert node.returncode == 100


@pytest.mark.parametrize(
    ("phase", "args"),
    [("detect", ["/platform", "/plan.toml"]), ("build", ["/layers", "/platform", "/plan.toml"])],
)
def test_positional_arguments_do_not_reach_python(
    tmp_path: Path, tools: Path, python: Path, phase: str, args: list[str]
) -> None:
    """The lifecycle's deprecated arguments: only the phase reaches `python -m python_cnb`."""
    bp = tmp_path / "bp"
    package = bp / "src" / "python_cnb"
    (package / "data").mkdir(parents=True)
    rules = "python_cnb/data/detect-files.txt"
    shutil.copyfile(REPO / "src" / rules, bp / "src" / rules)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "__main__.py").write_text(
        "import json, sys\ndef main():\n    print(json.dumps(sys.argv))\n", encoding="utf-8"
    )
    for name in ("bin", "libexec"):
        (bp / name).symlink_to(REPO / name)
    result = _run(bp, _app(tmp_path, "main.py"), [tools, python], phase=phase, args=args)
    assert (result.returncode, result.stderr) == (0, "")
    argv = json.loads(result.stdout)
    assert argv == ["python -m python_cnb", phase]


@pytest.mark.parametrize("shell", [["dash", "-n"], ["bash", "--posix", "-n"]])
@pytest.mark.parametrize("script", ["bin/detect", "bin/build", "libexec/python-cnb"])
def test_shims_parse_as_posix_sh(shell: list[str], script: str) -> None:
    if shutil.which(shell[0]) is None:
        pytest.skip(f"no {shell[0]} here")
    result = subprocess.run(
        [*shell, str(REPO / script)], capture_output=True, text=True, timeout=30, check=False
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert (REPO / script).read_text(encoding="utf-8").startswith("#!/bin/sh\n")
