"""Procfile processes, launched the way the launcher would launch them."""

from __future__ import annotations

import json

import pytest

from python_cnb.cnb.validate import validate_launch_toml
from tests.support.assertions import assert_one_error_block
from tests.support.lifecycle import Lifecycle

pytestmark = pytest.mark.integration


def test_procfile_types_and_default(lifecycle: Lifecycle) -> None:
    result = lifecycle.build(lifecycle.app("procfile_multiple"))
    assert "web (default): python -m http.server $PORT --bind 127.0.0.1" in result.output
    assert "worker: python -c \"print('working')\"" in result.output
    image = lifecycle.workspace.image_metadata.read_text()
    assert '"default_process": "web"' in image

    web = lifecycle.start()
    assert web.wait_for_http("/")[0] == 200  # $PORT expanded by the shell

    worker = lifecycle.start("worker")
    assert worker.process.wait(timeout=30) == 0
    assert worker.output == "working\n"


def test_port_from_the_platform_beats_the_default(lifecycle: Lifecycle) -> None:
    lifecycle.build(lifecycle.app("procfile_multiple"))
    assert lifecycle.exec(["sh", "-c", "echo $PORT"]).stdout == "8080\n"
    assert lifecycle.exec(["sh", "-c", "echo $PORT"], env={"PORT": "9123"}).stdout == "9123\n"


def test_platform_procfile_replaces_the_apps(lifecycle: Lifecycle) -> None:
    procfile = (
        "web: python -m http.server $PORT --bind 127.0.0.1\nclock: python -c \"print('tick')\"\n"
    )
    result = lifecycle.build(lifecycle.app("procfile_multiple"), {"BP_PROCFILE": procfile})
    assert "Ignoring the app's Procfile: BP_PROCFILE takes precedence" in result.output
    assert "Processes from BP_PROCFILE: web, clock" in result.output
    assert lifecycle.start().wait_for_http("/")[0] == 200


@pytest.mark.parametrize(
    "value",
    [
        "web: python -m http.server $PORT --bind 127.0.0.1",
        "python -m http.server $PORT --bind 127.0.0.1",
    ],
)
def test_kato_start_command(lifecycle: Lifecycle, value: str) -> None:
    result = lifecycle.build(lifecycle.app("procfile_multiple"), {"BUILD_PROCFILE": value})
    assert "Processes from BUILD_PROCFILE: web" in result.output
    assert lifecycle.start().wait_for_http("/")[0] == 200


def test_kato_auto_procfile_yields_to_the_apps(lifecycle: Lifecycle) -> None:
    auto = {"BUILD_AUTO_PROCFILE": "web: python -c \"print('auto')\""}
    with_procfile = lifecycle.build(lifecycle.app("procfile_multiple"), auto)
    assert "Processes from Procfile: web, worker, release" in with_procfile.output
    without = lifecycle.build(lifecycle.app("script_only"), auto)
    assert "Processes from BUILD_AUTO_PROCFILE: web" in without.output


def test_web_command_setting(lifecycle: Lifecycle) -> None:
    result = lifecycle.build(
        lifecycle.app("procfile_multiple"),
        {"BP_WEB_COMMAND": "python -m http.server $PORT --bind 127.0.0.1"},
    )
    assert "Processes from BP_WEB_COMMAND: web, worker, release" in result.output
    assert lifecycle.start().wait_for_http("/")[0] == 200


def test_crlf_and_bom(lifecycle: Lifecycle) -> None:
    app = lifecycle.app("procfile_multiple")
    (app / "Procfile").write_bytes(
        b"\xef\xbb\xbfweb: python -m http.server $PORT --bind 127.0.0.1\r\n\r\n"
    )
    result = lifecycle.build(app)
    assert "Processes from Procfile: web" in result.output
    assert lifecycle.start().wait_for_http("/")[0] == 200


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        (
            "web: a\nweb: b\n",
            "web: b",
            "Each process type may appear only once. It was first declared on line 2.",
        ),
        ("my web: a\n", "my web: a", "A process type may contain only letters, digits"),
        (
            "just a command\n",
            "just a command",
            "A Procfile line must read `<process type>: <command>`",
        ),
        ("web:\n", "web:", "The command after the colon is empty."),
    ],
)
def test_invalid_procfile(lifecycle: Lifecycle, text: str, line: str, problem: str) -> None:
    app = lifecycle.app("procfile_multiple")
    (app / "Procfile").write_text("# comment\n" + text)
    result = lifecycle.build(app, expect_success=False)
    block = assert_one_error_block(result, "Invalid Procfile")
    assert f'reads:\n    "{line}"' in block and problem in block
    assert "Installing Python" not in result.output  # parsed before anything is installed


def test_empty_procfile_warns_and_infers(lifecycle: Lifecycle) -> None:
    app = lifecycle.app("script_only")
    (app / "Procfile").write_text("# nothing yet\n")
    result = lifecycle.build(app)
    assert "[Warning: Procfile defines no processes]" in result.output
    assert "No Procfile: web runs 'python main.py'" in result.output


