"""python_cnb.replay: recording a build's result, and putting it back only when nothing it
read has changed and every layer and the copy check out."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from python_cnb import output, replay
from python_cnb.cnb import toml_file
from python_cnb.layers import manifest
from python_cnb.layers.runtime import LAYER_NAME as RUNTIME_LAYER


@pytest.fixture(autouse=True)
def _clean_output() -> None:
    output.reset()


class Build:
    """A workspace as the lifecycle gives it to a build, and a stand-in build's outputs."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = root
        self.source = root / "source"
        self.source.mkdir()
        (self.source / "app.py").write_text("print('hi')\n")
        self.layers = root / "layers"
        self.layers.mkdir()
        for name in ("platform", "buildpack"):
            (root / name).mkdir()
        (root / "buildpack" / "buildpack.toml").write_text('api = "0.12"\n')
        (root / "plan.toml").write_text("[[entries]]\nname = 'python'\n")
        self.env = {
            "CNB_LAYERS_DIR": str(self.layers),
            "CNB_PLATFORM_DIR": str(root / "platform"),
            "CNB_BP_PLAN_PATH": str(root / "plan.toml"),
            "CNB_BUILDPACK_DIR": str(root / "buildpack"),
            "BP_CPYTHON_MANIFEST": str(root / "cpython.toml"),
        }
        (root / "cpython.toml").write_text("dependencies = []\n")
        self.monkeypatch = monkeypatch
        self.app = root / "app"

    def fresh_app(self) -> None:
        """The platform's copy of the source, in the working directory."""
        shutil.rmtree(self.app, ignore_errors=True)
        shutil.copytree(self.source, self.app)
        self.monkeypatch.chdir(self.app)

    def paths(self) -> replay.Paths:
        paths = replay.Paths.from_env(self.env)
        assert paths is not None
        return paths

    def run(self) -> None:
        """A full build: records, then writes what a build writes."""
        self.fresh_app()
        recorder = replay.Recorder(self.paths(), self.env)
        venv = self.layers / "venv"
        if not venv.is_dir():
            (venv / "lib").mkdir(parents=True)
            (venv / "lib" / "flask.py").write_text("app = 1\n")
        (venv / "env").mkdir(exist_ok=True)
        (venv / "env" / "PYTHONPATH.default").write_text("x")
        contents = manifest.write_manifest(venv)
        toml_file.write(
            self.layers / "venv.toml",
            {"types": {"launch": True, "cache": True}, "metadata": {"contents": contents}},
        )
        runtime = self.layers / RUNTIME_LAYER
        shutil.rmtree(runtime, ignore_errors=True)
        (runtime / "exec.d").mkdir(parents=True)
        (runtime / "exec.d" / "launch-env").write_text("#!/bin/sh\n")
        (runtime / "exec.d" / "launch-env").chmod(0o755)
        toml_file.write(self.layers / f"{RUNTIME_LAYER}.toml", {"types": {"launch": True}})
        (self.layers / "launch.toml").write_text('[[processes]]\ntype = "web"\n')
        (self.app / "__pycache__").mkdir()
        (self.app / "__pycache__" / "app.pyc").write_bytes(b"\x00compiled")
        output.warning("A newer patch release", "Python 3.12.9 is out.")
        recorder.finish(["web (default): gunicorn app:app", "Python 3.12.1; pip; processes: web"])

    def restore(self) -> None:
        """What the lifecycle leaves for the next build: cached layers with their metadata,
        launch-only layers' metadata only (from the image), no launch.toml or env types."""
        shutil.rmtree(self.layers / RUNTIME_LAYER)
        (self.layers / "launch.toml").unlink()
        (self.layers / "venv" / "env" / "PYTHONPATH.default").write_text("changed")
        self.fresh_app()

    def exported(self) -> dict[str, manifest.Entry]:
        return {
            **{f"layers/{k}": v for k, v in manifest.scan(self.layers, frozenset()).items()},
            **{f"app/{k}": v for k, v in manifest.scan(self.app, frozenset()).items()},
        }


