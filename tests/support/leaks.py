"""What a test session must not leave behind: processes it started, containers it ran.

``filterwarnings = error`` already turns a leaked pipe or an un-waited ``Popen`` into an error
where it is collected; this catches what no warning names: a child that was never stopped
(a server started with ``start_new_session``, a grandchild a test's command left running), and
a container of the container tier still running after its test.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def _parent_and_state(pid: str) -> tuple[int, str]:
    # /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may contain spaces and parentheses.
    stat = Path("/proc", pid, "stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[1]), fields[0]


def descendants(root: int) -> list[str]:
    """The live and zombie descendants of ``root``, as ``"pid state cmdline"`` lines."""
    children: dict[int, list[int]] = {}
    states: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            parent, state = _parent_and_state(entry)
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
        children.setdefault(parent, []).append(int(entry))
        states[int(entry)] = state
    found: list[str] = []
    stack = list(children.get(root, []))
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        try:
            argv = Path("/proc", str(pid), "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            argv = b""
        found.append(f"{pid} {states.get(pid, '?')} {argv.decode(errors='replace').strip()}")
    return sorted(found)


def running_containers() -> list[str]:
    """Running containers of the container tier's images (none when Docker does not answer)."""
    try:
        result = subprocess.run(
            ["docker", "ps", "--format", "{{.ID}} {{.Image}} {{.Command}}"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    if result.returncode != 0:
        return []
    return [line for line in result.stdout.splitlines() if " python-cnb-e2e/" in f" {line}"]
