"""Layers: ``<layers>/<name>/`` plus ``<layers>/<name>.toml``, with typed metadata.

Layer metadata is a frozen dataclass whose fields are ``str``, ``int``, ``bool`` or
``tuple[str, ...]``. Decoding is strict: a missing, unknown or mistyped key makes the
restored metadata invalid, and an invalid layer is discarded. Every field takes part in the
keep-or-discard decision, so adding a field can never be forgotten there.

One leniency is the lifecycle's doing: it keeps ``[metadata]`` as JSON between builds, where
every number is a float64, so an ``int`` written as ``1`` is restored as ``1.0``
(buildpacks/lifecycle#884). An integral float is taken for an ``int``; no other float is.

The lifecycle restores ``[metadata]`` but never ``[types]``, so a kept layer's TOML is
rewritten with its types on every build (:meth:`Layer.write`).
"""

from __future__ import annotations

import dataclasses
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Generic, Mapping, Optional, TypeVar, Union, get_origin

from python_cnb.cnb import toml_file
from python_cnb.cnb.validate import (
    SBOM_MEDIA_TYPES,
    SpecViolation,
    check_layer_name,
    check_sbom_file,
    validate_layer_toml,
)

M = TypeVar("M")


@dataclass(frozen=True)
class LayerTypes:
    """The ``[types]`` of a layer."""

    build: bool = False
    launch: bool = False
    cache: bool = False

    def to_toml(self) -> dict[str, bool]:
        """The ``[types]`` table."""
        return {"build": self.build, "launch": self.launch, "cache": self.cache}


# --- Why a restored layer was not kept: data, worded by the buildpack ---------------------


@dataclass(frozen=True)
class NewlyCreated:
    """Nothing was restored for the layer: it is new in this build."""


@dataclass(frozen=True)
class UnreadableMetadata:
    """The restored TOML could not be read or parsed."""

    detail: str
    """The parser's or the operating system's message."""


@dataclass(frozen=True)
class InvalidMetadata:
    """The restored ``[metadata]`` does not decode into the layer's metadata type (another
    buildpack version wrote it)."""

    unknown: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    mistyped: Optional[tuple[str, str]] = None
    """``(key, expected type)`` of the first value of the wrong type."""


@dataclass(frozen=True)
class FieldChanged:
    """A field of the key changed since the layer was made."""

    label: str
    before: object
    after: object


@dataclass(frozen=True)
class ContentsMissing:
    """The metadata was restored but the directory was not."""


@dataclass(frozen=True)
class Unfinished:
    """The directory exists without its TOML: an earlier build did not finish the layer."""


@dataclass(frozen=True)
class CleanBuild:
    """The buildpack asked to discard whatever was restored."""


@dataclass(frozen=True)
class Rejected:
    """The layer's own check (``extra_reasons``) rejected it, with the buildpack's words."""

    reason: str


LayerCause = Union[
    NewlyCreated,
    UnreadableMetadata,
    InvalidMetadata,
    FieldChanged,
    ContentsMissing,
    Unfinished,
    CleanBuild,
    Rejected,
]
"""Why a layer starts empty. The spec package says what happened; the buildpack words it."""


class MetadataDecodeError(Exception):
    """Restored ``[metadata]`` that does not decode into the layer's metadata type."""

    def __init__(self, cause: InvalidMetadata) -> None:
        super().__init__(cause)
        self.cause = cause


def encode_metadata(metadata: Any) -> dict[str, Any]:
    """A metadata dataclass as a TOML table (tuples become arrays)."""
    return {
        f.name: list(value) if isinstance(value, tuple) else value
        for f in dataclasses.fields(metadata)
        for value in (getattr(metadata, f.name),)
    }


def _is_int(value: Any) -> bool:
    if isinstance(value, float):  # restored through JSON: 1 comes back as 1.0
        return value.is_integer()
    return isinstance(value, int) and not isinstance(value, bool)


_DECODERS: dict[str, Callable[[Any], bool]] = {
    "str": lambda v: isinstance(v, str),
    "int": _is_int,
    "bool": lambda v: isinstance(v, bool),
    "tuple[str, ...]": lambda v: isinstance(v, list) and all(isinstance(i, str) for i in v),
}


def _annotation(hint: Any) -> str:
    """A field's type as written: ``tuple[str, ...]`` whether or not annotations are strings."""
    if isinstance(hint, str):
        return hint
    if get_origin(hint) is not None:  # tuple[str, ...]: __name__ would be just "tuple"
        return str(hint)
    return str(getattr(hint, "__name__", hint))


def decode_metadata(metadata_type: type[M], raw: Mapping[str, Any]) -> M:
    """Decode a ``[metadata]`` table strictly into ``metadata_type``."""
    fields = {f.name: f for f in dataclasses.fields(metadata_type)}  # type: ignore[arg-type]
    unknown = sorted(set(raw) - set(fields))
    missing = sorted(set(fields) - set(raw))
    if unknown or missing:
        raise MetadataDecodeError(InvalidMetadata(tuple(unknown), tuple(missing)))
    values: dict[str, Any] = {}
    for name, spec in fields.items():
        annotation = _annotation(spec.type)
        check = _DECODERS.get(annotation)
        if check is None:  # pragma: no cover - a programming error in a metadata class
            raise TypeError(f"unsupported metadata field type {annotation!r} for {name}")
        if not check(raw[name]):
            raise MetadataDecodeError(InvalidMetadata(mistyped=(name, annotation)))
        value = raw[name]
        if isinstance(value, list):
            value = tuple(value)
        elif isinstance(value, float):  # an int field (checked above)
            value = int(value)
        values[name] = value
    return metadata_type(**values)


