"""Running an exec.d program as the launcher does: its fd 3 is a pipe it writes TOML to."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Mapping, Sequence, Union

FD3 = "import os, sys; os.dup2(int(sys.argv[1]), 3); os.execv(sys.argv[2], sys.argv[2:])"
"""Makes the inherited pipe the program's fd 3, then execs it: the test process's own file
descriptors stay as they are."""

Env = Union[Mapping[str, str], Mapping[bytes, bytes]]


def run_with_fd3(argv: Sequence[str], env: Env) -> tuple[int, bytes, bytes, bytes]:
    """Run ``argv`` with a pipe as fd 3: exit code, what it wrote to fd 3, stdout, stderr."""
    read_end, write_end = os.pipe()
    try:
        completed = subprocess.run(
            [sys.executable, "-c", FD3, str(write_end), *argv],
            env=env,
            pass_fds=(write_end,),
            capture_output=True,
            check=False,
        )
    finally:
        os.close(write_end)
    with os.fdopen(read_end, "rb") as stream:
        written = stream.read()
    return completed.returncode, written, completed.stdout, completed.stderr


def exec_d_output(argv: Sequence[str], env: Env) -> str:
    """What a well-behaved exec.d program writes to fd 3 (it must exit 0, silently)."""
    code, written, stdout, stderr = run_with_fd3(argv, env)
    assert (code, stdout, stderr) == (0, b"", b""), stderr.decode("utf-8", "replace")
    return written.decode("utf-8")
