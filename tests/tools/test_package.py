"""The packaged buildpack: its contents, reproducibility, package.toml and the image layer.

The self-contained packages are built from the test mirror (tests/conftest.py), served over
HTTP on 127.0.0.1. No arm64 CPython can be had on this machine: the linux/arm64 package is
built from the mirror's arm64 STAND-IN (the x86-64 archive with every ELF header's
e_machine rewritten to AArch64, see tools/mirror.py), so its layout, architecture,
buildpack.toml and archive are checked here, but it is never run.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
from tests.conftest import CACHE

from python_cnb.cnb import NORMALIZED_MTIME, toml_file
from python_cnb.cnb.buildpack_toml import read_descriptor
from tools import bootstrap_runtime, image, package

REPO = Path(__file__).resolve().parents[2]
AMD64 = package.Target("linux", "amd64")
ARM64 = package.Target("linux", "arm64")
EM_X86_64, EM_AARCH64 = 62, 183


@pytest.fixture(scope="module")
def assembled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return package.assemble(tmp_path_factory.mktemp("bp") / "python-cnb")


def test_contents(assembled: Path) -> None:
    names = {str(p.relative_to(assembled)) for p in assembled.rglob("*")}
    assert {"buildpack.toml", "bin/detect", "bin/build", "libexec/python-cnb"} <= names
    assert "src/python_cnb/build.py" in names and "src/python_cnb/data/tools/poetry.txt" in names
    assert any(n.startswith("vendor/packaging/") for n in names)
    assert any(n.startswith("vendor/tomli_w/") for n in names)
    assert not any(n.startswith("src/python_cnb_lifecycle") for n in names)  # a dev tool
    # bytecode for each CPython found here, unchecked-hash, beside every module
    pycs = [n for n in names if n.endswith(".pyc")]
    tags = {n.rsplit(".", 2)[-2] for n in pycs}
    assert tags == {f"cpython-{p.name[6:].replace('.', '')}" for p in package.bytecode_pythons()}
    assert all(n.startswith(("src/python_cnb/", "vendor/")) for n in pycs)
    for tag in tags:
        assert f"src/python_cnb/__pycache__/build.{tag}.pyc" in names
        flags = (assembled / f"src/python_cnb/__pycache__/build.{tag}.pyc").read_bytes()[4:8]
        assert int.from_bytes(flags, "little") == 0b01  # PEP 552 unchecked hash
    assert not (assembled / "vendor" / "bin").exists()
    assert not (assembled / "tools").exists()  # the slim package fetches uv when it builds
    assert read_descriptor(assembled).id == "python-cnb/python"
    for shim in ("bin/detect", "bin/build", "libexec/python-cnb"):
        assert (assembled / shim).stat().st_mode & 0o111


def test_bytecode_pythons_setting(tmp_path: Path) -> None:
    assert package.bytecode_pythons({"PACKAGE_BYTECODE_PYTHONS": "none"}) == []
    listed = {"PACKAGE_BYTECODE_PYTHONS": "/opt/py/bin/python3.12 /usr/bin/python3.11"}
    assert package.bytecode_pythons(listed) == [
        Path("/opt/py/bin/python3.12"),
        Path("/usr/bin/python3.11"),
    ]
    for version in ("3.9.18", "3.9.2", "3.12.1"):
        python = tmp_path / "versions" / version / "bin" / f"python{version.rsplit('.', 1)[0]}"
        python.parent.mkdir(parents=True)
        python.touch()
    on_path = tmp_path / "path" / "python3.13"
    on_path.parent.mkdir()
    on_path.touch(mode=0o755)
    env = {"PYENV_ROOT": str(tmp_path), "PATH": str(on_path.parent)}
    assert package.bytecode_pythons(env) == [
        tmp_path / "versions" / "3.9.18" / "bin" / "python3.9",  # the newest build of a line
        tmp_path / "versions" / "3.12.1" / "bin" / "python3.12",
        on_path,  # no pyenv build: the one on PATH
    ]


def test_archive_is_reproducible(assembled: Path, tmp_path: Path) -> None:
    first = package.archive(assembled, tmp_path / "a.tgz").read_bytes()
    again = package.assemble(tmp_path / "again" / "python-cnb")
    second = package.archive(again, tmp_path / "b.tgz").read_bytes()
    assert hashlib.sha256(first).digest() == hashlib.sha256(second).digest()
    with tarfile.open(tmp_path / "a.tgz") as tar:
        members = tar.getmembers()
    assert {m.mtime for m in members} == {NORMALIZED_MTIME}
    assert {(m.uid, m.gid, m.uname, m.gname) for m in members} == {(0, 0, "", "")}


def test_package_toml_is_valid_for_pack() -> None:
    data = toml_file.read(REPO / "package.toml")
    assert set(data) <= {"buildpack", "dependencies", "platform", "targets"}
    assert set(data["buildpack"]) == {"uri"}
    # The slim package: the only one a single uri may give to every target (pack ignores
    # package.toml's [[targets]] for a buildpack, and packages the same uri for each).
    assert data["buildpack"]["uri"] == f"dist/python-cnb-{package.version()}-slim.tgz"
    descriptor = toml_file.read(REPO / "buildpack.toml")
    assert data["targets"] == descriptor["targets"]


def test_image_layer_and_labels(assembled: Path) -> None:
    layer = image.layer_tar(assembled, "python-cnb/python", "0.1.0")
    assert image.layer_tar(assembled, "python-cnb/python", "0.1.0") == layer  # deterministic
    with tarfile.open(fileobj=io.BytesIO(layer)) as tar:
        names = tar.getnames()
    assert "cnb/buildpacks/python-cnb_python/0.1.0/buildpack.toml" in names
    assert names[:4] == [
        "cnb",
        "cnb/buildpacks",
        "cnb/buildpacks/python-cnb_python",
        "cnb/buildpacks/python-cnb_python/0.1.0",
    ]
    descriptor = toml_file.read(assembled / "buildpack.toml")
    labels = image.labels(descriptor, "sha256:" + "a" * 64)
    metadata = json.loads(labels["io.buildpacks.buildpackage.metadata"])
    assert metadata == {"id": "python-cnb/python", "version": "0.1.0", "stacks": [{"id": "*"}]}
    layers = json.loads(labels["io.buildpacks.buildpack.layers"])
    entry = layers["python-cnb/python"]["0.1.0"]
    assert entry["api"] == "0.10" and entry["layerDiffID"] == "sha256:" + "a" * 64
    assert entry["targets"] == descriptor["targets"]


def test_builder_example_names_this_buildpack() -> None:
    """examples/builder/builder.toml (quoted in the README) stays in step with buildpack.toml."""
    builder = toml_file.read(REPO / "examples" / "builder" / "builder.toml")
    descriptor = read_descriptor(REPO)
    (group,) = builder["order"]
    assert group["group"] == [{"id": descriptor.id, "version": descriptor.version}]
    assert builder["buildpacks"][0]["uri"].endswith(f"/python-cnb/python:{descriptor.version}")
    assert set(builder) == {"description", "buildpacks", "order", "build", "run", "lifecycle"}
    assert builder["build"]["image"] and builder["run"]["images"][0]["image"]
    # The README quotes the file whole, and its build image is one without python3.
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    text = (REPO / "examples" / "builder" / "builder.toml").read_text(encoding="utf-8")
    assert f"```toml\n{text}```" in readme
    assert "paketobuildpacks/build-jammy-base" in builder["build"]["image"]


# ---------------------------------------------------------------------------------------------
# The self-contained packages, one per target


def _elf_machine(path: Path) -> int:
    data = path.read_bytes()[:20]
    assert data[:4] == b"\x7fELF", path
    return int.from_bytes(data[18:20], "little")


def _elf_files(root: Path) -> list[Path]:
    return [
        p
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink() and p.read_bytes()[:4] == b"\x7fELF"
    ]


def test_multi_platform_layout(built: package.Built) -> None:
    """pack's layout: buildpack.toml at the root only, a directory per target."""
    layout = built.layout
    assert layout.name == f"python-cnb-{package.version()}"
    assert sorted(p.name for p in layout.iterdir()) == ["buildpack.toml", "linux"]
    assert (layout / "buildpack.toml").read_text() == (REPO / "buildpack.toml").read_text()
    assert sorted(p.name for p in (layout / "linux").iterdir()) == ["amd64", "arm64"]
    assert built.directories == {AMD64: layout / "linux/amd64", ARM64: layout / "linux/arm64"}
    for directory in built.directories.values():
        names = sorted(p.name for p in directory.iterdir())
        # pack copies the root buildpack.toml in and deletes it afterwards: none of ours here
        assert names == ["README.md", "bin", "libexec", "runtime", "src", "tools", "vendor"]
        assert os.readlink(directory / "runtime" / "bin" / "python3") == "python3.13"
        for shim in ("bin/detect", "bin/build", "libexec/python-cnb"):
            assert (directory / shim).stat().st_mode & 0o111


