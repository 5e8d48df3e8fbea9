"""The app's undeclared imports, read by the app's interpreter (here: each test Python)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from python_cnb.programs import app_imports
from tests.support.contexts import require_python

SCRIPT = Path(app_imports.__file__)


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def _run(app: Path, python: str = sys.executable) -> dict[str, list[str]]:
    out = subprocess.run(
        [python, "-I", "-B", str(SCRIPT), str(app)], capture_output=True, text=True, check=True
    ).stdout
    imports: dict[str, list[str]] = json.loads(out)["imports"]
    return imports


def test_third_party_imports_are_found_with_their_places(tmp_path: Path) -> None:
    app = _write(tmp_path, {"app.py": "import os\nimport flask\nfrom requests.adapters import X\n"})
    assert _run(app) == {"flask": ["app.py:2"], "requests": ["app.py:3"]}


def test_the_standard_library_and_the_apps_own_modules_are_not(tmp_path: Path) -> None:
    app = _write(
        tmp_path,
        {
            "app.py": "import json, helper, mypkg.sub, srcpkg\nfrom . import rel\n",
            "helper.py": "",
            "mypkg/__init__.py": "",
            "mypkg/sub.py": "",
            "src/srcpkg/__init__.py": "",
            "scripts/run.py": "import sibling\n",
            "scripts/sibling.py": "",
        },
    )
    assert _run(app) == {}


def test_optional_and_typing_only_imports_are_not_required(tmp_path: Path) -> None:
    code = (
        "from typing import TYPE_CHECKING\n"
        "try:\n    import ujson\nexcept ImportError:\n    ujson = None\n"
        "try:\n    import orjson\nexcept (ModuleNotFoundError, ValueError):\n    pass\n"
        "if TYPE_CHECKING:\n    import mypy_extensions\n"
        "def later():\n    import numpy\n"
        "try:\n    import needed\nfinally:\n    pass\n"
    )
    app = _write(tmp_path, {"main.py": code})
    assert _run(app) == {"needed": ["main.py:15"], "numpy": ["main.py:13"]}


def test_tests_docs_and_virtualenvs_are_not_read(tmp_path: Path) -> None:
    app = _write(
        tmp_path,
        {
            "main.py": "print('hi')\n",
            "tests/test_main.py": "import pytest\n",
            "test_top.py": "import pytest\n",
            "conftest.py": "import pytest\n",
            "docs/conf.py": "import sphinx\n",
            ".venv/lib/site.py": "import anything\n",
        },
    )
    assert _run(app) == {}


def test_unparsable_files_are_skipped(tmp_path: Path) -> None:
    app = _write(tmp_path, {"main.py": "import flask\n", "broken.py": "def (:\n"})
    assert _run(app) == {"flask": ["main.py:1"]}


def test_places_are_capped(tmp_path: Path) -> None:
    app = _write(tmp_path, {f"m{i}.py": "import flask\n" for i in range(5)})
    assert len(_run(app)["flask"]) == app_imports.MAX_PLACES


@pytest.mark.parametrize("version", ["3.9", "3.13"])
def test_other_interpreters_know_their_standard_library(tmp_path: Path, version: str) -> None:
    python = require_python(version)
    app = _write(tmp_path, {"main.py": "import tomllib, zoneinfo, graphlib, flask\n"})
    expected = {"flask": ["main.py:1"]}
    if version == "3.9":
        expected["tomllib"] = ["main.py:1"]  # new in 3.11: not in 3.9's standard library
    assert _run(app, str(python)) == expected
