"""Layers: strict metadata, the keep-or-discard decision, and the layer's files."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from python_cnb.cnb import toml_file
from python_cnb.cnb.layers import (
    CleanBuild,
    ContentsMissing,
    FieldChanged,
    InvalidMetadata,
    Layer,
    LayerDecision,
    LayerTypes,
    MetadataDecodeError,
    NewlyCreated,
    Rejected,
    Unfinished,
    UnreadableMetadata,
    cached_layer,
    changed_fields,
    decode_metadata,
    encode_metadata,
)
from python_cnb.cnb.validate import SpecViolation

CDX = "application/vnd.cyclonedx+json"
LAUNCH = LayerTypes(launch=True)
LAUNCH_CACHE = LayerTypes(launch=True, cache=True)


@dataclass(frozen=True)
class Meta:
    version: str
    size: int
    pinned: bool
    files: tuple[str, ...]
    built_at: str = field(default="", metadata={"invalidates": False})
    checksum: str = field(default="", metadata={"label": "download checksum"})


META = Meta(version="3.12.1", size=3, pinned=True, files=("a", "b"))
RAW = {
    "version": "3.12.1",
    "size": 3,
    "pinned": True,
    "files": ["a", "b"],
    "built_at": "",
    "checksum": "",
}


# --- encode / decode ---------------------------------------------------------------------------


def test_encode_metadata_turns_tuples_into_arrays() -> None:
    assert encode_metadata(META) == RAW
    assert isinstance(encode_metadata(META)["files"], list)


def test_decode_metadata_round_trips_through_toml() -> None:
    text = toml_file.dumps({"metadata": encode_metadata(META)})
    assert decode_metadata(Meta, toml_file.loads(text)["metadata"]) == META


def test_decode_metadata_makes_tuples() -> None:
    decoded = decode_metadata(Meta, RAW)
    assert decoded.files == ("a", "b")
    assert isinstance(decoded.files, tuple)


def test_decode_metadata_unknown_and_missing_keys() -> None:
    raw = {**RAW, "extra": 1, "other": 2}
    del raw["size"]
    with pytest.raises(MetadataDecodeError) as caught:
        decode_metadata(Meta, raw)
    assert caught.value.cause == InvalidMetadata(unknown=("extra", "other"), missing=("size",))
    with pytest.raises(MetadataDecodeError) as caught:
        decode_metadata(Meta, {**RAW, "extra": 1})
    assert caught.value.cause == InvalidMetadata(unknown=("extra",))
    with pytest.raises(MetadataDecodeError) as caught:
        decode_metadata(Meta, {k: v for k, v in RAW.items() if k not in ("files", "pinned")})
    assert caught.value.cause == InvalidMetadata(missing=("files", "pinned"))


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("version", 3, "str"),
        ("size", True, "int"),
        ("size", "3", "int"),
        ("size", 3.5, "int"),
        ("size", float("inf"), "int"),
        ("size", float("nan"), "int"),
        ("pinned", 1, "bool"),
        ("files", ["a", 1], "tuple[str, ...]"),
        ("files", "ab", "tuple[str, ...]"),
    ],
)
def test_decode_metadata_mistyped(key: str, value: object, expected: str) -> None:
    with pytest.raises(MetadataDecodeError) as caught:
        decode_metadata(Meta, {**RAW, key: value})
    assert caught.value.cause == InvalidMetadata(mistyped=(key, expected))


def test_decode_metadata_takes_an_integral_float_for_an_int() -> None:
    """The real lifecycle keeps [metadata] as JSON, where every number is a float64: an
    ``int`` written as ``3`` comes back as ``3.0`` (buildpacks/lifecycle#884)."""
    decoded = decode_metadata(Meta, {**RAW, "size": 3.0})
    assert decoded == META
    assert type(decoded.size) is int


def test_cached_layer_kept_when_the_lifecycle_restored_an_int_as_a_float(tmp_path: Path) -> None:
    layer = _restore(tmp_path, {**RAW, "size": 3.0})
    assert "size = 3.0" in layer.toml_path.read_text().splitlines()
    decision = cached_layer(tmp_path, "python", types=LAUNCH_CACHE, metadata=META)
    assert (decision.reused, decision.previous, decision.causes) == (True, META, ())
    assert toml_file.read(layer.toml_path)["metadata"]["size"] == 3  # written back as an int


def test_decode_metadata_with_evaluated_annotations() -> None:
    """A metadata class whose annotations are real types, not strings (no future import)."""
    evaluated = dataclasses.make_dataclass(
        "Evaluated", [("name", str), ("count", int), ("items", tuple[str, ...])], frozen=True
    )
    decoded: object = decode_metadata(evaluated, {"name": "n", "count": 1, "items": ["x"]})
    assert decoded == evaluated(name="n", count=1, items=("x",))
    with pytest.raises(MetadataDecodeError) as caught:
        decode_metadata(evaluated, {"name": "n", "count": 1, "items": [1]})
    assert caught.value.cause == InvalidMetadata(mistyped=("items", "tuple[str, ...]"))


# --- changed_fields ------------------------------------------------------------------------


def test_changed_fields_one_change_per_field() -> None:
    new = dataclasses.replace(META, version="3.13.0", size=4, pinned=False, files=("c",))
    assert changed_fields(META, new) == [
        FieldChanged("version", "3.12.1", "3.13.0"),
        FieldChanged("size", 3, 4),
        FieldChanged("pinned", True, False),
        FieldChanged("files", ("a", "b"), ("c",)),
    ]


def test_changed_fields_none_when_equal() -> None:
    assert changed_fields(META, dataclasses.replace(META)) == []


def test_changed_fields_ignores_non_invalidating_fields() -> None:
    assert changed_fields(META, dataclasses.replace(META, built_at="2024-01-01")) == []


def test_changed_fields_uses_the_label() -> None:
    old = dataclasses.replace(META, checksum="sha256:" + "a" * 64)
    new = dataclasses.replace(META, checksum="sha256:" + "b" * 64)
    assert changed_fields(old, new) == [
        FieldChanged("download checksum", "sha256:" + "a" * 64, "sha256:" + "b" * 64)
    ]


# --- Layer ---------------------------------------------------------------------------------------


def test_layer_paths(tmp_path: Path) -> None:
    layer = Layer(tmp_path, "python")
    assert layer.name == "python"
    assert layer.path == tmp_path / "python"
    assert layer.toml_path == tmp_path / "python.toml"
    assert layer.sbom_path("cdx.json") == tmp_path / "python.sbom.cdx.json"
    assert layer.read_toml() is None


@pytest.mark.parametrize("name", ["launch", "a/b", "x.ignore"])
def test_layer_refuses_bad_names(tmp_path: Path, name: str) -> None:
    with pytest.raises(SpecViolation) as caught:
        Layer(tmp_path, name)
    assert caught.value.file == f"layer {name!r}"


def test_write_types_and_metadata(tmp_path: Path) -> None:
    layer = Layer(tmp_path, "python")
    layer.path.mkdir()
    layer.write(LAUNCH_CACHE, META)
    assert toml_file.read(layer.toml_path) == {
        "types": {"build": False, "launch": True, "cache": True},
        "metadata": RAW,
    }
    assert layer.read_toml() == toml_file.read(layer.toml_path)


def test_write_without_metadata(tmp_path: Path) -> None:
    layer = Layer(tmp_path, "python")
    layer.path.mkdir()
    layer.write(LayerTypes(build=True))
    assert layer.toml_path.read_text(encoding="utf-8") == (
        "[types]\nbuild = true\nlaunch = false\ncache = false\n"
    )


def test_write_build_only_layer_needs_no_directory(tmp_path: Path) -> None:
    layer = Layer(tmp_path, "tools")
    layer.write(LayerTypes(build=True))
    assert toml_file.read(layer.toml_path) == {
        "types": {"build": True, "launch": False, "cache": False}
    }


@pytest.mark.parametrize("types", [LAUNCH, LayerTypes(cache=True), LayerTypes(True, True, True)])
def test_write_refuses_launch_or_cache_without_directory(tmp_path: Path, types: LayerTypes) -> None:
    layer = Layer(tmp_path, "python")
    with pytest.raises(SpecViolation) as caught:
        layer.write(types, META)
    assert caught.value.file == "layer 'python'"
    assert caught.value.problems == ("a cache or launch layer needs its directory",)
    assert not layer.toml_path.exists()


def _populate(layer: Layer) -> None:
    (layer.path / "bin").mkdir(parents=True)
    (layer.path / "bin" / "python").write_text("x")
    layer.toml_path.write_text('[metadata]\nversion = "1"\n')
    for extension in ("cdx.json", "spdx.json", "syft.json"):
        layer.sbom_path(extension).write_text("{}")


def test_remove_deletes_everything_of_the_layer_only(tmp_path: Path) -> None:
    layer = Layer(tmp_path, "python")
    _populate(layer)
    (tmp_path / "other").mkdir()
    (tmp_path / "other.toml").write_text("")
    (tmp_path / "launch.sbom.cdx.json").write_text("{}")
    layer.remove()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "launch.sbom.cdx.json",
        "other",
        "other.toml",
    ]
    layer.remove()  # nothing left: no error


