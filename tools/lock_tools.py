"""Regenerate the hashed, universal requirement sets of the build tools the buildpack installs.

    python -m tools.lock_tools

``src/python_cnb/data/tools/<tool>.txt`` pins pip-tools and Poetry (with
poetry-plugin-pypi-mirror, which lets platform index settings reach Poetry) and every
dependency, with the SHA-256 of every file on PyPI, for every Python the buildpack supports
and every platform. The buildpack installs them with ``--require-hashes``. The tool versions
are those in buildpack.toml's ``[metadata.tools]``.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from python_cnb.cnb import toml_file

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "python_cnb" / "data" / "tools"
CA = Path("/etc/ssl/certs/ca-certificates.crt")


def requirements() -> dict[str, tuple[str, list[str]]]:
    """Tool name -> (oldest Python to resolve for, requirement lines)."""
    tools = toml_file.read(ROOT / "buildpack.toml")["metadata"]["tools"]
    return {
        "pip-tools": ("3.9", [f"pip-tools=={tools['pip-tools']['version']}"]),
        "poetry": (
            "3.10",
            [
                f"poetry=={tools['poetry']['version']}",
                f"poetry-plugin-pypi-mirror=={tools['poetry']['mirror-plugin']}",
            ],
        ),
    }


def main() -> int:
    """Compile each set with ``uv pip compile --universal --generate-hashes``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    if CA.is_file():
        env["SSL_CERT_FILE"] = str(CA)
    OUT.mkdir(parents=True, exist_ok=True)
    for name, (python, lines) in requirements().items():
        with tempfile.TemporaryDirectory() as tmp:
            source = Path(tmp) / f"{name}.in"
            source.write_text("\n".join(lines) + "\n")
            subprocess.run(
                [
                    "uv",
                    "pip",
                    "compile",
                    "--universal",
                    "--generate-hashes",
                    "--no-header",
                    "--python-version",
                    python,
                    "--index-url",
                    "https://pypi.org/simple",
                    "--no-annotate",
                    "--quiet",
                    "-o",
                    str(OUT / f"{name}.txt"),
                    str(source),
                ],
                check=True,
                env=env,
            )
        print(f"wrote {OUT / name}.txt")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
