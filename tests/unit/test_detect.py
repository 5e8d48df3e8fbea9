"""Detection: which apps are Python apps, and the build plan they get."""

from __future__ import annotations

from pathlib import Path

import pytest

from python_cnb.cnb import toml_file
from python_cnb.cnb.buildpack_toml import BuildpackDescriptor
from python_cnb.cnb.context import DetectContext, Target
from python_cnb.detect import (
    _REFINEMENTS,
    DETECT_FILES,
    DETECT_RULES,
    FAIL,
    PASS,
    PLAN_FILE,
    RULES_FILE,
    build_plan,
    detect,
    python_app_files,
    read_refined,
    read_rules,
)

PLAN = {
    "provides": [{"name": "cpython"}, {"name": "site-packages"}],
    "requires": [
        {"name": "cpython", "metadata": {"build": True, "launch": True}},
        {"name": "site-packages", "metadata": {"build": True, "launch": True}},
    ],
}


def _context(tmp_path: Path) -> DetectContext:
    app = tmp_path / "app"
    app.mkdir()
    return DetectContext(
        app_dir=app,
        platform_dir=tmp_path / "platform",
        buildpack_dir=tmp_path / "bp",
        build_plan_path=tmp_path / "plan.toml",
        target=Target("linux", "amd64"),
        buildpack=BuildpackDescriptor(api="0.10", id="python-cnb/python", version="0.1.0"),
        env={},
    )


def _touch(app: Path, name: str) -> None:
    path = app / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("", encoding="utf-8")


SINGLE_FILES = tuple(" ".join(rule) for rule in DETECT_RULES if len(rule) == 1)


