"""End to end: build, rebuild and launch a tiny POSIX sh buildpack with the runner."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Any, Optional

import pytest

from python_cnb.cnb import toml_file
from python_cnb_lifecycle.errors import BUILD_FAILED, EXPORT_FAILED, SPEC_VIOLATION
from python_cnb_lifecycle.launcher import RUN_IMAGE_PATH
from python_cnb_lifecycle.runner import DEFAULT_BUILDPACK, BuildResult, build, launch_spec
from python_cnb_lifecycle.workspace import Target, Workspace
from tests.unit.buildpacks import write_buildpack

BP = "test/demo"
BP_DIR = "test_demo"
TARGET = Target("linux", "amd64")
IMAGE_ENV = {"PATH": RUN_IMAGE_PATH, "HOME": "/nonexistent", "HOSTNAME": "builder"}

DETECT = """\
echo "detect: MY_VAR=${MY_VAR:-unset} args=$#"
if [ "${MODE:-}" = detect-writes-platform ]; then touch "$CNB_PLATFORM_DIR/oops"; fi
cat > "$CNB_BUILD_PLAN_PATH" <<'EOF'
[[provides]]
name = "demo"

[[requires]]
name = "demo"
[requires.metadata]
version = "1"
EOF
"""

BUILD = """\
L=$CNB_LAYERS_DIR
MODE=${MODE:-}
echo "build: MY_VAR=${MY_VAR:-unset} OP=${OP:-unset} args=$#"
env | sort | sed 's/^/env: /'
sed 's/^/plan: /' "$CNB_BP_PLAN_PATH"
for name in launchonly both cacheonly buildonly; do
  toml=no; dir=no; types=no
  if [ -f "$L/$name.toml" ]; then toml=yes; fi
  if [ -d "$L/$name" ]; then dir=yes; fi
  if [ -f "$L/$name.toml" ] && grep -q types "$L/$name.toml"; then types=yes; fi
  echo "restored $name: toml=$toml dir=$dir types=$types"
done
if [ -f "$L/both.toml" ]; then sed 's/^/both.toml: /' "$L/both.toml"; fi
if [ -f "$L/store.toml" ]; then sed 's/^/store.toml: /' "$L/store.toml"; fi

# launch-only: reused when its metadata came back (the dir must then not exist)
if [ -f "$L/launchonly.toml" ]; then
  echo "reusing launchonly"
else
  mkdir -p "$L/launchonly"
  printf '%s' "built by ${BUILD_NO:-1}" > "$L/launchonly/content"
fi
printf '[types]\\nlaunch = true\\n[metadata]\\nbuilt = "yes"\\n' > "$L/launchonly.toml"

# launch + cache: kept when restored
if [ -f "$L/both.toml" ] && [ -d "$L/both" ]; then
  echo "reusing both"
else
  rm -rf "$L/both"
  mkdir -p "$L/both/bin" "$L/both/env.launch"
  printf '#!/bin/sh\\necho "hello $GREETING"\\n' > "$L/both/bin/hello"
  chmod 755 "$L/both/bin/hello"
  printf 'world' > "$L/both/env.launch/GREETING.default"
fi
printf '[types]\\nlaunch = true\\ncache = true\\n[metadata]\\nversion = "1"\\n' > "$L/both.toml"

# cache-only: a file that grows with every build
mkdir -p "$L/cacheonly"
echo run >> "$L/cacheonly/runs"
printf '[types]\\ncache = true\\nbuild = true\\n' > "$L/cacheonly.toml"

# build-only
mkdir -p "$L/buildonly/bin"
printf '[types]\\nbuild = true\\n' > "$L/buildonly.toml"

# the lifecycle restores store.toml through JSON: the count comes back as a float
builds=$(sed -n 's/^builds = \\([0-9]*\\)\\.0$/\\1/p' "$L/store.toml" 2>/dev/null || true)
printf '[metadata]\\nbuilds = %s\\n' "$(( ${builds:-0} + 1 ))" > "$L/store.toml"

cat > "$L/launch.toml" <<'EOF'
[[processes]]
type = "web"
command = ["hello"]
default = true
EOF

