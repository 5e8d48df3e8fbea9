"""The detect and build contexts, read from the CNB_* variables only."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from python_cnb.cnb import toml_file
from python_cnb.cnb.buildpack_toml import BuildpackDescriptor
from python_cnb.cnb.context import BuildContext, DetectContext, MissingContextError, Target
from python_cnb.cnb.plan import BuildpackPlan, PlanEntry


def _buildpack(tmp_path: Path) -> Path:
    bp = tmp_path / "bp"
    bp.mkdir()
    toml_file.write(
        bp / "buildpack.toml",
        {"api": "0.10", "buildpack": {"id": "test/bp", "version": "1.0.0"}},
    )
    return bp


def _app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    app = tmp_path / "app"
    app.mkdir()
    monkeypatch.chdir(app)
    return app


TARGET_ENV = {
    "CNB_TARGET_OS": "linux",
    "CNB_TARGET_ARCH": "arm64",
    "CNB_TARGET_ARCH_VARIANT": "v8",
    "CNB_TARGET_DISTRO_NAME": "ubuntu",
    "CNB_TARGET_DISTRO_VERSION": "24.04",
}


def _detect_env(tmp_path: Path) -> dict[str, str]:
    return {
        "CNB_BUILDPACK_DIR": str(_buildpack(tmp_path)),
        "CNB_PLATFORM_DIR": str(tmp_path / "platform"),
        "CNB_BUILD_PLAN_PATH": str(tmp_path / "plan.toml"),
        **TARGET_ENV,
        "OTHER": "x",
    }


def _build_env(tmp_path: Path) -> dict[str, str]:
    plan = tmp_path / "bp-plan.toml"
    toml_file.write(plan, {"entries": [{"name": "python", "metadata": {"version": "3.12"}}]})
    return {
        "CNB_BUILDPACK_DIR": str(_buildpack(tmp_path)),
        "CNB_PLATFORM_DIR": str(tmp_path / "platform"),
        "CNB_LAYERS_DIR": str(tmp_path / "layers"),
        "CNB_BP_PLAN_PATH": str(plan),
        "CNB_TARGET_OS": "linux",
        "CNB_TARGET_ARCH": "amd64",
    }


DESCRIPTOR = BuildpackDescriptor(api="0.10", id="test/bp", version="1.0.0")


def test_detect_context(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = _app(tmp_path, monkeypatch)
    env = _detect_env(tmp_path)
    context = DetectContext.from_env(env)
    assert context == DetectContext(
        app_dir=app,
        platform_dir=tmp_path / "platform",
        buildpack_dir=tmp_path / "bp",
        build_plan_path=tmp_path / "plan.toml",
        target=Target("linux", "arm64", "v8", "ubuntu", "24.04"),
        buildpack=DESCRIPTOR,
        env=env,
    )


def test_build_context(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = _app(tmp_path, monkeypatch)
    env = _build_env(tmp_path)
    context = BuildContext.from_env(env)
    assert context == BuildContext(
        app_dir=app,
        layers_dir=tmp_path / "layers",
        platform_dir=tmp_path / "platform",
        buildpack_dir=tmp_path / "bp",
        plan=BuildpackPlan((PlanEntry("python", {"version": "3.12"}),)),
        target=Target("linux", "amd64"),
        buildpack=DESCRIPTOR,
        env=env,
    )


def test_context_env_is_a_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _app(tmp_path, monkeypatch)
    env = _detect_env(tmp_path)
    context = DetectContext.from_env(env)
    env["OTHER"] = "changed"
    assert context.env["OTHER"] == "x"


def test_reads_the_process_environment_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _app(tmp_path, monkeypatch)
    for name, value in _build_env(tmp_path).items():
        monkeypatch.setenv(name, value)
    context = BuildContext.from_env()
    assert context.layers_dir == tmp_path / "layers"
    assert context.plan.names() == ("python",)


def test_positional_arguments_are_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The deprecated ``bin/build <layers> <platform> <plan>`` arguments play no part."""
    _app(tmp_path, monkeypatch)
    monkeypatch.setattr(sys, "argv", ["bin/build", "/wrong/layers", "/wrong/platform", "/nope"])
    context = BuildContext.from_env(_build_env(tmp_path))
    assert context.layers_dir == tmp_path / "layers"
    assert context.platform_dir == tmp_path / "platform"
    assert context.plan.names() == ("python",)


@pytest.mark.parametrize(
    "variable", ["CNB_BUILDPACK_DIR", "CNB_PLATFORM_DIR", "CNB_BUILD_PLAN_PATH"]
)
def test_detect_missing_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    _app(tmp_path, monkeypatch)
    env = _detect_env(tmp_path)
    del env[variable]
    with pytest.raises(MissingContextError) as caught:
        DetectContext.from_env(env)
    assert (caught.value.variable, caught.value.phase) == (variable, "detect")


@pytest.mark.parametrize(
    "variable", ["CNB_BUILDPACK_DIR", "CNB_PLATFORM_DIR", "CNB_LAYERS_DIR", "CNB_BP_PLAN_PATH"]
)
def test_build_empty_variable_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    _app(tmp_path, monkeypatch)
    env = {**_build_env(tmp_path), variable: ""}
    with pytest.raises(MissingContextError) as caught:
        BuildContext.from_env(env)
    assert (caught.value.variable, caught.value.phase) == (variable, "build")


def test_target_variables_are_optional(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _app(tmp_path, monkeypatch)
    env = {k: v for k, v in _detect_env(tmp_path).items() if not k.startswith("CNB_TARGET_")}
    assert DetectContext.from_env(env).target == Target("", "")


def test_target_from_env_and_describe() -> None:
    assert Target.from_env(TARGET_ENV).describe() == "linux/arm64/v8 (ubuntu 24.04)"
    assert Target.from_env({"CNB_TARGET_OS": "linux", "CNB_TARGET_ARCH": "amd64"}).describe() == (
        "linux/amd64"
    )
    assert Target("linux", "amd64", distro_name="debian").describe() == "linux/amd64 (debian)"