@pytest.mark.parametrize("name", SINGLE_FILES)
def test_each_detect_file_alone_passes(
    tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = _context(tmp_path)
    _touch(ctx.app_dir, name)
    assert detect(ctx) == PASS == 0
    assert toml_file.read(ctx.build_plan_path) == PLAN
    assert capsys.readouterr().out == f"Python app detected ({name})\n"


def test_found_files_are_listed_strongest_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = _context(tmp_path)
    for name in ("main.py", "pyproject.toml", "requirements.txt", "README.md"):
        _touch(ctx.app_dir, name)
    assert python_app_files(ctx.app_dir) == ("requirements.txt", "pyproject.toml", "main.py")
    assert detect(ctx) == PASS
    assert capsys.readouterr().out == (
        "Python app detected (requirements.txt, pyproject.toml, main.py)\n"
    )


@pytest.mark.parametrize("files", [(), ("README.md",), ("index.js", "package.json", "src/app.py")])
def test_other_apps_fail(
    tmp_path: Path, files: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = _context(tmp_path)
    for name in files:
        _touch(ctx.app_dir, name)
    assert detect(ctx) == FAIL == 100
    assert not ctx.build_plan_path.exists()
    assert capsys.readouterr().out == (
        "No Python app found: none of these files exist in the app directory:\n"
        f"  {', '.join(DETECT_FILES)}\n"
    )


def test_directories_named_like_detect_files_do_not_count(tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    for name in DETECT_FILES:
        (ctx.app_dir / name).mkdir(parents=True, exist_ok=True)
    assert python_app_files(ctx.app_dir) == ()
    assert detect(ctx) == FAIL
    assert not ctx.build_plan_path.exists()


def test_a_wsgi_file_is_not_the_wsgi_directory(tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    _touch(ctx.app_dir, "wsgi")
    assert python_app_files(ctx.app_dir) == ()


def test_symlinked_detect_file_counts(tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    _touch(tmp_path, "shared-requirements.txt")
    (ctx.app_dir / "requirements.txt").symlink_to(tmp_path / "shared-requirements.txt")
    assert python_app_files(ctx.app_dir) == ("requirements.txt",)


def test_build_plan() -> None:
    assert build_plan().to_toml() == PLAN


def test_rules_file_lines(tmp_path: Path) -> None:
    rules = tmp_path / "rules.txt"
    rules.write_text("# comment\n\nrequirements.txt\n  Procfile\t*.py  \n #x\n", encoding="utf-8")
    assert read_rules(rules) == (("requirements.txt",), ("Procfile", "*.py"))


def test_the_shipped_rules() -> None:
    """bin/detect reads the same file: file names, and the script rule last."""
    assert RULES_FILE.parent.name == "data"
    assert DETECT_FILES.index("requirements.txt") == 0
    assert "server.py" in SINGLE_FILES
    assert DETECT_RULES[-1] == ("Procfile", "*.py")
    assert all(not any(c in name for c in "*?[") for name in SINGLE_FILES)


@pytest.mark.parametrize(
    ("procfile", "detected"),
    [
        ("web: python serve.py\n", True),
        ("web: python3.12 -m http.server $PORT\n", True),
        ("web: exec gunicorn app:wsgi\n", True),
        ("web: /app/.venv/bin/uvicorn api:app\n", True),
        ("web: ./serve.py --port $PORT\n", True),  # the root script itself
        ("worker: bash -c 'sleep 1; exec serve.py'\n", False),  # inside a quoted string
        ("web: node index.js\n", False),
        ("web: bundle exec rails server\nrelease: ./bin/migrate\n", False),
        ("web python serve.py\n", True),  # unparseable: the build explains it
    ],
)
def test_a_procfile_and_a_root_script(tmp_path: Path, procfile: str, detected: bool) -> None:
    ctx = _context(tmp_path)
    (ctx.app_dir / "Procfile").write_text(procfile, encoding="utf-8")
    _touch(ctx.app_dir, "serve.py")
    assert python_app_files(ctx.app_dir) == (("Procfile *.py",) if detected else ())
    assert detect(ctx) == (PASS if detected else FAIL)


def test_a_procfile_that_runs_python_needs_a_root_script(tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    (ctx.app_dir / "Procfile").write_text("web: python src/serve.py\n", encoding="utf-8")
    _touch(ctx.app_dir, "src/serve.py")
    assert detect(ctx) == FAIL  # src/ layouts have a dependency file or pyproject


@pytest.mark.parametrize(
    ("fixture", "detected"), [("procfile_script", True), ("node_with_script", False)]
)
def test_fixture_apps(fixture: str, detected: bool) -> None:
    app = Path(__file__).resolve().parents[1] / "fixtures" / fixture
    assert bool(python_app_files(app)) is detected


def test_glob_rules_follow_the_shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from python_cnb import detect as module

    monkeypatch.setattr(module, "DETECT_RULES", (("Procfile", "*.py"), ("conf/*.ini",)))
    monkeypatch.setattr(module, "DETECT_FILES", ("Procfile *.py", "conf/*.ini"))
    monkeypatch.setattr(module, "_REFINEMENTS", {})
    app = tmp_path / "app"
    app.mkdir()
    _touch(app, "Procfile")
    _touch(app, ".hidden.py")  # `*` does not match a leading dot, as in sh
    (app / "dir.py").mkdir()
    assert python_app_files(app) == ()
    _touch(app, "web.py")
    assert python_app_files(app) == ("Procfile *.py",)
    _touch(app, "conf/app.ini")
    assert python_app_files(app) == ("Procfile *.py", "conf/*.ini")


def test_the_rules_file_marks_exactly_the_refined_rules(tmp_path: Path) -> None:
    """bin/detect leaves a `~` rule to the Python detect: the marks are _REFINEMENTS."""
    assert read_refined() == frozenset(_REFINEMENTS) == {"Procfile *.py"}
    rules = tmp_path / "rules.txt"
    rules.write_text("# c\nsetup.py\n~ Procfile *.py\n~\n", encoding="utf-8")
    assert read_rules(rules) == (("setup.py",), ("Procfile", "*.py"))  # a mark alone: no rule
    assert read_refined(rules) == {"Procfile *.py"}


def test_a_refined_rule_counts_only_when_no_other_rule_matches(tmp_path: Path) -> None:
    """What bin/detect can say without Python: the plain rules that match, if any."""
    ctx = _context(tmp_path)
    (ctx.app_dir / "Procfile").write_text("web: python serve.py\n", encoding="utf-8")
    _touch(ctx.app_dir, "serve.py")
    assert python_app_files(ctx.app_dir) == ("Procfile *.py",)
    _touch(ctx.app_dir, "requirements.txt")
    _touch(ctx.app_dir, "app.py")
    assert python_app_files(ctx.app_dir) == ("requirements.txt", "app.py")


def test_the_plan_file_bin_detect_copies_is_the_plan(tmp_path: Path) -> None:
    """data/detect-plan.toml is build_plan() as written, byte for byte."""
    written = tmp_path / "plan.toml"
    build_plan().write(written)
    assert PLAN_FILE.read_bytes() == written.read_bytes()
    assert toml_file.read(PLAN_FILE) == PLAN
