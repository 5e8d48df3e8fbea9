"""The wording of warning blocks, policy notes and cached-layer causes: every text users see
that is not an error block (those are in test_errors*.py)."""

from __future__ import annotations

import typing
from datetime import date

import pytest

from python_cnb import notices
from python_cnb.cnb.layers import (
    CleanBuild,
    ContentsMissing,
    FieldChanged,
    InvalidMetadata,
    LayerCause,
    NewlyCreated,
    Rejected,
    Unfinished,
    UnreadableMetadata,
)

# --- formatters -----------------------------------------------------------------------------


def test_steps_hang_their_later_lines() -> None:
    assert notices.steps("a\nb", "c") == "  1. a\n       b\n  2. c"
    assert notices.steps("a\nb", hang=3) == "  1. a\n     b"


def test_paragraphs_skip_empty_ones() -> None:
    assert notices.paragraphs("a", "", "b") == "a\n\nb"


def test_quote_one_line_and_several() -> None:
    assert notices.quote("a\tb") == '    "a\\tb"'
    assert notices.quote("a\nb") == "    | a\n    | b"


# --- what happened to a cached layer --------------------------------------------------------


@pytest.mark.parametrize("kind", typing.get_args(LayerCause), ids=lambda k: k.__name__)
def test_every_layer_cause_is_worded(kind: type[object]) -> None:
    """A new cause kind in the spec package must get its sentence here."""
    examples: dict[type[object], object] = {
        UnreadableMetadata: UnreadableMetadata("detail"),
        InvalidMetadata: InvalidMetadata(unknown=("x",)),
        FieldChanged: FieldChanged("version", "1", "2"),
        Rejected: Rejected("Its interpreter does not start"),
    }
    cause = typing.cast(LayerCause, examples.get(kind) or kind())
    sentence = notices.layer_cause(cause)
    assert (sentence is None) == (kind is NewlyCreated)


@pytest.mark.parametrize(
    ("cause", "sentence"),
    [
        (NewlyCreated(), None),
        (
            UnreadableMetadata("Expected ']' at the end of a table declaration"),
            "Its metadata could not be read (Expected ']' at the end of a table declaration)",
        ),
        (
            InvalidMetadata(unknown=("extra", "other"), missing=("size",)),
            "Its metadata is not what this buildpack version writes (unknown keys "
            "['extra', 'other'], missing keys ['size'])",
        ),
        (
            InvalidMetadata(unknown=("python",)),
            "Its metadata is not what this buildpack version writes (unknown keys ['python'])",
        ),
        (
            InvalidMetadata(missing=("checksum",)),
            "Its metadata is not what this buildpack version writes (missing keys ['checksum'])",
        ),
        (
            InvalidMetadata(mistyped=("files", "tuple[str, ...]")),
            "Its metadata is not what this buildpack version writes ('files' is not a "
            "tuple[str, ...])",
        ),
        (FieldChanged("size", 3, 4), "The size changed from 3 to 4"),
        (FieldChanged("pinned", True, False), "The pinned changed from True to False"),
        (FieldChanged("files", ("a", "b"), ("c",)), "The files changed from a, b to c"),
        (
            FieldChanged("download checksum", "sha256:" + "a" * 64, "sha256:" + "b" * 64),
            "The download checksum changed from sha256:aaaaa… to sha256:bbbbb…",
        ),
        (FieldChanged("version", "1", "x" * 40), "The version changed from 1 to " + "x" * 40),
        (ContentsMissing(), "Its contents were not restored"),
        (Unfinished(), "It has no metadata (an earlier build did not finish it)"),
        (CleanBuild(), "A clean build was requested"),
        (Rejected("Its interpreter does not start"), "Its interpreter does not start"),
    ],
)
def test_layer_cause_sentences(cause: LayerCause, sentence: str | None) -> None:
    assert notices.layer_cause(cause) == sentence