case "$MODE" in
  fail)
    rm -rf "$L/both" "$L/launchonly"
    echo junk > "$L/junk"
    echo "failing on purpose"
    exit 7
    ;;
  fail-export)  # after launchonly was reused: zzz sorts last
    printf '[types]\\nlaunch = true\\ncache = true\\n' > "$L/zzz.toml"
    ;;
  write-buildpack-dir) touch "$CNB_BUILDPACK_DIR/oops" ;;
  write-platform-dir) touch "$CNB_PLATFORM_DIR/oops" ;;
  bad-types) printf 'types = 1\\n' > "$L/x.toml" ;;
  bad-unmet) printf 'unmet = [{}]\\n' > "$L/build.toml" ;;
esac
exit 0
"""


class Runner:
    """An app, the demo buildpack and a workspace, built as many times as needed."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.app = tmp_path / "app"
        self.app.mkdir()
        (self.app / "app.txt").write_text("the app")
        self.buildpack = write_buildpack(tmp_path / "buildpacks", BP, detect=DETECT, build=BUILD)
        self.ws = Workspace(tmp_path / "ws")

    def build(
        self,
        env: Optional[dict[str, str]] = None,
        image_env: Optional[dict[str, str]] = IMAGE_ENV,
        **kwargs: Any,
    ) -> BuildResult:
        return build(
            self.app,
            self.ws.root,
            env=env,
            buildpacks=kwargs.pop("buildpacks", [self.buildpack]),
            image_env=image_env,
            target=TARGET,
            **kwargs,
        )

    def layers(self) -> Path:
        return self.ws.bp_layers(BP)


@pytest.fixture
def runner(tmp_path: Path) -> Runner:
    return Runner(tmp_path)


def _lines(output: str, prefix: str) -> list[str]:
    return [line[len(prefix) :] for line in output.splitlines() if line.startswith(prefix)]


def _env(output: str) -> dict[str, str]:
    pairs = (line.partition("=") for line in _lines(output, "env: "))
    shell = {"PWD", "OLDPWD", "SHLVL", "_"}  # what sh itself adds
    return {name: value for name, _, value in pairs if name not in shell}


def _snapshot(root: Path) -> dict[str, tuple[Any, ...]]:
    """Every entry under ``root``: type, mode, mtime and content."""
    result: dict[str, tuple[Any, ...]] = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        if path.is_symlink():
            content: Any = os.readlink(path)
        elif path.is_file():
            content = path.read_bytes()
        else:
            content = None
        result[path.relative_to(root).as_posix()] = (st.st_mode, st.st_mtime_ns, content)
    return result


def _state(ws: Workspace) -> tuple[Any, ...]:
    return (
        ws.image_metadata.read_bytes(),
        _snapshot(ws.layers),
        _snapshot(ws.cache),
        _snapshot(ws.app),
        _snapshot(ws.root / "sbom") if (ws.root / "sbom").exists() else None,
        sorted(p.name for p in ws.root.iterdir()),
    )


def _image(ws: Workspace) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(ws.image_metadata.read_text())
    return data


def _sha(image: dict[str, Any], layer: str) -> str:
    sha: str = image["buildpacks"][0]["layers"][layer]["sha"]
    return sha


# --- build and rebuild -------------------------------------------------------------------------