def test_reset_leaves_an_empty_directory(tmp_path: Path) -> None:
    layer = Layer(tmp_path, "python")
    _populate(layer)
    layer.reset()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["python"]
    assert list(layer.path.iterdir()) == []


def test_invalidate_deletes_only_the_toml(tmp_path: Path) -> None:
    layer = Layer(tmp_path, "python")
    _populate(layer)
    layer.invalidate()
    assert not layer.toml_path.exists()
    assert (layer.path / "bin" / "python").read_text() == "x"
    assert layer.sbom_path("cdx.json").exists()
    layer.invalidate()


def test_write_sbom(tmp_path: Path) -> None:
    layer = Layer(tmp_path, "python")
    layer.write_sbom("cdx.json", '{"bomFormat": "CycloneDX"}', (CDX,))
    assert layer.sbom_path("cdx.json").read_text() == '{"bomFormat": "CycloneDX"}'
    with pytest.raises(SpecViolation) as caught:
        layer.write_sbom("spdx.json", "{}", (CDX,))
    assert caught.value.problems == (
        "'python.sbom.spdx.json': media type application/spdx+json is not declared in sbom-formats",
    )
    assert not layer.sbom_path("spdx.json").exists()


# --- cached_layer --------------------------------------------------------------------------------


def _restore(tmp_path: Path, metadata: object, *, contents: bool = True) -> Layer:
    """What the restorer leaves: ``[metadata]`` only (never ``[types]``), maybe the contents."""
    layer = Layer(tmp_path, "python")
    toml_file.write(layer.toml_path, {"metadata": metadata})
    if contents:
        (layer.path / "bin").mkdir(parents=True)
        (layer.path / "bin" / "python").write_text("old")
    layer.sbom_path("cdx.json").write_text("{}")
    return layer


