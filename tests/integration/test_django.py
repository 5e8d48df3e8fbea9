"""Django static files, collected at build time as Kato does it (dry run first), and
reused while nothing they depend on changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from python_cnb_lifecycle.runner import BuildResult
from tests.support.assertions import assert_one_error_block
from tests.support.lifecycle import Lifecycle

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(("fixture", "root"), [("django_app", "."), ("django_nested", "backend")])
def test_collectstatic_output_is_in_the_image(
    lifecycle: Lifecycle, fixture: str, root: str
) -> None:
    result = lifecycle.build(lifecycle.app(fixture))
    assert "Running 'manage.py collectstatic --noinput'" in result.output
    assert "Pretending to copy" not in result.output  # the dry run is quiet
    assert result.output.count("1 static file copied to '") == 1  # the summary, once
    collected = lifecycle.workspace.app / root / "staticfiles" / "site.css"
    assert collected.read_text() == "body { color: #306998; }\n"
    web = lifecycle.start()
    assert web.wait_for_http("/")[0] == 200
    status, css = web.get("/static/site.css")  # served by WhiteNoise from STATIC_ROOT
    assert (status, css) == (200, "body { color: #306998; }\n")


@pytest.mark.parametrize("setting", ["BUILD_DISABLE_COLLECTSTATIC", "DISABLE_COLLECTSTATIC"])
def test_opt_outs(lifecycle: Lifecycle, setting: str) -> None:
    result = lifecycle.build(lifecycle.app("django_app"), {setting: "1"})
    assert f"Skipping collectstatic: {setting} is set" in result.output
    assert not (lifecycle.workspace.app / "staticfiles").exists()


def test_skipped_when_staticfiles_is_not_enabled(lifecycle: Lifecycle) -> None:
    app = lifecycle.app("django_app")
    settings = app / "mysite" / "settings.py"
    settings.write_text(settings.read_text().replace('    "django.contrib.staticfiles",\n', ""))
    result = lifecycle.build(app)
    assert (
        "Skipping collectstatic: django.contrib.staticfiles is not in INSTALLED_APPS"
        in result.output
    )
    assert "Running 'manage.py collectstatic" not in result.output  # skipped, not run


def test_failure_shows_djangos_message(lifecycle: Lifecycle) -> None:
    app = lifecycle.app("django_app")
    settings = app / "mysite" / "settings.py"
    settings.write_text(
        settings.read_text().replace('STATIC_ROOT = BASE_DIR / "staticfiles"\n', "")
    )
    result = lifecycle.build(app, expect_success=False)
    block = assert_one_error_block(result, "Django's collectstatic failed")
    assert (
        "`python manage.py collectstatic --dry-run --noinput` (in the app root) failed. "
        "Django said:" in block
    )
    assert "STATIC_ROOT" in block
    assert result.output.count("without having set the STATIC_ROOT setting") == 1  # once
    assert "BUILD_DISABLE_COLLECTSTATIC=1" in block
    assert "Running 'manage.py collectstatic --noinput'" not in result.output


def test_settings_that_do_not_load(lifecycle: Lifecycle) -> None:
    app = lifecycle.app("django_app")
    (app / "mysite" / "settings.py").write_text("import this_module_does_not_exist\n")
    result = lifecycle.build(app, expect_success=False)
    block = assert_one_error_block(result, "Django's collectstatic failed")
    assert "No module named 'this_module_does_not_exist'" in block


def test_no_django_no_step(lifecycle: Lifecycle) -> None:
    result = lifecycle.build(lifecycle.app("flask_noprocfile"))
    assert "[Collecting Django static files]" not in result.output


def test_no_settings_module_warns_what_is_wrong(lifecycle: Lifecycle) -> None:
    """Django says "Unknown command: 'collectstatic'" without settings: that is not a
    project without staticfiles, and the warning says how to name the settings."""
    app = lifecycle.app("django_app")
    manage_py = app / "manage.py"
    manage_py.write_text(
        manage_py.read_text().replace(
            'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")', "pass"
        )
    )
    result = lifecycle.build(app)
    assert "[Warning: Static files were not collected: no Django settings module]" in result.output
    assert "    | No Django settings specified." in result.output
    assert 'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")' in result.output
    assert "staticfiles is not in INSTALLED_APPS" not in result.output
    assert "Running 'manage.py collectstatic" not in result.output  # skipped, not run
    # with the settings named in the build's environment, it runs
    again = lifecycle.build(app, {"DJANGO_SETTINGS_MODULE": "mysite.settings"})
    assert "Running 'manage.py collectstatic --noinput'" in again.output


REUSED = "Using cached static files (nothing they depend on changed)"
RAN = "Running 'manage.py collectstatic --noinput'"


def tree(root: Path) -> dict[str, tuple[int, bytes]]:
    """Every entry under ``root``: its mode and bytes (a link's target; nothing for a dir)."""
    entries = {}
    for path in sorted(root.rglob("*")):
        status = path.lstat()
        data = (
            str(path.readlink()).encode()
            if path.is_symlink()
            else path.read_bytes()
            if path.is_file()
            else b""
        )
        entries[path.relative_to(root).as_posix()] = (status.st_mode, data)
    return entries


def assert_reran(result: BuildResult, reason: str) -> None:
    """collectstatic ran again, and the log says why."""
    assert "Discarding cached static files since:\n" in result.output, result.output
    assert f"\n  - {reason}" in result.output, result.output
    assert RAN in result.output
    assert REUSED not in result.output


def test_manifest_storage_reused_is_byte_identical_to_a_run(lifecycle: Lifecycle) -> None:
    """WhiteNoise's compressed manifest storage writes hashed names, .gz copies and
    staticfiles.json: a rebuild writes them back without Django, and the app (the image's
    app layer) is the very one a clean build gives."""
    app = lifecycle.app("django_manifest")
    first = lifecycle.build(app)
    assert RAN in first.output
    assert "Pretending to copy" not in first.output and "Post-processed" not in first.output
    assert first.output.count("static files copied to '") == 1
    rebuilt = lifecycle.build(app)
    assert REUSED in rebuilt.output
    assert "collectstatic" not in rebuilt.output.split("[Collecting Django static files]")[1]
    static_root = lifecycle.workspace.app / "staticfiles"
    manifest = json.loads((static_root / "staticfiles.json").read_text())
    hashed_css = manifest["paths"]["site.css"]
    assert hashed_css != "site.css" and (static_root / hashed_css).is_file()
    assert (static_root / f"{manifest['paths']['shop/logo.svg']}.gz").is_file()  # compressed
    reused = tree(lifecycle.workspace.app)
    clean = lifecycle.build(app, {"BUILD_NO_CACHE": "1"})
    assert RAN in clean.output
    assert tree(lifecycle.workspace.app) == reused
    assert clean.image["app_sha"] == rebuilt.image["app_sha"] == first.image["app_sha"]
    assert lifecycle.build(app).image["app_sha"] == clean.image["app_sha"]  # reused again
    web = lifecycle.start()
    status, urls = web.wait_for_http("/")
    assert status == 200, urls
    css_url, dot_url, logo_url = urls.splitlines()
    assert css_url == f"/static/{hashed_css}"
    assert logo_url.startswith("/static/shop/logo.") and logo_url.endswith(".svg")
    status, css = web.get(css_url)
    assert status == 200
    assert f'url("{dot_url.removeprefix("/static/")}")' in css  # rewritten by the manifest
    assert web.get(dot_url)[0] == web.get(logo_url)[0] == 200


def test_a_failing_real_run_shows_djangos_output_once(lifecycle: Lifecycle) -> None:
    """The dry run does not post-process; the manifest storage fails in the real run."""
    app = lifecycle.app("django_manifest")
    (app / "assets" / "site.css").write_text('body { background: url("img/missing.png"); }\n')
    result = lifecycle.build(app, expect_success=False)
    block = assert_one_error_block(result, "Django's collectstatic failed")
    assert "`python manage.py collectstatic --noinput` (in the app root) failed." in block
    assert "img/missing.png" in block
    shown = "The CSS file 'site.css' references a file which could not be found"
    assert shown in block
    assert result.output.count(shown) == 1, result.output  # in the block, not before it


def test_changed_app_files_run_collectstatic_again(lifecycle: Lifecycle) -> None:
    app = lifecycle.app("django_app")
    lifecycle.build(app)
    (app / "static" / "site.css").write_text("body { color: #ffd43b; }\n")
    assert_reran(lifecycle.build(app), "The app's files changed: static/site.css (changed)")
    settings = app / "mysite" / "settings.py"
    settings.write_text(settings.read_text() + 'STATICFILES_DIRS += [BASE_DIR / "more"]\n')
    (app / "more").mkdir()
    (app / "more" / "extra.css").write_text("p { margin: 0; }\n")
    assert_reran(
        lifecycle.build(app),
        "The app's files changed: more (added), more/extra.css (added),"
        " mysite/settings.py (changed)",
    )
    final = lifecycle.build(app)
    assert REUSED in final.output
    web = lifecycle.start()
    assert web.wait_for_http("/")[0] == 200
    assert web.get("/static/site.css") == (200, "body { color: #ffd43b; }\n")
    assert web.get("/static/extra.css") == (200, "p { margin: 0; }\n")


def test_changed_packages_and_environment_run_collectstatic_again(lifecycle: Lifecycle) -> None:
    app = lifecycle.app("django_app")
    lifecycle.build(app)
    with (app / "requirements.txt").open("a") as requirements:
        requirements.write("six==1.17.0\n")
    assert_reran(lifecycle.build(app), "The installed packages changed: six 1.17.0 added")
    assert_reran(
        lifecycle.build(app, {"DJANGO_STATIC_PREFIX": "/assets/"}),
        "The build's environment changed: DJANGO_STATIC_PREFIX set",
    )
    assert_reran(
        lifecycle.build(app, {"DJANGO_STATIC_PREFIX": "/cdn/"}),
        "A variable of the build's environment has a new value",
    )
    opted_out = lifecycle.build(
        app, {"DJANGO_STATIC_PREFIX": "/cdn/", "BUILD_DISABLE_COLLECTSTATIC": "1"}
    )
    assert "Skipping collectstatic: BUILD_DISABLE_COLLECTSTATIC is set" in opted_out.output
    assert not (lifecycle.workspace.app / "staticfiles").exists()
    back = lifecycle.build(app, {"DJANGO_STATIC_PREFIX": "/cdn/"})
    assert RAN in back.output and REUSED not in back.output  # nothing was kept to reuse
    again = lifecycle.build(app, {"DJANGO_STATIC_PREFIX": "/cdn/"})
    assert REUSED in again.output
    collected = lifecycle.workspace.app / "staticfiles" / "site.css"
    assert collected.read_text() == "body { color: #306998; }\n"


def test_pythonpath_reaches_collectstatic(lifecycle: Lifecycle) -> None:
    """A project under src/ that manage.py finds through PYTHONPATH, as on Heroku."""
    app = lifecycle.app("django_app")
    (app / "src").mkdir()
    for name in ("mysite", "static"):  # settings.py's BASE_DIR is src/ now
        (app / name).rename(app / "src" / name)
    result = lifecycle.build(app, {"PYTHONPATH": "src"})
    assert result.output.count("1 static file copied to '") == 1
    assert (lifecycle.workspace.app / "src" / "staticfiles" / "site.css").is_file()
