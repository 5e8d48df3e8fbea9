"""Django static files, collected at build time as Kato does it (dry run first)."""

from __future__ import annotations

import pytest

from tests.support.assertions import assert_one_error_block
from tests.support.lifecycle import Lifecycle

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(("fixture", "root"), [("django_app", "."), ("django_nested", "backend")])
def test_collectstatic_output_is_in_the_image(
    lifecycle: Lifecycle, fixture: str, root: str
) -> None:
    result = lifecycle.build(lifecycle.app(fixture))
    dry_run = result.output.index("Running 'manage.py collectstatic --dry-run --noinput'")
    real_run = result.output.index("Running 'manage.py collectstatic --noinput'")
    assert dry_run < real_run
    assert "static file copied to" in result.output
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
