"""Every warning block and policy note users see, in one place (errors are in errors.py).

The modules that notice something call a function here with the facts and pass the
``(title, body)`` it returns to :func:`python_cnb.output.warning`. This module sits low in
the import levels, so every step can use it; it takes plain data, never the types of the
modules above it. errors.py builds its blocks with the same formatters (:func:`quote`,
:func:`steps`, :func:`paragraphs`).
"""

from __future__ import annotations

import functools
from datetime import date
from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence

if TYPE_CHECKING:
    from python_cnb.cnb.layers import InvalidMetadata, LayerCause

Notice = tuple[str, str]
"""A warning block's title and body."""

# --- Formatters shared with errors.py ------------------------------------------------------

_QUOTED_LINES = 20
_QUOTED_WIDTH = 200


def clip(lines: list[str]) -> list[str]:
    """At most :data:`_QUOTED_LINES` lines of :data:`_QUOTED_WIDTH` characters: a quote
    shows what is wrong, not a megabyte of it."""
    clipped = [
        f"{line[:_QUOTED_WIDTH]}… ({len(line)} characters)" if len(line) > _QUOTED_WIDTH else line
        for line in lines[:_QUOTED_LINES]
    ]
    if len(lines) > _QUOTED_LINES:
        clipped.append(f"… ({len(lines) - _QUOTED_LINES} more lines)")
    return clipped


def _visible(character: str) -> str:
    """A control character (not a line break) as ``\\xNN``; anything else as it is."""
    code = ord(character)
    if character != "\n" and (code < 0x20 or 0x7F <= code < 0xA0):
        return f"\\x{code:02x}"
    return character


def quote(text: str) -> str:
    """Show a user's text exactly, indented, with invisible characters made visible."""
    shown = text.replace("\t", "\\t").replace("\r", "\\r").replace("\ufeff", "\\ufeff")
    shown = "".join(_visible(c) for c in shown)
    lines = clip(shown.splitlines() or [""])
    return "\n".join(f'    "{line}"' if len(lines) == 1 else f"    | {line}" for line in lines)


def steps(*items: str, hang: int = 5) -> str:
    """Numbered steps; a step's later lines are indented ``hang`` spaces more than its
    number (5 in error blocks; 3 lines them up with the step's text)."""
    import textwrap  # loaded when a block has steps: an unchanged rebuild never does

    return "\n".join(
        textwrap.indent(f"{index}. {step}", "  ").replace("\n", "\n" + " " * hang)
        for index, step in enumerate(items, start=1)
    )


def paragraphs(*texts: str) -> str:
    """The non-empty ``texts``, a blank line between them."""
    return "\n\n".join(p for p in texts if p)


def write_version(origin: str, version: str) -> str:
    """What to write, and where, to ask for ``version`` instead."""
    if origin == "runtime.txt":
        return f"Write in runtime.txt:\n    python-{version}"
    if origin == ".python-version":
        return f"Write in .python-version:\n    {version}"
    if origin.isupper():
        return f"Set {origin}={version}."
    return f"Write a .python-version file containing:\n    {version}"


# --- Which CPython: the end-of-life policy and newer patches ------------------------------


def python_line_support(
    line: str,
    stage: str,
    end_of_life: Optional[date],
    builds_until: Optional[date],
    origin: Optional[str],
    newest_line: Optional[str],
    grace_months: int,
) -> Optional[Notice]:
    """The warning for a Python line near or past its end-of-life.

    ``stage`` is the value of :class:`python_cnb.python.version.Stage` (``ending``,
    ``grace``, ``ended``; anything else warns of nothing); ``origin`` is where the version
    was asked for (None when it was not); ``newest_line`` the newest line available.
    """
    if stage not in ("ending", "grace", "ended") or end_of_life is None:
        return None
    eol = end_of_life.isoformat()
    until = builds_until.isoformat() if builds_until else "?"
    upgrade = (
        f"Upgrade to a newer Python, e.g. {newest_line}. "
        + write_version(origin or ".python-version", newest_line)
        if newest_line is not None and newest_line != line
        else "Upgrade to a newer Python as soon as one is available."
    )
    if stage == "ending":
        return f"Python {line} reaches end-of-life on {eol}", paragraphs(
            f"After {eol}, Python {line} gets no more security fixes. python-cnb will go on "
            f"building it, with a warning, for {grace_months} months (until {until}); after "
            "that, builds fail.",
            upgrade,
        )
    if stage == "grace":
        return f"Python {line} has reached end-of-life: builds fail after {until}", paragraphs(
            f"Python {line} stopped receiving security fixes on {eol}: this image gets none. "
            f"python-cnb still builds it for a grace period that ends on {until}; from then on "
            f"builds of Python {line} fail (unless BP_PYTHON_ALLOW_EOL=true). Do not wait.",
            upgrade,
        )
    return f"Python {line} is past end-of-life: built only because BP_PYTHON_ALLOW_EOL=true", (
        paragraphs(
            f"Python {line} stopped receiving security fixes on {eol}, and python-cnb's grace "
            f"period for it ended on {until}. This image runs a Python that gets no security "
            "fixes.",
            upgrade,
            "Then unset BP_PYTHON_ALLOW_EOL.",
        )
    )


