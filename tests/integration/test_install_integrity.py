"""The venv holds what the app's requirement files say, from where they say, verified.

Two local indexes serve ``tinypkg 1.0`` with different contents (tests/support/indexes.py):
the platform's ``PIP_INDEX_URL`` names the "public" one, the app's own files name the
"private" one (on a fixed port, so the fixture files are literal, as in a real app). Which
one was installed is read back by importing the package in the launched image."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from tests.conftest import CACHE
from tests.support.assertions import assert_one_error_block
from tests.support.indexes import TwoIndexes, installed_origin, origin_wheel, two_indexes
from tests.support.lifecycle import Lifecycle
from tests.support.wheels import sha256_of

pytestmark = pytest.mark.integration

PIP = {"BP_PYTHON_INSTALLER": "pip"}
ENGINES = [pytest.param({}, id="uv"), pytest.param(PIP, id="pip")]
PRIVATE_PORT = 3152
"""The fixtures' requirement files name http://127.0.0.1:3152/simple/."""


@pytest.fixture
def indexes(tmp_path: Path, package_index: str) -> Iterator[TwoIndexes]:
    with two_indexes(tmp_path / "indexes", CACHE / "index", PRIVATE_PORT) as served:
        yield served


def _public(indexes: TwoIndexes) -> dict[str, str]:
    return {"PIP_INDEX_URL": indexes.public.url}


@pytest.mark.parametrize("engine", ENGINES)
def test_index_url_in_requirements_txt_is_where_packages_come_from(
    lifecycle: Lifecycle, indexes: TwoIndexes, engine: dict[str, str]
) -> None:
    result = lifecycle.build(lifecycle.app("index_url_option"), {**_public(indexes), **engine})
    assert installed_origin(lifecycle) == "private 1.0"
    assert f"Package index: {indexes.private.url} (from requirements.txt line 2)" in result.output


@pytest.mark.parametrize("engine", ENGINES)
def test_extra_index_url_in_requirements_txt_reaches_the_install(
    lifecycle: Lifecycle, indexes: TwoIndexes, engine: dict[str, str]
) -> None:
    lifecycle.build(lifecycle.app("extra_index_url_option"), {**_public(indexes), **engine})
    assert installed_origin(lifecycle, "privonly") == "private 1.0"


@pytest.mark.parametrize("engine", ENGINES)
def test_find_links_in_an_included_file_reach_the_install(
    lifecycle: Lifecycle, indexes: TwoIndexes, engine: dict[str, str]
) -> None:
    app = lifecycle.app("find_links_option")
    origin_wheel(app / "wheels", "app", version="1.1")
    lifecycle.build(app, {**_public(indexes), **engine})
    assert installed_origin(lifecycle) == "app 1.1"


@pytest.mark.parametrize("engine", ENGINES)
def test_a_partly_hashed_file_is_refused_as_pip_refuses_it(
    lifecycle: Lifecycle, indexes: TwoIndexes, engine: dict[str, str]
) -> None:
    result = lifecycle.build(
        lifecycle.app("partial_hashes"), {**_public(indexes), **engine}, expect_success=False
    )
    block = assert_one_error_block(result, "Requirements without hashes in hash-checking mode")
    assert "gunicorn==27.0.1" in block
    assert "tinypkg" not in block.split("\n\n")[1]  # only the unhashed one is listed


@pytest.mark.parametrize("engine", ENGINES)
def test_a_wrong_hash_fails_naming_the_package_and_both_digests(
    lifecycle: Lifecycle, indexes: TwoIndexes, engine: dict[str, str]
) -> None:
    result = lifecycle.build(
        lifecycle.app("wrong_hash"), {**_public(indexes), **engine}, expect_success=False
    )
    block = assert_one_error_block(result, "Hash mismatch for tinypkg==1.0")
    assert "0" * 64 in block
    assert sha256_of(indexes.public_files / "tinypkg-1.0-py3-none-any.whl") in block


def test_a_local_path_outside_the_app_is_refused(lifecycle: Lifecycle) -> None:
    result = lifecycle.build(lifecycle.app("outside_paths"), expect_success=False)
    block = assert_one_error_block(result, "A requirement installs from outside the app")
    assert '"-e /opt/elsewhere/mylib"' in block and "Line 1 of requirements.txt" in block


def test_a_vendor_directory_outside_the_app_is_refused(lifecycle: Lifecycle) -> None:
    result = lifecycle.build(
        lifecycle.app("flask-app"), {"BP_PIP_DEST_PATH": "../../.."}, expect_success=False
    )
    block = assert_one_error_block(result, "BP_PIP_DEST_PATH is outside the app")
    assert '"../../.."' in block


@pytest.mark.parametrize("engine", ENGINES)
def test_what_pip_accepts_builds_with_either_engine(
    lifecycle: Lifecycle, engine: dict[str, str]
) -> None:
    """A Latin-1 comment, ``${VAR}`` in a version specifier and a ``\\`` at the end of the
    file: ``pip install -r`` takes all three, uv's own parser none."""
    app = lifecycle.app("pip_accepts_uv_refuses")
    origin_wheel(app / "wheels", "app", version="2.0")
    lifecycle.build(app, {"TINY_VERSION": "2.0", **engine})
    assert installed_origin(lifecycle) == "app 2.0"