def test_first_build(runner: Runner) -> None:
    result = runner.build()
    assert result.error is None, result.output
    assert result.success and result.exit_code == 0
    assert list(result.timings) == ["detect", "restore", "build", "export"]
    assert all(seconds > 0 for seconds in result.timings.values())
    assert list(result.executables) == ["detect", "build"]  # the buildpack's share of each
    assert all(0 < result.executables[name] <= result.timings[name] for name in result.executables)
    assert _lines(result.output, "restored ") == [
        "launchonly: toml=no dir=no types=no",
        "both: toml=no dir=no types=no",
        "cacheonly: toml=no dir=no types=no",
        "buildonly: toml=no dir=no types=no",
    ]
    assert toml_file.loads("\n".join(_lines(result.output, "plan: "))) == {
        "entries": [{"name": "demo", "metadata": {"version": "1"}}]
    }
    image = _image(runner.ws)
    assert image == result.image
    [bp] = image["buildpacks"]
    assert (bp["id"], sorted(bp["layers"]), bp["store"]) == (
        BP,
        ["both", "launchonly"],
        {"metadata": {"builds": 1}},
    )
    assert bp["layers"]["both"]["types"] == {"launch": True, "build": False, "cache": True}
    assert bp["layers"]["both"]["metadata"] == {"version": "1"}
    assert image["default_process"] == "web"
    # the image's layers are exactly its launch layers; the cache has the cache layers
    assert sorted(p.name for p in runner.layers().iterdir()) == ["both", "launchonly"]
    assert (runner.layers() / "launchonly" / "content").read_text() == "built by 1"
    cache = json.loads(runner.ws.cache_metadata.read_text())
    assert sorted(cache["buildpacks"][0]["layers"]) == ["both", "cacheonly"]
    assert (runner.ws.cache / BP_DIR / "cacheonly" / "runs").read_text() == "run\n"
    assert (runner.ws.app / "app.txt").read_text() == "the app"
    assert sorted(p.name for p in runner.ws.root.iterdir()) == [
        "app",
        "build-config",
        "cache",
        "home",
        "image.json",
        "layers",
        "platform",
    ]


def test_rebuild_restores_layers_per_the_table(runner: Runner) -> None:
    first = runner.build()
    assert first.success, first.output
    second = runner.build(env={"BUILD_NO": "2"})
    assert second.success, second.output
    assert _lines(second.output, "restored ") == [
        "launchonly: toml=yes dir=no types=no",
        "both: toml=yes dir=yes types=no",
        "cacheonly: toml=yes dir=yes types=no",
        "buildonly: toml=no dir=no types=no",
    ]
    assert _lines(second.output, "both.toml: ") == ["[metadata]", 'version = "1"']
    assert _lines(second.output, "store.toml: ") == ["[metadata]", "builds = 1.0"]
    assert "reusing launchonly" in second.output.splitlines()
    assert "reusing both" in second.output.splitlines()
    assert "Reusing layer 'test/demo:launchonly'" in second.output.splitlines()
    # the reused launch-only layer is the first build's, with the same digest
    assert (runner.layers() / "launchonly" / "content").read_text() == "built by 1"
    assert _sha(second.image, "launchonly") == _sha(first.image, "launchonly")
    assert _sha(second.image, "both") == _sha(first.image, "both")
    assert second.image["buildpacks"][0]["store"] == {"metadata": {"builds": 2}}
    assert (runner.ws.cache / BP_DIR / "cacheonly" / "runs").read_text() == "run\nrun\n"
    assert not (runner.ws.root / ".previous-layers").exists()
    assert not (runner.ws.root / ".previous-app").exists()


def test_launch_the_built_image(runner: Runner) -> None:
    assert runner.build().success
    spec = launch_spec(runner.ws.root)
    both = runner.ws.layers.resolve() / BP_DIR / "both"
    assert (spec.executable, spec.argv) == (str(both / "bin" / "hello"), ("hello",))
    assert spec.process_type == "web"
    assert spec.cwd == runner.ws.app.resolve()
    assert spec.env["PATH"] == f"{both}/bin:{RUN_IMAGE_PATH}"
    assert spec.env["GREETING"] == "world"
    run = subprocess.run(
        list(spec.argv),
        executable=spec.executable,
        env=spec.env,
        cwd=spec.cwd,
        capture_output=True,
        text=True,
    )
    assert run.stdout == "hello world\n"
    assert launch_spec(runner.ws.root, env={"GREETING": "you"}).env["GREETING"] == "you"


# --- failures leave the previous image -------------------------------------------------------


def test_failing_build_leaves_the_previous_image(runner: Runner) -> None:
    assert runner.build().success
    assert runner.build(env={"BUILD_NO": "2"}).success  # a cache, a reused layer
    before = _state(runner.ws)
    (runner.app / "app.txt").write_text("changed app")
    result = runner.build(env={"MODE": "fail"})
    assert not result.success
    assert result.error is not None
    assert (result.exit_code, result.error.message) == (
        BUILD_FAILED,
        "test/demo build failed (exit 7)",
    )
    assert "failing on purpose" in result.output.splitlines()
    assert result.output.splitlines()[-1] == "ERROR: build: test/demo build failed (exit 7)"
    assert _state(runner.ws) == before


