"""Content manifests: what a layer held when it was made, and every way it can differ."""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time
from pathlib import Path
from typing import Optional

import pytest

from python_cnb import output
from python_cnb.cnb.layers import Layer
from python_cnb.layers import manifest
from python_cnb.layers.manifest import (
    MANIFEST_NAME,
    SHOWN,
    abandon,
    same_shape,
    verify,
    verify_in_background,
    verify_restored_in_background,
    write_manifest,
)


@pytest.fixture
def layer(tmp_path: Path) -> Path:
    root = tmp_path / "python"
    (root / "bin").mkdir(parents=True)
    (root / "lib" / "python3.12").mkdir(parents=True)
    (root / "bin" / "python3.12").write_bytes(b"\x7fELF" + b"\0" * 100)
    (root / "bin" / "python3.12").chmod(0o755)
    (root / "bin" / "python3").symlink_to("python3.12")
    (root / "lib" / "libpython3.12.so.1.0").write_bytes(b"lib" * 1000)
    (root / "lib" / "python3.12" / "os.py").write_text("import sys\n")
    (root / "env").mkdir()
    (root / "env" / "PYTHONUNBUFFERED.default").write_text("1")
    return root


def test_an_untouched_layer_matches(layer: Path) -> None:
    digest = write_manifest(layer)
    assert digest == hashlib.sha256((layer / MANIFEST_NAME).read_bytes()).hexdigest()
    assert not verify(layer, digest)
    assert verify(layer, digest).reasons() == []
    assert same_shape(layer, digest)


def test_the_manifest_is_the_same_for_the_same_contents(layer: Path, tmp_path: Path) -> None:
    first = write_manifest(layer)
    os.utime(layer / "lib" / "python3.12" / "os.py", (0, 0))  # mtimes are no part of it
    (layer / MANIFEST_NAME).unlink()
    assert write_manifest(layer) == first


def test_the_layer_env_is_left_out(layer: Path) -> None:
    """LayerEnv.write replaces env/, env.build/, env.launch/ whole on every build."""
    digest = write_manifest(layer)
    (layer / "env" / "PYTHONUNBUFFERED.default").write_text("0")
    (layer / "env.launch").mkdir()
    assert not verify(layer, digest)


def test_a_truncated_file_is_found(layer: Path) -> None:
    digest = write_manifest(layer)
    with (layer / "lib" / "libpython3.12.so.1.0").open("r+b") as stream:
        stream.truncate(10)
    assert verify(layer, digest).reasons() == [
        "lib/libpython3.12.so.1.0 changed since the layer was made"
    ]
    assert not same_shape(layer, digest)


def test_a_rewrite_of_the_same_size_is_found(layer: Path) -> None:
    digest = write_manifest(layer)
    (layer / "lib" / "python3.12" / "os.py").write_text("import abc\n")
    assert same_shape(layer, digest)  # only the hashes tell
    assert verify(layer, digest).changed == ("lib/python3.12/os.py",)


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda root: (root / "bin" / "python3").unlink(), "bin/python3 is missing"),
        (
            lambda root: (root / "lib" / "python3.12" / "sitecustomize.py").write_text("x = 1\n"),
            "lib/python3.12/sitecustomize.py was not there when the layer was made",
        ),
        (
            lambda root: (root / "bin" / "python3.12").chmod(0o4755),
            "bin/python3.12 changed since the layer was made",
        ),
        (
            lambda root: (root / "lib" / "python3.12" / "empty_namespace").mkdir(),
            "lib/python3.12/empty_namespace was not there when the layer was made",
        ),
    ],
    ids=["missing", "added", "mode", "directory"],
)
def test_every_kind_of_difference_has_a_reason(layer: Path, damage: object, reason: str) -> None:
    digest = write_manifest(layer)
    damage(layer)  # type: ignore[operator]
    assert verify(layer, digest).reasons() == [reason]


