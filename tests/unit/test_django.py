"""Django static files: finding manage.py, opting out, and collectstatic's control flow."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from python_cnb.django import (
    CollectstaticFailed,
    collectstatic,
    django_installed,
    find_manage_py,
    in_directory,
    opted_out,
    settings_candidates,
)

DRY_RUN = ["manage.py", "collectstatic", "--dry-run", "--noinput"]
REAL_RUN = ["manage.py", "collectstatic", "--noinput"]


def touch(path: Path, text: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --- manage.py ----------------------------------------------------------------------------------


def test_manage_py_in_the_root_wins(tmp_path: Path) -> None:
    nested = touch(tmp_path / "aaa" / "manage.py")
    assert find_manage_py(tmp_path) == nested
    manage_py = touch(tmp_path / "manage.py")
    assert find_manage_py(tmp_path) == manage_py


def test_manage_py_one_level_down(tmp_path: Path) -> None:
    first = touch(tmp_path / "backend" / "manage.py")
    touch(tmp_path / "site" / "manage.py")
    assert find_manage_py(tmp_path) == first


def test_manage_py_in_hidden_directories_is_ignored(tmp_path: Path) -> None:
    touch(tmp_path / ".venv" / "manage.py")
    assert find_manage_py(tmp_path) is None
    found = touch(tmp_path / "zzz" / "manage.py")
    assert find_manage_py(tmp_path) == found


def test_manage_py_in_a_hidden_app_directory(tmp_path: Path) -> None:
    manage_py = touch(tmp_path / ".app" / "manage.py")
    assert find_manage_py(tmp_path / ".app") == manage_py


@pytest.mark.parametrize(
    "layout",
    [(), ("src/backend/manage.py",), ("manage.py/",), ("app.py",)],
)
def test_no_manage_py(tmp_path: Path, layout: tuple[str, ...]) -> None:
    for relative in layout:
        if relative.endswith("/"):
            (tmp_path / relative).mkdir(parents=True)
        else:
            touch(tmp_path / relative)
    assert find_manage_py(tmp_path) is None


# --- opting out ---------------------------------------------------------------------------------


@pytest.mark.parametrize("setting", ["BUILD_DISABLE_COLLECTSTATIC", "DISABLE_COLLECTSTATIC"])
@pytest.mark.parametrize("value", ["1", "true", "True", "yes", " YES ", "on"])
def test_opted_out(setting: str, value: str) -> None:
    assert opted_out({setting: value}) == setting


@pytest.mark.parametrize("setting", ["BUILD_DISABLE_COLLECTSTATIC", "DISABLE_COLLECTSTATIC"])
@pytest.mark.parametrize("value", ["0", "false", "no", "", "  ", "off"])
def test_not_opted_out(setting: str, value: str) -> None:
    assert opted_out({setting: value}) is None


def test_not_opted_out_without_settings() -> None:
    assert opted_out({}) is None


def test_kato_setting_is_named_first() -> None:
    env = {"DISABLE_COLLECTSTATIC": "1", "BUILD_DISABLE_COLLECTSTATIC": "1"}
    assert opted_out(env) == "BUILD_DISABLE_COLLECTSTATIC"


# --- installed ----------------------------------------------------------------------------------


def dist_info(site_packages: Path, name: str, version: str = "1.0") -> None:
    touch(
        site_packages / f"{name}-{version}.dist-info" / "METADATA",
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
    )


def test_django_installed(tmp_path: Path) -> None:
    site_packages = tmp_path / "site-packages"
    assert django_installed(site_packages) is False
    dist_info(site_packages, "djangorestframework")
    assert django_installed(site_packages) is False
    dist_info(site_packages, "Django", "5.1.4")
    assert django_installed(site_packages) is True


# --- collectstatic, with a fake venv interpreter ------------------------------------------------

FAKE_PYTHON = """\
#!{python}
import json
import os
import sys