def test_failing_export_after_a_reuse_leaves_the_previous_image(runner: Runner) -> None:
    assert runner.build().success
    before = _state(runner.ws)
    result = runner.build(env={"MODE": "fail-export"})
    assert result.error is not None
    assert (result.exit_code, result.error.message) == (
        EXPORT_FAILED,
        "layer test/demo:zzz has cache=true but has no contents",
    )
    assert "Reusing layer 'test/demo:launchonly'" in result.output.splitlines()
    assert _state(runner.ws) == before


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("bad-types", "test/demo: x.toml: [types] must be a table"),
        ("bad-unmet", "test/demo: build.toml: unmet[0] needs a string 'name'"),
    ],
)
def test_malformed_output_is_a_violation_and_leaves_the_image(
    runner: Runner, mode: str, message: str
) -> None:
    assert runner.build().success
    before = _state(runner.ws)
    result = runner.build(env={"MODE": mode})
    assert result.error is not None
    assert (result.exit_code, result.error.message) == (SPEC_VIOLATION, message)
    assert _state(runner.ws) == before


def test_unexpected_error_leaves_the_previous_image(runner: Runner, tmp_path: Path) -> None:
    assert runner.build().success
    before = _state(runner.ws)
    runner.app = tmp_path / "no-such-app"
    with pytest.raises(FileNotFoundError):
        runner.build()
    assert _state(runner.ws) == before


def test_first_build_failing_leaves_no_image(runner: Runner) -> None:
    result = runner.build(env={"MODE": "fail"})
    assert result.exit_code == BUILD_FAILED
    assert list(result.timings) == ["detect", "restore", "build"]  # up to the failing phase
    assert not runner.ws.image_metadata.exists()
    assert not runner.ws.layers.exists()
    assert not runner.ws.cache.exists()


# --- read-only directories ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "where"),
    [
        ("write-buildpack-dir", "buildpack"),
        ("write-platform-dir", "platform"),
        ("detect-writes-platform", "platform"),
    ],
)
def test_writing_a_read_only_dir_is_a_violation(runner: Runner, mode: str, where: str) -> None:
    path = (
        runner.buildpack.resolve()
        if where == "buildpack"
        else runner.ws.root.resolve() / "platform"
    )
    result = runner.build(env={"MODE": mode})
    assert result.error is not None
    assert (result.exit_code, result.error.message) == (
        SPEC_VIOLATION,
        f"a buildpack wrote to the read-only {path}",
    )


# --- the build environment --------------------------------------------------------------------


def test_build_env_is_the_lifecycles_minimal_one(
    runner: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEAKY_HOST_VAR", "leak")
    monkeypatch.setenv("PYTHONPATH", "/host")
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "localhost")
    result = runner.build(image_env=None)
    assert result.success, result.output
    ws = runner.ws.root.resolve()
    env = _env(result.output)
    plan_path = env.pop("CNB_BP_PLAN_PATH")
    assert plan_path.endswith("/plan.toml")
    assert env == {
        "CNB_BUILDPACK_DIR": str(runner.buildpack.resolve()),
        "CNB_LAYERS_DIR": str(ws / "layers" / BP_DIR),
        "CNB_PLATFORM_DIR": str(ws / "platform"),
        "CNB_TARGET_ARCH": "amd64",
        "CNB_TARGET_OS": "linux",
        "HOME": str(ws / "home"),
        "HOSTNAME": socket.gethostname(),
        "NO_PROXY": "localhost",
        "PATH": RUN_IMAGE_PATH,
    }
    assert _lines(result.output, "build: ") == ["MY_VAR=unset OP=unset args=0"]
    assert _lines(result.output, "detect: ") == ["MY_VAR=unset args=0"]


