"""The launcher: env assembly order, exec.d, and choosing and resolving the process."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any, Optional, Sequence

import pytest

from python_cnb_lifecycle.errors import LAUNCH_FAILED, LifecycleError
from python_cnb_lifecycle.launcher import LaunchSpec, build_launch_env, launch_spec
from python_cnb_lifecycle.workspace import Workspace
from tests.support.lifecycle import run_launch
from tests.unit.buildpacks import SH_PATH, write_script


class Image:
    """An exported image: launch layers under ``layers/<bp>/`` and the image metadata."""

    def __init__(self, tmp_path: Path, *buildpack_ids: str) -> None:
        self.ws = Workspace(tmp_path / "ws")
        self.ws.app.mkdir(parents=True)
        self.metadata: dict[str, Any] = {
            "buildpacks": [{"id": bp_id, "layers": {}} for bp_id in buildpack_ids],
            "processes": [],
            "default_process": None,
        }

    def layer(self, bp_id: str, name: str, files: Optional[dict[str, str]] = None) -> Path:
        path = self.ws.bp_layers(bp_id) / name
        path.mkdir(parents=True, exist_ok=True)
        for relative, value in (files or {}).items():
            (path / relative).parent.mkdir(parents=True, exist_ok=True)
            (path / relative).write_text(value)
        return path

    def exec_d(self, bp_id: str, layer: str, relative: str, body: str) -> Path:
        return write_script(self.layer(bp_id, layer) / "exec.d" / relative, body)

    def process(self, process_type: str, command: list[str], **fields: Any) -> None:
        self.metadata["processes"].append({"type": process_type, "command": command, **fields})
        if fields.get("default"):
            self.metadata["default_process"] = process_type

    def env(self, process_type: Optional[str] = "web", **container: str) -> dict[str, str]:
        container_env = {"PATH": SH_PATH, **container}
        return build_launch_env(self.ws, self.metadata, process_type, container_env).vars

    def spec(
        self,
        process_type: Optional[str] = None,
        args: Optional[Sequence[str]] = None,
        command: Optional[Sequence[str]] = None,
        direct: bool = True,
        **container: str,
    ) -> LaunchSpec:
        return launch_spec(
            self.ws,
            self.metadata,
            process_type=process_type,
            args=args,
            container_env={"PATH": SH_PATH, **container},
            command=command,
            direct=direct,
        )


@pytest.fixture
def image(tmp_path: Path) -> Image:
    return Image(tmp_path, "bp/a", "bp/b")


# --- env assembly ------------------------------------------------------------------------------


def test_roots_of_a_buildpack_come_before_its_env_files(image: Image) -> None:
    l1 = image.layer(
        "bp/a", "l1", {"bin/.keep": "", "env/PATH.prepend": "/env", "env/PATH.delim": ":"}
    )
    l2 = image.layer("bp/a", "l2", {"bin/.keep": "", "lib/.keep": ""})
    b = image.layer("bp/b", "x", {"bin/.keep": ""})
    env = image.env()
    assert env["PATH"] == f"{b}/bin:/env:{l2}/bin:{l1}/bin:{SH_PATH}"
    assert env["LD_LIBRARY_PATH"] == f"{l2}/lib"
    assert "LIBRARY_PATH" not in env


def test_env_then_env_launch_then_process_dir(image: Image) -> None:
    image.layer(
        "bp/a",
        "l1",
        {
            "env/X": "a",
            "env.launch/X.append": "b",
            "env.launch/web/X.append": "c",
            "env.build/X.append": "never",
            "env.launch/worker/X.append": "never",
        },
    )
    assert image.env("web")["X"] == "abc"
    assert image.env(None)["X"] == "ab"


def test_layers_and_buildpacks_apply_in_order(image: Image) -> None:
    image.layer("bp/b", "a", {"env/X.append": "3"})
    image.layer("bp/a", "b", {"env/X.append": "2"})
    image.layer("bp/a", "a", {"env/X.append": "1"})
    assert image.env()["X"] == "123"


def test_layers_of_buildpacks_not_in_the_image_are_ignored(image: Image) -> None:
    image.layer("bp/c", "a", {"env/X": "stale", "bin/.keep": ""})
    env = image.env()
    assert "X" not in env
    assert env["PATH"] == SH_PATH


def test_default_yields_to_the_container_and_override_wins(image: Image) -> None:
    image.layer(
        "bp/a",
        "l",
        {
            "env.launch/PORT.default": "8000",
            "env.launch/MODE": "layer",
            "env.launch/NEW.default": "new",
        },
    )
    env = image.env(PORT="9000", MODE="user")
    assert (env["PORT"], env["MODE"], env["NEW"]) == ("9000", "layer", "new")
    assert image.env()["PORT"] == "8000"


def test_lifecycle_variables_are_not_passed(image: Image) -> None:
    env = image.env(CNB_LAYERS_DIR="/layers", CNB_APP_DIR="/workspace", CNB_PROCESS_TYPE="x", A="1")
    assert env == {"PATH": SH_PATH, "A": "1"}


# --- exec.d --------------------------------------------------------------------------------------


def test_exec_d_gets_the_env_and_its_output_overwrites(image: Image) -> None:
    image.layer("bp/a", "l", {"env.launch/GREETING": "hello"})
    image.exec_d(
        "bp/a",
        "l",
        "set",
        'printf \'GREETING = "%s world"\\nCWD = "%s"\\n\' "$GREETING" "$(pwd -P)" >&3\n',
    )
    env = image.env(GREETING="ignored")
    assert env["GREETING"] == "hello world"
    assert env["CWD"] == str(image.ws.app.resolve())


def test_exec_d_order_and_process_specific_programs(image: Image) -> None:
    step = 'printf \'ORDER = "%s%s"\\n\' "${ORDER:-}" "$(basename "$0")" >&3\n'
    image.exec_d("bp/b", "a", "5", step)
    image.exec_d("bp/a", "z", "3", step)
    image.exec_d("bp/a", "a", "2", step)
    image.exec_d("bp/a", "a", "1", step)
    image.exec_d("bp/a", "a", "web/w", step)
    image.exec_d("bp/a", "a", "worker/never", step)
    assert image.env("web")["ORDER"] == "12w35"
    assert image.env(None)["ORDER"] == "1235"


def test_exec_d_sees_the_output_of_earlier_programs(image: Image) -> None:
    image.exec_d("bp/a", "l", "1", "echo 'A = \"1\"' >&3\n")
    image.exec_d("bp/a", "l", "2", 'echo "B = \\"${A}2\\"" >&3\n')
    env = image.env()
    assert (env["A"], env["B"]) == ("1", "12")


def test_exec_d_stdout_is_not_its_output(image: Image) -> None:
    image.exec_d("bp/a", "l", "1", "echo 'X = 1'\necho 'A = \"fd3\"' >&3\n")
    assert image.env()["A"] == "fd3"
    assert "X" not in image.env()


def test_exec_d_non_string_value_aborts(image: Image) -> None:
    image.exec_d("bp/a", "l", "1", "echo 'WORKERS = 4' >&3\n")
    with pytest.raises(LifecycleError) as caught:
        image.env()
    assert (caught.value.phase, caught.value.code, caught.value.message) == (
        "launch",
        LAUNCH_FAILED,
        "exec.d output: 'WORKERS' must be a string, not int",
    )


def test_exec_d_bad_toml_aborts(image: Image) -> None:
    image.exec_d("bp/a", "l", "1", "echo 'A = ' >&3\n")
    with pytest.raises(LifecycleError) as caught:
        image.env()
    assert caught.value.message.startswith("exec.d output is not valid TOML: ")


def test_exec_d_failure_aborts(image: Image) -> None:
    program = image.exec_d("bp/a", "l", "1", "echo 'A = \"x\"' >&3\nexit 3\n")
    with pytest.raises(LifecycleError) as caught:
        image.env()
    assert (caught.value.code, caught.value.message) == (
        LAUNCH_FAILED,
        f"exec.d {program} exited 3",
    )


# --- processes -----------------------------------------------------------------------------------


def test_default_process_with_its_args(image: Image) -> None:
    image.process("web", ["echo", "hello"], args=["world"], default=True)
    image.process("worker", ["true"])
    spec = image.spec()
    assert spec == LaunchSpec(
        shutil.which("echo", path=SH_PATH) or "",
        ("echo", "hello", "world"),
        {"PATH": SH_PATH},
        image.ws.app,
        "web",
    )


def test_user_args_replace_the_process_args(image: Image) -> None:
    image.process("web", ["echo", "hello"], args=["world"], default=True)
    assert image.spec(args=["there", "x"]).argv == ("echo", "hello", "there", "x")
    # No user args (docker run IMAGE) is the process's own: they cannot be emptied.
    assert image.spec(args=[]).argv == ("echo", "hello", "world")


def test_argv0_is_the_command_as_written(image: Image) -> None:
    image.process("web", ["sh", "-c", 'echo "[$0]"'], default=True)
    spec = image.spec()
    assert (spec.executable, spec.argv[0]) == (shutil.which("sh", path=SH_PATH), "sh")
    assert run(spec).stdout == "[sh]\n"


def test_shell_process_user_args_replace_its_command_line(image: Image) -> None:
    """The Procfile layout: bash -c with the command line as the replaceable arg."""
    image.process("web", ["bash", "-c"], args=['echo "default [$0] [$*]"'], default=True)
    assert run(image.spec()).stdout == "default [bash] []\n"
    assert run(image.spec(args=['echo "user [$0] [$*]"', "a", "b"])).stdout == "user [a] [b]\n"


def run(spec: LaunchSpec) -> subprocess.CompletedProcess[str]:
    """Exec the launch as the launcher would (argv[0] as it passes it); it must succeed."""
    return run_launch(spec, check=True)


def test_chosen_process_and_working_dir(image: Image) -> None:
    image.process("web", ["echo"], default=True)
    image.process("worker", ["/bin/sh", "-c", "run"], **{"working-dir": "src"})
    image.layer("bp/a", "l", {"env.launch/worker/ROLE": "worker", "env.launch/web/ROLE": "web"})
    spec = image.spec("worker")
    assert spec.argv == ("/bin/sh", "-c", "run")
    assert spec.cwd == image.ws.app / "src"
    assert spec.process_type == "worker"
    assert spec.env["ROLE"] == "worker"


def test_no_default_process(image: Image) -> None:
    image.process("web", ["echo"])
    with pytest.raises(LifecycleError) as caught:
        image.spec()
    assert (caught.value.code, caught.value.message) == (
        LAUNCH_FAILED,
        "no default process type; pass --process",
    )


def test_unknown_process_type(image: Image) -> None:
    image.process("web", ["echo"])
    image.process("worker", ["echo"])
    with pytest.raises(LifecycleError) as caught:
        image.spec("nope")
    assert caught.value.message == "process type 'nope' is not defined (web, worker)"
    image.metadata["processes"] = []
    with pytest.raises(LifecycleError) as caught:
        image.spec("nope")
    assert caught.value.message == "process type 'nope' is not defined (none)"


def test_command_is_looked_up_on_the_final_path(image: Image) -> None:
    layer = image.layer("bp/a", "l", {})
    write_script(layer / "bin" / "server", "exit 0\n")
    tools = image.ws.root / "tools"
    write_script(tools / "from-exec-d", "exit 0\n")
    image.exec_d("bp/a", "l", "path", f'echo "PATH = \\"{tools}:$PATH\\"" >&3\n')
    image.process("web", ["server", "--port", "1"], default=True)
    image.process("other", ["from-exec-d"])
    assert image.spec().executable == str(layer / "bin" / "server")
    assert image.spec().argv == ("server", "--port", "1")
    assert image.spec("other").executable == str(tools / "from-exec-d")
    assert image.spec("other").env["PATH"] == f"{tools}:{layer}/bin:{SH_PATH}"


def test_command_not_on_path(image: Image) -> None:
    image.process("web", ["no-such-command-here"], default=True)
    with pytest.raises(LifecycleError) as caught:
        image.spec()
    assert caught.value.message == "path lookup: 'no-such-command-here' not found on PATH"


def test_command_with_a_slash_is_used_as_is(image: Image) -> None:
    image.process("web", ["./manage.py", "runserver"], default=True)
    assert image.spec().executable == "./manage.py"
    assert image.spec().argv == ("./manage.py", "runserver")


def test_direct_command_in_the_launch_env(image: Image) -> None:
    image.layer("bp/a", "l", {"env.launch/A": "1", "env.launch/web/B": "2", "bin/.keep": ""})
    spec = image.spec(command=["sh", "-c", "x"])
    assert (spec.executable, spec.argv) == (shutil.which("sh", path=SH_PATH), ("sh", "-c", "x"))
    assert spec.process_type is None
    assert spec.cwd == image.ws.app
    assert spec.env["A"] == "1"
    assert "B" not in spec.env


# --- launcher COMMAND (no `--`): through bash ----------------------------------------------------


def test_plain_command_sources_profile_scripts_then_the_apps_profile(image: Image) -> None:
    # The command runs in a nested bash: what a profile script sets must be exported.
    step = 'export ORDER="${ORDER:-}$(basename "${BASH_SOURCE[0]}") "\n'
    image.layer("bp/b", "a", {"profile.d/4": step})
    image.layer("bp/a", "z", {"profile.d/3": step})
    image.layer("bp/a", "a", {"profile.d/2": step, "profile.d/1": step, "profile.d/web/no": "x"})
    (image.ws.app / ".profile").write_text(step + 'export WHERE="$PWD" UNSEEN=1\n')
    image.exec_d("bp/a", "a", "set", "echo 'FROM_EXEC_D = \"yes\"' >&3\n")
    command = 'echo "$ORDER| $FROM_EXEC_D $WHERE [$0]"'
    spec = image.spec(command=[command], direct=False)
    assert (spec.executable, spec.argv[:2], spec.argv[3:]) == (
        "/bin/bash",
        ("bash", "-c"),
        ("/cnb/lifecycle/launcher", command),
    )
    assert "UNSEEN" not in spec.env  # sourced at exec, not by the runner
    assert spec.process_type is None and spec.cwd == image.ws.app
    # profile.d/<type> is for process types: a user's command has none.
    assert run(spec).stdout == f"1 2 3 4 .profile | yes {image.ws.app} [bash]\n"


def test_plain_command_with_words_expands_each(image: Image) -> None:
    (image.ws.app / ".profile").write_text('export GREETING="hello there"\n')
    spec = image.spec(command=["printf", "[%s]", "$GREETING", "a b", "$0"], direct=False)
    assert run(spec).stdout == "[hello there][a b][printf]"


def test_direct_command_and_process_types_do_not_source_profiles(image: Image) -> None:
    image.layer("bp/a", "a", {"profile.d/1": "export FROM_PROFILE=1\n"})
    (image.ws.app / ".profile").write_text("export FROM_PROFILE=1\n")
    image.process("web", ["bash", "-c"], args=['echo "[${FROM_PROFILE:-}]"'], default=True)
    assert run(image.spec()).stdout == "[]\n"
    direct = image.spec(command=["bash", "-c", 'echo "[${FROM_PROFILE:-}]"'])
    assert run(direct).stdout == "[]\n"
    through_bash = image.spec(command=['echo "[${FROM_PROFILE:-}]"'], direct=False)
    assert run(through_bash).stdout == "[1]\n"


def test_a_command_is_required(image: Image) -> None:
    with pytest.raises(LifecycleError) as caught:
        image.spec(command=[], direct=False)
    assert caught.value.message == "when there is no default process a command is required"