args = sys.argv[1:]
with open({log!r}, "a", encoding="utf-8") as log:
    log.write(json.dumps({{
        "args": args,
        "cwd": os.getcwd(),
        "VIRTUAL_ENV": os.environ.get("VIRTUAL_ENV"),
        "PATH": os.environ.get("PATH"),
        "SECRET_KEY": os.environ.get("SECRET_KEY"),
    }}) + "\\n")
answers = {answers!r}
output, code = answers.get(" ".join(args[1:3]), ("", 0))
sys.stdout.write(output)
sys.exit(code)
"""


class FakeVenv:
    """A venv whose ``bin/python`` logs every call and answers from a table."""

    def __init__(self, root: Path, answers: dict[str, tuple[str, int]]) -> None:
        self.path = root / "venv"
        self.site_packages = self.path / "lib" / "python3.11" / "site-packages"
        self.log = root / "calls.jsonl"
        dist_info(self.site_packages, "Django", "5.1.4")
        python = touch(
            self.path / "bin" / "python",
            FAKE_PYTHON.format(python=sys.executable, log=str(self.log), answers=answers),
        )
        python.chmod(0o755)

    def calls(self) -> list[dict[str, Any]]:
        if not self.log.is_file():
            return []
        lines = self.log.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines]


def django_app(app_dir: Path, where: str = ".") -> Path:
    return touch(app_dir / where / "manage.py", "# manage.py\n")


ENV = {"PATH": "/usr/bin:/bin", "SECRET_KEY": "build-time"}


def test_collectstatic_runs_the_dry_run_then_the_real_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app_dir = tmp_path / "app"
    django_app(app_dir)
    venv = FakeVenv(
        tmp_path,
        {
            "collectstatic --dry-run": ("Pretending to copy 12 static files\n", 0),
            "collectstatic --noinput": ("12 static files copied\n", 0),
        },
    )
    assert collectstatic(app_dir, venv.path, venv.site_packages, ENV) is True
    calls = venv.calls()
    assert [call["args"] for call in calls] == [DRY_RUN, REAL_RUN]
    for call in calls:
        assert call["cwd"] == str(app_dir)
        assert call["VIRTUAL_ENV"] == str(venv.path)
        assert call["PATH"] == f"{venv.path / 'bin'}:/usr/bin:/bin"
        assert call["SECRET_KEY"] == "build-time"
    out = capsys.readouterr().out
    assert out == (
        "Running 'manage.py collectstatic --dry-run --noinput'\n"
        "      Pretending to copy 12 static files\n"
        "Running 'manage.py collectstatic --noinput'\n"
        "      12 static files copied\n"
    )


def test_collectstatic_runs_where_manage_py_is(tmp_path: Path) -> None:
    app_dir = tmp_path / "app"
    django_app(app_dir, "backend")
    venv = FakeVenv(tmp_path, {})
    assert collectstatic(app_dir, venv.path, venv.site_packages, {}) is True
    calls = venv.calls()
    assert [call["args"] for call in calls] == [DRY_RUN, REAL_RUN]
    assert {call["cwd"] for call in calls} == {str(app_dir / "backend")}
    assert {call["PATH"] for call in calls} == {f"{venv.path / 'bin'}:/usr/bin:/bin"}


def test_a_failing_dry_run_stops_before_the_real_run(tmp_path: Path) -> None:
    app_dir = tmp_path / "app"
    django_app(app_dir, "backend")
    venv = FakeVenv(
        tmp_path,
        {
            "collectstatic --dry-run": (
                "Traceback (most recent call last):\n"
                "django.core.exceptions.ImproperlyConfigured: You're using the staticfiles app "
                "without having set the STATIC_ROOT setting to a filesystem path.\n",
                1,
            )
        },
    )
    with pytest.raises(CollectstaticFailed) as caught:
        collectstatic(app_dir, venv.path, venv.site_packages, ENV)
    assert caught.value.command == "manage.py collectstatic --dry-run --noinput"
    assert caught.value.directory == "backend"
    assert caught.value.output == (
        "Traceback (most recent call last):\n"
        "django.core.exceptions.ImproperlyConfigured: You're using the staticfiles app "
        "without having set the STATIC_ROOT setting to a filesystem path."
    )
    assert [call["args"] for call in venv.calls()] == [DRY_RUN]


def test_a_failing_real_run(tmp_path: Path) -> None:
    app_dir = tmp_path / "app"
    django_app(app_dir)
    venv = FakeVenv(tmp_path, {"collectstatic --noinput": ("disk full\n", 1)})
    with pytest.raises(CollectstaticFailed) as caught:
        collectstatic(app_dir, venv.path, venv.site_packages, ENV)
    error = caught.value
    assert (error.command, error.directory, error.output) == (
        "manage.py collectstatic --noinput",
        ".",
        "disk full",
    )
    assert [call["args"] for call in venv.calls()] == [DRY_RUN, REAL_RUN]


def test_staticfiles_not_installed_skips(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app_dir = tmp_path / "app"
    django_app(app_dir)
    venv = FakeVenv(
        tmp_path,
        {
            "collectstatic --dry-run": (
                "Unknown command: 'collectstatic'\nType 'manage.py help' for usage.\n",
                1,
            )
        },
    )
    assert collectstatic(app_dir, venv.path, venv.site_packages, ENV) is False
    assert [call["args"] for call in venv.calls()] == [DRY_RUN]
    assert capsys.readouterr().out == (
        "Skipping collectstatic: django.contrib.staticfiles is not in INSTALLED_APPS\n"
    )


def test_settings_that_fail_to_load_fail_the_build(tmp_path: Path) -> None:
    app_dir = tmp_path / "app"
    django_app(app_dir)
    output = "ModuleNotFoundError: No module named 'mysite.settings'\n"
    venv = FakeVenv(tmp_path, {"collectstatic --dry-run": (output, 1)})
    with pytest.raises(CollectstaticFailed) as caught:
        collectstatic(app_dir, venv.path, venv.site_packages, ENV)
    assert (caught.value.command, caught.value.directory, caught.value.output) == (
        "manage.py collectstatic --dry-run --noinput",
        ".",
        "ModuleNotFoundError: No module named 'mysite.settings'",
    )
    assert [call["args"] for call in venv.calls()] == [DRY_RUN]


@pytest.mark.parametrize("setting", ["BUILD_DISABLE_COLLECTSTATIC", "DISABLE_COLLECTSTATIC"])
def test_opting_out_runs_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], setting: str
) -> None:
    app_dir = tmp_path / "app"
    django_app(app_dir)
    venv = FakeVenv(tmp_path, {})
    assert collectstatic(app_dir, venv.path, venv.site_packages, {setting: "true"}) is False
    assert venv.calls() == []
    assert capsys.readouterr().out == f"Skipping collectstatic: {setting} is set\n"


def test_without_manage_py_runs_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    venv = FakeVenv(tmp_path, {})
    assert collectstatic(app_dir, venv.path, venv.site_packages, ENV) is False
    assert venv.calls() == []
    assert capsys.readouterr().out == (
        "Skipping collectstatic: Django is installed, but no manage.py is in the app root"
        " or one level down\n"
    )


def test_without_django_runs_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app_dir = tmp_path / "app"
    django_app(app_dir)
    venv = FakeVenv(tmp_path, {})
    for metadata in venv.site_packages.glob("*.dist-info/METADATA"):
        metadata.unlink()
    assert collectstatic(app_dir, venv.path, venv.site_packages, ENV) is False
    assert venv.calls() == []
    assert capsys.readouterr().out == ""


NO_SETTINGS = (
    "No Django settings specified.\n"
    "Unknown command: 'collectstatic'\n"
    "Type 'manage.py help' for usage.\n"
)


def no_settings_warning(manage_py: str, ran_in: str, example: str) -> str:
    return (
        "\n[Warning: Static files were not collected: no Django settings module]\n"
        f"`python manage.py collectstatic --dry-run --noinput` ({ran_in}) said:\n"
        "    | No Django settings specified.\n"
        "    | Unknown command: 'collectstatic'\n"
        "    | Type 'manage.py help' for usage.\n\n"
        f"{manage_py} does not set DJANGO_SETTINGS_MODULE, and neither does the build's "
        "environment, so Django cannot load the settings, and python-cnb cannot tell whether "
        "django.contrib.staticfiles is enabled. If it is, the image has no static files.\n\n"
        "How to fix it:\n"
        f"  1. Name the settings in {manage_py}, as `django-admin startproject` does:\n"
        f'       os.environ.setdefault("DJANGO_SETTINGS_MODULE", "{example}")\n'
        f"  2. Or set DJANGO_SETTINGS_MODULE={example} in the build's environment\n"
        "     (pack build --env, project.toml, the platform's build settings).\n"
        "  3. If the app has no static files, set BUILD_DISABLE_COLLECTSTATIC=1\n"
        "     (or DISABLE_COLLECTSTATIC=1) to skip this step.\n\n"
    )


def test_no_settings_module_is_not_a_missing_staticfiles(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without DJANGO_SETTINGS_MODULE Django knows no collectstatic: say what is wrong."""
    app_dir = tmp_path / "app"
    django_app(app_dir)
    touch(app_dir / "mysite" / "settings.py", "DEBUG = True\n")
    venv = FakeVenv(tmp_path, {"collectstatic --dry-run": (NO_SETTINGS, 1)})
    assert collectstatic(app_dir, venv.path, venv.site_packages, ENV) is False
    assert [call["args"] for call in venv.calls()] == [DRY_RUN]
    out = capsys.readouterr().out
    assert "staticfiles is not in INSTALLED_APPS" not in out
    assert out == no_settings_warning("manage.py", "in the app root", "mysite.settings")


