#!/usr/bin/env python3
"""Launch-time defaults, computed in the container: an exec.d program (CNB spec).

The buildpack installs this file into a launch layer with a shebang naming the ``python``
layer's interpreter, so it needs nothing else from the run image (no shell, no system
Python). At every process start the launcher runs it; it writes ``NAME = "value"`` lines
to file descriptor 3:

* ``WEB_CONCURRENCY`` (unless set): ``min(2 x CPUs + 1, memory / 256 MiB)``, at least 1,
  from the container's cgroup limits (v2 ``cpu.max``/``memory.max``, v1
  ``cpu.cfs_quota_us``/``memory.limit_in_bytes``), capped at the machine's CPUs and memory
  (a limit can be larger than the machine), else the machine's; with
  ``WEB_CONCURRENCY_SET_BY=python-cnb``. gunicorn and uvicorn read it natively; gunicorn's
  own ``-w``/``--workers`` (in ``GUNICORN_CMD_ARGS`` too) beats it.
* ``UVICORN_PORT``/``UVICORN_HOST`` (unless set): ``$PORT`` and ``$BIND_HOST`` (default
  ``0.0.0.0``), since uvicorn, unlike gunicorn, does not read ``PORT``.
* ``STREAMLIT_SERVER_PORT``/``STREAMLIT_SERVER_ADDRESS`` and ``GRADIO_SERVER_PORT``/
  ``GRADIO_SERVER_NAME`` (each unless set): ``$PORT`` and ``$BIND_HOST`` (default
  ``0.0.0.0``; Gradio's own is ``127.0.0.1``, unreachable from outside a container), and
  ``STREAMLIT_SERVER_HEADLESS=true`` (no browser to open, no e-mail prompt): Streamlit and
  Gradio read their settings from these, so ``streamlit run app.py`` needs no ``--server.port``;
* ``GUNICORN_CMD_ARGS``: ``--bind=$BIND_HOST:$PORT`` first, when ``BIND_HOST`` is set
  (gunicorn binds ``0.0.0.0:$PORT`` by itself otherwise); the user's own arguments follow.
  When the user's ``GUNICORN_CMD_ARGS`` already binds (``-b``, ``--bind``), it is left as it
  is: gunicorn would listen on every ``--bind`` given.

The environment is read as bytes and decoded as UTF-8; exec.d output is TOML, which holds
only UTF-8 text, so a variable whose value would contain bytes that are not UTF-8 is not set,
and a line on stderr says which input was at fault. Nothing here may stop the app from
starting: an unexpected error is reported on stderr and the program exits 0 with no output.

``PYTHON_CNB_CGROUP_ROOT`` (default ``/sys/fs/cgroup``) points at another cgroup tree, for
tests and debugging. Standard library only; Python 3.9 or newer.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing, pathlib and shlex would cost 13 ms of every start (math 0.7 ms)
    from collections.abc import Mapping

MEMORY_PER_WORKER = 256 * 1024 * 1024
UNLIMITED = 1 << 60


def _read(path: str) -> str | None:
    try:  # bytes decoded here: a text stream would import the ascii codec (0.2 ms)
        with open(path, "rb") as stream:
            return stream.read().decode("ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None


def cgroup_cpus(root: str | os.PathLike[str]) -> float | None:
    """CPUs the cgroup may use (quota / period), or None without a limit."""
    v2 = _read(os.path.join(root, "cpu.max"))
    if v2 is not None:
        limit, _, every = v2.partition(" ")
        if limit != "max" and limit.isdigit() and every.isdigit() and int(every) > 0:
            return int(limit) / int(every)
        return None
    for directory in (os.path.join(root, "cpu"), os.path.join(root, "cpu,cpuacct"), root):
        quota = _read(os.path.join(directory, "cpu.cfs_quota_us"))
        period = _read(os.path.join(directory, "cpu.cfs_period_us"))
        if quota is not None and period is not None:
            try:
                quota_us, period_us = int(quota), int(period)
            except ValueError:
                return None
            return quota_us / period_us if quota_us > 0 and period_us > 0 else None
    return None


def cgroup_memory(root: str | os.PathLike[str]) -> int | None:
    """The cgroup's memory limit in bytes, or None without a limit."""
    v2 = _read(os.path.join(root, "memory.max"))
    if v2 is not None:
        return int(v2) if v2.isdigit() and int(v2) < UNLIMITED else None
    for directory in (os.path.join(root, "memory"), root):
        v1 = _read(os.path.join(directory, "memory.limit_in_bytes"))
        if v1 is not None:
            return int(v1) if v1.isdigit() and int(v1) < UNLIMITED else None
    return None