def test_layer_log_lines() -> None:
    assert notices.layer_reused("Python 3.12.7") == "Using cached Python 3.12.7"
    assert notices.layer_discarded("virtualenv") == "Discarding cached virtualenv since:"


# --- which CPython --------------------------------------------------------------------------


def test_python_line_support_is_silent_while_supported() -> None:
    eol = date(2028, 10, 31)
    assert notices.python_line_support("3.12", "supported", eol, None, None, "3.14", 3) is None
    assert notices.python_line_support("2.7", "ended", None, None, None, "3.14", 3) is None


def test_python_line_support_for_the_default_points_at_python_version() -> None:
    warning = notices.python_line_support(
        "3.10", "grace", date(2026, 10, 31), date(2027, 1, 31), None, "3.11", 3
    )
    assert warning is not None
    assert warning[1].endswith("Write in .python-version:\n    3.11")


def test_policy_date() -> None:
    assert notices.policy_date(date(2027, 2, 1), "HOOK") == (
        "End-of-life dates are checked against 2027-02-01, from HOOK (a hook for python-cnb's "
        "tests, not a setting)"
    )


def test_newer_patch() -> None:
    assert notices.newer_patch("3.12.1", "3.12", "3.12.7", "runtime.txt") == (
        "Python 3.12.1 is not the newest 3.12 release",
        "Python 3.12.7 is available, with fixes 3.12.1 lacks. Ask for 3.12 instead of 3.12.1 "
        "(runtime.txt) to get every patch release automatically.",
    )


def test_pin_tip() -> None:
    assert notices.pin_tip("3.13") == (
        "Tip: pin the version with a .python-version file containing 3.13"
    )


def test_stdlib_not_compiled() -> None:
    assert notices.stdlib_not_compiled("*** Error") == (
        "Some of the standard library was not compiled to bytecode",
        "The app still works; those modules are compiled when first imported.\n*** Error",
    )


# --- the package index ----------------------------------------------------------------------


def test_index_settings_disagree() -> None:
    given = [("PIP_INDEX_URL", "https://a/simple"), ("UV_INDEX_URL", "https://b/simple")]
    assert notices.index_settings_disagree(given, ("PIP_INDEX_URL", "UV_INDEX_URL")) == (
        "Several package index settings disagree",
        "  PIP_INDEX_URL=https://a/simple\n  UV_INDEX_URL=https://b/simple\n"
        "Using PIP_INDEX_URL, the first in the order PIP_INDEX_URL, UV_INDEX_URL.",
    )


# --- processes and the app's files ----------------------------------------------------------


def test_empty_procfile() -> None:
    assert notices.empty_procfile("BP_PROCFILE") == (
        "BP_PROCFILE defines no processes",
        "BP_PROCFILE is empty (or only comments), so python-cnb chooses the web process itself. "
        "Add a line like `web: gunicorn app:app` to choose it yourself.",
    )


def test_ambiguous_app() -> None:
    title, body = notices.ambiguous_app(
        "app", "web/main.py", ["fastapi"], ["flask", "django"], "web.main:app"
    )
    assert title == "Cannot tell whether `app` in web/main.py is an ASGI or a WSGI app"
    assert body.startswith(
        "web/main.py imports ASGI frameworks (fastapi) and WSGI frameworks (flask, django), "
        "and nothing in it says which kind `app` is: "
    )
    assert body.endswith(
        "a WSGI app,\n    web: gunicorn web.main:app\nor, for an ASGI app,\n"
        "    web: uvicorn web.main:app\nor set BP_WEB_COMMAND."
    )


def test_no_web_process() -> None:
    title, body = notices.no_web_process([], "myapp:app")
    assert title == "No web process"
    assert body.endswith(
        "The image will have no default process.\n\nIt found none of these.\n\n"
        "To add one, write a Procfile such as, for an ASGI app (FastAPI, Starlette...),\n"
        "    web: uvicorn myapp:app\nor, for a WSGI app (Flask, Django...),\n"
        "    web: gunicorn myapp:app\n(both listen on $PORT, set at launch), or set "
        "BP_WEB_COMMAND."
    )