def _assert_discarded(layer: Layer) -> None:
    assert layer.path.is_dir()
    assert list(layer.path.iterdir()) == []
    assert not layer.toml_path.exists()
    assert not layer.sbom_path("cdx.json").exists()


def test_cached_layer_new(tmp_path: Path) -> None:
    decision = cached_layer(tmp_path, "python", types=LAUNCH_CACHE, metadata=META)
    assert decision == LayerDecision(decision.layer, False, None, (NewlyCreated(),))
    assert decision.layer.path == tmp_path / "python"
    assert not decision.restored
    assert decision.layer.path.is_dir()
    assert list(decision.layer.path.iterdir()) == []
    assert not decision.layer.toml_path.exists()


def test_cached_layer_kept(tmp_path: Path) -> None:
    layer = _restore(tmp_path, RAW)
    decision = cached_layer(tmp_path, "python", types=LAUNCH_CACHE, metadata=META)
    assert (decision.reused, decision.previous, decision.causes) == (True, META, ())
    assert decision.restored
    assert (layer.path / "bin" / "python").read_text() == "old"
    assert layer.sbom_path("cdx.json").exists()
    assert toml_file.read(layer.toml_path) == {
        "types": {"build": False, "launch": True, "cache": True},
        "metadata": RAW,
    }