@pytest.fixture
def build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Build:
    return Build(tmp_path, monkeypatch)


SRC = Path(replay.__file__).parents[1]
NOT_BEFORE_A_REPLAY = (
    "dataclasses",  # and inspect, ast, dis, tokenize with it
    "inspect",
    "shutil",  # and bz2, lzma
    "tempfile",  # and random
    "textwrap",
    "threading",
    "traceback",
    "tomli_w",
    "python_cnb.cnb.layers",
    "python_cnb.build",
)
"""Modules an unchanged rebuild does not load before it knows it can replay (each costs
milliseconds of every no-change rebuild): what python_cnb.replay and the modules it needs
import, with nothing but the interpreter's own start-up before."""


def test_a_replay_loads_only_what_it_needs() -> None:
    code = (
        f"import sys; sys.path[0:0] = [{str(SRC)!r}]\n"
        "import python_cnb.__main__, python_cnb.replay\n"
        f"print(sorted(set({NOT_BEFORE_A_REPLAY!r}) & set(sys.modules)))"
    )
    ran = subprocess.run(
        [sys.executable, "-E", "-s", "-S", "-c", code], capture_output=True, text=True, check=True
    )
    assert ran.stdout == "[]\n", ran.stdout


def test_the_anchor_layer_is_the_runtime_layer() -> None:
    assert replay.ANCHOR_LAYER == RUNTIME_LAYER


def test_an_unchanged_build_is_put_back_as_it_was(
    build: Build, capsys: pytest.CaptureFixture[str]
) -> None:
    build.run()
    made = build.exported()
    build.restore()
    output.reset()
    capsys.readouterr()

    assert replay.replay_unchanged(build.env)
    assert build.exported() == made
    printed = capsys.readouterr().out
    assert "[Reusing the previous build]" in printed
    assert "[Warning: A newer patch release]\nPython 3.12.9 is out." in printed
    assert printed.rstrip().endswith("Python 3.12.1; pip; processes: web")


def test_no_record_means_a_full_build(build: Build) -> None:
    build.fresh_app()
    assert not replay.replay_unchanged(build.env)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("app", "the app's files changed"),
        ("env", "the environment changed"),
        ("plan", "the buildpack plan changed"),
        ("buildpack", "the buildpack changed"),
        ("manifest", "the CPython manifest changed"),
        ("platform", "the platform directory changed"),
    ],
)
def test_a_changed_input_is_named(
    build: Build, capsys: pytest.CaptureFixture[str], change: str, reason: str
) -> None:
    build.run()
    build.restore()
    if change == "app":
        (build.app / "app.py").write_text("print('bye')\n")
    elif change == "env":
        build.env["WEB_CONCURRENCY"] = "4"
    elif change == "plan":
        (build.root / "plan.toml").write_text("")
    elif change == "buildpack":
        (build.root / "buildpack" / "buildpack.toml").write_text('api = "0.11"\n')
    elif change == "manifest":
        (build.root / "cpython.toml").write_text("dependencies = [] # edited\n")
    else:
        (build.root / "platform" / "env").mkdir()
    before = build.exported()
    capsys.readouterr()
    assert not replay.replay_unchanged(build.env)
    assert f"cannot be reused, since {reason}\n" in capsys.readouterr().out
    assert build.exported() == before  # nothing written