def test_platform_and_operator_env_reach_detect_and_build(runner: Runner) -> None:
    result = runner.build(
        env={"MY_VAR": "from platform", "PATH": "/opt/platform/bin", "HOME": "/platform-home"},
        build_config_env={"OP": "operator", "MY_VAR": "operator", "HOSTNAME": "op"},
    )
    assert result.success, result.output
    assert _lines(result.output, "detect: ") == ["MY_VAR=from platform args=0"]
    assert _lines(result.output, "build: ") == ["MY_VAR=from platform OP=operator args=0"]
    env = _env(result.output)
    assert env["PATH"] == f"/opt/platform/bin:{RUN_IMAGE_PATH}"
    assert env["HOME"] == "/platform-home"
    assert env["HOSTNAME"] == "builder"
    assert (runner.ws.platform / "env" / "MY_VAR").read_text() == "from platform"


def test_clear_env_buildpack_gets_no_platform_env(runner: Runner, tmp_path: Path) -> None:
    clear = write_buildpack(
        tmp_path / "clear", BP, detect=DETECT, build=BUILD, buildpack={"clear-env": True}
    )
    result = runner.build(
        env={"MY_VAR": "from platform"}, build_config_env={"OP": "operator"}, buildpacks=[clear]
    )
    assert result.success, result.output
    assert _lines(result.output, "build: ") == ["MY_VAR=unset OP=operator args=0"]


def test_later_buildpacks_get_earlier_build_layers(runner: Runner, tmp_path: Path) -> None:
    first = write_buildpack(
        tmp_path / "more",
        "test/first",
        build=(
            'mkdir -p "$CNB_LAYERS_DIR/tools/bin" "$CNB_LAYERS_DIR/tools/env.build"\n'
            'printf /opt/tools > "$CNB_LAYERS_DIR/tools/env.build/TOOL_HOME"\n'
            "printf '[types]\\nbuild = true\\n' > \"$CNB_LAYERS_DIR/tools.toml\"\n"
            'echo "first: TOOL_HOME=${TOOL_HOME:-unset}"\n'
        ),
    )
    second = write_buildpack(
        tmp_path / "more",
        "test/second",
        build='echo "second: TOOL_HOME=${TOOL_HOME:-unset} PATH=$PATH"\n',
    )
    result = runner.build(buildpacks=[first, second])
    assert result.success, result.output
    tools = runner.ws.root.resolve() / "layers" / "test_first" / "tools"
    assert _lines(result.output, "first: ") == ["TOOL_HOME=unset"]
    assert _lines(result.output, "second: ") == [
        f"TOOL_HOME=/opt/tools PATH={tools}/bin:{RUN_IMAGE_PATH}"
    ]


# --- layer metadata round-trips through JSON, as in the real lifecycle ------------------------

INT_METADATA_BUILD = """\
import os, sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, {src!r})
from python_cnb.cnb.layers import LayerTypes, cached_layer

@dataclass(frozen=True)
class Counter:
    layout: int
    name: str

layers = Path(os.environ["CNB_LAYERS_DIR"])
toml = layers / "counter.toml"
if toml.is_file():
    for line in toml.read_text().splitlines():
        print("restored: " + line)
decision = cached_layer(
    layers, "counter", types=LayerTypes(launch=True, cache=True), metadata=Counter(1, "c")
)
if decision.reused:
    print("Using cached counter")
else:
    print("Building counter: " + ", ".join(type(c).__name__ for c in decision.causes))
    (decision.layer.path / "count").write_text("1")
    decision.layer.write(LayerTypes(launch=True, cache=True), Counter(1, "c"))
"""


def test_an_int_metadata_field_survives_the_json_round_trip(runner: Runner, tmp_path: Path) -> None:
    """A metadata dataclass with an int field: restored as 1.0, as the lifecycle does, and
    still reused by python-cnb's strict decoding."""
    import sys

    src = Path(__file__).resolve().parents[2] / "src"
    buildpack = write_buildpack(
        tmp_path / "python-bp",
        "test/int-metadata",
        build=f'exec {sys.executable} -I "$CNB_BUILDPACK_DIR/build.py"\n',
    )
    (buildpack / "build.py").write_text(INT_METADATA_BUILD.format(src=str(src)))
    first = runner.build(buildpacks=[buildpack])
    assert first.success, first.output
    assert "Building counter: NewlyCreated" in first.output.splitlines()
    second = runner.build(buildpacks=[buildpack])
    assert second.success, second.output
    assert _lines(second.output, "restored: ") == ["[metadata]", "layout = 1.0", 'name = "c"']
    assert "Using cached counter" in second.output.splitlines()


