"""tests/support/leaks.py: a test session that leaves a process behind fails."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.support.leaks import descendants

REPO = Path(__file__).resolve().parents[2]


def test_descendants_lists_a_running_child_until_it_is_waited_for() -> None:
    with subprocess.Popen(["sleep", "30"]) as child:
        assert any(line.startswith(f"{child.pid} ") for line in descendants(os.getpid()))
        child.kill()
    assert not any(line.startswith(f"{child.pid} ") for line in descendants(os.getpid()))


def test_a_session_that_leaves_a_process_running_fails(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    (tmp_path / "test_leaky.py").write_text(
        "import subprocess\n"
        "KEEP = []\n"
        "def test_starts_a_server():\n"
        "    KEEP.append(subprocess.Popen(['sleep', '60'], start_new_session=True))\n"
        f"    open({str(pid_file)!r}, 'w').write(str(KEEP[0].pid))\n"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "tests.conftest",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            str(tmp_path / "test_leaky.py"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{REPO / 'src'}"},
    )
    try:
        assert result.returncode == 1, result.stdout + result.stderr
        assert "the test session leaked these" in result.stdout
        assert "sleep 60" in result.stdout
        assert "1 passed" in result.stdout  # the test itself passed; the session did not
    finally:
        if pid_file.is_file():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid_file.read_text()), signal.SIGKILL)
