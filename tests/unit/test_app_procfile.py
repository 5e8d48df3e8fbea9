"""Procfiles: `<type>: <command>` lines, and the errors that quote a bad line."""

from __future__ import annotations

import pytest

from python_cnb.app.procfile import InvalidProcfile, ProcfileEntry, parse_procfile


def test_multiple_process_types() -> None:
    text = (
        "web: gunicorn app:app\n"
        "worker: celery -A app worker --loglevel=info\n"
        "release: python manage.py migrate\n"
    )
    assert parse_procfile(text) == (
        ProcfileEntry("web", "gunicorn app:app", 1),
        ProcfileEntry("worker", "celery -A app worker --loglevel=info", 2),
        ProcfileEntry("release", "python manage.py migrate", 3),
    )


def test_comments_blank_lines_crlf_and_bom() -> None:
    text = (
        "\ufeff# processes\r\n\r\n   \r\n"
        "web: gunicorn app:app\r\n  # worker: off\r\nclock: python clock.py\r\n"
    )
    assert parse_procfile(text) == (
        ProcfileEntry("web", "gunicorn app:app", 4),
        ProcfileEntry("clock", "python clock.py", 6),
    )


@pytest.mark.parametrize(
    ("line", "entry"),
    [
        ("web:gunicorn app:app", ("web", "gunicorn app:app")),
        ("web: gunicorn -b 0.0.0.0:$PORT app:app", ("web", "gunicorn -b 0.0.0.0:$PORT app:app")),
        ("web :  python -m http.server $PORT  ", ("web", "python -m http.server $PORT")),
        ("  web:\tpython app.py", ("web", "python app.py")),
        ("web-2.x_y: a && b || c # not a comment", ("web-2.x_y", "a && b || c # not a comment")),
        ("WEB: x", ("WEB", "x")),
        ("web: echo 'a: b'", ("web", "echo 'a: b'")),
        ("web: ::", ("web", "::")),
    ],
)
def test_line_forms(line: str, entry: tuple[str, str]) -> None:
    assert parse_procfile(line) == (ProcfileEntry(*entry, 1),)


def test_empty_procfile() -> None:
    assert parse_procfile("") == ()
    assert parse_procfile("\n# nothing yet\n\n") == ()


@pytest.mark.parametrize(
    ("text", "line_number", "line", "problem"),
    [
        ("my web: gunicorn app:app", 1, "my web: gunicorn app:app", "type"),
        ("web\n\nwe/b: x\n", 1, "web", "syntax"),
        ("web: a\nwe/b: x\n", 2, "we/b: x", "type"),
        ("wéb: x", 1, "wéb: x", "type"),
        ("web gunicorn app", 1, "web gunicorn app", "syntax"),
        ("# c\n: gunicorn app:app", 2, ": gunicorn app:app", "syntax"),
        ("web:", 1, "web:", "empty-command"),
        ("web:   \t\r\n", 1, "web:", "empty-command"),
        ("\ufeffweb:   ", 1, "web:", "empty-command"),
    ],
)
def test_invalid_lines(text: str, line_number: int, line: str, problem: str) -> None:
    with pytest.raises(InvalidProcfile) as caught:
        parse_procfile(text)
    error = caught.value
    assert (error.source, error.line_number, error.line, error.problem) == (
        "Procfile",
        line_number,
        line,
        problem,
    )
    assert error.first_line_number == 0


def test_duplicate_type() -> None:
    text = "web: gunicorn app:app\nworker: celery\n\nweb: python app.py\n"
    with pytest.raises(InvalidProcfile) as caught:
        parse_procfile(text)
    error = caught.value
    assert (error.line_number, error.line, error.problem, error.first_line_number) == (
        4,
        "web: python app.py",
        "duplicate",
        1,
    )


def test_source_is_reported() -> None:
    with pytest.raises(InvalidProcfile) as caught:
        parse_procfile("web", source="BUILD_PROCFILE")
    assert caught.value.source == "BUILD_PROCFILE"


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("..: gunicorn app:app\n", "..: gunicorn app:app", "dot-type"),
        (".: gunicorn app:app\n", ".: gunicorn app:app", "dot-type"),
        ("web/x: run\n", "web/x: run", "type"),
        ("w>b: run\n", "w>b: run", "type"),
        ("w|b: run\n", "w|b: run", "type"),
        ("w&b: run\n", "w&b: run", "type"),
        ("w`b: run\n", "w`b: run", "type"),
        ("wéb: run\n", "wéb: run", "type"),
        ("web: gunicorn\0 app:app\n", "web: gunicorn\0 app:app", "nul"),
    ],
)
def test_types_and_commands_the_lifecycle_refuses(text: str, line: str, problem: str) -> None:
    """LOW-6: `..` and a NUL byte were accepted, and failed only at export or at launch."""
    with pytest.raises(InvalidProcfile) as caught:
        parse_procfile(text)
    assert (caught.value.line, caught.value.problem) == (line, problem)