def policy_date(today: date, hook: str) -> str:
    """The log line when the test hook ``hook`` chose the day the end-of-life policy applies on."""
    return (
        f"End-of-life dates are checked against {today.isoformat()}, from {hook} "
        "(a hook for python-cnb's tests, not a setting)"
    )


def newer_patch(version: str, line: str, newer: str, origin: str) -> Notice:
    """A pinned patch release when a newer one of its line is available."""
    return (
        f"Python {version} is not the newest {line} release",
        f"Python {newer} is available, with fixes {version} lacks. Ask for {line} "
        f"instead of {version} ({origin}) to get every patch release automatically.",
    )


def pin_tip(line: str) -> str:
    """The log line when no Python version was requested."""
    return f"Tip: pin the version with a .python-version file containing {line}"


def stdlib_not_compiled(output: str) -> Notice:
    """compileall failed on part of the standard library (``output`` is its tail)."""
    return (
        "Some of the standard library was not compiled to bytecode",
        "The app still works; those modules are compiled when first imported.\n" + output,
    )


# --- The package index -------------------------------------------------------------------


def index_settings_disagree(given: Sequence[tuple[str, str]], order: Sequence[str]) -> Notice:
    """Several index settings are set to different URLs; the first of ``given`` is used."""
    return (
        "Several package index settings disagree",
        "\n".join(f"  {name}={value}" for name, value in given)
        + f"\nUsing {given[0][0]}, the first in the order {', '.join(order)}.",
    )


# --- Processes and the app's files -------------------------------------------------------


def empty_procfile(source: str) -> Notice:
    """A Procfile (or a setting holding one) that declares nothing."""
    return (
        f"{source} defines no processes",
        f"{source} is empty (or only comments), so python-cnb chooses the web process "
        "itself. Add a line like `web: gunicorn app:app` to choose it yourself.",
    )


def ambiguous_app(
    name: str, module_file: str, asgi: Sequence[str], wsgi: Sequence[str], spec: str
) -> Notice:
    """A module imports ASGI and WSGI frameworks, and nothing says which ``name`` is."""
    return (
        f"Cannot tell whether `{name}` in {module_file} is an ASGI or a WSGI app",
        f"{module_file} imports ASGI frameworks ({', '.join(asgi)}) and WSGI frameworks "
        f"({', '.join(wsgi)}), and "
        f"nothing in it says which kind `{name}` is: it is not made by a framework's app "
        "class that python-cnb knows, nor by a function of that module that makes one.\n\n"
        "python-cnb serves it with uvicorn (ASGI): where both are imported, the WSGI "
        "framework is most often used inside an ASGI app (a Flask app mounted with "
        "WSGIMiddleware, Django's ORM, Werkzeug's helpers). If it is a WSGI app, every "
        "request will fail.\n\n"
        "To choose the server yourself, write a Procfile with, for a WSGI app,\n"
        f"    web: gunicorn {spec}\n"
        "or, for an ASGI app,\n"
        f"    web: uvicorn {spec}\n"
        "or set BP_WEB_COMMAND.",
    )


def no_web_process(found: Sequence[str], spec: str) -> Notice:
    """Nothing declares a process and nothing could be inferred; ``found`` says what the
    app has (modules, objects, scripts), ``spec`` is the app for the examples."""
    seen = (
        "It found:\n" + "\n".join(f"  - {line}" for line in found)
        if found
        else "It found none of these."
    )
    return (
        "No web process",
        "python-cnb found no Procfile and nothing it knows how to serve (a Django project; a "
        "WSGI or ASGI app, or a create_app() factory, in app.py, main.py or wsgi.py, in an "
        "app/ package or in src/<package>/; a Streamlit or Gradio script; a project script, "
        "the only one or one named web, serve or start; a main.py or app.py that runs as a "
        'script, with `if __name__ == "__main__":` or top-level code). '
        f"The image will have no default process.\n\n{seen}\n\n"
        "To add one, write a Procfile such as, for an ASGI app (FastAPI, Starlette...),\n"
        f"    web: uvicorn {spec}\n"
        "or, for a WSGI app (Flask, Django...),\n"
        f"    web: gunicorn {spec}\n"
        "(both listen on $PORT, set at launch), or set BP_WEB_COMMAND.",
    )