def host_cpus() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def host_memory() -> int | None:
    """The machine's memory in bytes, from /proc/meminfo, else ``sysconf``."""
    for line in (_read("/proc/meminfo") or "").splitlines():
        fields = line.split()
        if fields[:1] == ["MemTotal:"] and len(fields) > 1 and fields[1].isdigit():
            return int(fields[1]) * 1024
    try:
        pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None
    return pages * page_size if pages > 0 and page_size > 0 else None


def available_cpus(cgroup_root: str | os.PathLike[str]) -> float:
    """The cgroup's CPU limit, at most the CPUs of the machine (a limit of 64 CPUs on a
    2-core host gives 2), else the machine's."""
    limit, machine = cgroup_cpus(cgroup_root), host_cpus()
    return float(machine) if limit is None else min(limit, float(machine))


def available_memory(cgroup_root: str | os.PathLike[str]) -> int | None:
    """The cgroup's memory limit, at most the machine's memory, else the machine's."""
    limit, machine = cgroup_memory(cgroup_root), host_memory()
    if limit is None or machine is None:
        return machine if limit is None else limit
    return min(limit, machine)


def web_concurrency(cpus: float, memory: int | None) -> int:
    """Workers for ``cpus`` CPUs and ``memory`` bytes: 2 per CPU plus one, capped by memory."""
    by_cpu = 2 * max(1, -int(-cpus // 1)) + 1  # math.ceil, without importing math
    by_memory = memory // MEMORY_PER_WORKER if memory is not None else by_cpu
    return max(1, min(by_cpu, by_memory))


GUNICORN_BIND = ("-b", "--bind", "--bi")
"""gunicorn's ``--bind``: its short name, its long name, and the shortest prefix of the long
name its parser (argparse) takes for it (``--b`` could also be ``--backlog``)."""
GUNICORN_FLAGS = "DR"
"""gunicorn's short options that take no value (``-D``, ``-R``): ``-Db`` is ``-D -b``."""


def _gunicorn_words(args: str) -> list[str]:
    """``GUNICORN_CMD_ARGS`` split as gunicorn splits it (``shlex``), or on whitespace
    when it does not split (gunicorn then fails to start with its own message)."""
    import shlex  # only when there are arguments to read

    try:
        return shlex.split(args)
    except ValueError:
        return args.split()


def gunicorn_sets(args: str, option: tuple[str, str, str]) -> bool:
    """Whether the gunicorn arguments ``args`` give ``option`` in any spelling gunicorn
    accepts: ``-b ADDR``, ``-bADDR``, ``-Db ADDR``, ``--bind ADDR``, ``--bind=ADDR``,
    ``--bin ADDR``."""
    if not args.strip():
        return False
    short, long, shortest = option
    for word in _gunicorn_words(args):
        if word == "--":  # what follows is the app module, not options
            return False
        if " " in word:  # argparse never takes a word with a space for an option
            continue
        if word.startswith("--"):
            name = word.split("=", 1)[0]
            if name.startswith(shortest) and long.startswith(name):
                return True
        elif word.startswith("-") and word[1:].lstrip(GUNICORN_FLAGS).startswith(short[1]):
            return True
    return False


def launch_env(env: Mapping[str, str], cgroup_root: str | os.PathLike[str]) -> dict[str, str]:
    """The variables to set for the process about to start."""
    result: dict[str, str] = {}
    if not env.get("WEB_CONCURRENCY", "").strip():
        cpus = available_cpus(cgroup_root)
        memory = available_memory(cgroup_root)
        result["WEB_CONCURRENCY"] = str(web_concurrency(cpus, memory))
        result["WEB_CONCURRENCY_SET_BY"] = "python-cnb"
    port = env.get("PORT", "").strip() or "8080"
    host = env.get("BIND_HOST", "").strip()
    address = host or "0.0.0.0"  # noqa: S104 - a server in a container
    defaults = {
        "UVICORN_PORT": port,
        "UVICORN_HOST": address,
        "STREAMLIT_SERVER_PORT": port,
        "STREAMLIT_SERVER_ADDRESS": address,
        "STREAMLIT_SERVER_HEADLESS": "true",
        "GRADIO_SERVER_PORT": port,
        "GRADIO_SERVER_NAME": address,
    }
    for name, value in defaults.items():
        if not env.get(name, "").strip():
            result[name] = value
    user = env.get("GUNICORN_CMD_ARGS", "").strip()
    if host and not gunicorn_sets(user, GUNICORN_BIND):  # the user's own bind wins
        address = f"[{host}]" if ":" in host and not host.startswith("[") else host
        result["GUNICORN_CMD_ARGS"] = f"--bind={address}:{port}" + (f" {user}" if user else "")
    return result


INPUTS = {
    "UVICORN_PORT": ("PORT",),
    "UVICORN_HOST": ("BIND_HOST",),
    "STREAMLIT_SERVER_PORT": ("PORT",),
    "STREAMLIT_SERVER_ADDRESS": ("BIND_HOST",),
    "GRADIO_SERVER_PORT": ("PORT",),
    "GRADIO_SERVER_NAME": ("BIND_HOST",),
    "GUNICORN_CMD_ARGS": ("GUNICORN_CMD_ARGS", "BIND_HOST", "PORT"),
}
"""The variables each output is made from, to name the one at fault."""
LEFT_OUT = {
    "UVICORN_PORT": "uvicorn listens on its own default port unless given --port",
    "UVICORN_HOST": "uvicorn listens on its own default host unless given --host",
    "STREAMLIT_SERVER_PORT": "Streamlit listens on its own default port (8501)",
    "STREAMLIT_SERVER_ADDRESS": "Streamlit listens on its own default address",
    "GRADIO_SERVER_PORT": "Gradio listens on its own default port (7860)",
    "GRADIO_SERVER_NAME": "Gradio listens on its own default address (127.0.0.1)",
    "GUNICORN_CMD_ARGS": "gunicorn gets GUNICORN_CMD_ARGS as it is, without --bind for BIND_HOST",
}
"""What leaving each output out means for the server."""


def _is_utf8(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: bytes that were not UTF-8
        return False
    return True


def _shown(value: str) -> str:
    return repr(value.encode("utf-8", "surrogateescape"))


def expressible(
    variables: Mapping[str, str], env: Mapping[str, str]
) -> tuple[dict[str, str], list[str]]:
    """The variables exec.d output can carry (UTF-8 text), and a stderr line for each one
    left out, naming the input that is not UTF-8."""
    kept: dict[str, str] = {}
    problems: list[str] = []
    for name, value in variables.items():
        if _is_utf8(value):
            kept[name] = value
            continue
        inputs = [i for i in INPUTS.get(name, ()) if not _is_utf8(env.get(i, ""))]
        if inputs:
            culprits = " and ".join(f"{i} ({_shown(env[i])})" for i in inputs)
            found = f"{culprits} {'is' if len(inputs) == 1 else 'are'} not UTF-8"
        else:
            found = f"its value ({_shown(value)}) is not UTF-8"
        left_out = LEFT_OUT.get(name, f"{name} is left as it is")
        problems.append(
            f"python-cnb: not setting {name}: {found}, and exec.d output holds only UTF-8 "
            f"text; {left_out}."
        )
    return kept, problems


def environment() -> dict[str, str]:
    """The process environment, decoded as UTF-8 whatever the locale; bytes that are not
    UTF-8 become lone surrogates (``surrogateescape``), so they can be told apart."""
    return {
        name.decode("utf-8", "surrogateescape"): value.decode("utf-8", "surrogateescape")
        for name, value in os.environb.items()
    }


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
    """Write the variables to fd 3, as the CNB launcher reads exec.d output.

    It always exits 0: launch-time defaults are worth less than the app's start."""
    try:
        env = environment()
        root = env.get("PYTHON_CNB_CGROUP_ROOT") or "/sys/fs/cgroup"
        variables, problems = expressible(launch_env(env, root), env)
        text = "".join(toml_line(k, v) for k, v in sorted(variables.items()))
    except Exception as error:  # a bug here must not stop the app
        sys.stderr.write(
            "python-cnb: launch-time defaults (WEB_CONCURRENCY, server addresses) are not "
            f"set: {type(error).__name__}: {error}. This is a bug in python-cnb; please "
            "report it. The app starts without them.\n"
        )
        return 0
    for problem in problems:
        sys.stderr.write(problem + "\n")
    try:
        with os.fdopen(3, "wb") as stream:
            stream.write(text.encode("utf-8"))
    except OSError as error:
        sys.stderr.write(
            f"python-cnb: cannot write launch-time defaults to file descriptor 3 ({error}): "
            "this program is run by the CNB launcher, which reads them from there.\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
