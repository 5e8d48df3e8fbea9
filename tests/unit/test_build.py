"""The build's own steps: compiling the app (and wsgi/application for the cartridge shim)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from python_cnb.build import compile_app
from python_cnb.cnb.launch import Process
from python_cnb.processes.declared import CARTRIDGE_MODULE, ProcessPlan
from tests.support.contexts import build_context, installed_python

CARTRIDGE = ProcessPlan(
    (
        Process(
            "web",
            ("gunicorn", "--pythonpath", "/x", f"{CARTRIDGE_MODULE}:application"),
            default=True,
        ),
    ),
    "inferred",
    "gunicorn",
)
GUNICORN = ProcessPlan(
    (Process("web", ("gunicorn", "app:app"), default=True),), "inferred", "gunicorn"
)


def _pyc(source: Path) -> Path:
    return Path(importlib.util.cache_from_source(str(source)))


def _cartridge_app(app_dir: Path, text: str = "def application(e, s): return []\n") -> Path:
    source = app_dir / "wsgi" / "application"
    source.parent.mkdir(parents=True)
    source.write_text(text, encoding="utf-8")
    (app_dir / "wsgi" / "helper.py").write_text("X = 1\n", encoding="utf-8")
    return source


def test_compile_app_compiles_wsgi_application_for_the_shim(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = build_context(tmp_path)
    source = _cartridge_app(ctx.app_dir)
    compile_app(ctx, installed_python(tmp_path), CARTRIDGE)
    assert int.from_bytes(_pyc(source).read_bytes()[4:8], "little") == 0b01  # unchecked hash
    assert _pyc(ctx.app_dir / "wsgi" / "helper.py").is_file()
    assert capsys.readouterr().out == "Compiled the app's Python files\n"


def test_compile_app_leaves_wsgi_application_alone_when_unused(tmp_path: Path) -> None:
    ctx = build_context(tmp_path)
    source = _cartridge_app(ctx.app_dir)
    compile_app(ctx, installed_python(tmp_path), GUNICORN)
    assert not _pyc(source).exists()
    assert _pyc(ctx.app_dir / "wsgi" / "helper.py").is_file()


def test_wsgi_application_that_does_not_compile_warns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = build_context(tmp_path)
    source = _cartridge_app(ctx.app_dir, "def application(:\n")
    compile_app(ctx, installed_python(tmp_path), CARTRIDGE)
    out = capsys.readouterr().out
    assert "[Warning: Some of the app's Python files do not compile]" in out
    assert "SyntaxError" in out
    assert not _pyc(source).exists()