def test_each_runtime_is_its_targets_architecture(built: package.Built) -> None:
    """BUG-1: the runtime of each target is built for that target's architecture, every ELF
    file of it (the arm64 one from the mirror's stand-in: AArch64 headers, never run)."""
    expected = {"amd64": EM_X86_64, "arm64": EM_AARCH64}
    for target, directory in built.directories.items():
        runtime = directory / "runtime"
        assert _elf_machine(runtime / "bin" / "python3.13") == expected[target.arch]
        elves = _elf_files(runtime)
        assert len(elves) > 20
        assert {_elf_machine(p) for p in elves} == {expected[target.arch]}, target


def test_each_package_carries_its_targets_pinned_uv(built: package.Built) -> None:
    """Issue 12 item 10: the uv binary of each target, from a wheel whose SHA-256
    buildpack.toml pins for that architecture (linux/arm64's: the real aarch64 wheel from
    the test index), so builds fetch no uv and offline apps vendor none."""
    expected = {"amd64": EM_X86_64, "arm64": EM_AARCH64}
    pins = toml_file.read(REPO / "buildpack.toml")["metadata"]["tools"]["uv"]
    for target, directory in built.directories.items():
        binary = directory / "tools" / "uv" / "bin" / "uv"
        assert _elf_machine(binary) == expected[target.arch], target
        assert binary.stat().st_mode & 0o111
        record = toml_file.read(directory / "tools" / "uv" / "carried.toml")
        wheel = next(w for w in pins["wheels"] if w["sha256"] == record["wheel-sha256"])
        assert (wheel["arch"], wheel["file"]) == (target.arch, record["wheel"])
        assert (record["version"], record["arch"]) == (pins["version"], target.arch)
        assert record["sha256"] == hashlib.sha256(binary.read_bytes()).hexdigest()
        assert 10e6 < built.sizes[target].uv < 80e6
        with tarfile.open(built.archives[target]) as tar:
            assert tar.getmember("tools/uv/bin/uv").mode == 0o755