def undeclared_imports_allowed(names: Sequence[str], setting: str) -> Notice:
    return (
        f"The app imports {', '.join(names)}, which nothing installs",
        f"{setting}=true lets this build go on with an empty virtual environment: the app "
        "must bring those modules itself, or it fails when it imports them.",
    )


def dependency_look_alikes(found: Sequence[str]) -> Notice:
    return (
        f"python-cnb reads none of: {', '.join(found)}",
        "The app declares no dependencies, and its code imports nothing outside the "
        "standard library, so the build goes on. If those files list packages the app "
        "needs, name them in requirements.txt.",
    )


STDLIB_ONLY = "The app imports the standard library only: nothing to install"


def missing_command(process: str, command: str, package: Optional[str], source: str) -> Notice:
    """A declared process runs a command that neither the venv nor the build image has."""
    add = (
        f"Add {package} to the app's dependencies (requirements.txt or pyproject.toml)"
        if package
        else f"Add the package that provides `{command}` to the app's dependencies"
    )
    return (
        f"The {process} process runs `{command}`, which nothing in the image provides",
        f"The {process} process from {source} starts `{command}`, but neither the virtual "
        f"environment nor the build image has such a command, so the process will fail with "
        f"`command not found` when it starts.\n\n{add}, or fix the command in {source}.",
    )


def bytecode_not_written(output: str) -> Notice:
    """The app compiles, but its .pyc files could not be saved (``output`` is the tail)."""
    return (
        "The app's bytecode could not be written",
        "Its Python files compile, but the .pyc files could not be saved (the app "
        "directory is read-only, say). The app works: Python compiles those modules "
        "in memory when it imports them, at every start.\n" + output,
    )


def app_not_compiled(output: str) -> Notice:
    """Some of the app's files have syntax errors (``output`` is compileall's tail)."""
    return (
        "Some of the app's Python files do not compile",
        "They are left as they are; if the app imports them, it will fail at run time.\n" + output,
    )


def no_django_settings(manage_py: str, ran_in: str, said: str, example: str) -> Notice:
    """collectstatic skipped: nothing names the settings module (``said``: Django's output,
    quoted; ``ran_in``: ``in the app root`` or ``in backend``)."""
    found = "\n".join(f"    | {line}" for line in said.splitlines())
    return (
        "Static files were not collected: no Django settings module",
        f"`python manage.py collectstatic --dry-run --noinput` ({ran_in}) said:\n{found}\n\n"
        f"{manage_py} does not set DJANGO_SETTINGS_MODULE, and neither does the build's "
        "environment, so Django cannot load the settings, and python-cnb cannot tell whether "
        "django.contrib.staticfiles is enabled. If it is, the image has no static files.\n\n"
        "How to fix it:\n"
        + steps(
            f"Name the settings in {manage_py}, as `django-admin startproject` does:\n"
            f'  os.environ.setdefault("DJANGO_SETTINGS_MODULE", "{example}")',
            f"Or set DJANGO_SETTINGS_MODULE={example} in the build's environment\n"
            "(pack build --env, project.toml, the platform's build settings).",
            "If the app has no static files, set BUILD_DISABLE_COLLECTSTATIC=1\n"
            "(or DISABLE_COLLECTSTATIC=1) to skip this step.",
            hang=3,
        ),
    )


# --- What happened to a cached layer -----------------------------------------------------


def _shorten(value: object) -> str:
    text = ", ".join(value) if isinstance(value, tuple) else str(value)
    return text if len(text) <= 40 else text[:12] + "…"


def _invalid_metadata(cause: InvalidMetadata) -> str:
    if cause.mistyped is not None:
        detail = f"{cause.mistyped[0]!r} is not a {cause.mistyped[1]}"
    else:
        parts = [f"unknown keys {list(cause.unknown)}"] * bool(cause.unknown)
        detail = ", ".join(parts + [f"missing keys {list(cause.missing)}"] * bool(cause.missing))
    return f"Its metadata is not what this buildpack version writes ({detail})"