def test_cached_layer_kept_despite_non_invalidating_change(tmp_path: Path) -> None:
    _restore(tmp_path, RAW)
    new = dataclasses.replace(META, built_at="today")
    decision = cached_layer(tmp_path, "python", types=LAUNCH_CACHE, metadata=new)
    assert decision.reused
    assert decision.previous == META
    assert toml_file.read(tmp_path / "python.toml")["metadata"]["built_at"] == "today"


def test_cached_layer_discarded_with_one_reason_per_changed_field(tmp_path: Path) -> None:
    layer = _restore(tmp_path, RAW)
    new = dataclasses.replace(META, version="3.13.0", files=("a",))
    decision = cached_layer(tmp_path, "python", types=LAUNCH_CACHE, metadata=new)
    assert (decision.reused, decision.previous) == (False, META)
    assert decision.causes == (
        FieldChanged("version", "3.12.1", "3.13.0"),
        FieldChanged("files", ("a", "b"), ("a",)),
    )
    assert decision.restored
    _assert_discarded(layer)


def test_cached_layer_unknown_keys(tmp_path: Path) -> None:
    layer = _restore(tmp_path, {**RAW, "python": "3.12"})
    decision = cached_layer(tmp_path, "python", types=LAUNCH_CACHE, metadata=META)
    assert (decision.reused, decision.previous) == (False, None)
    assert decision.causes == (InvalidMetadata(unknown=("python",)),)
    _assert_discarded(layer)


def test_cached_layer_missing_keys(tmp_path: Path) -> None:
    raw = {k: v for k, v in RAW.items() if k != "checksum"}
    layer = _restore(tmp_path, raw)
    decision = cached_layer(tmp_path, "python", types=LAUNCH_CACHE, metadata=META)
    assert decision.causes == (InvalidMetadata(missing=("checksum",)),)
    _assert_discarded(layer)


def test_cached_layer_without_metadata_table(tmp_path: Path) -> None:
    """The restorer writes an empty TOML when the layer had empty metadata."""
    layer = Layer(tmp_path, "python")
    layer.path.mkdir()
    layer.toml_path.write_text("")
    decision = cached_layer(tmp_path, "python", types=LAUNCH_CACHE, metadata=META)
    assert decision.causes == (
        InvalidMetadata(missing=("built_at", "checksum", "files", "pinned", "size", "version")),
    )


def test_cached_layer_mistyped_metadata(tmp_path: Path) -> None:
    _restore(tmp_path, {**RAW, "size": "3"})
    decision = cached_layer(tmp_path, "python", types=LAUNCH_CACHE, metadata=META)
    assert decision.causes == (InvalidMetadata(mistyped=("size", "int")),)


def test_cached_layer_unparseable_toml(tmp_path: Path) -> None:
    layer = _restore(tmp_path, RAW)
    layer.toml_path.write_text("[metadata\nversion = ")
    decision = cached_layer(tmp_path, "python", types=LAUNCH_CACHE, metadata=META)
    assert (decision.reused, decision.previous) == (False, None)
    assert decision.causes == (
        UnreadableMetadata("Expected ']' at the end of a table declaration (at line 1, column 10)"),
    )
    _assert_discarded(layer)


def test_cached_layer_metadata_without_contents(tmp_path: Path) -> None:
    layer = _restore(tmp_path, RAW, contents=False)
    decision = cached_layer(tmp_path, "python", types=LAUNCH_CACHE, metadata=META)
    assert (decision.reused, decision.previous) == (False, META)
    assert decision.causes == (ContentsMissing(),)
    _assert_discarded(layer)


