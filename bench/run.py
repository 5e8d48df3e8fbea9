"""``make bench``: python-cnb side by side with plain pip and with uv, on four apps.

    python -m bench.run [--reps 3] [--apps flask,django,heavy,bakerydemo] [--launches 3]
                        [--launch-seconds 60] [--out bench/results] [--keep]

For each app (examples/flask-app, bench/apps/django-app, bench/apps/heavy-app, and
wagtail/bakerydemo, described by bench/apps/bakerydemo.toml and materialised from git by
:func:`materialise`) and each repetition, in an order that rotates between repetitions,
three contenders run:

* **python-cnb**, with the lifecycle runner and the packaged buildpack: a cold build (empty
  cache, CPython downloaded from 127.0.0.1), a rebuild with no change, a rebuild with one
  requirement added, one with it removed again, then ``launch`` of the web process until the
  first HTTP 200 (at least ``--launches`` times, more within ``--launch-seconds``), and the
  size of every launch layer;
* **pip**: what the Heroku, Paketo and Google buildpacks run for requirements.txt, done by
  hand: plain ``python -m venv`` and ``pip install -r requirements.txt`` with the venv's pip
  and a warm pip cache; "rebuilds" are a second install into the same venv (no change) or a
  full reinstall into a fresh venv (changed requirements); the same web server started by
  hand in that venv;
* **uv**: the same with ``uv venv`` and ``uv pip install`` (warm uv cache).

Every download comes from a local index and CPython mirror on 127.0.0.1. The results (medians,
spreads, ratios to pip, the targets of docs and README, package sizes) go to
``bench/results/`` as JSON and Markdown. This is a benchmark, not a test: nothing here
asserts a timing; the targets are reported.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import io
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Optional, Sequence

from tools.ports import free_port

from python_cnb.cnb import toml_file
from python_cnb_lifecycle.launcher import RUN_IMAGE_PATH
from python_cnb_lifecycle.runner import BuildResult, Workspace, build, launch_spec
from tools import bootstrap_runtime as bootstrap
from tools import local_index, mirror, package

REPO = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("BENCH_CACHE") or REPO / ".cache" / "bench")
"""The benchmark's index, packaged buildpack, caches and workspaces (``BENCH_CACHE``: another
directory, for two runs side by side)."""
PYTHON = "3.12"
"""The apps' Python (their .python-version); the baselines use the same interpreter."""
CONTENDERS = ("python-cnb", "pip", "uv")
BUILDPACK_ID = "python-cnb/python"
BUILD_TOOLS = ("pip", "setuptools", "wheel", "uv", "pip-tools", "poetry", "virtualenv")
"""Distributions that must not be in a launch layer unless the app asks for them."""


class BenchError(RuntimeError):
    """A step of the benchmark failed: its command and output say why."""


@dataclass(frozen=True)
class App:
    """A benchmarked app and the requirement its rebuilds add and remove."""

    name: str
    source: Path
    added: str
    path: str = "/"
    external: Optional[Path] = None
    """For an app nobody here wrote: its description (``bench/apps/<name>.toml``), from
    which :func:`materialise` puts its files at ``source``."""


def _external(name: str) -> App:
    spec = toml_file.read(APPS_DIR / f"{name}.toml")
    return App(
        name,
        CACHE / "apps" / f"{name}-{spec['commit'][:12]}",
        str(spec["added"]),
        str(spec.get("path", "/")),
        APPS_DIR / f"{name}.toml",
    )


APPS_DIR = REPO / "bench" / "apps"
APPS = {
    "flask": App("flask", REPO / "examples" / "flask-app", "requests==2.34.2"),
    "django": App("django", APPS_DIR / "django-app", "djangorestframework==3.18.3"),
    "heavy": App("heavy", APPS_DIR / "heavy-app", "openpyxl==3.1.5"),
    "bakerydemo": _external("bakerydemo"),
}
INDEX_FILES = (
    REPO / "bench" / "index.txt",
    APPS_DIR / "bakerydemo-index.txt",
    REPO / "tests" / "index" / "aarch64.txt",
)
"""What fills the bench index, each file resolved on its own (their pins differ); the last one
brings the linux/arm64 uv wheel the arm64 package carries."""


@dataclass
class Samples:
    """Figures by metric and contender, over the repetitions."""

    values: dict[str, dict[str, list[float]]] = field(default_factory=dict)

    def add(self, metric: str, contender: str, value: float) -> None:
        self.values.setdefault(metric, {}).setdefault(contender, []).append(value)

    def median(self, metric: str, contender: str) -> Optional[float]:
        runs = self.values.get(metric, {}).get(contender)
        return statistics.median(runs) if runs else None

    def spread(self, metric: str, contender: str) -> Optional[tuple[float, float, float]]:
        """Minimum, median and maximum: how stable a figure is over the repetitions."""
        runs = self.values.get(metric, {}).get(contender)
        return (min(runs), statistics.median(runs), max(runs)) if runs else None

    def rep_ratios(self, metric: str) -> list[float]:
        """python-cnb / pip in each repetition (the two ran one after the other)."""
        ours = self.values.get(metric, {}).get("python-cnb", [])
        pip = self.values.get(metric, {}).get("pip", [])
        return [a / b for a, b in zip(ours, pip) if b]


# --- the setting: interpreter, index, tools ------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """What every contender shares: the interpreter, the local index and the mirror."""

    python: Path
    """The baselines' interpreter: the same CPython the buildpack installs from the mirror."""
    index_url: str
    cpython_manifest: str
    """``BP_CPYTHON_MANIFEST``: :func:`local_manifest`'s file."""
    buildpack: Path
    uv: Path
    interpreter_tarball: Path

    def pip_env(self) -> dict[str, str]:
        return {
            **_clean_env(),
            "PIP_CONFIG_FILE": os.devnull,
            "PIP_INDEX_URL": self.index_url,
            "PIP_CACHE_DIR": str(CACHE / "pip-cache"),
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PIP_NO_INPUT": "1",
        }

    def uv_env(self) -> dict[str, str]:
        return {
            **_clean_env(),
            "UV_NO_CONFIG": "1",
            "UV_DEFAULT_INDEX": self.index_url,
            "UV_CACHE_DIR": str(CACHE / "uv-cache"),
            "UV_PYTHON_DOWNLOADS": "never",
        }