def test_no_web_process_lists_what_was_found() -> None:
    found = ["main.py: app objects `api`, `admin`", "project scripts: migrate, worker"]
    body = notices.no_web_process(found, "main:admin")[1]
    assert (
        "It found:\n  - main.py: app objects `api`, `admin`\n"
        "  - project scripts: migrate, worker\n\n"
    ) in body
    assert "    web: uvicorn main:admin\n" in body and "    web: gunicorn main:admin\n" in body


def test_bytecode_warnings_end_with_the_output() -> None:
    assert notices.bytecode_not_written("out")[1].endswith("at every start.\nout")
    assert notices.app_not_compiled("out") == (
        "Some of the app's Python files do not compile",
        "They are left as they are; if the app imports them, it will fail at run time.\nout",
    )


def test_no_django_settings_numbers_its_steps_like_error_blocks() -> None:
    title, body = notices.no_django_settings(
        "backend/manage.py", "in backend", "line 1\nline 2", "shop.settings"
    )
    assert title == "Static files were not collected: no Django settings module"
    assert body.startswith(
        "`python manage.py collectstatic --dry-run --noinput` (in backend) said:\n"
        "    | line 1\n    | line 2\n\nbackend/manage.py does not set DJANGO_SETTINGS_MODULE"
    )
    assert body.endswith(
        "How to fix it:\n"
        "  1. Name the settings in backend/manage.py, as `django-admin startproject` does:\n"
        '       os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")\n'
        "  2. Or set DJANGO_SETTINGS_MODULE=shop.settings in the build's environment\n"
        "     (pack build --env, project.toml, the platform's build settings).\n"
        "  3. If the app has no static files, set BUILD_DISABLE_COLLECTSTATIC=1\n"
        "     (or DISABLE_COLLECTSTATIC=1) to skip this step."
    )


def test_undeclared_imports_notices() -> None:
    assert notices.undeclared_imports_allowed(["flask", "yaml"], "BP_X") == (
        "The app imports flask, yaml, which nothing installs",
        "BP_X=true lets this build go on with an empty virtual environment: the app must bring "
        "those modules itself, or it fails when it imports them.",
    )
    title, body = notices.dependency_look_alikes(["requirments.txt", "environment.yml"])
    assert title == "python-cnb reads none of: requirments.txt, environment.yml"
    assert body.endswith(
        "If those files list packages the app needs, name them in requirements.txt."
    )


def test_missing_command() -> None:
    title, body = notices.missing_command("worker", "celery", "celery", "Procfile")
    assert title == "The worker process runs `celery`, which nothing in the image provides"
    assert "fail with `command not found` when it starts.\n\nAdd celery to the app's" in body
    assert body.endswith("or fix the command in Procfile.")
    _, unknown = notices.missing_command("tool", "mytool", None, "BP_PROCFILE")
    assert "Add the package that provides `mytool` to the app's dependencies" in unknown


def test_quote_shows_control_characters_escaped() -> None:
    assert notices.quote("3.12\x07\x1b[0m") == '    "3.12\\x07\\x1b[0m"'
    assert notices.quote("a\tb\x7f") == '    "a\\tb\\x7f"'


def test_replay_refusals_name_what_changed() -> None:
    line = notices.replay_refused("inputs-changed", {"inputs": ["the app's files", "the date"]})
    assert line.endswith("since the app's files and the date changed")
    layer = notices.replay_refused("layer-changed", {"layer": "venv"})
    assert layer.endswith("since its cached layer 'venv' changed")
    assert notices.replay_blocker("no-anchor", {"layer": "runtime"}) == (
        "the build wrote no 'runtime' layer to keep the record's digest"
    )