def test_cached_layer_contents_without_metadata(tmp_path: Path) -> None:
    layer = Layer(tmp_path, "python")
    (layer.path / "bin").mkdir(parents=True)
    decision = cached_layer(tmp_path, "python", types=LAUNCH_CACHE, metadata=META)
    assert (decision.reused, decision.previous) == (False, None)
    assert decision.causes == (Unfinished(),)
    _assert_discarded(layer)


def test_cached_layer_keep_false(tmp_path: Path) -> None:
    layer = _restore(tmp_path, RAW)
    decision = cached_layer(tmp_path, "python", types=LAUNCH_CACHE, metadata=META, keep=False)
    assert (decision.reused, decision.previous) == (False, META)
    assert decision.causes == (CleanBuild(),)
    _assert_discarded(layer)


def test_cached_layer_keep_false_adds_to_other_reasons(tmp_path: Path) -> None:
    _restore(tmp_path, RAW)
    new = dataclasses.replace(META, size=5)
    decision = cached_layer(tmp_path, "python", types=LAUNCH_CACHE, metadata=new, keep=False)
    assert decision.causes == (FieldChanged("size", 3, 5), CleanBuild())


def test_cached_layer_keep_false_with_nothing_restored(tmp_path: Path) -> None:
    decision = cached_layer(tmp_path, "python", types=LAUNCH_CACHE, metadata=META, keep=False)
    assert (decision.reused, decision.causes, decision.restored) == (
        False,
        (NewlyCreated(),),
        False,
    )


def test_cached_layer_extra_reasons(tmp_path: Path) -> None:
    layer = _restore(tmp_path, RAW)
    calls: list[tuple[Meta, Path]] = []

    def broken(previous: Meta, restored: Layer) -> list[str]:
        calls.append((previous, restored.path))
        return ["Its interpreter does not start"]

    decision = cached_layer(
        tmp_path, "python", types=LAUNCH_CACHE, metadata=META, extra_reasons=broken
    )
    assert calls == [(META, tmp_path / "python")]
    assert decision.causes == (Rejected("Its interpreter does not start"),)
    assert decision.previous == META
    _assert_discarded(layer)


def test_cached_layer_extra_reasons_empty_keeps(tmp_path: Path) -> None:
    _restore(tmp_path, RAW)
    decision = cached_layer(
        tmp_path,
        "python",
        types=LAUNCH_CACHE,
        metadata=META,
        extra_reasons=lambda previous, restored: [],
    )
    assert decision.reused


def test_cached_layer_extra_reasons_not_asked_once_discarded(tmp_path: Path) -> None:
    _restore(tmp_path, RAW)
    calls: list[Meta] = []

    def extra(previous: Meta, restored: Layer) -> list[str]:
        calls.append(previous)
        return ["never"]

    new = dataclasses.replace(META, version="3.13.0")
    decision = cached_layer(
        tmp_path, "python", types=LAUNCH_CACHE, metadata=new, extra_reasons=extra
    )
    assert calls == []
    assert decision.causes == (FieldChanged("version", "3.12.1", "3.13.0"),)


def test_cached_layer_calls_before_discard_with_the_contents_still_there(tmp_path: Path) -> None:
    _restore(tmp_path, RAW)
    seen: list[list[str]] = []

    def before_discard(layer: Layer) -> None:
        seen.append(sorted(p.name for p in layer.path.iterdir()))

    kept = cached_layer(
        tmp_path, "python", types=LAUNCH_CACHE, metadata=META, before_discard=before_discard
    )
    assert kept.reused
    assert seen == []
    new = dataclasses.replace(META, version="3.13.0")
    discarded = cached_layer(
        tmp_path, "python", types=LAUNCH_CACHE, metadata=new, before_discard=before_discard
    )
    assert not discarded.reused
    assert seen == [["bin"]]
    _assert_discarded(discarded.layer)