def _clean_env() -> dict[str, str]:
    """A build image's environment: no pip or uv settings of this machine leak in."""
    home = CACHE / "home"
    home.mkdir(parents=True, exist_ok=True)
    return {"PATH": RUN_IMAGE_PATH, "HOME": str(home), "LANG": "C.UTF-8"}


def _pyenv_python(version: str) -> Path:
    root = Path(os.environ.get("PYENV_ROOT", "/root/.pyenv")) / "versions"
    found = sorted(root.glob(f"{version}.*"), key=lambda p: [int(x) for x in p.name.split(".")])
    if not found:
        raise BenchError(f"no CPython {version} under {root} (the benchmark's interpreter)")
    return found[-1] / "bin" / f"python{version}"


def prepare(log: Callable[[str], None], apps: Sequence[App]) -> tuple[Path, Path]:
    """The external apps' files, pack the interpreter, fill the index (all cached)."""
    for app in apps:
        if app.external is not None:
            materialise(app, log)
    log("preparing: CPython mirror, package index, packaged buildpack")
    python = _pyenv_python(PYTHON)
    mirror.mirror([PYTHON], REPO / ".cache" / "mirror", Path(str(python)).parents[3])
    local_index.fill(list(INDEX_FILES), CACHE / "index", [python])
    return python, REPO / ".cache" / "mirror"


def package_buildpack(manifest_url: str, index_url: str, log: Callable[[str], None]) -> Path:
    """`make package` (every target, and the slim package) into ``CACHE/dist``, from the
    mirror and the index on 127.0.0.1: the benchmark runs the default package for this
    machine's target, the one users get (its bootstrap CPython and its carried uv)."""
    log("packaging the buildpack (every target, and the slim one)")
    dist = CACHE / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    env = {"BP_CPYTHON_MANIFEST": manifest_url, "PIP_INDEX_URL": index_url}
    built = package.build(dist, env=env, cache=REPO / ".cache" / "runtime")
    package.build_slim(dist)
    host = next(t for t in built.archives if t.arch == bootstrap.host_arch())
    buildpack = CACHE / "buildpack" / "python-cnb"  # that target's archive, as pack reads it
    shutil.rmtree(buildpack, ignore_errors=True)
    buildpack.mkdir(parents=True)
    with tarfile.open(built.archives[host]) as tar:
        tar.extractall(buildpack, filter="data")
    return buildpack