def test_an_unchanged_buildpack_is_not_hashed_again(
    build: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(replay, "RACY_SECONDS", -1e9)  # every file long since written
    build.run()
    build.restore()

    def hashed(root: Path) -> str:
        raise AssertionError("the buildpack's status is unchanged: no need to hash it")

    monkeypatch.setattr(replay, "buildpack_digest", hashed)
    assert replay.replay_unchanged(build.env)


def test_a_buildpack_file_rewritten_with_its_size_and_mtime_is_found(
    build: Build, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(replay, "RACY_SECONDS", -1e9)
    build.run()
    build.restore()
    descriptor = build.root / "buildpack" / "buildpack.toml"
    before = descriptor.stat()
    descriptor.write_text('api = "0.11"\n')  # the same size
    os.utime(descriptor, ns=(before.st_atime_ns, before.st_mtime_ns))  # the same mtime
    capsys.readouterr()
    assert not replay.replay_unchanged(build.env)
    assert "cannot be reused, since the buildpack changed\n" in capsys.readouterr().out


def test_a_buildpack_changed_just_before_its_status_was_taken_is_hashed(
    build: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    build.run()  # the buildpack's files were written a moment ago
    kept = json.loads((build.layers / "replay" / replay.STATUS_NAME).read_bytes())
    assert kept["status"] == ""
    build.restore()
    hashed: list[Path] = []
    real = replay.buildpack_digest

    def counted(root: Path) -> str:
        hashed.append(root)
        return real(root)

    monkeypatch.setattr(replay, "buildpack_digest", counted)
    assert replay.replay_unchanged(build.env)
    assert hashed == [build.root / "buildpack"]


def test_a_replay_that_hashed_the_buildpack_keeps_its_status(
    build: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As on another machine (other inodes and ctimes): the first replay hashes the
    buildpack and, its content being the recorded one, keeps its status; the next does not
    hash it. The record, and so the image's metadata, is unchanged."""
    build.run()  # racy: no status kept
    record = (build.layers / "replay" / replay.RECORD_NAME).read_bytes()
    monkeypatch.setattr(replay, "RACY_SECONDS", -1e9)  # every file long since written
    build.restore()
    assert replay.replay_unchanged(build.env)
    kept = json.loads((build.layers / "replay" / replay.STATUS_NAME).read_bytes())
    assert kept == {
        "record": hashlib.sha256(record).hexdigest(),
        "status": replay.buildpack_status(build.root / "buildpack"),
    }
    assert (build.layers / "replay" / replay.RECORD_NAME).read_bytes() == record

    def hashed(root: Path) -> str:
        raise AssertionError("the status kept by the last replay stands: no need to hash")

    monkeypatch.setattr(replay, "buildpack_digest", hashed)
    build.restore()
    assert replay.replay_unchanged(build.env)


def test_a_refused_replay_keeps_no_status(build: Build, monkeypatch: pytest.MonkeyPatch) -> None:
    build.run()
    monkeypatch.setattr(replay, "RACY_SECONDS", -1e9)
    build.restore()
    (build.app / "app.py").write_text("print('bye')\n")
    assert not replay.replay_unchanged(build.env)
    kept = json.loads((build.layers / "replay" / replay.STATUS_NAME).read_bytes())
    assert kept["status"] == ""


def _new_entries_setting(tmp_path: Path) -> tuple[replay.Paths, list[list[object]]]:
    """An app with a file and a directory, and a stored copy of the recorded app that has
    them too (the file changed), a new tree and a new file in the old directory."""
    paths = replay.Paths(*(tmp_path / name for name in ("app", "layers", "p", "plan", "bp", "b")))
    (paths.app / "pkg").mkdir(parents=True)
    (paths.app / "a.txt").write_text("old\n")
    store = paths.layer / replay.STORE / "app"
    (store / "new" / "x").mkdir(parents=True)
    (store / "pkg").mkdir()
    (store / "a.txt").write_text("new\n")
    (store / "new" / "x" / "y.txt").write_text("y\n")
    (store / "pkg" / "z.sh").write_text("#!/bin/sh\n")
    (store / "new" / "link").symlink_to("x/y.txt")
    changed: list[list[object]] = [
        ["a.txt", "f", 0o644, 4, ""],
        ["new", "d", 0o755, 0, ""],
        ["new/link", "l", 0o777, 0, "x/y.txt"],
        ["new/x", "d", 0o750, 0, ""],
        ["new/x/y.txt", "f", 0o600, 2, ""],
        ["pkg/z.sh", "f", 0o755, 10, ""],
    ]
    return paths, changed


def test_new_app_entries_are_written_while_the_layers_are_checked(tmp_path: Path) -> None:
    paths, changed = _new_entries_setting(tmp_path)
    written = replay._NewEntries(paths, changed).finish()
    assert written == {"new", "new/link", "new/x", "new/x/y.txt", "pkg/z.sh"}
    assert (paths.app / "a.txt").read_text() == "old\n"  # a replaced file: put back later
    assert (paths.app / "new" / "x" / "y.txt").read_text() == "y\n"
    assert (paths.app / "new" / "link").readlink() == Path("x/y.txt")
    modes = {p: (paths.app / p).lstat().st_mode & 0o7777 for p in ("new/x", "new/x/y.txt")}
    assert modes == {"new/x": 0o750, "new/x/y.txt": 0o600}
    assert os.access(paths.app / "pkg" / "z.sh", os.X_OK)


def test_a_refused_replay_removes_the_new_app_entries(tmp_path: Path) -> None:
    paths, changed = _new_entries_setting(tmp_path)
    before = manifest.scan(paths.app, frozenset())
    replay._NewEntries(paths, changed).undo()
    assert manifest.scan(paths.app, frozenset()) == before
    written = replay._NewEntries(paths, changed)
    written.finish()
    written.undo()  # however far it got
    assert manifest.scan(paths.app, frozenset()) == before


def test_a_refusal_after_the_app_digest_leaves_the_app_as_it_was(
    build: Build, capsys: pytest.CaptureFixture[str]
) -> None:
    """The new entries (here the app's bytecode) are being written when a layer is found
    changed: they are removed again."""
    build.run()
    build.restore()
    (build.layers / "venv" / "lib" / "flask.py").write_text("app = 2\n")
    before = build.exported()
    assert not (build.app / "__pycache__").exists()
    assert not replay.replay_unchanged(build.env)
    assert "cannot be reused" in capsys.readouterr().out
    assert build.exported() == before


def test_what_every_container_has_its_own_of_is_not_an_input(build: Build) -> None:
    build.env["HOSTNAME"] = "a1b2c3"
    build.run()
    build.restore()
    build.env["HOSTNAME"] = "d4e5f6"
    build.env["CNB_BP_PLAN_PATH"] = str(build.root / "moved-plan.toml")
    shutil.copy(build.root / "plan.toml", build.root / "moved-plan.toml")
    assert replay.replay_unchanged(build.env)


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        ("venv", "its cached layer 'venv' changed"),
        ("venv-metadata", "its cached layer 'venv' was not restored as it left it"),
        ("store", "its copy of the build's result is not the one it recorded"),
        ("record", "its record is not the one the previous image names"),
        ("stray", "the layers directory holds 'other', which it did not make"),
    ],
)
def test_a_damaged_layer_or_record_is_not_put_back(
    build: Build, capsys: pytest.CaptureFixture[str], damage: str, reason: str
) -> None:
    build.run()
    build.restore()
    if damage == "venv":
        (build.layers / "venv" / "lib" / "flask.py").write_text("app = 2\n")
    elif damage == "venv-metadata":
        raw = toml_file.read(build.layers / "venv.toml")
        raw["metadata"]["extra"] = "x"
        toml_file.write(build.layers / "venv.toml", raw)
    elif damage == "store":
        stored = build.layers / "replay" / "store" / "app" / "__pycache__" / "app.pyc"
        stored.write_bytes(b"\x00evil")
    elif damage == "record":
        record = build.layers / "replay" / replay.RECORD_NAME
        record.write_bytes(record.read_bytes() + b" ")
    else:
        (build.layers / "other").mkdir()
    capsys.readouterr()
    assert not replay.replay_unchanged(build.env)
    assert f"cannot be reused, since {reason}\n" in capsys.readouterr().out
    assert not (build.app / "__pycache__").exists()


@pytest.mark.parametrize(
    "env",
    [
        {"DEPLOY_TOKEN": "abc"},
        {"AWS_SECRET_ACCESS_KEY": "abc"},
        {"PIP_EXTRA_INDEX_URL": "https://user:pass@private.example/simple/"},
    ],
)
def test_a_build_with_a_secret_keeps_no_record(build: Build, env: dict[str, str]) -> None:
    build.env.update(env)
    build.run()
    assert not (build.layers / "replay").exists()
    assert "replay-record" not in (build.layers / f"{RUNTIME_LAYER}.toml").read_text()


def test_a_secret_the_build_registered_keeps_no_record(build: Build) -> None:
    output.register_secret("netrc-password")  # as reading a netrc binding does
    build.run()
    assert not (build.layers / "replay").exists()


def test_a_binding_that_may_hold_secrets_keeps_no_record(build: Build) -> None:
    binding = build.root / "platform" / "bindings" / "index"
    binding.mkdir(parents=True)
    (binding / "type").write_text("netrc")
    build.run()
    assert not (build.layers / "replay").exists()


def test_a_blocked_build_removes_the_previous_record(build: Build) -> None:
    build.run()
    assert (build.layers / "replay" / replay.RECORD_NAME).is_file()
    build.fresh_app()
    recorder = replay.Recorder(build.paths(), build.env)
    recorder.block("resolves-every-build")
    recorder.finish([])
    assert not (build.layers / "replay").exists()
    assert not (build.layers / "replay.toml").exists()


def test_an_unreadable_input_keeps_no_record_and_fails_nothing(
    build: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    scan = manifest.scan

    def unreadable(root: Path, exclude: frozenset[str] = frozenset()) -> object:
        if root == build.app:  # a file of the app only root may read, say
            raise PermissionError(errno.EACCES, "Permission denied", str(root / "key.pem"))
        return scan(root, exclude)

    monkeypatch.setattr(manifest, "scan", unreadable)
    build.env["BP_LOG_LEVEL"] = "DEBUG"
    output.configure(debug=True)
    build.run()
    assert not (build.layers / "replay").exists()


def test_a_record_that_cannot_be_written_is_left_out(
    build: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(self: replay.Recorder, summary: object) -> None:
        (self.paths.layer / "partial").mkdir(parents=True)
        raise OSError(errno.ENOSPC, "No space left on device", str(self.paths.layer))

    monkeypatch.setattr(replay.Recorder, "_write", full_disk)
    build.run()
    assert not (build.layers / "replay").exists()
    assert not (build.layers / "replay.toml").exists()


def test_a_special_file_the_build_left_in_the_app_keeps_no_record(
    build: Build, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    finish = replay.Recorder.finish

    def with_a_fifo(self: replay.Recorder, summary: list[str]) -> None:
        os.mkfifo(build.app / "control.fifo")  # a copy of it could not be kept or put back
        finish(self, summary)

    monkeypatch.setattr(replay.Recorder, "finish", with_a_fifo)
    output.configure(debug=True)
    build.run()
    assert not (build.layers / "replay").exists()
    assert (
        "The next unchanged build runs in full: the build left 'control.fifo' in the app"
        " directory, which is no file, directory or link" in capsys.readouterr().out
    )


def test_the_buildpack_status_is_kept_beside_the_record_not_in_it(
    build: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two full builds of the same inputs make the same record (its digest is in the
    image's metadata), whatever the buildpack files' inodes and ctimes."""
    build.run()  # just written: no status
    first = (build.layers / "replay" / replay.RECORD_NAME).read_bytes()
    monkeypatch.setattr(replay, "RACY_SECONDS", -1e9)
    output.reset()  # the second build's warnings only
    build.run()
    assert (build.layers / "replay" / replay.RECORD_NAME).read_bytes() == first
    kept = json.loads((build.layers / "replay" / replay.STATUS_NAME).read_bytes())
    assert kept["status"] and kept["record"] == hashlib.sha256(first).hexdigest()
