"""An unchanged rebuild puts back the previous build's result (python_cnb.replay): the same
image, byte for byte, as a full build; any changed input, damaged layer or record, or a
secret, and the build runs in full."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from python_cnb.cnb import toml_file
from tests.support.lifecycle import Lifecycle
from tests.support.servers import FileServer

REPLAYED = "[Reusing the previous build]"
IN_FULL = "Building in full: the previous build's result cannot be reused, since"


@pytest.fixture
def local_manifest(cpython_mirror: FileServer, tmp_path: Path) -> dict[str, str]:
    """The mirror's manifest as a file (as the buildpack's own list is), each ``uri`` on
    127.0.0.1: a manifest given by URL could change, so such builds are never replayed."""
    raw = toml_file.read(cpython_mirror.root / "manifest.toml")
    for entry in raw["dependencies"]:
        entry["uri"] = cpython_mirror.url(entry["uri"])
    path = tmp_path / "cpython-manifest.toml"
    toml_file.write(path, raw)
    return {"BP_CPYTHON_MANIFEST": str(path)}


def _image(lifecycle: Lifecycle) -> dict[str, object]:
    """The exported image's record: every layer's digest (the app's too) and metadata,
    the processes, the SBOM digests."""
    image: dict[str, object] = json.loads(lifecycle.workspace.image_metadata.read_text())
    return image


def _full_rebuild(lifecycle: Lifecycle, app: Path, env: dict[str, str]) -> str:
    """A rebuild of the same inputs that runs in full: the record is changed, so its
    digest is not the one the previous image names."""
    record = lifecycle.workspace.cache / "python-cnb_python" / "replay" / "record.json"
    record.write_bytes(record.read_bytes().replace(b'"format"', b' "format"', 1))
    result = lifecycle.build(app, env)
    assert f"{IN_FULL} its record is not the one the previous image names" in result.output
    return result.output


def test_an_unchanged_rebuild_makes_the_image_a_full_build_makes(
    lifecycle: Lifecycle, local_manifest: dict[str, str]
) -> None:
    app = lifecycle.app("flask-app")
    lifecycle.build(app, local_manifest)
    full = _image(lifecycle)

    result = lifecycle.build(app, local_manifest)
    assert REPLAYED in result.output, result.output
    assert "Installing dependencies" not in result.output
    assert "Python 3.12" in result.output.split("[Summary]")[1]
    assert _image(lifecycle) == full
    web = lifecycle.start()
    assert web.wait_for_http("/")[0] == 200
    web.stop()

    _full_rebuild(lifecycle, app, local_manifest)
    assert _image(lifecycle) == full
    assert REPLAYED in lifecycle.build(app, local_manifest).output  # recorded again


def _collected(lifecycle: Lifecycle) -> dict[str, bytes]:
    exported = lifecycle.workspace.root / "app" / "staticfiles"
    return {
        str(p.relative_to(exported)): p.read_bytes() for p in exported.rglob("*") if p.is_file()
    }


def test_a_django_apps_collected_static_files_are_put_back(
    lifecycle: Lifecycle, local_manifest: dict[str, str]
) -> None:
    app = lifecycle.app("django_app")
    lifecycle.build(app, local_manifest)
    full = _image(lifecycle)
    collected = _collected(lifecycle)
    assert "site.css" in collected

    result = lifecycle.build(app, local_manifest)
    assert REPLAYED in result.output, result.output
    assert "collectstatic" not in result.output
    assert _image(lifecycle) == full
    assert _collected(lifecycle) == collected


@pytest.mark.parametrize(
    ("change", "reason"),  # --env becomes the platform's env/ files, as pack makes them
    [
        ("app", "the app's files changed"),
        ("env", "the environment and the platform directory changed"),  # pack's --env
        ("binding", "the platform directory changed"),
    ],
)
def test_a_changed_input_is_named_and_built_in_full(
    lifecycle: Lifecycle, local_manifest: dict[str, str], change: str, reason: str
) -> None:
    app = lifecycle.app("flask-app")
    lifecycle.build(app, local_manifest)
    env = dict(local_manifest)
    if change == "app":
        (app / "notes.txt").write_text("a new file\n")
    elif change == "env":
        env["BP_PYTHON_ALLOW_EOL"] = "false"
    else:
        binding = lifecycle.workspace.platform / "bindings" / "company-ca"
        binding.mkdir(parents=True)
        (binding / "type").write_text("ca-certificates")
        (binding / "ca.pem").write_bytes(Path("/etc/ssl/certs/ca-certificates.crt").read_bytes())
    result = lifecycle.build(app, env)
    assert f"{IN_FULL} {reason}" in result.output, result.output
    assert "Installing dependencies" in result.output


def test_a_damaged_cached_layer_is_not_reused(
    lifecycle: Lifecycle, local_manifest: dict[str, str]
) -> None:
    app = lifecycle.app("flask-app")
    lifecycle.build(app, local_manifest)
    cached = lifecycle.workspace.cache / "python-cnb_python" / "venv"
    module = next(cached.glob("lib/python3*/site-packages/flask/__init__.py"))
    module.write_text(module.read_text() + "\nprint('injected')\n")

    result = lifecycle.build(app, local_manifest)
    assert f"{IN_FULL} its cached layer 'venv' changed" in result.output, result.output
    assert "Discarding cached virtualenv" in result.output
    assert "injected" not in next(lifecycle.site_packages().glob("flask/__init__.py")).read_text()


def test_a_changed_copy_of_the_result_is_not_put_back(
    lifecycle: Lifecycle, local_manifest: dict[str, str]
) -> None:
    """The record's digest comes from the image: a changed file in the copy fails the
    record's own digest of it; a record rewritten to match fails the image's."""
    app = lifecycle.app("flask-app")
    lifecycle.build(app, local_manifest)
    full = _image(lifecycle)
    store = lifecycle.workspace.cache / "python-cnb_python" / "replay" / "store"
    launch = store / "layers" / "launch.toml"
    launch.write_text(launch.read_text().replace("gunicorn", "sh"))

    result = lifecycle.build(app, local_manifest)
    assert f"{IN_FULL} its copy of the build's result is not the one it recorded" in (result.output)
    assert _image(lifecycle) == full


def test_a_build_with_a_secret_keeps_no_record(
    lifecycle: Lifecycle, local_manifest: dict[str, str]
) -> None:
    app = lifecycle.app("flask-app")
    env = {**local_manifest, "DEPLOY_API_TOKEN": "s3cr3t-value", "BP_LOG_LEVEL": "DEBUG"}
    first = lifecycle.build(app, env)
    assert "the build uses credentials" in first.output
    assert not (lifecycle.workspace.cache / "python-cnb_python" / "replay").exists()
    second = lifecycle.build(app, env)
    assert REPLAYED not in second.output
    assert "Using cached virtualenv" in second.output


def test_a_manifest_given_by_url_is_read_on_every_build(lifecycle: Lifecycle) -> None:
    app = lifecycle.app("flask-app")
    lifecycle.build(app, {"BP_LOG_LEVEL": "DEBUG"})
    result = lifecycle.build(app, {"BP_LOG_LEVEL": "DEBUG"})
    assert REPLAYED not in result.output
    assert "the CPython manifest is read from a URL" in result.output
