"""tools.e2e_images: the debootstrap base images, built with the real commands stood in for.

The stand-ins on PATH record what they were given, so the test checks the pipeline (bootstrap,
user set-up, tar into ``docker import``) without a Debian mirror or a daemon, and, with the
tests' ``filterwarnings = error``, that building leaks no pipe or process (the fresh-machine
CI failure: the tar pipe was never closed).
"""

from __future__ import annotations

import gc
import os
import stat
from pathlib import Path

import pytest

from tools import e2e_images


def _stub(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def stubs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "log"
    # debootstrap [options] SUITE TARGET MIRROR: make the target with one file in it.
    _stub(
        bin_dir,
        "debootstrap",
        f'echo "debootstrap $*" >> {log}; mkdir -p "$4/etc"; '
        'echo bookworm > "$4/etc/debian_version"\n',
    )
    _stub(bin_dir, "chroot", f'echo "chroot $*" >> {log}\n')
    # docker import ... - TAG: count the bytes of the tar it is fed.
    _stub(bin_dir, "docker", f'echo "docker $* bytes=$(wc -c | tr -d " ")" >> {log}\n')
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("E2E_DEBIAN_MIRROR", "http://127.0.0.1:9/debian")
    return log


def test_build_pipes_the_rootfs_into_docker_import(stubs: Path) -> None:
    tag = e2e_images.build(e2e_images.RUN)
    gc.collect()  # an unclosed pipe would warn here (an error under filterwarnings = error)
    lines = stubs.read_text().splitlines()
    assert lines[0].startswith("debootstrap --variant=minbase --include=ca-certificates bookworm ")
    assert lines[0].endswith(" http://127.0.0.1:9/debian")
    assert lines[1].startswith("chroot ") and "useradd" in lines[1]
    docker = lines[2]
    assert docker.startswith("docker import ") and f" - {tag} " in docker
    assert int(docker.rsplit("bytes=", 1)[1]) > 0  # the tar of the rootfs reached docker


def test_a_failed_import_leaks_nothing(stubs: Path, tmp_path: Path) -> None:
    _stub(tmp_path / "bin", "docker", "cat > /dev/null; exit 3\n")
    with pytest.raises(Exception, match="exit status 3"):
        e2e_images.build(e2e_images.RUN)
    gc.collect()


def test_build_and_run_users_are_paketos() -> None:
    """Build user 1001, run user 1002, one group 1000; the canary only in the build image."""
    assert e2e_images.BUILD.changes[0] == "USER 1001:1000"
    assert e2e_images.RUN.changes[0] == "USER 1002:1000"
    for recipe, uid in ((e2e_images.BUILD, 1001), (e2e_images.RUN, 1002)):
        assert f"useradd --uid {uid} --gid 1000 " in recipe.user_setup
        assert "groupadd --gid 1000 cnb" in recipe.user_setup
    assert "ENV PYTHON_CNB_CANARY=leak" in e2e_images.BUILD.changes
    assert not any("CANARY" in change for change in e2e_images.RUN.changes)


def test_the_tag_changes_with_every_part_of_the_recipe() -> None:
    import dataclasses

    base = e2e_images.RUN
    variants = [
        dataclasses.replace(base, packages=(*base.packages, "curl")),
        dataclasses.replace(base, uid=1003),
        dataclasses.replace(base, env=(("X", "1"),)),
    ]
    tags = {base.tag, *(variant.tag for variant in variants)}
    assert len(tags) == 4
