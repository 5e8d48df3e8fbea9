"""`python -m python_cnb detect|build`: phase dispatch and the error boundary."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

import pytest

import python_cnb.detect
from python_cnb.__main__ import main, run
from python_cnb.cnb import toml_file
from python_cnb.config.settings import Flag, InvalidSetting

REPO = Path(__file__).resolve().parents[2]
CNB_VARIABLES = (
    "CNB_BUILDPACK_DIR",
    "CNB_PLATFORM_DIR",
    "CNB_BUILD_PLAN_PATH",
    "CNB_LAYERS_DIR",
    "CNB_BP_PLAN_PATH",
    "CNB_TARGET_OS",
    "CNB_TARGET_ARCH",
)


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An app directory as the working directory, and the CNB_* variables of a lifecycle."""
    for name in CNB_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    buildpack = tmp_path / "buildpack"
    buildpack.mkdir()
    shutil.copyfile(REPO / "buildpack.toml", buildpack / "buildpack.toml")
    (tmp_path / "platform").mkdir()
    (tmp_path / "layers").mkdir()
    app = tmp_path / "app"
    app.mkdir()
    monkeypatch.chdir(app)
    monkeypatch.setenv("CNB_BUILDPACK_DIR", str(buildpack))
    monkeypatch.setenv("CNB_PLATFORM_DIR", str(tmp_path / "platform"))
    monkeypatch.setenv("CNB_BUILD_PLAN_PATH", str(tmp_path / "plan.toml"))
    monkeypatch.setenv("CNB_LAYERS_DIR", str(tmp_path / "layers"))
    monkeypatch.setenv("CNB_BP_PLAN_PATH", str(tmp_path / "bp-plan.toml"))
    monkeypatch.setenv("CNB_TARGET_OS", "linux")
    monkeypatch.setenv("CNB_TARGET_ARCH", "amd64")
    return app


def test_detect_passes(app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (app / "requirements.txt").write_text("flask\n", encoding="utf-8")
    assert run(["detect"]) == 0
    plan = toml_file.read(app.parent / "plan.toml")
    assert [p["name"] for p in plan["provides"]] == ["cpython", "site-packages"]
    assert capsys.readouterr() == ("Python app detected (requirements.txt)\n", "")


def test_detect_fails(app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["detect", "/platform", "/plan.toml"]) == 100
    assert not (app.parent / "plan.toml").exists()
    assert capsys.readouterr().err == ""


def test_buildpack_error_prints_one_error_block(
    app: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(ctx: object) -> int:
        raise InvalidSetting("BP_X", "https://user:pass@x.test", Flag())

    monkeypatch.setattr(python_cnb.detect, "detect", fail)
    assert run(["detect"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        "\n[Error: Invalid value for BP_X]\n"
        "The setting BP_X is set to:\n"
        '    "https://****@x.test"\n\n'
        "It must be true or false (1/0, yes/no, on/off).\n\n"
        "Change or remove BP_X in the platform's environment "
        "(e.g. `pack build --env BP_X=...`).\n\n"
    )


def test_build_reports_an_invalid_setting(
    app: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BP_PYTHON_DOWNLOAD_TIMEOUT", "soon")
    assert run(["build"]) == 1
    err = capsys.readouterr().err
    assert err.count("[Error: ") == 1
    assert err.startswith("\n[Error: Invalid value for BP_PYTHON_DOWNLOAD_TIMEOUT]\n")
    assert "Traceback" not in err


def test_unexpected_exception_is_an_internal_error(
    app: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(ctx: object) -> int:
        raise RuntimeError("boom at https://user:hunter2@x.test")

    monkeypatch.setattr(python_cnb.detect, "detect", crash)
    assert run(["detect"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(
        "\n[Error: Internal buildpack error]\n"
        "This is a bug in python-cnb, not a problem with your app.\n\n"
        "    Traceback (most recent call last):\n"
    )
    assert err.count("[Error: ") == 1
    assert "    RuntimeError: boom at https://****@x.test\n" in err
    assert "hunter2" not in err
    assert "Please report it at https://github.com/python-cnb/python-cnb/issues" in err


def test_keyboard_interrupt(
    app: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(ctx: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(python_cnb.detect, "detect", interrupted)
    assert run(["detect"]) == 1
    assert capsys.readouterr().err == (
        "\n[Error: Build interrupted]\nThe build was stopped before it finished.\n\n"
    )


@pytest.mark.parametrize("argv", [[], ["launch"], ["Detect"], [""]])
def test_unknown_phase(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert run(argv) == 2
    assert capsys.readouterr() == ("", "usage: python -m python_cnb detect|build\n")


@pytest.mark.parametrize(
    ("phase", "variable"),
    [
        ("detect", "CNB_BUILDPACK_DIR"),
        ("detect", "CNB_PLATFORM_DIR"),
        ("detect", "CNB_BUILD_PLAN_PATH"),
        ("build", "CNB_BUILDPACK_DIR"),
        ("build", "CNB_LAYERS_DIR"),
        ("build", "CNB_BP_PLAN_PATH"),
    ],
)
def test_not_run_by_a_lifecycle(
    app: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    phase: str,
    variable: str,
) -> None:
    monkeypatch.delenv(variable)
    assert run([phase]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        "\n[Error: Not run by a CNB lifecycle]\n"
        f"The {phase} step needs the environment variable {variable}, which the lifecycle "
        "always sets, and it is missing.\n\n"
        "Run this buildpack with `pack build`, a builder image, or "
        "`python -m python_cnb_lifecycle build APP_DIR --workspace DIR`.\n\n"
    )


def test_main_exits_with_the_phase_status(
    app: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.argv", ["python -m python_cnb", "detect"])
    with pytest.raises(SystemExit) as caught:
        main()
    assert caught.value.code == 100
    capsys.readouterr()


@pytest.mark.parametrize(
    ("error", "title", "said"),
    [
        (
            PermissionError(errno.EACCES, "Permission denied", "/workspace/requirements.txt"),
            "Cannot use /workspace/requirements.txt",
            "python-cnb could not use /workspace/requirements.txt: Permission denied (EACCES).",
        ),
        (
            OSError(errno.ENOSPC, "No space left on device"),
            "No space left on device",
            "The operating system stopped the build: No space left on device (ENOSPC).",
        ),
    ],
)
def test_os_errors_of_the_machine_are_named_not_bugs(
    app: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    error: OSError,
    title: str,
    said: str,
) -> None:
    """MEDIUM-4: an unreadable file or a full disk was "a bug in python-cnb"."""

    def fail(ctx: object) -> int:
        raise error

    monkeypatch.setattr(python_cnb.detect, "detect", fail)
    assert run(["detect"]) == 1
    err = capsys.readouterr().err
    assert err.count("[Error: ") == 1
    assert err.startswith(f"\n[Error: {title}]\n{said}\n")
    assert "Traceback" not in err and "bug in python-cnb" not in err


def test_other_os_errors_stay_internal_errors(
    app: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(ctx: object) -> int:
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", "/layers/x.toml")

    monkeypatch.setattr(python_cnb.detect, "detect", crash)
    assert run(["detect"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("\n[Error: Internal buildpack error]\n")
    assert "Traceback (most recent call last):" in err