def test_one_archive_per_target_declaring_only_that_target(built: package.Built) -> None:
    repo_descriptor = toml_file.read(REPO / "buildpack.toml")
    assert set(built.archives) == {AMD64, ARM64}
    for target, tgz in built.archives.items():
        assert tgz == built.layout.parent / f"python-cnb-{package.version()}-{target.slug}.tgz"
        with tarfile.open(tgz) as tar:
            members = {m.name: m for m in tar.getmembers()}
            descriptor = tar.extractfile("buildpack.toml").read()  # type: ignore[union-attr]
            python = tar.extractfile("runtime/bin/python3.13").read(20)  # type: ignore[union-attr]
        data = toml_file.loads(descriptor.decode())
        assert data["targets"] == [{"os": "linux", "arch": target.arch}]
        assert {**data, "targets": repo_descriptor["targets"]} == repo_descriptor
        directory = built.directories[target]
        on_disk = {str(p.relative_to(directory)) for p in directory.rglob("*")}
        assert set(members) == on_disk | {"buildpack.toml"}
        assert members["runtime/bin/python3"].issym()
        assert members["runtime/bin/python3"].linkname == "python3.13"
        assert int.from_bytes(python[18:20], "little") == (
            EM_X86_64 if target == AMD64 else EM_AARCH64
        )
        assert {m.mtime for m in members.values()} == {NORMALIZED_MTIME}
        assert {(m.uid, m.gid, m.uname, m.gname) for m in members.values()} == {(0, 0, "", "")}
        assert built.sizes[target].tgz == tgz.stat().st_size


def test_archives_are_reproducible(
    built: package.Built, mirror_env: dict[str, str], tmp_path: Path
) -> None:
    again = package.build(tmp_path / "elsewhere", env=mirror_env, cache=CACHE / "runtime")
    for target, tgz in built.archives.items():
        assert hashlib.sha256(again.archives[target].read_bytes()).hexdigest() == (
            hashlib.sha256(tgz.read_bytes()).hexdigest()
        ), target