def files_digest(root: Path) -> str:
    """SHA-256 of a tree's paths, kinds, executable bits and contents, in path order: the same
    for the same files however they were extracted (unlike a tarball's, which depends on the
    archiver's version)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if not p.is_dir() or p.is_symlink()):
        relative = path.relative_to(root).as_posix()
        if path.is_symlink():
            entry = f"l {relative} {path.readlink()}"
        else:
            executable = "x" if path.stat().st_mode & 0o111 else "-"
            entry = f"f{executable} {relative} {hashlib.sha256(path.read_bytes()).hexdigest()}"
        digest.update(entry.encode("utf-8", "surrogateescape") + b"\n")
    return digest.hexdigest()


def _git_archive(git_dir: Path, commit: str, dest: Path) -> None:
    archive = subprocess.run(
        ["git", "--git-dir", str(git_dir), "archive", "--format=tar", commit],
        capture_output=True, check=False,
    )  # fmt: skip
    if archive.returncode != 0:
        raise BenchError(f"git archive {commit} in {git_dir} failed:\n{archive.stderr.decode()}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(dest, filter="data")


def _git_dir(name: str, spec: Mapping[str, Any], work: Path) -> Path:
    """A git directory holding the app's commit: ``BENCH_<NAME>_GIT``, else the local mirror
    the description names when it exists, else a shallow fetch of that commit from its URL."""
    variable = f"BENCH_{name.upper()}_GIT"
    if os.environ.get(variable):
        return Path(os.environ[variable])
    local = Path(str(spec.get("local_git", "")))
    if spec.get("local_git") and local.is_dir():
        return local
    clone = work / "clone.git"
    shutil.rmtree(clone, ignore_errors=True)
    _run(["git", "init", "--quiet", "--bare", str(clone)], env=_clean_env())
    _run(
        ["git", "--git-dir", str(clone), "fetch", "--quiet", "--depth", "1", str(spec["source"]),
         str(spec["commit"])],
        env=_clean_env(),
    )  # fmt: skip
    return clone


def materialise(app: App, log: Callable[[str], None]) -> None:
    """Put an external app's files at ``app.source``: its commit from git, checked against
    the description's digest, then the benchmark's overlay (files of ours) on top."""
    assert app.external is not None
    spec = toml_file.read(app.external)
    stamp = app.source.parent / f"{app.source.name}.verified"
    overlay = app.external.parent / str(spec["overlay"])
    key = f"{spec['files_sha256']} {files_digest(overlay)}"
    if stamp.is_file() and stamp.read_text() == key and app.source.is_dir():
        return
    log(f"{app.name}: {spec['source']} at {spec['commit'][:12]}")
    staging = app.source.with_name(f"{app.source.name}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    _git_archive(_git_dir(app.name, spec, staging.parent), str(spec["commit"]), staging / "src")
    found = files_digest(staging / "src")
    if found != spec["files_sha256"]:
        raise BenchError(
            f"{app.name}: the files of {spec['commit']} have digest {found}, "
            f"not the {spec['files_sha256']} of {app.external}"
        )
    for name in spec.get("remove", []):
        (staging / "src" / str(name)).unlink()
    shutil.copytree(overlay, staging / "src", dirs_exist_ok=True)
    shutil.rmtree(app.source, ignore_errors=True)
    (staging / "src").rename(app.source)
    shutil.rmtree(staging)
    stamp.write_text(key)


def install_uv(python: Path, index_url: str) -> Path:
    """The uv baseline's uv: the version the buildpack uses, from the local index."""
    pin = f"uv=={pins_of('uv')}"
    target = CACHE / "tools" / "uv"
    stamp = target / ".installed"
    if not (stamp.is_file() and stamp.read_text() == pin):
        shutil.rmtree(target, ignore_errors=True)
        _run(
            [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
             pin],
            env={**_clean_env(), "PIP_CONFIG_FILE": os.devnull, "PIP_INDEX_URL": index_url,
                 "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
        )  # fmt: skip
        stamp.write_text(pin)
    return target / "bin" / "uv"


# --- running and timing --------------------------------------------------------------------------


def _run(argv: Sequence[str], *, env: Mapping[str, str], cwd: Optional[Path] = None) -> float:
    """Run a command to completion; return its wall time in seconds."""
    started = time.perf_counter()
    done = subprocess.run(
        list(argv), env=dict(env), cwd=cwd, capture_output=True, text=True, check=False
    )
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise BenchError(
            f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
        )
    return took


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _until_200(url: str, process: subprocess.Popen[bytes], log_path: Path) -> float:
    """Poll ``url`` until it answers 200; return the time it did."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"the server exited ({process.returncode}):\n{log_path.read_text()}")
        try:
            with _OPENER.open(url, timeout=10) as response:
                if response.status == 200:
                    return time.perf_counter()
        except (urllib.error.URLError, ConnectionError, http.client.HTTPException, TimeoutError):
            pass
        time.sleep(0.005)
    raise BenchError(f"no HTTP 200 from {url} within 120 s:\n{log_path.read_text()}")


def _serve(
    argv: Sequence[str], env: Mapping[str, str], cwd: Path, log_path: Path
) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as sink:
        return subprocess.Popen(
            list(argv), env=dict(env), cwd=cwd, stdout=sink, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def tree_size(path: Path) -> int:
    """Bytes of the regular files under ``path`` (hard links counted once), like ``du -sb``."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            info = (Path(root) / name).lstat()
            if (info.st_dev, info.st_ino) in seen:
                continue
            seen.add((info.st_dev, info.st_ino))
            total += info.st_size
    return total


def tarball_size(tarball: Path) -> int:
    """Bytes of the regular files in an interpreter tarball: the interpreter as shipped."""
    with tarfile.open(tarball) as tar:
        return sum(member.size for member in tar.getmembers() if member.isfile())


# --- python-cnb ----------------------------------------------------------------------------------


def _requirements(app_dir: Path, app: App, *, added: bool) -> None:
    """The app's own requirements.txt, with the benchmark's added requirement or without."""
    lines = (app.source / "requirements.txt").read_text().splitlines()
    (app_dir / "requirements.txt").write_text(
        "\n".join([*lines, *([app.added] if added else [])]) + "\n"
    )


def _step_ms(output: str, prefix: str) -> float:
    """A step's duration from the build log (``BP_LOG_LEVEL=DEBUG`` prints milliseconds)."""
    found = _took(output, f"(debug) step '{prefix}")
    if found is None:
        raise BenchError(f"no {prefix!r} step in the build output:\n{output}")
    return found


def _took(output: str, marker: str) -> Optional[float]:
    """Seconds of the first debug line starting with ``marker`` (``... took N ms``)."""
    for line in output.splitlines():
        if marker in line:
            return float(line.rsplit(" took ", 1)[1].split()[0]) / 1000
    return None


def local_manifest(mirror_dir: Path, url: Callable[[str], str]) -> Path:
    """The mirror's CPython manifest as a file on this machine, with each ``uri`` the
    mirror's URL on 127.0.0.1: the tarballs still come over HTTP, and the manifest is a
    file, as the buildpack's own list is (a manifest given by URL is fetched on every
    build, which then never reuses the previous build's result whole)."""
    raw = toml_file.read(mirror_dir / "manifest.toml")
    for entry in raw["dependencies"]:
        entry["uri"] = url(entry["uri"])
    path = CACHE / "cpython-manifest.toml"
    toml_file.write(path, raw)
    return path


def _buildpack_build(setting: Setting, app_dir: Path, ws: Workspace) -> BuildResult:
    result = build(
        app_dir,
        ws,
        env={
            "BP_CPYTHON_MANIFEST": setting.cpython_manifest,
            "PIP_INDEX_URL": setting.index_url,
            "BP_LOG_LEVEL": "DEBUG",
        },
        build_config_env={"PIP_CONFIG_FILE": os.devnull},
        buildpacks=[setting.buildpack],
    )
    if not result.success:
        raise BenchError(f"python-cnb build failed:\n{result.output}")
    return result


REPLAYED = "(debug) 'reuse the previous build' took"
"""The debug line of a build that put back the previous build's result: it has no
dependency step, and the whole of it stands for one (:mod:`python_cnb.replay`)."""


def _record_build(samples: Samples, scenario: str, result: BuildResult, work: Path) -> None:
    (work / f"build-{scenario}.log").write_text(result.output)
    ran = result.executables  # bin/detect and bin/build, not the runner's checks around them
    samples.add(f"{scenario}.buildpack", "python-cnb", ran["detect"] + ran["build"])
    replayed = _took(result.output, REPLAYED)
    deps = _step_ms(result.output, "Installing dependencies") if replayed is None else replayed
    samples.add(f"{scenario}.deps", "python-cnb", deps)
    compiled = _took(result.output, "(debug) 'compile bytecode' took")
    if scenario == "cold" and compiled is not None:
        samples.add("cold.compile", "python-cnb", compiled)
    if scenario == "nochange":
        for layer in ("python", "venv"):
            checked = _took(result.output, f"(debug) 'verify the {layer} layer' took")
            if checked is not None:
                samples.add(f"nochange.verify.{layer}", "python-cnb", checked)


def run_buildpack(
    setting: Setting, app: App, work: Path, samples: Samples, report: dict[str, Any]
) -> None:
    """Cold build, rebuilds, and the launch layers, for python-cnb (its launches are taken
    by :func:`run_launches`, alternating with the server started by hand)."""
    app_dir = work / "app"
    shutil.copytree(app.source, app_dir)
    ws = Workspace(work / "ws")
    _record_build(samples, "cold", _buildpack_build(setting, app_dir, ws), work)
    unchanged = _buildpack_build(setting, app_dir, ws)
    _record_build(samples, "nochange", unchanged, work)
    report["nochange_reused"] = (
        "Using cached virtualenv (dependencies unchanged)" in unchanged.output
        or REPLAYED in unchanged.output
    )
    _requirements(app_dir, app, added=True)
    _record_build(samples, "add", _buildpack_build(setting, app_dir, ws), work)
    _requirements(app_dir, app, added=False)
    last = _buildpack_build(setting, app_dir, ws)
    _record_build(samples, "remove", last, work)

    port = free_port()
    spec = launch_spec(ws, process_type="web", env={"PORT": str(port), "BIND_HOST": "127.0.0.1"})
    report["launch"] = {  # what the server by hand copies: the command and its settings
        "argv": list(spec.argv),
        "env": dict(spec.env),
        "workspace": str(ws.root),
        "port": str(port),
    }
    report["layers"] = launch_layers(ws, last.image)


LAUNCH_SECONDS = 60.0
"""How long the launch turns of one app and repetition go on for, beyond ``--launches``."""
MOST_LAUNCHES = 40
"""The most turns of one app and repetition."""


def more_turns(done: int, launches: int, elapsed: float, seconds: float) -> bool:
    """Whether :func:`run_launches` takes another turn after ``done`` turns that took
    ``elapsed`` seconds: up to ``launches``, to an even number, then within ``seconds`` up
    to :data:`MOST_LAUNCHES`."""
    if done < launches or done % 2 == 1:  # as many turns with each contender first
        return True
    return elapsed < seconds and done < MOST_LAUNCHES


def run_launches(
    app: App,
    ours: Path,
    pip: Path,
    samples: Samples,
    report: dict[str, Any],
    launches: int,
    seconds: float = LAUNCH_SECONDS,
) -> None:
    """Launch to first HTTP 200, python-cnb's and by hand in pip's venv, alternating (who
    goes first alternates too), so that both see the same machine: on a shared one, a run of
    launches of one after all of the other's measured the load. There are at least
    ``launches`` turns, an even number (each contender first as often), and more while the
    turns have taken less than ``seconds`` (at most :data:`MOST_LAUNCHES`): five gunicorn
    workers on two CPUs spread a Django app's first 200 over 0.29 to 0.62 s, so a median of
    five launches moved by a quarter between repetitions while one of thirty moved by a
    twentieth; a fast app gets more turns, the heavy app (3 s a launch) its minimum.

    Each turn launches both twice: with the worker count the exec.d program chose (the
    target's figure, ``first200``) and with ``WEB_CONCURRENCY=1`` (``first200.one``, a
    diagnostic): gunicorn forks every worker at once and the first 200 waits for the first
    worker whose import of the app is done, so with more workers than CPUs each launch takes
    as long as the scheduler's luck makes it; one worker measures the image alone."""
    app_dir, venv = pip / "app", pip / "venv"
    if (app_dir / "manage.py").is_file():  # as the buildpack did at build time
        _run(
            [str(venv / "bin" / "python"), "manage.py", "collectstatic", "--noinput"],
            env=_clean_env(),
            cwd=app_dir,
        )
    times: dict[tuple[str, str], list[float]] = {}
    began = time.monotonic()
    turn = 0
    while more_turns(turn, launches, time.monotonic() - began, seconds):
        for metric, workers in (("first200", {}), ("first200.one", {"WEB_CONCURRENCY": "1"})):
            for contender in ("python-cnb", "pip")[:: 1 if turn % 2 == 0 else -1]:
                if contender == "python-cnb":
                    took = _launch(Workspace(ours / "ws"), app, ours, workers)
                else:
                    took = _by_hand(venv, app, app_dir, pip, report["launch"], workers)
                times.setdefault((metric, contender), []).append(took)
                samples.add(metric, contender, took)
        turn += 1
    for (metric, contender), runs in times.items():
        samples.add(f"{metric}.rep", contender, statistics.median(runs))


def _launch(ws: Workspace, app: App, work: Path, settings: Mapping[str, str]) -> float:
    """Launch the web process, as the launcher does, until its first HTTP 200; ``settings``
    are the container's own variables (``docker run -e``)."""
    port = free_port()
    started = time.perf_counter()  # the launcher's work (env, exec.d) counts
    container = {"PORT": str(port), "BIND_HOST": "127.0.0.1", **settings}
    spec = launch_spec(ws, process_type="web", env=container)
    argv = (spec.executable, *spec.argv[1:])
    return _first_200(started, argv, spec.env, spec.cwd, f"127.0.0.1:{port}{app.path}", work)


def _first_200(
    started: float,
    argv: Sequence[str],
    env: Mapping[str, str],
    cwd: Path,
    address: str,
    work: Path,
) -> float:
    """Start the server ``argv``, its log in ``work``, until ``http://ADDRESS`` answers 200:
    the seconds since ``started``. The server is stopped whatever happens."""
    log_path = work / "server.log"
    process = _serve(argv, env, cwd, log_path)
    try:
        return _until_200(f"http://{address}", process, log_path) - started
    finally:
        _stop(process)


def launch_layers(ws: Workspace, image: dict[str, Any]) -> dict[str, Any]:
    """Size and forbidden contents of each launch layer in the exported image."""
    layers: dict[str, Any] = {}
    (ours,) = (bp for bp in image["buildpacks"] if bp["id"] == BUILDPACK_ID)
    for name, layer in sorted(ours["layers"].items()):
        directory = ws.bp_layers(BUILDPACK_ID) / name
        if layer["types"].get("launch") and directory.is_dir():
            layers[name] = {
                "bytes": tree_size(directory),
                "bytecode_bytes": bytecode_size(directory),
                "forbidden": audit(directory),
            }
            contents = layer.get("metadata", {}).get("contents")
            if contents:
                layers[name]["verify_seconds"] = verify_seconds(directory, contents)
    return layers


VERIFY = """\
import json, statistics, sys, time
from pathlib import Path
from python_cnb.layers import manifest
directory, contents, reps = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
times = []
for _ in range(reps):
    started = time.perf_counter()
    reasons = manifest.verify(directory, contents).reasons()
    times.append(time.perf_counter() - started)
    if reasons:
        break
print(json.dumps({"seconds": statistics.median(times), "reasons": reasons}))
"""
"""Times :func:`python_cnb.layers.manifest.verify` in a process of its own."""


def verify_seconds(directory: Path, contents: str, reps: int = 3) -> float:
    """What checking a cached layer against its manifest costs before reuse (the median of
    ``reps`` runs, as a rebuild does it: names, types, sizes, then every file hashed). It
    runs in a process of its own, with no threads, as in the build: in this one, which has
    its servers' threads, the check would not fork and would read the layer in one process."""
    completed = subprocess.run(
        [sys.executable, "-c", VERIFY, str(directory), contents, str(reps)],
        env={**_clean_env(), "PYTHONPATH": str(REPO / "src")},
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise BenchError(f"checking {directory} failed:\n{completed.stderr}")
    found = json.loads(completed.stdout)
    if found["reasons"]:
        raise BenchError(f"{directory} does not match its manifest: {found['reasons']}")
    return float(found["seconds"])


def audit(layer: Path) -> list[str]:
    """What a launch layer must not hold: build tools, caches, test suites of the stdlib.

    ensurepip (the standard library's, with its bundled pip wheel) is not flagged: it is part
    of the interpreter, and later buildpacks' ``python -m venv`` needs it."""
    found = []
    for root, dirs, files in os.walk(layer):
        rel = Path(root).relative_to(layer)
        for name in dirs:
            if name.endswith((".dist-info", ".egg-info")):
                project = name.rsplit("-", 1)[0].lower().replace("_", "-")
                if project in BUILD_TOOLS:
                    found.append(str(rel / name))
            elif name.lower() in (".cache", "uv-cache", "pip-cache", "http-cache"):
                found.append(str(rel / name))
            elif name in ("test", "tests") and rel.name.startswith("python3"):
                found.append(str(rel / name))  # the stdlib's test suite
            elif name in ("pip", "setuptools", "uv") and rel.name == "site-packages":
                found.append(str(rel / name))
        for name in files:
            if name == "CACHEDIR.TAG" or (
                rel.name == "bin" and name.startswith(("pip", "uv", "easy_install"))
            ):
                found.append(str(rel / name))
    return sorted(found)


def bytecode_size(path: Path) -> int:
    """Bytes of the ``.pyc`` files under ``path``."""
    return sum(p.stat().st_size for p in path.rglob("*.pyc") if p.is_file())


def packages_size(venv: Path) -> int:
    """A venv's installed packages without the build tools (pip, setuptools) in it."""
    tools = 0
    for site in venv.glob("lib/python*/site-packages"):
        for entry in site.iterdir():
            name = entry.name.split("-")[0].lower()
            if name in ("pip", "setuptools", "_distutils_hack", "distutils"):
                tools += tree_size(entry) if entry.is_dir() else entry.stat().st_size
    return tree_size(venv) - tools


# --- the baselines ---------------------------------------------------------------------------


def _pip_install(setting: Setting, venv: Path, requirements: Path, cwd: Path) -> float:
    took = _run([str(setting.python), "-m", "venv", str(venv)], env=_clean_env())
    return took + _pip_again(setting, venv, requirements, cwd)


def _pip_again(setting: Setting, venv: Path, requirements: Path, cwd: Path) -> float:
    return _run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-r", str(requirements)],
        env=setting.pip_env(),
        cwd=cwd,
    )


def _uv_install(setting: Setting, venv: Path, requirements: Path, cwd: Path) -> float:
    took = _run(
        [str(setting.uv), "venv", "--python", str(setting.python), str(venv)], env=setting.uv_env()
    )
    return took + _uv_again(setting, venv, requirements, cwd)


def _uv_again(setting: Setting, venv: Path, requirements: Path, cwd: Path) -> float:
    return _run(
        [
            str(setting.uv),
            "pip",
            "install",
            "--python",
            str(venv / "bin" / "python"),
            "-r",
            str(requirements),
        ],
        env=setting.uv_env(),
        cwd=cwd,
    )


Installer = Callable[[Setting, Path, Path, Path], float]


def run_baseline(
    name: str,
    install: Installer,
    again: Installer,
    setting: Setting,
    app: App,
    work: Path,
    samples: Samples,
    report: dict[str, Any],
) -> None:
    """Fresh install, the same again, full reinstalls with the change; the server by hand."""
    app_dir = work / "app"
    shutil.copytree(app.source, app_dir)
    requirements = app_dir / "requirements.txt"
    venv = work / "venv"
    cold = install(setting, venv, requirements, app_dir)
    for scenario in ("cold.deps", "cold.buildpack"):
        samples.add(scenario, name, cold)
    unchanged = again(setting, venv, requirements, app_dir)
    samples.add("nochange.deps", name, unchanged)
    samples.add("nochange.buildpack", name, unchanged)
    if name == "pip":
        report["venv_bytes"] = tree_size(venv)
        report["packages_bytes"] = packages_size(venv)
    for scenario, added in (("add", True), ("remove", False)):
        _requirements(app_dir, app, added=added)
        fresh = work / f"venv-{scenario}"
        took = install(setting, fresh, requirements, app_dir)
        samples.add(f"{scenario}.deps", name, took)
        samples.add(f"{scenario}.buildpack", name, took)
        shutil.rmtree(fresh)


def _by_hand(
    venv: Path,
    app: App,
    app_dir: Path,
    work: Path,
    launch: dict[str, Any],
    settings: Mapping[str, str],
) -> float:
    """The web server the buildpack chose, started by hand in the plain venv, with the
    launch's settings and then ``settings``."""
    layers = launch["workspace"]
    argv = list(launch["argv"])
    if argv[0].startswith(layers):
        argv[0] = str(venv / "bin" / Path(argv[0]).name)
    port = free_port()
    env = {  # the same settings (workers, server args), without paths into the layers
        key: value.replace(f":{launch['port']}", f":{port}")  # a --bind in GUNICORN_CMD_ARGS
        for key, value in launch["env"].items()
        if layers not in value and not key.startswith("CNB_")
    }
    env.update(_clean_env())
    env.update(
        {"PATH": f"{venv / 'bin'}:{RUN_IMAGE_PATH}", "PORT": str(port), "BIND_HOST": "127.0.0.1"}
    )
    env.update(settings)
    address = f"127.0.0.1:{port}{app.path}"
    return _first_200(time.perf_counter(), argv, env, app_dir, address, work)


def warm_caches(setting: Setting, app: App, work: Path) -> None:
    """Fill the pip and uv caches with every variant the baselines install."""
    for added in (False, True):
        app_dir = work / "warm-app"
        shutil.rmtree(app_dir, ignore_errors=True)
        shutil.copytree(app.source, app_dir)
        _requirements(app_dir, app, added=added)
        for install in (_pip_install, _uv_install):
            venv = work / "warm-venv"
            shutil.rmtree(venv, ignore_errors=True)
            install(setting, venv, app_dir / "requirements.txt", app_dir)
            shutil.rmtree(venv)
    shutil.rmtree(work / "warm-app", ignore_errors=True)


# --- the report ----------------------------------------------------------------------------------

METRICS = (
    ("cold.deps", "Cold build: installing the dependencies"),
    ("cold.compile", "... of which compiling them to bytecode (pip's figure includes it too)"),
    ("cold.buildpack", "Cold build: detect + build (python-cnb incl. CPython download)"),
    ("nochange.buildpack", "Rebuild, no change: detect + build"),
    ("nochange.verify.python", "... of which checking the cached python layer"),
    ("nochange.verify.venv", "... of which checking the cached venv layer"),
    ("add.deps", "Rebuild, one requirement added: dependency step"),
    ("add.buildpack", "Rebuild, one requirement added: detect + build"),
    ("remove.deps", "Rebuild, one requirement removed: dependency step"),
    ("remove.buildpack", "Rebuild, one requirement removed: detect + build"),
    ("first200", "Launch to first HTTP 200"),
    ("first200.one", "... with one worker (WEB_CONCURRENCY=1 for both; a diagnostic)"),
)
"""For pip and uv, every build figure is their whole install: venv + install for a cold
build and a changed requirement (a full reinstall), the second install for no change."""


def _ratio(value: Optional[float], base: Optional[float]) -> Optional[float]:
    return None if value is None or not base else value / base


NOCHANGE_TARGET = "no-change rebuild, installing nothing: detect + build vs pip's no-op reinstall"


def targets(
    app: str, samples: Samples, report: dict[str, Any], interpreter_bytes: int
) -> list[dict[str, Any]]:
    """The issue's targets, each with its figure, limit and whether it is met."""

    def ours(metric: str) -> Optional[float]:
        return samples.median(metric, "python-cnb")

    def pip(metric: str) -> Optional[float]:
        return samples.median(metric, "pip")

    found: list[dict[str, Any]] = []

    def target(
        name: str, value: Optional[float], limit: float, unit: str, extra: bool = True
    ) -> None:
        met = value is not None and value <= limit and extra
        found.append(
            {"app": app, "target": name, "value": value, "limit": limit, "unit": unit, "met": met}
        )

    target(
        "cold dependency install vs pip", _ratio(ours("cold.deps"), pip("cold.deps")), 0.15, "x pip"
    )
    target(
        NOCHANGE_TARGET,
        _ratio(ours("nochange.buildpack"), pip("nochange.buildpack")),
        0.5,
        "x pip",
        bool(report.get("nochange_reused")),
    )
    for scenario in ("add", "remove"):
        target(
            f"rebuild, one requirement {'added' if scenario == 'add' else 'removed'}: "
            "dependency step vs a full pip reinstall",
            _ratio(ours(f"{scenario}.deps"), pip(f"{scenario}.deps")),
            0.1,
            "x pip",
        )
    target(
        "launch to first HTTP 200 vs by hand",
        _ratio(ours("first200"), pip("first200")),
        1.1,
        "x pip",
    )
    per_rep = samples.rep_ratios("first200.rep")
    target(
        "launch to first HTTP 200 vs by hand, the worst repetition (stable)",
        max(per_rep) if per_rep else None,
        1.1,
        "x pip",
    )
    layers = report.get("layers", {})
    forbidden = sorted(
        f"{name}/{path}" for name, layer in layers.items() for path in layer["forbidden"]
    )
    reference = interpreter_bytes + int(report.get("packages_bytes", 0))
    stdlib_bytecode = layers.get("python", {}).get("bytecode_bytes", 0)
    total = sum(layer["bytes"] for layer in layers.values()) - stdlib_bytecode
    target(
        "launch layers (without the stdlib's bytecode) vs interpreter as shipped + installed "
        "packages; no build tools, caches, tests",
        _ratio(total, reference),
        1.0,
        "x",
        not forbidden,
    )
    if forbidden:
        found[-1]["forbidden"] = forbidden
    return found


def machine() -> dict[str, Any]:
    """The machine, and the commit the run measures (``-dirty``: with uncommitted changes):
    taken when the run starts, since committing while it runs changes neither the packaged
    buildpack nor the bench's loaded code."""
    with Path("/proc/cpuinfo").open(encoding="utf-8") as handle:
        cpu = next(
            (line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), ""
        )
    with Path("/proc/meminfo").open(encoding="utf-8") as handle:
        memory_kb = next(int(line.split()[1]) for line in handle if line.startswith("MemTotal"))
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    dirty = bool(
        subprocess.run(
            ["git", "status", "--porcelain"], cwd=REPO, capture_output=True, text=True, check=False
        ).stdout.strip()
    )
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(memory_kb / 2**20, 1),
        "kernel": platform.release(),
        "os": platform.platform(),
        "machine": platform.machine(),
        "commit": commit + ("-dirty" if dirty else ""),
    }