def changed_fields(old: Any, new: Any) -> list[FieldChanged]:
    """Every key field whose value differs between two metadata objects.

    A field declared with ``field(metadata={"invalidates": False})`` is recorded but is
    not part of the key (the layer's own code decides what a change in it means).
    """
    changes = []
    for f in dataclasses.fields(new):
        if not f.metadata.get("invalidates", True):
            continue
        before, after = getattr(old, f.name), getattr(new, f.name)
        if before != after:
            label = f.metadata.get("label", f.name.replace("_", " "))
            changes.append(FieldChanged(label, before, after))
    return changes


class Layer:
    """A layer of this buildpack: its directory, its TOML and its SBOM files."""

    def __init__(self, layers_dir: Path, name: str) -> None:
        problems = check_layer_name(name)
        if problems:
            raise SpecViolation(f"layer {name!r}", tuple(problems))
        self.name = name
        self.path = layers_dir / name
        self.toml_path = layers_dir / f"{name}.toml"

    def sbom_path(self, extension: str) -> Path:
        """``<layers>/<name>.sbom.<extension>``."""
        return self.path.parent / f"{self.name}.sbom.{extension}"

    def read_toml(self) -> Optional[dict[str, Any]]:
        """The layer's TOML as restored, or None when there is none."""
        if not self.toml_path.is_file():
            return None
        return toml_file.read(self.toml_path)

    def remove(self) -> None:
        """Delete the directory, the TOML and the SBOM files."""
        shutil.rmtree(self.path, ignore_errors=True)
        self.toml_path.unlink(missing_ok=True)
        for extension in SBOM_MEDIA_TYPES:
            self.sbom_path(extension).unlink(missing_ok=True)

    def reset(self) -> None:
        """Delete everything of the layer and create an empty directory."""
        self.remove()
        self.path.mkdir(parents=True)

    def invalidate(self) -> None:
        """Delete the TOML (not the contents) before changing a kept layer in place.

        A layer without TOML is never exported nor cached, so if the change fails half-way,
        nothing half-written can be reused by a later build.
        """
        self.toml_path.unlink(missing_ok=True)

    def write(self, types: LayerTypes, metadata: Any = None) -> None:
        """Validate and write ``<name>.toml``; call this only once the contents are complete."""
        if (types.cache or types.launch) and not self.path.is_dir():
            raise SpecViolation(
                f"layer {self.name!r}", ("a cache or launch layer needs its directory",)
            )
        data: dict[str, Any] = {"types": types.to_toml()}
        if metadata is not None:
            data["metadata"] = encode_metadata(metadata)
        validate_layer_toml(data)
        toml_file.write(self.toml_path, data)

    def write_sbom(self, extension: str, text: str, declared_media_types: tuple[str, ...]) -> None:
        """Write ``<name>.sbom.<extension>`` after checking buildpack.toml declares its type."""
        path = self.sbom_path(extension)
        problems = check_sbom_file(path.name, declared_media_types)
        if problems:
            raise SpecViolation(path.name, tuple(problems))
        toml_file.write_text_atomically(path, text)


@dataclass(frozen=True)
class LayerDecision(Generic[M]):
    """What happened to a cached layer at the start of a build."""

    layer: Layer
    reused: bool
    """True when the restored layer was kept as it is."""
    previous: Optional[M]
    """The restored metadata, when it could be decoded."""
    causes: tuple[LayerCause, ...]
    """Why the layer starts empty (empty when reused; ``NewlyCreated()`` alone when nothing
    was restored)."""

    @property
    def restored(self) -> bool:
        """Whether the lifecycle restored anything for this layer."""
        return self.reused or self.causes != (NewlyCreated(),)


def cached_layer(
    layers_dir: Path,
    name: str,
    *,
    types: LayerTypes,
    metadata: M,
    extra_reasons: Optional[Callable[[M, Layer], list[str]]] = None,
    keep: bool = True,
    before_discard: Optional[Callable[[Layer], None]] = None,
) -> LayerDecision[M]:
    """Keep the restored layer ``name`` if its metadata equals ``metadata``, else empty it.

    ``extra_reasons`` may reject a layer for reasons of its own, worded by the buildpack (a
    broken interpreter, say); ``keep=False`` discards whatever was restored (a clean build).
    ``before_discard`` is called before a restored layer is emptied (to stop whatever still
    reads it).
    A kept layer gets its TOML rewritten with ``types``; a discarded or new one is an empty
    directory with no TOML yet.
    """
    layer = Layer(layers_dir, name)
    raw = None
    causes: list[LayerCause] = []
    previous: Optional[M] = None
    try:
        raw = layer.read_toml()
    except (toml_file.TOMLDecodeError, OSError) as error:
        causes.append(UnreadableMetadata(str(error)))
    if raw is not None:
        try:
            previous = decode_metadata(type(metadata), raw.get("metadata", {}))
        except MetadataDecodeError as error:
            causes.append(error.cause)
        if previous is not None:
            causes += changed_fields(previous, metadata)
            if not layer.path.is_dir():
                causes.append(ContentsMissing())
            if not causes and extra_reasons is not None:
                causes += [Rejected(reason) for reason in extra_reasons(previous, layer)]
        if not keep:
            causes.append(CleanBuild())
    elif layer.path.exists() and not causes:
        causes.append(Unfinished())
    if raw is not None and not causes:
        layer.write(types, metadata)
        return LayerDecision(layer, True, previous, ())
    if before_discard is not None:
        before_discard(layer)
    layer.reset()
    return LayerDecision(layer, False, previous, tuple(causes) or (NewlyCreated(),))