def test_a_script_app_with_a_procfile_and_no_dependency_file(lifecycle: Lifecycle) -> None:
    """Paketo's no-package-manager layout: a Procfile and a root script, standard library only."""
    result = lifecycle.build(lifecycle.app("procfile_script"))
    assert "Python app detected (Procfile *.py)" in result.output
    web = lifecycle.start()
    assert web.wait_for_http("/") == (200, "Hello from serve.py\n"), web.output


def test_a_node_app_that_carries_a_script_is_not_detected(lifecycle: Lifecycle) -> None:
    result = lifecycle.build(lifecycle.app("node_with_script"), expect_success=False)
    assert "No Python app found" in result.output
    assert result.exit_code == 20  # the lifecycle's "no group passed detection", not an error


# --- user arguments (docker run IMAGE ARGS...) and one-off commands ------------------------------


def _exported_processes(lifecycle: Lifecycle) -> list[dict[str, object]]:
    """The image's processes as launch.toml had them (validated by the contract's rules)."""
    image = json.loads(lifecycle.workspace.image_metadata.read_text())
    processes = [
        {key: value for key, value in process.items() if key != "buildpack"}
        for process in image["processes"]
    ]
    validate_launch_toml({"processes": processes})
    return processes


def test_user_args_replace_a_procfile_command_line(lifecycle: Lifecycle) -> None:
    result = lifecycle.build(lifecycle.app("procfile_args"))
    assert 'web (default): echo "web [$0] [$*] [${FROM_PROFILE:-}]"' in result.output
    # No args: the Procfile's command line; bash's $0 is "bash", as the launcher passes it,
    # and a process type does not source .profile.
    assert lifecycle.launch().stdout == "web [bash] [] []\n"
    # docker run IMAGE "python manage.py migrate": the user's command line runs instead.
    migrate = lifecycle.launch(args=['python -c "import sys; print(sys.argv[1:])" migrate'])
    assert migrate.stdout == "['migrate']\n", migrate.stderr
    # docker run --entrypoint worker IMAGE "python -V"
    version = lifecycle.launch("worker", args=["python -V"])
    assert version.stdout.startswith("Python 3.") and "worker" not in version.stdout
    # Further words are bash's $0, $1...: the command line is the first argument.
    words = lifecycle.launch(args=['echo "[$0] [$1]"', "a", "b"])
    assert words.stdout == "[a] [b]\n"
    assert _exported_processes(lifecycle) == [
        {
            "type": "web",
            "command": ["bash", "-c"],
            "args": ['echo "web [$0] [$*] [${FROM_PROFILE:-}]"'],
            "default": True,
        },
        {
            "type": "worker",
            "command": ["bash", "-c"],
            "args": ['echo "worker [$0] [$*]"'],
            "default": False,
        },
    ]


def test_user_args_replace_the_web_command_setting(lifecycle: Lifecycle) -> None:
    lifecycle.build(lifecycle.app("procfile_args"), {"BP_WEB_COMMAND": 'echo "set [$0] [$*]"'})
    assert lifecycle.launch().stdout == "set [bash] []\n"
    assert lifecycle.launch(args=["echo replaced"]).stdout == "replaced\n"
    web = _exported_processes(lifecycle)[0]
    assert (web["command"], web["args"]) == (["bash", "-c"], ['echo "set [$0] [$*]"'])


def test_a_command_for_the_launcher_runs_through_bash_and_sources_the_profile(
    lifecycle: Lifecycle,
) -> None:
    """docker run --entrypoint launcher IMAGE ...: bash sources .profile; after -- it does
    not (a direct exec), and neither does a process type."""
    lifecycle.build(lifecycle.app("procfile_args"))
    line = lifecycle.launcher(['echo "[$FROM_PROFILE] [$PORT]"'])
    assert line.stdout == "[sourced .profile] [8080]\n", line.stderr
    words = lifecycle.launcher(["python", "-c", "import os; print(os.environ['FROM_PROFILE'])"])
    assert words.stdout == "sourced .profile\n", words.stderr
    direct = lifecycle.launcher(["--", "bash", "-c", 'echo "[${FROM_PROFILE:-}]"'])
    assert direct.stdout == "[]\n"
    assert lifecycle.exec(["bash", "-c", 'echo "[${FROM_PROFILE:-}]"']).stdout == "[]\n"


def test_procfile_commands_the_image_lacks(lifecycle: Lifecycle) -> None:
    """gunicorn and celery, which nothing provides, get a warning naming their package (the
    venv holds what requirements.txt lists, no more); flask comes with Flask."""
    result = lifecycle.build(lifecycle.app("procfile_missing_commands"))
    assert "The web process runs `gunicorn`, which nothing in the image provides" in result.output
    assert "Add gunicorn to the app's dependencies" in result.output
    assert "The worker process runs `celery`, which nothing in the image provides" in result.output
    assert "Add celery to the app's dependencies" in result.output
    assert "`flask`" not in result.output  # Flask's own script is in the venv
    assert "Installed gunicorn" not in result.output