# --- robustness: what the real lifecycle shrugs off --------------------------------------------


def test_an_app_with_file_names_that_are_not_utf8(runner: Runner) -> None:
    """R-1: names from a Latin-1 archive are valid on Linux; the export digests them."""
    (runner.app / os.fsdecode(b"caf\xe9.py")).write_text("print('hi')")
    (runner.app / os.fsdecode(b"d\xe9r")).mkdir()
    (runner.app / os.fsdecode(b"d\xe9r") / "mod.py").write_text("")
    result = runner.build()
    assert result.success, result.output
    assert (runner.ws.app / os.fsdecode(b"caf\xe9.py")).read_text() == "print('hi')"
    assert runner.build().success


@pytest.mark.parametrize(
    "garbage",
    [
        "{not json",
        "",
        "[]",
        '{"buildpacks": 1}',
        '{"buildpacks": [{"layers": {}}]}',
        '{"buildpacks": [{"id": "test/demo", "layers": {"both": {"sha": 1}}}]}',
        '{"buildpacks": [{"id": "test/demo", "layers": {"both": {"types": []}}}]}',
    ],
)
@pytest.mark.parametrize("which", ["cache", "image"])
def test_garbage_metadata_is_ignored_as_the_lifecycle_does(
    runner: Runner, which: str, garbage: str
) -> None:
    """R-2: the lifecycle ignores a cache metadata file or an image label it cannot decode
    (volume_cache.go RetrieveMetadata, analyzer.go "continue even if the label cannot be
    decoded"); the build goes on as if there were none, and the next one is normal."""
    assert runner.build().success
    path = runner.ws.cache_metadata if which == "cache" else runner.ws.image_metadata
    path.write_text(garbage)
    result = runner.build()
    assert result.success, result.output
    restored = _lines(result.output, "restored ")
    if which == "cache":  # nothing cached: only the launch-only layer's metadata comes back
        assert restored[:3] == [
            "launchonly: toml=yes dir=no types=no",
            "both: toml=no dir=no types=no",
            "cacheonly: toml=no dir=no types=no",
        ]
    else:  # no image: cache-only layers come back, and launch+cache ones from the cache
        assert restored[:3] == [
            "launchonly: toml=no dir=no types=no",
            "both: toml=yes dir=yes types=no",
            "cacheonly: toml=yes dir=yes types=no",
        ]
    again = runner.build()
    assert again.success, again.output
    assert _lines(again.output, "restored ")[:3] == [
        "launchonly: toml=yes dir=no types=no",
        "both: toml=yes dir=yes types=no",
        "cacheonly: toml=yes dir=yes types=no",
    ]


def test_a_cached_layer_lost_from_the_cache_is_rebuilt(runner: Runner) -> None:
    """R-2: the cache kept a layer's metadata but lost its contents: a warning, and the
    buildpack sees the metadata without the directory (and rebuilds the layer)."""
    assert runner.build().success
    shutil.rmtree(runner.ws.cache / BP_DIR / "both")
    result = runner.build()
    assert result.success, result.output
    assert "Warning: Skipping restore for layer test/demo:both: failed to find cache layer" in (
        result.output
    )
    assert "both: toml=yes dir=no types=no" in _lines(result.output, "restored ")
    assert "reusing both" not in result.output.splitlines()
    assert (runner.ws.cache / BP_DIR / "both" / "bin" / "hello").is_file()


def test_the_default_buildpack_is_this_checkout() -> None:
    """`python -m python_cnb_lifecycle build APP` with no --buildpack builds with this repo."""
    assert (DEFAULT_BUILDPACK / "buildpack.toml").is_file()
    assert (DEFAULT_BUILDPACK / "src" / "python_cnb_lifecycle").is_dir()