def test_a_relinked_symlink_is_found(layer: Path) -> None:
    digest = write_manifest(layer)
    (layer / "bin" / "python3").unlink()
    (layer / "bin" / "python3").symlink_to("/usr/bin/python3")
    assert verify(layer, digest).changed == ("bin/python3",)


def test_many_differences_are_counted(layer: Path) -> None:
    digest = write_manifest(layer)
    for index in range(SHOWN + 3):
        (layer / f"extra{index}.pth").write_text("import os\n")
    reasons = verify(layer, digest).reasons()
    assert len(reasons) == SHOWN + 1
    assert reasons[-1] == "and 3 more (… was not there when the layer was made)"


def test_the_manifest_must_be_the_recorded_one(layer: Path) -> None:
    digest = write_manifest(layer)
    (layer / "lib" / "evil.so").write_bytes(b"x")
    write_manifest(layer)  # rewritten to match, as a tamperer of the cache would
    assert verify(layer, digest).reasons() == [
        "Its content manifest is not the one recorded when the layer was made"
    ]
    assert verify(layer, "").reasons() == [
        "Its content manifest is not the one recorded when the layer was made"
    ]


def test_a_missing_or_garbage_manifest(layer: Path) -> None:
    assert verify(layer, "0" * 64).reasons() == ["Its content manifest is missing"]
    (layer / MANIFEST_NAME).write_bytes(b"{not json")
    garbage = hashlib.sha256(b"{not json").hexdigest()
    assert verify(layer, garbage).reasons() == [
        "Its content manifest is not one this buildpack version writes"
    ]


def test_undecodable_file_names_round_trip(layer: Path) -> None:
    name = os.fsdecode(b"caf\xe9.py")
    (layer / name).write_text("x = 1\n")
    digest = write_manifest(layer)
    assert not verify(layer, digest)
    (layer / name).unlink()
    assert verify(layer, digest).reasons() == ["caf\\xe9.py is missing"]


