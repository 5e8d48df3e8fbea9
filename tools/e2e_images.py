"""Base images for the container tests, built from debootstrap rootfs (nothing is pulled).

    python -m tools.e2e_images            # build what is missing, print the tags

* build image: Debian bookworm minbase with the usual build tools (gcc, make, git,
  pkg-config), ca-certificates and python3 (to run the buildpack), user ``cnb`` (1001:1000),
  and one variable in its configured env (``PYTHON_CNB_CANARY``) that the lifecycle must not
  pass to the buildpack;
* run image: bookworm minbase with ca-certificates and user ``cnb`` (1002:1000), and no
  Python.

As on Paketo's stacks, build and run users differ and share the group ``cnb`` (gid 1000), so
the run user reads the layers the build user wrote only through their group or other bits.

Each tag carries a hash of its recipe, so a changed recipe builds a new image and an
unchanged one is reused from the daemon. ``E2E_DEBIAN_MIRROR`` picks the Debian mirror
(default: the one this machine's apt uses, else deb.debian.org).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

SUITE = "bookworm"
GID = 1000
BUILD_UID = 1001
RUN_UID = 1002
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
CANARY = ("PYTHON_CNB_CANARY", "leak")
"""In the build image's configured env: the lifecycle gives phases only its filtered env."""


@dataclass(frozen=True)
class Recipe:
    """A base image: the packages on top of minbase, its user and its configured env."""

    name: str
    packages: tuple[str, ...]
    uid: int
    env: tuple[tuple[str, str], ...] = ()

    @property
    def user_setup(self) -> str:
        return (
            f"groupadd --gid {GID} cnb && "
            f"useradd --uid {self.uid} --gid {GID} --create-home --shell /bin/bash cnb"
        )

    @property
    def changes(self) -> list[str]:
        """The ``docker import --change`` instructions."""
        env = (("HOME", "/home/cnb"), ("PATH", PATH), *self.env)
        return [f"USER {self.uid}:{GID}", *(f"ENV {name}={value}" for name, value in env)]

    @property
    def tag(self) -> str:
        recipe = [SUITE, *self.packages, self.user_setup, *self.changes]
        digest = hashlib.sha256("\n".join(recipe).encode()).hexdigest()
        return f"python-cnb-e2e/{self.name}:{SUITE}-{digest[:12]}"


BUILD = Recipe(
    "build",
    ("ca-certificates", "python3", "gcc", "libc6-dev", "make", "git", "pkg-config"),
    BUILD_UID,
    (CANARY,),
)
RUN = Recipe("run", ("ca-certificates",), RUN_UID)


def debian_mirror() -> str:
    """The Debian mirror to bootstrap from."""
    if os.environ.get("E2E_DEBIAN_MIRROR"):
        return os.environ["E2E_DEBIAN_MIRROR"]
    sources = Path("/etc/apt/sources.list.d/debian.sources")
    if sources.is_file():
        match = re.search(r"^URIs:\s*(\S+/debian)\s*$", sources.read_text(), re.MULTILINE)
        if match:
            return match[1]
    return "http://deb.debian.org/debian"


def image_exists(tag: str) -> bool:
    """Whether the daemon has ``tag``."""
    inspect = subprocess.run(["docker", "image", "inspect", tag], capture_output=True, check=False)
    return inspect.returncode == 0


def build(recipe: Recipe) -> str:
    """Bootstrap, add the user, import; return the tag."""
    with tempfile.TemporaryDirectory(prefix=f"python-cnb-{recipe.name}-rootfs-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        subprocess.run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={','.join(recipe.packages)}",
                SUITE,
                str(rootfs),
                debian_mirror(),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        subprocess.run(["chroot", str(rootfs), "sh", "-c", recipe.user_setup], check=True)
        for leftover in ("var/cache/apt/archives", "var/lib/apt/lists"):
            shutil.rmtree(rootfs / leftover, ignore_errors=True)
        # The pipe and both processes are closed and waited for on every path (a leaked pipe
        # is a ResourceWarning, which the tests turn into an error).
        with subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE) as tar:
            assert tar.stdout is not None
            try:
                subprocess.run(
                    [
                        "docker",
                        "import",
                        *(a for c in recipe.changes for a in ("--change", c)),
                        "-",
                        recipe.tag,
                    ],
                    stdin=tar.stdout,
                    check=True,
                    stdout=subprocess.DEVNULL,
                )
            finally:
                tar.stdout.close()
        if tar.returncode != 0:
            raise RuntimeError(f"tar of the {recipe.name} rootfs failed")
    return recipe.tag


def ensure(recipe: Recipe) -> str:
    """The image of ``recipe``, built unless the daemon has it."""
    return recipe.tag if image_exists(recipe.tag) else build(recipe)


def main() -> int:
    """Build the missing images and print their tags."""
    for recipe in (BUILD, RUN):
        print(f"{recipe.name}: {ensure(recipe)}", file=sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