def _fmt(value: Optional[float], unit: str = "s") -> str:
    if value is None:
        return "n/a"
    return f"{value:.2f} {unit}" if unit == "s" else f"{value:.3f}{unit}"


def markdown(result: dict[str, Any]) -> str:
    info = result["machine"]
    lines = [
        "# python-cnb benchmark",
        "",
        f"{info['date']}, commit {info['commit']}; {info['cpu']} ({info['cores']} cores), "
        f"{info['memory_gib']} GiB, {info['os']}.",
        f"Medians of {result['reps']} repetitions (contenders alternating); versions: "
        + ", ".join(f"{k} {v}" for k, v in result["versions"].items())
        + ".",
        "",
    ]
    for app, data in result["apps"].items():
        lines += [
            f"## {app}",
            "",
            "| | python-cnb | pip | uv | python-cnb / pip | uv / pip |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for metric, label in METRICS:
            medians = data["medians"].get(metric, {})
            ours, pip, uv = (medians.get(c) for c in CONTENDERS)
            lines.append(
                f"| {label} | {_fmt(ours)} | {_fmt(pip)} | {_fmt(uv)} | "
                f"{_fmt(_ratio(ours, pip), 'x')} | {_fmt(_ratio(uv, pip), 'x')} |"
            )
        lines += ["", *_spread_lines(data["runs"])]
        layers = data.get("layers", {})
        sizes = ", ".join(
            f"`{name}` {layer['bytes'] / 1e6:.1f} MB "
            f"({layer['bytecode_bytes'] / 1e6:.1f} MB of it bytecode"
            + (
                f"; checked before reuse in {layer['verify_seconds']:.2f} s"
                if "verify_seconds" in layer
                else ""
            )
            + ")"
            for name, layer in layers.items()
        )
        lines += [
            "",
            f"Launch layers: {sizes}. The pip venv: {(data.get('venv_bytes') or 0) / 1e6:.1f} MB, "
            f"{(data.get('packages_bytes') or 0) / 1e6:.1f} MB without pip and setuptools; "
            f"the interpreter as shipped: {result['interpreter_bytes'] / 1e6:.1f} MB.",
            "",
        ]
    lines += _package_lines(result.get("packages", {}))
    lines += [
        "## Targets",
        "",
        "| app | target | figure | limit | met |",
        "|---|---|---:|---:|---|",
    ]
    for entry in result["targets"]:
        unit = entry["unit"]
        shown = _fmt(entry["value"], "s" if unit == "s" else "x")
        limit = f"{entry['limit']} {unit}"
        note = "" if "forbidden" not in entry else f" (found: {', '.join(entry['forbidden'][:5])})"
        met = "yes" if entry["met"] else "**no**"
        lines.append(f"| {entry['app']} | {entry['target']} | {shown} | {limit} | {met}{note} |")
    lines += [
        "",
        "pip and uv figures are their whole install (a fresh venv and the install for a cold "
        "build and for a changed requirement, a second install for no change). python-cnb's "
        "dependency step is its `Installing dependencies` step; detect + build is the time of "
        "the buildpack's two executables, without the lifecycle's restore and export.",
        "",
    ]
    return "\n".join(lines)


def _spread_lines(runs: Mapping[str, Mapping[str, list[float]]]) -> list[str]:
    """Minimum / median / maximum of each figure over the repetitions (and launches)."""

    def shown(values: Optional[list[float]]) -> str:
        if not values:
            return "n/a"
        low, mid, high = min(values), statistics.median(values), max(values)
        return f"{low:.2f} / {mid:.2f} / {high:.2f} ({len(values)})"

    lines = [
        "Spread, min / median / max s (samples):",
        "",
        "| | python-cnb | pip | uv |",
        "|---|---:|---:|---:|",
    ]
    for metric, label in METRICS:
        if metric in runs:
            cells = " | ".join(shown(runs[metric].get(c)) for c in CONTENDERS)
            lines.append(f"| {label} | {cells} |")
    recorded = Samples({metric: dict(figures) for metric, figures in runs.items()})
    for metric, said in (
        ("first200.rep", "Launch to first HTTP 200 / by hand, each repetition's medians"),
        ("first200.one.rep", "The same with one worker (WEB_CONCURRENCY=1; not a target)"),
    ):
        ratios = recorded.rep_ratios(metric)
        if ratios:
            lines += ["", f"{said}: {', '.join(f'{ratio:.2f}x' for ratio in ratios)}."]
    return lines


def package_sizes(dist: Path) -> dict[str, dict[str, int]]:
    """The archives of `make package` (one per target, the slim one): their bytes and the
    bytes of the files in them."""
    found: dict[str, dict[str, int]] = {}
    for archive in sorted(dist.glob(f"python-cnb-{package.version()}*.tgz")):
        with tarfile.open(archive) as tar:
            content = sum(member.size for member in tar.getmembers() if member.isfile())
        found[archive.name] = {"bytes": archive.stat().st_size, "content_bytes": content}
    return found


def _package_lines(packages: Mapping[str, Mapping[str, int]]) -> list[str]:
    if not packages:
        return ["The buildpack's packages: none in dist/ (run `make package` first).", ""]
    shown = ", ".join(
        f"`{name}` {sizes['bytes'] / 1e6:.1f} MB ({sizes['content_bytes'] / 1e6:.1f} MB unpacked)"
        for name, sizes in packages.items()
    )
    return [f"The buildpack's packages (`make package`): {shown}.", ""]


def _rotations(reps: int) -> Iterator[tuple[int, tuple[str, ...]]]:
    for rep in range(reps):
        shift = rep % len(CONTENDERS)
        yield rep, CONTENDERS[shift:] + CONTENDERS[:shift]


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--apps", default=",".join(APPS))
    parser.add_argument(
        "--launches",
        type=int,
        default=3,
        help="launches to first HTTP 200 per contender and repetition, at least (their spread "
        "is shown)",
    )
    parser.add_argument(
        "--launch-seconds",
        type=float,
        default=LAUNCH_SECONDS,
        help="launch turns go on, beyond --launches, while they have taken less than this "
        f"(per app and repetition; at most {MOST_LAUNCHES} turns)",
    )
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    parser.add_argument(
        "--keep", action="store_true", help="keep the workspaces and logs in .cache/bench/work"
    )
    options = parser.parse_args(argv)
    apps = [APPS[name] for name in options.apps.split(",")]
    if options.reps < 1 or options.launches < 1:
        parser.error("--reps and --launches must be at least 1")

    def log(message: str) -> None:
        print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)

    from tests.support.servers import FileServer  # the tests' static server, loopback only

    measured = machine()  # before the buildpack is packaged: the commit it is made from
    python, mirror_dir = prepare(log, apps)
    manifest = toml_file.read(mirror_dir / "manifest.toml")
    version = subprocess.run(
        [str(python), "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    entry = next(d for d in manifest["dependencies"] if d["version"] == version)
    tarball = mirror_dir / entry["uri"]
    with FileServer(mirror_dir) as files, local_index.serve(CACHE / "index") as index:
        index_url = f"http://127.0.0.1:{index.port}/simple/"
        buildpack = package_buildpack(files.url("manifest.toml"), index_url, log)
        uv = install_uv(python, index_url)
        manifest_file = local_manifest(mirror_dir, files.url)
        setting = Setting(python, index_url, str(manifest_file), buildpack, uv, tarball)
        work = CACHE / "work"
        shutil.rmtree(work, ignore_errors=True)
        samples = {app.name: Samples() for app in apps}
        reports: dict[str, dict[str, Any]] = {app.name: {} for app in apps}
        for app in apps:
            log(f"{app.name}: warming the pip and uv caches")
            warm_caches(setting, app, work / "warm")
        for rep, order in _rotations(options.reps):
            for app in apps:
                for contender in order:
                    log(f"{app.name} #{rep + 1}: {contender}")
                    place = work / app.name / f"{contender}-{rep}"
                    if contender == "python-cnb":
                        run_buildpack(setting, app, place, samples[app.name], reports[app.name])
                    elif contender == "pip":
                        run_baseline(
                            "pip",
                            _pip_install,
                            _pip_again,
                            setting,
                            app,
                            place,
                            samples[app.name],
                            reports[app.name],
                        )
                    else:
                        run_baseline(
                            "uv",
                            _uv_install,
                            _uv_again,
                            setting,
                            app,
                            place,
                            samples[app.name],
                            reports[app.name],
                        )
                        if not options.keep:
                            shutil.rmtree(place, ignore_errors=True)
                log(f"{app.name} #{rep + 1}: launches, python-cnb and by hand alternating")
                ours, pip = work / app.name / f"python-cnb-{rep}", work / app.name / f"pip-{rep}"
                run_launches(
                    app,
                    ours,
                    pip,
                    samples[app.name],
                    reports[app.name],
                    options.launches,
                    options.launch_seconds,
                )
                if not options.keep:
                    shutil.rmtree(ours, ignore_errors=True)
                    shutil.rmtree(pip, ignore_errors=True)
    interpreter_bytes = tarball_size(tarball)
    result: dict[str, Any] = {
        "machine": measured,
        "reps": options.reps,
        "versions": {
            "CPython": version,
            "pip": pip_version(python),
            "uv": pins_of("uv"),
            "python-cnb": package.version(),
        },
        "interpreter_bytes": interpreter_bytes,
        "packages": package_sizes(CACHE / "dist"),
        "apps": {},
        "targets": [],
    }
    for app in apps:
        data = samples[app.name]
        report = reports[app.name]
        result["apps"][app.name] = {
            "runs": data.values,
            "medians": {m: {c: data.median(m, c) for c in runs} for m, runs in data.values.items()},
            "layers": report.get("layers", {}),
            "venv_bytes": report.get("venv_bytes"),
            "packages_bytes": report.get("packages_bytes"),
        }
        result["targets"] += targets(app.name, data, report, interpreter_bytes)
    options.out.mkdir(parents=True, exist_ok=True)
    text = markdown(result)
    (options.out / "latest.json").write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    (options.out / "latest.md").write_text(text)
    print(text)
    return 0


def pip_version(python: Path) -> str:
    """The pip that ``python -m venv`` puts into a venv (the interpreter's bundled one)."""
    bundled = subprocess.run(
        [str(python), "-c", "import ensurepip; print(ensurepip.version())"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return bundled.stdout.strip()


def pins_of(name: str) -> str:
    for line in (REPO / "bench" / "index.txt").read_text().splitlines():
        if line.startswith(f"{name}=="):
            return line.split("==", 1)[1]
    return "?"


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except BenchError as error:
        print(f"bench failed: {error}", file=sys.stderr)
        raise SystemExit(1) from None