def test_a_check_begun_in_the_background_is_the_one_verify_returns(
    layer: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    digest = write_manifest(layer)
    (layer / "lib" / "python3.12" / "os.py").write_text("import os\n")  # same size
    output.configure(debug=True)
    verify_in_background(layer, digest)
    assert (layer, digest) in manifest._background
    found = verify(layer, digest)
    assert found.reasons() == ["lib/python3.12/os.py changed since the layer was made"]
    (line,) = capsys.readouterr().out.splitlines()
    assert re.fullmatch(
        r"  \(debug\) 'verify the python layer' took \d+ ms \(begun in the background at the"
        r" start of the build; waited \d+ ms\)",
        line,
    ), line
    # taken once: a second check of the same layer hashes it again, in the foreground
    (layer / "lib" / "python3.12" / "os.py").write_text("import sys\n")
    assert not verify(layer, digest)
    assert "background" not in capsys.readouterr().out


def test_nothing_is_forked_from_a_process_with_threads(layer: Path) -> None:
    digest = write_manifest(layer)
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert not manifest._forkable()
        verify_in_background(layer, digest)
    finally:
        release.set()
        other.join()
    assert not manifest._background
    assert not verify(layer, digest)


def test_nothing_starts_for_a_layer_without_its_manifest(layer: Path) -> None:
    verify_in_background(layer, "0" * 64)
    verify_in_background(layer, "")
    assert not manifest._background
    assert verify(layer, "0" * 64).reasons() == ["Its content manifest is missing"]


def test_a_background_check_is_stopped_before_its_layer_is_emptied(
    layer: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    digest = write_manifest(layer)
    real = manifest._file_entry

    def stuck(path: str) -> tuple[os.stat_result, Optional[str]]:
        time.sleep(60)
        return real(path)

    monkeypatch.setattr(manifest, "_file_entry", stuck)  # in the forked check too
    verify_in_background(layer, digest)
    (check,) = manifest._background.values()
    started = time.monotonic()
    abandon(layer)
    assert time.monotonic() - started < 10  # killed, not waited for
    with pytest.raises(ChildProcessError):
        os.waitpid(check.pid, os.WNOHANG)  # reaped
    assert not manifest._background  # a later check does not take a stopped one's result
    monkeypatch.setattr(manifest, "_file_entry", real)
    assert not verify(layer, digest)


def test_a_failing_background_check_is_an_internal_failure(
    layer: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    digest = write_manifest(layer)

    def broken(path: str) -> tuple[os.stat_result, Optional[str]]:
        raise KeyError(path)

    monkeypatch.setattr(manifest, "_file_entry", broken)
    verify_in_background(layer, digest)
    with pytest.raises(RuntimeError, match=r"(?s)the background check failed:.*KeyError"):
        verify(layer, digest)


def test_file_names_that_are_no_utf_8_come_back_from_the_background(layer: Path) -> None:
    digest = write_manifest(layer)
    odd = os.fsdecode(b"lib/caf\xe9.py")
    (layer / odd).write_text("")
    verify_in_background(layer, digest)
    assert verify(layer, digest).added == (odd,)


def test_a_restored_layer_is_checked_against_the_manifest_its_metadata_names(
    layer: Path,
) -> None:
    digest = write_manifest(layer)
    restored = Layer(layer.parent, "python")
    restored.toml_path.write_text(f'[metadata]\ncontents = "{digest}"\nversion = "3.12"\n')
    verify_restored_in_background(restored)
    assert list(manifest._background) == [(layer, digest)]
    assert not verify(layer, digest)
    for text in ("[metadata]\ncontents = 3\n", '[metadata]\nversion = "3"\n', "", "[metadata\n"):
        restored.toml_path.write_text(text)
        verify_restored_in_background(restored)
    restored.toml_path.unlink()
    verify_restored_in_background(restored)
    assert not manifest._background


@pytest.fixture(autouse=True)
def _no_check_left_behind(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> object:
    # The build forks its checks before it starts any thread; a test process may have
    # threads of other tests' servers still running, which the children never touch.
    if request.node.name != "test_nothing_is_forked_from_a_process_with_threads":
        monkeypatch.setattr(manifest, "_forkable", lambda: True)
    yield
    for root, _ in list(manifest._background):
        abandon(root)


def _tree(root: Path) -> None:
    """Files, links and directories five deep, more than a task each."""
    for number in range(60):
        directory = root.joinpath(*[f"d{number % (depth + 2)}" for depth in range(number % 5)])
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"module{number}.py").write_text(f"VALUE = {number}\n" * number)
        if number % 7 == 0:
            (directory / f"link{number}").symlink_to(f"module{number}.py")
    (root / "env").mkdir()
    (root / "env" / "PATH.prepend").write_text("/bin")


@pytest.mark.parametrize("processes", [2, 3])
def test_a_large_tree_is_read_in_forked_processes_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, processes: int
) -> None:
    _tree(tmp_path)
    alone = manifest.scan(tmp_path)
    digest = manifest.tree_digest(tmp_path)
    forked: list[int] = []
    real = manifest._fork_report

    def counted(*args: object, **kwargs: object) -> tuple[int, int]:
        pid, pipe = real(*args, **kwargs)  # type: ignore[arg-type]
        forked.append(pid)
        return pid, pipe

    monkeypatch.setattr(manifest, "_fork_report", counted)
    monkeypatch.setattr(manifest, "FORK_AT", 3)
    monkeypatch.setattr(manifest, "PROCESSES", processes)
    monkeypatch.setattr(manifest, "MAX_TASKS", 4)  # fewer tasks than subtrees: grouped
    assert manifest._forkable()
    assert manifest.scan(tmp_path) == alone
    assert "env" not in alone and "d1/d2/d3/module23.py" in alone
    assert alone["d1/d1/link7"].content == "module7.py"
    assert manifest.tree_digest(tmp_path) == digest
    assert len(forked) == 2 * (processes - 1)


def test_a_layer_read_in_forked_processes_finds_what_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _tree(tmp_path)
    digest = write_manifest(tmp_path)
    monkeypatch.setattr(manifest, "FORK_AT", 3)
    monkeypatch.setattr(manifest, "PROCESSES", 2)
    assert not verify(tmp_path, digest)
    (tmp_path / "d1" / "d1" / "module7.py").write_text("changed")
    (tmp_path / "d1" / "module21.py").unlink()
    (tmp_path / "d1" / "d2" / "extra.pth").write_text("import os\n")
    found = verify(tmp_path, digest)
    assert (found.changed, found.missing, found.added) == (
        ("d1/d1/module7.py",),
        ("d1/module21.py",),
        ("d1/d2/extra.pth",),
    )


def test_a_file_gone_while_a_forked_process_hashes_is_an_os_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _tree(tmp_path)
    real = manifest._file_entry

    def vanishing(path: str) -> tuple[os.stat_result, Optional[str]]:
        if path.endswith("module21.py"):
            raise FileNotFoundError(2, "No such file or directory", path)
        return real(path)

    monkeypatch.setattr(manifest, "_file_entry", vanishing)
    monkeypatch.setattr(manifest, "FORK_AT", 3)
    monkeypatch.setattr(manifest, "PROCESSES", 2)
    with pytest.raises(FileNotFoundError) as raised:
        manifest.scan(tmp_path)
    assert raised.value.filename.endswith("module21.py")


def test_the_files_listed_before_the_work_is_shared_out_are_hashed_in_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The entries this process lists before forking are the shallow ones, where a venv's
    largest files are (``numpy.libs``): they are hashed with the rest, by whichever
    process is free, not by this one before the others start."""
    _tree(tmp_path)
    alone = manifest.scan(tmp_path)
    hashed: list[str] = []
    real_entry, real_share = manifest._file_entry, manifest._list_in_processes

    def recording(path: str) -> tuple[os.stat_result, Optional[str]]:
        hashed.append(path)  # this process's own list: forked ones append to their copy
        return real_entry(path)

    shared: list[tuple[int, int]] = []

    def sharing(tasks: list[manifest.Task]) -> list[list[object]]:
        shared.append((len(hashed), sum(not is_tree for is_tree, _, _ in tasks)))
        return real_share(tasks)

    monkeypatch.setattr(manifest, "_file_entry", recording)
    monkeypatch.setattr(manifest, "_list_in_processes", sharing)
    monkeypatch.setattr(manifest, "FORK_AT", 20)
    monkeypatch.setattr(manifest, "PROCESSES", 2)
    assert manifest.scan(tmp_path) == alone
    ((hashed_before, files_shared),) = shared
    assert hashed_before == 0
    assert files_shared > 0  # the tree's shallow files went out as tasks


def test_a_file_that_became_a_directory_before_it_was_hashed_is_listed_as_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A small tree is listed first and its files hashed after: what became a directory in
    between is listed, with what it holds."""
    (tmp_path / "a.py").write_text("A = 1\n")
    (tmp_path / "b.py").write_text("B = 1\n")
    real = manifest._file_entry

    def replacing(path: str) -> tuple[os.stat_result, Optional[str]]:
        if path.endswith("b.py") and Path(path).is_file():
            Path(path).unlink()
            Path(path).mkdir()
            (Path(path) / "inner.py").write_text("INNER = 1\n")
        return real(path)

    monkeypatch.setattr(manifest, "_file_entry", replacing)
    monkeypatch.setattr(manifest, "PROCESSES", 1)
    found = manifest.scan(tmp_path)
    assert sorted(found) == ["a.py", "b.py", "b.py/inner.py"]
    assert found["b.py"].kind == "d"
    assert found["b.py/inner.py"].kind == "f"
