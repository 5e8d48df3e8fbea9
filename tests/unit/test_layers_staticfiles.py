"""The staticfiles layer on its own: what a result may hold, and when a cached one is not used.

collectstatic's runs through this layer are tested in test_django.py; these tests write the
layer's records directly, as a damaged or hand-made cache would have them.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from python_cnb.layers.staticfiles import (
    BLOBS,
    LAYOUT,
    RESULT,
    SOURCES,
    CachedStaticFiles,
    StaticFilesMetadata,
    StaticResult,
    Tree,
    cacheable,
    prepare_static_files,
    restore_static_files,
    save_static_files,
    snapshot_tree,
)
from python_cnb.support.digests import file_sha256
from tests.support.contexts import build_context, write_app

METADATA = StaticFilesMetadata(
    layout=LAYOUT,
    buildpack_version="0.1.0",
    python_version="3.12.1",
    python_checksum="0" * 64,
    os="linux",
    arch="amd64",
    distro_name="ubuntu",
    distro_version="24.04",
    django_version="5.1",
    manage_py="manage.py",
    sources="sources",
    packages="packages",
    distributions=("django==5.1",),
    environment="environment",
    environment_names=("PATH",),
)
CSS = "body { color: red; }\n"


def _collected(tmp_path: Path) -> tuple[CachedStaticFiles, Path, Tree]:
    """A first build's layer after a run that wrote ``staticfiles/site.css``."""
    ctx = build_context(tmp_path)
    app = write_app(tmp_path, {"manage.py": "# manage.py\n"})
    sources = snapshot_tree(app)
    cached = prepare_static_files(ctx, METADATA, sources, keep_cache=True)
    (app / "staticfiles").mkdir()
    (app / "staticfiles" / "site.css").write_text(CSS, encoding="utf-8")
    result = StaticResult.between(sources, snapshot_tree(app))
    save_static_files(cached, app, sources, result)
    return cached, app, sources


def _prepare_again(tmp_path: Path, sources: Tree) -> CachedStaticFiles:
    return prepare_static_files(build_context(tmp_path), METADATA, sources, keep_cache=True)


def _blob(cached: CachedStaticFiles) -> Path:
    (blob,) = (cached.layer.path / BLOBS).iterdir()
    return blob


def test_an_unchanged_rebuild_reuses_the_result(tmp_path: Path) -> None:
    cached, _, sources = _collected(tmp_path)
    again = _prepare_again(tmp_path, sources)
    assert again.result is not None
    assert again.result.files() == [("staticfiles/site.css", file_sha256(_blob(cached)))]


def test_a_missing_blob_discards_the_result(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cached, _, sources = _collected(tmp_path)
    _blob(cached).unlink()
    capsys.readouterr()
    assert _prepare_again(tmp_path, sources).result is None
    assert capsys.readouterr().out == (
        "Discarding cached static files since:\n"
        "  - The cached copy of staticfiles/site.css is missing\n"
    )
    assert not (cached.layer.path / RESULT).exists()  # emptied for the run that follows


@pytest.mark.parametrize("path", ["", ".", "/etc/passwd", "../outside", "staticfiles/../../x"])
def test_a_record_naming_no_path_inside_the_app_is_not_used(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], path: str
) -> None:
    """The record is data: a path that is empty, the app itself or outside it is refused
    before anything is removed or written."""
    cached, _, sources = _collected(tmp_path)
    record = json.loads((cached.layer.path / RESULT).read_text(encoding="utf-8"))
    record["removed"] = [path]
    (cached.layer.path / RESULT).write_text(json.dumps(record), encoding="utf-8")
    capsys.readouterr()
    assert _prepare_again(tmp_path, sources).result is None
    assert capsys.readouterr().out == (
        "Discarding cached static files since:\n"
        f"  - Its record of the static files names a path outside the app: {path!r}\n"
    )


def test_changed_sources_without_their_record_still_give_a_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without the record of the app's files (an older or damaged layer), the reason cannot
    name the files, but still says what changed."""
    cached, _, sources = _collected(tmp_path)
    (cached.layer.path / SOURCES).write_text("not json", encoding="utf-8")
    capsys.readouterr()
    changed = dataclasses.replace(METADATA, sources="other")
    decision = prepare_static_files(build_context(tmp_path), changed, sources, keep_cache=True)
    assert decision.result is None
    assert capsys.readouterr().out == (
        "Discarding cached static files since:\n  - The app's files changed\n"
    )


def test_a_result_that_wrote_nothing_is_not_cached() -> None:
    """Nothing to write back: a cached "nothing" would skip a run that may write next time."""
    assert not cacheable(StaticResult({}, ("staticfiles/old.css",)))
    assert cacheable(StaticResult({"staticfiles": ("d", 0o755, "")}, ()))


def test_an_entry_that_cannot_be_written_back_is_not_cached() -> None:
    written = {"staticfiles": ("d", 0o755, ""), "staticfiles/fifo": ("o", 0o644, "")}
    assert not cacheable(StaticResult(written, ()))


def test_restoring_a_directory_replaces_a_link_in_its_place(tmp_path: Path) -> None:
    """The source may have a symbolic link where the run had made a directory: restoring
    writes into a directory of the app, never through the link to wherever it points."""
    _, app, sources = _collected(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (app / "staticfiles" / "site.css").unlink()
    (app / "staticfiles").rmdir()
    (app / "staticfiles").symlink_to(outside)
    again = _prepare_again(tmp_path, sources)
    restore_static_files(again, app)
    assert not (app / "staticfiles").is_symlink()
    assert (app / "staticfiles" / "site.css").read_text(encoding="utf-8") == CSS
    assert list(outside.iterdir()) == []
