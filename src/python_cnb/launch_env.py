#!/usr/bin/env python3
"""Launch-time defaults, computed in the container: an exec.d program (CNB spec).

The buildpack installs this file into a launch layer with a shebang naming the ``python``
layer's interpreter, so it needs nothing else from the run image (no shell, no system
Python). At every process start the launcher runs it; it writes ``NAME = "value"`` lines
to file descriptor 3:

* ``WEB_CONCURRENCY`` (unless set): ``min(2 x CPUs + 1, memory / 256 MiB)``, at least 1,
  from the container's cgroup limits (v2 ``cpu.max``/``memory.max``, v1
  ``cpu.cfs_quota_us``/``memory.limit_in_bytes``), else the machine's CPUs and memory;
  with ``WEB_CONCURRENCY_SET_BY=python-cnb``. gunicorn and uvicorn read it natively.
* ``UVICORN_PORT``/``UVICORN_HOST`` (unless set): ``$PORT`` and ``$BIND_HOST`` (default
  ``0.0.0.0``), since uvicorn, unlike gunicorn, does not read ``PORT``.
* ``GUNICORN_CMD_ARGS``: ``--bind=$BIND_HOST:$PORT`` first, when ``BIND_HOST`` is set
  (gunicorn binds ``0.0.0.0:$PORT`` by itself otherwise); the user's own arguments follow.

``PYTHON_CNB_CGROUP_ROOT`` (default ``/sys/fs/cgroup``) points at another cgroup tree, for
tests and debugging. Standard library only; Python 3.9 or newer.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Dict, Mapping, Optional

MEMORY_PER_WORKER = 256 * 1024 * 1024
UNLIMITED = 1 << 60


def _read(path: Path) -> Optional[str]:
    try:
        return path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None


def cgroup_cpus(root: Path) -> Optional[float]:
    """CPUs the cgroup may use (quota / period), or None without a limit."""
    v2 = _read(root / "cpu.max")
    if v2 is not None:
        limit, _, every = v2.partition(" ")
        if limit != "max" and limit.isdigit() and every.isdigit() and int(every) > 0:
            return int(limit) / int(every)
        return None
    for directory in (root / "cpu", root / "cpu,cpuacct", root):
        quota = _read(directory / "cpu.cfs_quota_us")
        period = _read(directory / "cpu.cfs_period_us")
        if quota is not None and period is not None:
            try:
                quota_us, period_us = int(quota), int(period)
            except ValueError:
                return None
            return quota_us / period_us if quota_us > 0 and period_us > 0 else None
    return None


def cgroup_memory(root: Path) -> Optional[int]:
    """The cgroup's memory limit in bytes, or None without a limit."""
    v2 = _read(root / "memory.max")
    if v2 is not None:
        return int(v2) if v2.isdigit() and int(v2) < UNLIMITED else None
    for directory in (root / "memory", root):
        v1 = _read(directory / "memory.limit_in_bytes")
        if v1 is not None:
            return int(v1) if v1.isdigit() and int(v1) < UNLIMITED else None
    return None


def host_cpus() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def host_memory() -> Optional[int]:
    """The machine's memory in bytes, from /proc/meminfo."""
    for line in (_read(Path("/proc/meminfo")) or "").splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024
    return None


def web_concurrency(cpus: float, memory: Optional[int]) -> int:
    """Workers for ``cpus`` CPUs and ``memory`` bytes: 2 per CPU plus one, capped by memory."""
    by_cpu = 2 * max(1, math.ceil(cpus)) + 1
    by_memory = memory // MEMORY_PER_WORKER if memory is not None else by_cpu
    return max(1, min(by_cpu, by_memory))


def launch_env(env: Mapping[str, str], cgroup_root: Path) -> Dict[str, str]:
    """The variables to set for the process about to start."""
    result: Dict[str, str] = {}
    if not env.get("WEB_CONCURRENCY", "").strip():
        cpus = cgroup_cpus(cgroup_root) or float(host_cpus())
        memory = cgroup_memory(cgroup_root) or host_memory()
        result["WEB_CONCURRENCY"] = str(web_concurrency(cpus, memory))
        result["WEB_CONCURRENCY_SET_BY"] = "python-cnb"
    port = env.get("PORT", "").strip() or "8080"
    host = env.get("BIND_HOST", "").strip()
    if not env.get("UVICORN_PORT", "").strip():
        result["UVICORN_PORT"] = port
    if not env.get("UVICORN_HOST", "").strip():
        result["UVICORN_HOST"] = host or "0.0.0.0"  # noqa: S104 - a server in a container
    if host:
        address = f"[{host}]" if ":" in host and not host.startswith("[") else host
        user = env.get("GUNICORN_CMD_ARGS", "").strip()
        result["GUNICORN_CMD_ARGS"] = f"--bind={address}:{port}" + (f" {user}" if user else "")
    return result


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _escape(char: str) -> str:
    if char in _ESCAPES:
        return _ESCAPES[char]
    if ord(char) < 0x20 or ord(char) == 0x7F:  # control characters TOML forbids verbatim
        return f"\\u{ord(char):04X}"
    return char


def toml_line(name: str, value: str) -> str:
    """``NAME = "value"`` as a TOML basic string."""
    escaped = "".join(_escape(char) for char in value)
    return f'{name} = "{escaped}"\n'


def main() -> int:
    """Write the variables to fd 3, as the CNB launcher reads exec.d output."""
    root = Path(os.environ.get("PYTHON_CNB_CGROUP_ROOT", "/sys/fs/cgroup"))
    text = "".join(toml_line(k, v) for k, v in sorted(launch_env(os.environ, root).items()))
    with os.fdopen(3, "w", encoding="utf-8") as stream:
        stream.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
