"""The exporter: launch layers into the image, cache layers into the cache, processes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional

import pytest

from python_cnb.cnb import NORMALIZED_MTIME
from python_cnb_lifecycle.builder import BuildOutput
from python_cnb_lifecycle.digest import digest
from python_cnb_lifecycle.errors import EXPORT_FAILED, LifecycleError
from python_cnb_lifecycle.exporter import export, merge_processes
from python_cnb_lifecycle.workspace import Buildpack, Workspace
from tests.unit.buildpacks import load

BP = "bp/a"
PREVIOUS_SHA = "sha256:" + "9" * 64


def _types(launch: bool = False, build: bool = False, cache: bool = False) -> dict[str, bool]:
    return {"launch": launch, "build": build, "cache": cache}


class Export:
    """A workspace after the build phase of one buildpack."""

    def __init__(self, tmp_path: Path) -> None:
        self.ws = Workspace(tmp_path / "ws")
        (self.ws.app / "src").mkdir(parents=True)
        (self.ws.app / "src" / "app.py").write_text("print('hi')")
        self.bp = load(tmp_path / "bps", BP)
        self.layers = self.ws.bp_layers(BP)
        self.layers.mkdir(parents=True)
        self.output = BuildOutput()
        self.log: list[str] = []

    def layer(
        self,
        name: str,
        types: dict[str, bool],
        metadata: Optional[dict[str, Any]] = None,
        *,
        contents: bool = True,
    ) -> Path:
        self.output.layer_types[name] = types
        self.output.layer_metadata[name] = metadata or {}
        (self.layers / f"{name}.toml").write_text("[types]\n")
        path = self.layers / name
        if contents:
            (path / "bin").mkdir(parents=True)
            (path / "bin" / "tool").write_text(name)
        return path

    def previous(self, name: str, content: str) -> dict[str, Any]:
        """A launch layer of the previous image, kept aside while the build runs."""
        path = self.ws.previous_layers / "bp_a" / name
        path.mkdir(parents=True)
        (path / "kept").write_text(content)
        return {
            "buildpacks": [
                {"id": BP, "layers": {name: {"sha": PREVIOUS_SHA, "types": _types(launch=True)}}}
            ]
        }

    def run(
        self, previous_image: Optional[dict[str, Any]] = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        return export([self.bp], self.ws, {BP: self.output}, previous_image, self.log)


@pytest.fixture
def e(tmp_path: Path) -> Export:
    return Export(tmp_path)


def _names(path: Path) -> list[str]:
    return sorted(p.relative_to(path).as_posix() for p in path.rglob("*"))


def test_launch_layer_is_added(e: Export) -> None:
    layer = e.layer("web", _types(launch=True), {"v": "1"})
    image, cache = e.run()
    sha = digest(layer)
    assert image == {
        "buildpacks": [
            {
                "id": BP,
                "version": "0.0.1",
                "api": "0.10",
                "layers": {
                    "web": {"sha": sha, "types": _types(launch=True), "metadata": {"v": "1"}}
                },
            }
        ],
        "processes": [],
        "default_process": None,
        "app_sha": digest(e.ws.app),
    }
    assert cache == {"buildpacks": [{"id": BP, "version": "0.0.1", "layers": {}}]}
    assert e.log == ["Adding layer 'bp/a:web'\n"]
    assert _names(e.layers) == ["web", "web/bin", "web/bin/tool"]


def test_mtimes_are_normalised(e: Export) -> None:
    e.layer("web", _types(launch=True))
    e.layer("deps", _types(launch=True, cache=True))
    e.layer("pip-cache", _types(cache=True))
    e.run()
    assert NORMALIZED_MTIME == 315532801  # 1980-01-01T00:00:01Z
    roots = [
        e.layers / "web",
        e.layers / "deps",
        e.ws.cache / "bp_a" / "deps",
        e.ws.cache / "bp_a" / "pip-cache",
        e.ws.app,
    ]
    for root in roots:
        for path in [root, *root.rglob("*")]:
            assert os.lstat(path).st_mtime == NORMALIZED_MTIME, path


def test_launch_cache_layer_goes_to_image_and_cache_with_one_sha(e: Export) -> None:
    layer = e.layer("deps", _types(launch=True, build=True, cache=True), {"v": 1})
    (e.layers / "deps.sbom.cdx.json").write_text('{"sbom": 1}')
    image, cache = e.run()
    sha = digest(layer)
    entry = {"sha": sha, "types": _types(True, True, True), "metadata": {"v": 1}}
    assert image["buildpacks"][0]["layers"] == {"deps": entry}
    assert cache["buildpacks"][0]["layers"] == {"deps": entry}
    assert _names(e.ws.cache) == [
        "bp_a",
        "bp_a/deps",
        "bp_a/deps.sbom.cdx.json",
        "bp_a/deps/bin",
        "bp_a/deps/bin/tool",
    ]
    assert (e.ws.root / "sbom" / "launch" / "bp_a" / "deps.sbom.cdx.json").read_text() == (
        '{"sbom": 1}'
    )
    assert e.log == ["Adding layer 'bp/a:deps'\n", "Adding cache layer 'bp/a:deps'\n"]


def test_launch_layer_without_dir_reuses_the_previous_image_layer(e: Export) -> None:
    e.layer("web", _types(launch=True), {"v": "2"}, contents=False)
    previous = e.previous("web", "from the previous image")
    image, _ = e.run(previous)
    assert image["buildpacks"][0]["layers"] == {
        "web": {"sha": PREVIOUS_SHA, "types": _types(launch=True), "metadata": {"v": "2"}}
    }
    assert (e.layers / "web" / "kept").read_text() == "from the previous image"
    assert e.log == ["Reusing layer 'bp/a:web'\n"]
    # the previous image stays intact until the whole build succeeded
    assert (e.ws.previous_layers / "bp_a" / "web" / "kept").read_text() == (
        "from the previous image"
    )


def test_launch_layer_without_dir_and_no_previous_layer_fails(e: Export) -> None:
    e.layer("web", _types(launch=True), contents=False)
    with pytest.raises(LifecycleError) as caught:
        e.run({"buildpacks": [{"id": BP, "layers": {}}]})
    assert (caught.value.phase, caught.value.code) == ("export", EXPORT_FAILED)
    assert caught.value.message == (
        "cannot reuse 'bp/a:web', previous image has no metadata for layer"
    )
    with pytest.raises(LifecycleError):
        e.run(None)


def test_launch_cache_layer_without_dir_fails(e: Export) -> None:
    e.layer("deps", _types(launch=True, cache=True), contents=False)
    with pytest.raises(LifecycleError) as caught:
        e.run(e.previous("deps", "x"))
    assert (caught.value.code, caught.value.message) == (
        EXPORT_FAILED,
        "layer bp/a:deps has cache=true but has no contents",
    )
    assert not e.ws.cache.exists()


def test_cache_only_layer_without_dir_is_skipped(e: Export) -> None:
    e.layer("pip-cache", _types(cache=True), contents=False)
    image, cache = e.run()
    assert image["buildpacks"][0]["layers"] == {}
    assert cache["buildpacks"][0]["layers"] == {}
    assert e.log == ["Warning: cache layer bp/a:pip-cache has no contents; not cached\n"]


def test_cache_only_layer_is_cached_and_pruned(e: Export) -> None:
    layer = e.layer("pip-cache", _types(build=True, cache=True), {"v": 3})
    sha = digest(layer)
    image, cache = e.run()
    assert image["buildpacks"][0]["layers"] == {}
    assert cache["buildpacks"][0]["layers"] == {
        "pip-cache": {"sha": sha, "types": _types(build=True, cache=True), "metadata": {"v": 3}}
    }
    assert (e.ws.cache / "bp_a" / "pip-cache" / "bin" / "tool").read_text() == "pip-cache"
    assert not (e.layers / "pip-cache").exists()


def test_only_launch_layers_are_left_in_layers(e: Export) -> None:
    e.layer("web", _types(launch=True))
    e.layer("tools", _types(build=True))
    e.layer("deps", _types(launch=True, cache=True))
    (e.layers / "junk.ignore").mkdir()
    (e.layers / "notoml").mkdir()
    for name in ("launch.toml", "build.toml", "store.toml", "web.sbom.cdx.json", "stray"):
        (e.layers / name).write_text("x")
    (e.layers / "link").symlink_to(e.layers / "web")
    e.run()
    assert sorted(p.name for p in e.layers.iterdir()) == ["deps", "web"]


def test_old_cache_is_replaced(e: Export) -> None:
    (e.ws.cache / "bp_a" / "old").mkdir(parents=True)
    e.layer("c", _types(cache=True))
    e.run()
    assert _names(e.ws.cache) == ["bp_a", "bp_a/c", "bp_a/c/bin", "bp_a/c/bin/tool"]
    assert not (e.ws.root / ".cache-next").exists()


def test_store_toml_is_recorded(e: Export) -> None:
    e.output.store = {"metadata": {"count": 1}}
    image, _ = e.run()
    assert image["buildpacks"][0]["store"] == {"metadata": {"count": 1}}


def _bp(tmp_path: Path, buildpack_id: str) -> Buildpack:
    return load(tmp_path / "more", buildpack_id)


def _launch(*processes: dict[str, Any]) -> BuildOutput:
    return BuildOutput(launch={"processes": list(processes)})


def test_processes_merge_with_the_last_default_winning(tmp_path: Path) -> None:
    a, b, c = _bp(tmp_path, "a"), _bp(tmp_path, "b"), _bp(tmp_path, "c")
    outputs = {
        "a": _launch(
            {"type": "web", "command": ["a-web"], "default": True},
            {"type": "worker", "command": ["a-worker"]},
        ),
        "b": _launch({"type": "worker", "command": ["b-worker"], "args": ["-q"]}),
        "c": _launch({"type": "api", "command": ["c-api"], "default": True}),
    }
    log: list[str] = []
    processes, default = merge_processes([a, b, c], outputs, log)
    assert processes == [
        {"type": "web", "command": ["a-web"], "default": True, "buildpack": "a"},
        {"type": "worker", "command": ["b-worker"], "args": ["-q"], "buildpack": "b"},
        {"type": "api", "command": ["c-api"], "default": True, "buildpack": "c"},
    ]
    assert default == "api"
    assert log == []


def test_redefining_the_default_without_default_leaves_no_default(tmp_path: Path) -> None:
    a, b = _bp(tmp_path, "a"), _bp(tmp_path, "b")
    outputs = {
        "a": _launch({"type": "web", "command": ["a"], "default": True}),
        "b": _launch({"type": "web", "command": ["b"], "default": False}),
    }
    log: list[str] = []
    processes, default = merge_processes([a, b], outputs, log)
    assert processes == [{"type": "web", "command": ["b"], "default": False, "buildpack": "b"}]
    assert default is None
    assert log == ["Warning: redefining the default process type 'web' without default\n"]


def test_export_records_the_merged_processes(e: Export) -> None:
    e.output.launch = {"processes": [{"type": "web", "command": ["x"], "default": True}]}
    image, _ = e.run()
    assert image["processes"] == [
        {"type": "web", "command": ["x"], "default": True, "buildpack": BP}
    ]
    assert image["default_process"] == "web"


def test_metadata_is_stored_as_the_lifecycle_stores_it_in_json(e: Export) -> None:
    """[metadata] goes into the image label and the cache metadata as JSON, as Go's
    encoding/json writes what BurntSushi/toml decoded: TOML dates and times become RFC 3339
    strings (a local one in the lifecycle's zone: UTC in a build container)."""
    import datetime as dt

    from python_cnb.cnb import toml_file

    metadata = toml_file.loads(
        "at = 1979-05-27T07:32:00.5+01:00\n"
        "utc = 1979-05-27T07:32:00Z\n"
        "local = 1979-05-27T07:32:00\n"
        "day = 1979-05-27\n"
        "clock = 07:32:00.250\n"
        "n = 1\n"
        "list = [1979-05-27]\n"
    )
    assert isinstance(metadata["day"], dt.date)
    e.layer("web", _types(launch=True, cache=True), metadata)
    image, cache = e.run()
    expected = {
        "at": "1979-05-27T07:32:00.5+01:00",
        "utc": "1979-05-27T07:32:00Z",
        "local": "1979-05-27T07:32:00Z",
        "day": "1979-05-27T00:00:00Z",
        "clock": "0000-01-01T07:32:00.25Z",
        "n": 1,
        "list": ["1979-05-27T00:00:00Z"],
    }
    assert image["buildpacks"][0]["layers"]["web"]["metadata"] == expected
    assert cache["buildpacks"][0]["layers"]["web"]["metadata"] == expected


def test_metadata_json_cannot_hold_is_an_export_error(e: Export) -> None:
    """Go's encoding/json refuses NaN and infinities (TOML allows them)."""
    e.layer("web", _types(launch=True), {"x": float("nan")})
    with pytest.raises(LifecycleError) as caught:
        e.run()
    assert (caught.value.code, caught.value.message) == (
        EXPORT_FAILED,
        "failed to encode the metadata of layer bp/a:web: json: unsupported value: NaN",
    )


def test_sbom_files_belong_to_the_layer_named_up_to_the_first_dot(e: Export) -> None:
    """bomfile.go: ``strings.SplitN(file, ".", 2)[0]`` names the layer; a file whose layer
    is not one of the buildpack's is skipped. So a dotted layer's SBOMs are dropped, or go
    to the layer named by the dotless prefix (last file in name order wins)."""
    e.layer("py", _types(launch=True, cache=True))
    e.layer("py.3", _types(launch=True, cache=True))
    e.layer("lone.1", _types(launch=True))
    for name, text in {
        "py.sbom.cdx.json": "py's cdx",
        "py.3.sbom.cdx.json": "py.3's cdx",
        "py.3.sbom.spdx.json": "py.3's spdx",
        "lone.1.sbom.cdx.json": "lone.1's cdx",
        "nolayer.sbom.cdx.json": "no layer",
    }.items():
        (e.layers / name).write_text(text)
    e.run()
    image_sboms = e.ws.root / "sbom" / "launch" / "bp_a"
    assert {p.name: p.read_text() for p in image_sboms.iterdir()} == {
        "py.sbom.cdx.json": "py's cdx",
        "py.sbom.spdx.json": "py.3's spdx",
    }
    cached = {p.name: p.read_text() for p in (e.ws.cache / "bp_a").glob("*.sbom.*")}
    assert cached == {"py.sbom.cdx.json": "py's cdx", "py.sbom.spdx.json": "py.3's spdx"}
