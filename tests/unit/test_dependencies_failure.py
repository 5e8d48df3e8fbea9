"""Reading why an install failed from the installer's output."""

from __future__ import annotations

import pytest

from python_cnb.dependencies.failure import Diagnosis, PackageBuildFailed, diagnose, explain
from python_cnb.support.commands import CommandFailed

UV_GREENLET = """\
Resolved 3 packages in 10ms
  \u00d7 Failed to build `greenlet==3.0.1`
  ├─▶ The build backend returned an error
  ╰─▶ Call to `setuptools.build_meta.build_wheel` failed (exit status: 1)
      src/greenlet/greenlet.cpp:9:10: fatal error: Python.h: No such file or directory
      help: `greenlet` (v3.0.1) was included because `app` depends on `greenlet==3.0.1`
"""
PIP_MYSQL = """\
Collecting mysqlclient==2.2.4
  Building wheel for mysqlclient (pyproject.toml) ... error
  /bin/sh: 1: mysql_config: not found
  Exception: Can not find valid pkg-config name.
  ERROR: Failed building wheel for mysqlclient
Failed to build mysqlclient
"""
PIP_NO_GCC = """\
  Building wheel for brokenext (setup.py) ... error
  error: command 'gcc' failed: No such file or directory
  ERROR: Failed building wheel for brokenext
"""


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        (
            UV_GREENLET,
            Diagnosis(
                "greenlet",
                "Python.h",
                "src/greenlet/greenlet.cpp:9:10: fatal error: Python.h: No such file or directory",
            ),
        ),
        (
            PIP_MYSQL,
            Diagnosis("mysqlclient", "mysql_config", "/bin/sh: 1: mysql_config: not found"),
        ),
        (
            PIP_NO_GCC,
            Diagnosis("brokenext", "gcc", "error: command 'gcc' failed: No such file or directory"),
        ),
        (
            "  \u00d7 Failed to build `app @ file:///workspace`\n",
            Diagnosis("app", None, "\u00d7 Failed to build `app @ file:///workspace`"),
        ),
        ("error: No solution found when resolving dependencies\n", None),
    ],
)
def test_diagnose(output: str, expected: Diagnosis | None) -> None:
    assert diagnose(output) == expected


def test_explain_keeps_other_failures() -> None:
    failure = CommandFailed("uv pip sync", 1, "error: network unreachable")
    assert explain(failure, "3.13.9", "3.13", None) is failure
    explained = explain(CommandFailed("uv pip sync", 1, PIP_MYSQL), "3.13.9", "3.13", None)
    assert isinstance(explained, PackageBuildFailed)
    assert (explained.package, explained.missing, explained.python) == (
        "mysqlclient",
        "mysql_config",
        "3.13.9",
    )