def test_packaging_refuses_a_runtime_of_another_architecture(
    mirror_env: dict[str, str], tmp_path: Path
) -> None:
    """BUG-1 (a): the host's CPython is not bundled for arm64, nor the arm64 one for amd64."""
    x86 = bootstrap_runtime.prepare_runtime(CACHE / "runtime", mirror_env, "amd64")
    aarch64 = bootstrap_runtime.prepare_runtime(CACHE / "runtime", mirror_env, "arm64")
    with pytest.raises(package.PackageError) as caught:
        package.assemble(tmp_path / "bp", runtime=x86, arch="arm64")
    message = str(caught.value)
    assert "Refusing to bundle the runtime" in message and "for linux/arm64" in message
    assert "bin/python3.13: x86-64 (62)" in message
    assert "built for AArch64 (183)" in message and "Exec format error" in message
    assert not (tmp_path / "bp").exists()
    with pytest.raises(package.PackageError, match=r"bin/python3\.13: AArch64 \(183\)"):
        package.assemble(tmp_path / "bp", runtime=aarch64, arch="amd64")


def test_trimmed_runtime_imports_every_shipped_module(built: package.Built, tmp_path: Path) -> None:
    """Run with the trimmed interpreter, every module of src/python_cnb and vendor/ imports,
    and nothing is loaded from outside the buildpack."""
    directory = built.directories[AMD64]
    names = sorted(
        ".".join(p.relative_to(top).with_suffix("").parts).removesuffix(".__init__")
        for top in (directory / "src", directory / "vendor")
        for p in top.rglob("*.py")
        if "__pycache__" not in p.parts and p.name != "__main__.py"
    )
    assert "python_cnb.build" in names and "packaging.version" in names and "tomli_w" in names
    code = (
        "import importlib, json, sys\n"
        "sys.path[0:1] = [sys.argv[1] + '/src', sys.argv[1] + '/vendor']\n"
        "for name in sys.argv[2:]: importlib.import_module(name)\n"
        "print(json.dumps([sys.executable, sorted(m.__file__ for m in list(sys.modules.values())"
        " if getattr(m, '__file__', None))]))"
    )
    proc = subprocess.run(
        [
            str(directory / "runtime/bin/python3"),
            "-E",
            "-s",
            "-S",
            "-B",
            "-X",
            "utf8",
            "-c",
            code,
            str(directory),
            *names,
        ],
        capture_output=True,
        text=True,
        env={"PATH": "/nonexistent"},
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    executable, files = json.loads(proc.stdout)
    assert executable == str(directory / "runtime/bin/python3")
    assert all(f.startswith(f"{directory}/") for f in files), files
    assert any(f.endswith(".so") for f in files)  # extension modules of the trimmed runtime


def test_detect_runs_on_the_bundled_runtime(built: package.Built, tmp_path: Path) -> None:
    """With a python3 on PATH that must not be used, detect passes on a Python app."""
    directory = built.directories[AMD64]
    buildpack = tmp_path / "bp"
    shutil.copytree(directory, buildpack, symlinks=True)
    shutil.copyfile(REPO / "buildpack.toml", buildpack / "buildpack.toml")
    decoy = tmp_path / "decoy"
    decoy.mkdir()
    (decoy / "python3").write_text(f"#!/bin/sh\ntouch {tmp_path}/decoy-used\nexit 3\n")
    (decoy / "python3").chmod(0o755)
    app = tmp_path / "app"
    shutil.copytree(REPO / "tests" / "fixtures" / "wsgi_app", app)
    platform_dir, plan = tmp_path / "platform", tmp_path / "plan.toml"
    platform_dir.mkdir()
    plan.touch()
    proc = subprocess.run(
        [str(buildpack / "bin" / "detect")],
        cwd=app,
        capture_output=True,
        text=True,
        env={
            "PATH": f"{decoy}:/usr/bin:/bin",
            "CNB_BUILDPACK_DIR": str(buildpack),
            "CNB_PLATFORM_DIR": str(platform_dir),
            "CNB_BUILD_PLAN_PATH": str(plan),
            "CNB_TARGET_OS": "linux",
            "CNB_TARGET_ARCH": "amd64",
        },
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "cpython" in plan.read_text()
    assert not (tmp_path / "decoy-used").exists()


def test_trimming_is_measured(built: package.Built) -> None:
    """The bootstrap keeps the import closure of detect and build, compiled, and no more."""
    for target, size in built.sizes.items():
        assert size.runtime_trimmed < size.runtime_untrimmed / 2, (target, size)
        assert size.runtime > size.runtime_trimmed  # its bytecode
        assert size.unpacked > size.runtime and size.tgz < size.unpacked / 2
    runtime = built.directories[AMD64] / "runtime"
    stdlib = runtime / "lib" / "python3.13"
    assert sorted(p.name for p in runtime.iterdir()) == ["bin", "lib"]
    assert sorted(p.name for p in (runtime / "bin").iterdir()) == ["python3", "python3.13"]
    assert sorted(p.name for p in (runtime / "lib").iterdir()) == [
        "libpython3.13.so.1.0",
        "python3.13",
    ]
    for dropped in (
        "site-packages",
        "ensurepip",
        "tkinter",
        "idlelib",
        "unittest",
        "pydoc.py",
        "doctest.py",
        "asyncio",
        "sqlite3",
        "venv",
        "config-3.13-x86_64-linux-gnu",
    ):
        assert not (stdlib / dropped).exists(), dropped
    for kept in (
        "os.py",
        "encodings/idna.py",
        "ssl.py",
        "tarfile.py",
        "urllib/request.py",
        "LICENSE.txt",
    ):
        assert (stdlib / kept).is_file(), kept
    assert list((stdlib / "lib-dynload").glob("_ssl.*.so"))
    assert not list((stdlib / "lib-dynload").glob("_codecs_jp.*.so"))
    sources = list(stdlib.rglob("*.py"))
    for source in sources:
        pyc = source.parent / "__pycache__" / f"{source.stem}.cpython-313.pyc"
        assert pyc.is_file(), source
        assert int.from_bytes(pyc.read_bytes()[4:8], "little") == 0b01  # unchecked hash
    tags = {p.name.rsplit(".", 2)[-2] for p in (built.directories[AMD64] / "src").rglob("*.pyc")}
    assert tags == {"cpython-313"}  # the library's bytecode: for its own runtime only


def test_slim_package(tmp_path: Path) -> None:
    directory, tgz = package.build_slim(tmp_path)
    assert directory == tmp_path / f"python-cnb-{package.version()}-slim"
    assert tgz == tmp_path / f"python-cnb-{package.version()}-slim.tgz"
    assert (directory / "buildpack.toml").read_text() == (REPO / "buildpack.toml").read_text()
    assert not (directory / "runtime").exists() and not (directory / "linux").exists()
    with tarfile.open(tgz) as tar:
        assert "buildpack.toml" in tar.getnames() and "bin/detect" in tar.getnames()


def test_narrowed_descriptor_keeps_everything_else() -> None:
    text = (REPO / "buildpack.toml").read_text()
    narrowed = package.narrowed_descriptor([ARM64], text)
    assert 'arch = "amd64"\n\n[[targets]]' not in narrowed
    assert toml_file.loads(narrowed)["targets"] == [{"os": "linux", "arch": "arm64"}]
    # the generated CPython list (and its markers) stay as written
    start = text.index("# BEGIN generated")
    assert narrowed.endswith(text[start:])
    assert package.narrowed_descriptor([AMD64, ARM64], text) == text
    with pytest.raises(package.PackageError, match="linux/riscv64"):
        package.narrowed_descriptor([package.Target("linux", "riscv64")], text)


def test_targets_and_their_names() -> None:
    assert package.targets() == [AMD64, ARM64]
    assert package.Target.parse("linux/arm64") == ARM64
    assert (ARM64.path, ARM64.slug) == ("linux/arm64", "linux-arm64")
    with pytest.raises(package.PackageError, match="not <os>/<arch>"):
        package.Target.parse("arm64")
    with pytest.raises(package.PackageError, match=r"not a target of buildpack\.toml"):
        package.build(REPO / "dist-never", selected=[package.Target("linux", "s390x")])


def test_cli_refuses_an_undeclared_target(capsys: pytest.CaptureFixture[str]) -> None:
    assert package.main(["--out", str(REPO / "dist-never"), "--target", "linux/s390x"]) == 1
    assert "error: linux/s390x is not a target of buildpack.toml" in capsys.readouterr().err
    assert not (REPO / "dist-never").exists()


def test_packaging_fails_clearly_without_the_pinned_uv(tmp_path: Path) -> None:
    with pytest.raises(package.PackageError, match=r"no uv 0\.13\.9 wheel for linux/arm64"):
        package.uv_wheel("arm64", {"PIP_INDEX_URL": "http://127.0.0.1:9/simple/"}, tmp_path)


def test_the_test_index_holds_the_pinned_uv_for_every_target() -> None:
    """tests/index/aarch64.txt follows buildpack.toml's uv (packaging arm64 needs its wheel)."""
    version = toml_file.read(REPO / "buildpack.toml")["metadata"]["tools"]["uv"]["version"]
    text = (REPO / "tests" / "index" / "aarch64.txt").read_text()
    assert f"uv=={version}\n" in text and "# platform: manylinux_2_28_aarch64\n" in text
    assert f"uv=={version}\n" in (REPO / "tests" / "index" / "requirements.txt").read_text()
