"""``make demo``: build examples/flask-app with the local runner and serve it on :8080.

Uses this machine's CPythons packed by ``make mirror`` (served from 127.0.0.1, as the
buildpack would download python-build-standalone) and the package index filled by
``make index`` (served from 127.0.0.1). The app is then started the way the launcher starts
the image's default process, on http://127.0.0.1:8080 (``DEMO_PORT`` to change it).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from python_cnb_lifecycle.runner import build, launch_spec
from tools import local_index, package
from tools.mirror import DEFAULT_VERSIONS, mirror

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache"


def main() -> int:  # noqa: RET503 - execve never returns
    """Build, then replace this process with the app."""
    port = os.environ.get("DEMO_PORT", "8080")
    manifest = mirror(
        DEFAULT_VERSIONS, CACHE / "mirror", Path(os.environ.get("PYENV_ROOT", "/root/.pyenv"))
    )
    buildpack = package.assemble(CACHE / "buildpack" / "python-cnb")
    workspace = CACHE / "demo-workspace"
    with local_index.serve(CACHE / "index") as index:
        result = build(
            ROOT / "examples" / "flask-app",
            workspace,
            env={"BP_CPYTHON_MANIFEST": str(manifest), "PIP_INDEX_URL": index.url},
            build_config_env={"PIP_CONFIG_FILE": "/dev/null"},
            buildpacks=[buildpack],
            echo=sys.stdout,
        )
    if not result.success:
        return result.exit_code
    spec = launch_spec(workspace, env={"PORT": port, "BIND_HOST": "127.0.0.1"})
    print(
        f"\n===> Serving examples/flask-app on http://127.0.0.1:{port}/ (Ctrl-C to stop)\n",
        flush=True,
    )
    os.chdir(spec.cwd)
    os.execve(spec.executable, list(spec.argv), spec.env)


if __name__ == "__main__":
    raise SystemExit(main())
