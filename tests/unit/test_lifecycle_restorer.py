"""The restorer: the "Layer Types" restoration table (cnb-contract.md section 3)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Optional

import pytest

from python_cnb.cnb import toml_file
from python_cnb_lifecycle.restorer import restore
from python_cnb_lifecycle.workspace import Buildpack, Workspace
from tests.unit.buildpacks import load

BP = "bp/a"
BP_DIR = "bp_a"
SHA = "sha256:" + "1" * 64
OTHER_SHA = "sha256:" + "2" * 64


def _types(launch: bool = False, build: bool = False, cache: bool = False) -> dict[str, bool]:
    return {"launch": launch, "build": build, "cache": cache}


def _layer(types: dict[str, bool], metadata: dict[str, Any], sha: str = SHA) -> dict[str, Any]:
    return {"sha": sha, "types": types, "metadata": metadata}


class Restore:
    """A workspace with a previous image (metadata) and a cache (metadata and contents)."""

    def __init__(self, tmp_path: Path) -> None:
        self.ws = Workspace(tmp_path / "ws")
        self.ws.root.mkdir()
        self.buildpacks: list[Buildpack] = [load(tmp_path / "bps", BP)]
        self.image_layers: dict[str, Any] = {}
        self.cache_layers: dict[str, Any] = {}
        self.log: list[str] = []

    def image(self, name: str, layer: dict[str, Any], sbom: Optional[str] = None) -> None:
        self.image_layers[name] = layer
        if sbom is not None:
            path = self.ws.root / "sbom" / "launch" / BP_DIR / f"{name}.sbom.cdx.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(sbom)

    def cache(self, name: str, layer: dict[str, Any], sbom: Optional[str] = None) -> None:
        self.cache_layers[name] = layer
        contents = self.ws.cache / BP_DIR / name
        (contents / "bin").mkdir(parents=True)
        (contents / "bin" / "tool").write_text(f"cached {name}")
        if sbom is not None:
            (self.ws.cache / BP_DIR / f"{name}.sbom.cdx.json").write_text(sbom)

    def run(self) -> Path:
        def metadata(layers: dict[str, Any]) -> Optional[dict[str, Any]]:
            if not layers:
                return None
            return {"buildpacks": [{"id": "bp/other", "layers": {}}, {"id": BP, "layers": layers}]}

        restore(
            self.buildpacks,
            self.ws,
            metadata(self.image_layers),
            metadata(self.cache_layers),
            self.log,
        )
        return self.ws.bp_layers(BP)


@pytest.fixture
def r(tmp_path: Path) -> Restore:
    return Restore(tmp_path)


def _tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): ("<dir>" if p.is_dir() else p.read_text())
        for p in sorted(root.rglob("*"))
    }


def test_nothing_to_restore(r: Restore) -> None:
    layers = r.run()
    assert layers.is_dir()
    assert _tree(layers) == {}
    assert r.log == []


def test_launch_only_restores_metadata_from_the_image(r: Restore) -> None:
    r.image("web", _layer(_types(launch=True), {"version": "1"}), sbom='{"image": 1}')
    layers = r.run()
    assert _tree(layers) == {
        "web.sbom.cdx.json": '{"image": 1}',
        "web.toml": '[metadata]\nversion = "1"\n',
    }
    assert toml_file.read(layers / "web.toml") == {"metadata": {"version": "1"}}
    assert r.log == ["Restoring metadata for bp/a:web from app image\n"]


def test_launch_cache_with_matching_sha_restores_metadata_and_contents(r: Restore) -> None:
    both = _types(launch=True, cache=True)
    r.image("deps", _layer(both, {"from": "image"}))
    r.cache("deps", _layer(both, {"from": "cache"}), sbom='{"cache": 1}')
    layers = r.run()
    assert _tree(layers) == {
        "deps": "<dir>",
        "deps/bin": "<dir>",
        "deps/bin/tool": "cached deps",
        "deps.sbom.cdx.json": '{"cache": 1}',
        "deps.toml": '[metadata]\nfrom = "image"\n',
    }
    assert r.log == ["Restoring data for bp/a:deps from cache\n"]


def test_launch_build_cache_restores_like_launch_cache(r: Restore) -> None:
    all_types = _types(launch=True, build=True, cache=True)
    r.image("deps", _layer(all_types, {"v": 1}))
    r.cache("deps", _layer(all_types, {"v": 1}))
    layers = r.run()
    assert sorted(_tree(layers)) == ["deps", "deps.toml", "deps/bin", "deps/bin/tool"]


def test_launch_cache_with_wrong_sha_restores_nothing(r: Restore) -> None:
    both = _types(launch=True, cache=True)
    r.image("deps", _layer(both, {"v": 1}, sha=SHA), sbom="{}")
    r.cache("deps", _layer(both, {"v": 1}, sha=OTHER_SHA), sbom="{}")
    layers = r.run()
    assert _tree(layers) == {}
    assert r.log == ["Removing bp/a:deps, wrong sha\n"]


def test_launch_cache_missing_from_the_image_is_restored_from_the_cache(r: Restore) -> None:
    """Platform API 0.14: cached launch layers are restored even when missing from the image."""
    r.cache("deps", _layer(_types(launch=True, cache=True), {"from": "cache"}))
    layers = r.run()
    assert _tree(layers)["deps.toml"] == '[metadata]\nfrom = "cache"\n'
    assert _tree(layers)["deps/bin/tool"] == "cached deps"


def test_launch_cache_missing_from_the_cache_restores_nothing(r: Restore) -> None:
    """All or nothing: no metadata either, so the buildpack recreates the layer."""
    r.image("deps", _layer(_types(launch=True, cache=True), {"v": 1}), sbom="{}")
    layers = r.run()
    assert _tree(layers) == {}


def test_launch_cache_not_marked_cache_in_the_cache_restores_nothing(r: Restore) -> None:
    r.image("deps", _layer(_types(launch=True, cache=True), {"v": 1}))
    r.cache("deps", _layer(_types(launch=True), {"v": 1}))
    layers = r.run()
    assert _tree(layers) == {}


def test_cache_only_restores_from_the_cache(r: Restore) -> None:
    r.cache("pip-cache", _layer(_types(cache=True), {"v": 2}), sbom='{"c": 1}')
    r.cache("tools", _layer(_types(build=True, cache=True), {}))
    layers = r.run()
    assert _tree(layers) == {
        "pip-cache": "<dir>",
        "pip-cache/bin": "<dir>",
        "pip-cache/bin/tool": "cached pip-cache",
        "pip-cache.sbom.cdx.json": '{"c": 1}',
        "pip-cache.toml": "[metadata]\nv = 2.0\n",
        "tools": "<dir>",
        "tools/bin": "<dir>",
        "tools/bin/tool": "cached tools",
        "tools.toml": "",
    }
    assert r.log == [
        "Restoring data for bp/a:pip-cache from cache\n",
        "Restoring data for bp/a:tools from cache\n",
    ]


def test_launch_build_without_cache_restores_nothing(r: Restore) -> None:
    """The lifecycle: "marked as build=true, cache=false", the buildpack always recreates it."""
    r.image("venv", _layer(_types(launch=True, build=True), {"v": 1}), sbom="{}")
    layers = r.run()
    assert _tree(layers) == {}
    assert r.log == []


def test_build_only_restores_nothing(r: Restore) -> None:
    r.cache("tools", _layer(_types(build=True), {"v": 1}))
    layers = r.run()
    assert _tree(layers) == {}


def test_types_are_never_restored(r: Restore) -> None:
    r.image("web", _layer(_types(launch=True), {"v": 1}))
    r.cache("deps", _layer(_types(launch=True, cache=True), {"v": 2}))
    r.cache("c", _layer(_types(cache=True), {}))
    layers = r.run()
    for name in ("web", "deps", "c"):
        assert "types" not in toml_file.read(layers / f"{name}.toml")
    assert toml_file.read(layers / "c.toml") == {}


def test_every_buildpack_gets_a_layers_dir(tmp_path: Path, r: Restore) -> None:
    r.buildpacks.append(load(tmp_path / "bps", "bp/b"))
    r.image("web", _layer(_types(launch=True), {}))
    r.run()
    assert sorted(p.name for p in r.ws.layers.iterdir()) == ["bp_a", "bp_b"]
    assert list((r.ws.layers / "bp_b").iterdir()) == []


def test_store_toml_comes_from_the_image_only(r: Restore) -> None:
    image = {"buildpacks": [{"id": BP, "layers": {}, "store": {"metadata": {"runs": 2}}}]}
    cache = {"buildpacks": [{"id": BP, "layers": {}, "store": {"metadata": {"runs": 9}}}]}
    restore(r.buildpacks, r.ws, image, None, r.log)
    layers = r.ws.bp_layers(BP)
    assert _tree(layers) == {"store.toml": "[metadata]\nruns = 2.0\n"}
    (layers / "store.toml").unlink()
    restore(r.buildpacks, r.ws, None, cache, r.log)
    assert _tree(layers) == {}


def test_metadata_comes_back_as_go_decodes_json(r: Restore) -> None:
    """The lifecycle keeps [metadata] as JSON (image label, cache metadata, analyzed.toml)
    and decodes it into ``any``: every number becomes a float64, which BurntSushi/toml
    writes as ``1.0`` (buildpacks/lifecycle#884). Strings, booleans and tables stay."""
    metadata = {
        "layout": 1,
        "big": 2**53 + 1,
        "ratio": 0.5,
        "pinned": True,
        "name": "x",
        "list": [1, "a", False],
        "table": {"count": 3},
    }
    r.image("web", _layer(_types(launch=True), metadata))
    r.cache("deps", _layer(_types(launch=True, cache=True), metadata))
    layers = r.run()
    expected = {
        "layout": 1.0,
        "big": 9007199254740992.0,
        "ratio": 0.5,
        "pinned": True,
        "name": "x",
        "list": [1.0, "a", False],
        "table": {"count": 3.0},
    }
    for name in ("web", "deps"):
        restored = toml_file.read(layers / f"{name}.toml")["metadata"]
        assert restored == expected
        assert type(restored["layout"]) is float and type(restored["table"]["count"]) is float
        assert "layout = 1.0" in (layers / f"{name}.toml").read_text().splitlines()


def test_cached_layer_missing_from_the_cache_keeps_its_metadata_and_warns(r: Restore) -> None:
    """The cache lost a layer's contents but kept its metadata: the lifecycle warns
    ("Skipping restore for layer ...": a cache read error) and goes on; the buildpack sees
    the metadata without the directory."""
    r.cache("pip-cache", _layer(_types(cache=True), {"v": "1"}))
    both = _types(launch=True, cache=True)
    r.image("deps", _layer(both, {"v": "2"}))
    r.cache("deps", _layer(both, {"v": "2"}))
    for name in ("pip-cache", "deps"):
        shutil.rmtree(r.ws.cache / BP_DIR / name)
    layers = r.run()
    assert _tree(layers) == {
        "deps.toml": '[metadata]\nv = "2"\n',
        "pip-cache.toml": '[metadata]\nv = "1"\n',
    }
    missing = f"failed to find cache layer with SHA '{SHA}'\n"
    assert r.log == [
        "Restoring data for bp/a:deps from cache\n",
        f"Warning: Skipping restore for layer bp/a:deps: {missing}",
        "Restoring data for bp/a:pip-cache from cache\n",
        f"Warning: Skipping restore for layer bp/a:pip-cache: {missing}",
    ]