def test_no_settings_module_one_level_down(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app_dir = tmp_path / "app"
    django_app(app_dir, "backend")
    touch(app_dir / "backend" / "config" / "settings" / "__init__.py")
    venv = FakeVenv(tmp_path, {"collectstatic --dry-run": (NO_SETTINGS, 1)})
    assert collectstatic(app_dir, venv.path, venv.site_packages, ENV) is False
    assert capsys.readouterr().out == no_settings_warning(
        "backend/manage.py", "in backend", "config.settings"
    )


@pytest.mark.parametrize(
    ("layout", "example"),
    [
        ((), "mysite.settings"),  # nothing found: a placeholder
        (("a/settings.py", "b/settings.py"), "mysite.settings"),  # two: no guess
        ((".hidden/settings.py", "site/settings.py"), "site.settings"),
    ],
)
def test_no_settings_module_example(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], layout: tuple[str, ...], example: str
) -> None:
    app_dir = tmp_path / "app"
    django_app(app_dir)
    for relative in layout:
        touch(app_dir / relative)
    venv = FakeVenv(tmp_path, {"collectstatic --dry-run": (NO_SETTINGS, 1)})
    collectstatic(app_dir, venv.path, venv.site_packages, ENV)
    assert f'"DJANGO_SETTINGS_MODULE", "{example}")' in capsys.readouterr().out


def test_settings_candidates(tmp_path: Path) -> None:
    touch(tmp_path / "mysite" / "settings.py")
    touch(tmp_path / "config" / "settings" / "__init__.py")
    touch(tmp_path / "config" / "settings.py")  # the same module, either way
    touch(tmp_path / "deep" / "er" / "settings.py")
    assert settings_candidates(tmp_path) == ["config.settings", "mysite.settings"]


@pytest.mark.parametrize(
    ("relative", "shown"), [(".", "in the app root"), ("backend", "in backend")]
)
def test_in_directory(relative: str, shown: str) -> None:
    assert in_directory(relative) == shown