@functools.cache
def _cause_sentences() -> dict[type[Any], Callable[[Any], Optional[str]]]:
    """The sentence of each :data:`python_cnb.cnb.layers.LayerCause` type. Made when first
    needed: an unchanged rebuild, which uses this module's replay sentences, loads neither
    the causes' module nor ``dataclasses`` with it."""
    from python_cnb.cnb.layers import (
        CleanBuild,
        ContentsMissing,
        FieldChanged,
        InvalidMetadata,
        NewlyCreated,
        Rejected,
        Unfinished,
        UnreadableMetadata,
    )

    return {
        NewlyCreated: lambda cause: None,
        UnreadableMetadata: lambda cause: f"Its metadata could not be read ({cause.detail})",
        InvalidMetadata: _invalid_metadata,
        FieldChanged: lambda cause: (
            f"The {cause.label} changed from {_shorten(cause.before)} to {_shorten(cause.after)}"
        ),
        ContentsMissing: lambda cause: "Its contents were not restored",
        Unfinished: lambda cause: "It has no metadata (an earlier build did not finish it)",
        CleanBuild: lambda cause: "A clean build was requested",
        Rejected: lambda cause: cause.reason,
    }


def layer_cause(cause: LayerCause) -> Optional[str]:
    """The sentence for why a restored layer was discarded (None: nothing was restored)."""
    return _cause_sentences()[type(cause)](cause)


def replay_done() -> str:
    """The log line of a build that put back the previous build's result."""
    return (
        "Nothing this build reads has changed since the previous build (the app's files, the"
        " environment, the platform directory, the buildpack plan, the buildpack, the build"
        " image, the date), and every cached layer checks out against its manifest: the"
        " previous build's result is reused as it was"
    )


REPLAY_REFUSALS = {
    "no-record": "the previous build left no record",
    "record-changed": "its record is not the one the previous image names",
    "record-format": "its record is of another format",
    "record-unreadable": "its record could not be read ({error})",
    "inputs-changed": "{inputs} changed",
    "copy-changed": "its copy of the build's result is not the one it recorded",
    "layer-not-restored": "its cached layer '{layer}' was not restored as it left it",
    "layer-changed": "its cached layer '{layer}' changed",
    "stray": "the layers directory holds '{entry}', which it did not make",
}
"""Why the previous build's result is not put back (:class:`python_cnb.replay.NotReplayed`)."""

REPLAY_BLOCKERS = {
    "credentials": "the build uses credentials (no digest of a secret is kept)",
    "secret-binding": "a service binding may hold secrets",
    "no-anchor": "the build wrote no '{layer}' layer to keep the record's digest",
    "no-cache": "BUILD_NO_CACHE asks for builds without cached results",
    "manifest-url": "the CPython manifest is read from a URL, and can change",
    "unpinned-vcs": "a requirement comes from a Git branch or tag, which can move",
    "resolves-every-build": "the dependencies are resolved anew on every build",
    "unreadable": "an input could not be read ({error})",
    "special-file": "the build left '{path}' in the app directory, which is no file, directory"
    " or link (a copy of it cannot be kept)",
}
"""Why a build keeps no record for the next one (:meth:`python_cnb.replay.Recorder.block`)."""


def _listed(names: Sequence[str]) -> str:
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]


def replay_refused(reason: str, data: dict[str, Any]) -> str:
    """The log line when the previous build's result is not reused whole."""
    if "inputs" in data:
        data = {**data, "inputs": _listed(data["inputs"])}
    why = REPLAY_REFUSALS[reason].format(**data)
    return f"Building in full: the previous build's result cannot be reused, since {why}"


def replay_blocker(reason: str, data: dict[str, str]) -> str:
    """One reason a build keeps no record."""
    return REPLAY_BLOCKERS[reason].format(**data)


def replay_not_recorded(reasons: Sequence[str]) -> str:
    """The debug line when a build keeps no record to be replayed."""
    return "The next unchanged build runs in full: " + "; ".join(reasons)


def layer_reused(what: str) -> str:
    """The log line for a kept layer."""
    return f"Using cached {what}"


def layer_discarded(what: str) -> str:
    """The log line before the reasons a restored layer was discarded."""
    return f"Discarding cached {what} since:"


def carried_uv_damaged(version: str, path: str) -> Notice:
    return (
        f"The buildpack's own uv {version} is damaged",
        f"{path} does not match the SHA-256 recorded when the buildpack was packaged, so it "
        "is not used: uv is fetched from the package index instead. Reinstall the buildpack "
        "package.",
    )


def vendored_uv_ships(wheel: str) -> str:
    return (
        f"uv came from the app's vendored {wheel}, which stays in the app and so ships in the "
        "image; the self-contained buildpack package carries its own uv (no wheel needed)"
    )
