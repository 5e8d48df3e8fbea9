"""CPython manifests (the data file, buildpack.toml, BP_CPYTHON_MANIFEST) and dependency
mirrors."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest

from python_cnb.cnb import toml_file
from python_cnb.cnb.bindings import Binding, read_bindings
from python_cnb.config.settings import mirror_settings
from python_cnb.python import distributions as distributions_module
from python_cnb.python.distributions import (
    DATA_FILE,
    Distribution,
    EntryChecksumInvalid,
    EntryNotATable,
    EntrySizeInvalid,
    EntryVersionInvalid,
    EntryWithoutUri,
    InvalidManifest,
    InvalidMirror,
    ManifestProblem,
    ManifestTooLarge,
    ManifestUnreadable,
    NoDistributions,
    apply_mirror,
    find_mirror,
    for_target,
    load_distributions,
    load_manifest,
    parse_manifest,
)
from python_cnb.python.version import PythonVersion
from tests.support.servers import Fault, FileServer

REPO = Path(__file__).resolve().parents[2]
SHA = "a" * 64
SHA_B = "b" * 64
GITHUB = "https://github.com/astral-sh/python-build-standalone/releases/download/20251031"
URI = f"{GITHUB}/cpython-3.12.12%2B20251031-x86_64-unknown-linux-gnu-install_only.tar.gz"
V = PythonVersion.parse


def _dependency(version: str = "3.12.12", **fields: Any) -> dict[str, Any]:
    return {
        "id": "cpython",
        "name": "CPython",
        "version": version,
        "uri": URI,
        "checksum": f"sha256:{SHA}",
        "arch": "amd64",
        "os": "linux",
        **fields,
    }


def _problems(data: dict[str, Any]) -> tuple[ManifestProblem, ...]:
    with pytest.raises(InvalidManifest) as caught:
        parse_manifest(data, "manifest.toml")
    assert caught.value.source == "manifest.toml"
    return caught.value.problems


# --- manifests ---------------------------------------------------------------------------------


def test_paketo_metadata_dependencies() -> None:
    entry = _dependency(
        stacks=["*"],
        purl="pkg:generic/cpython@3.12.12",
        cpe="cpe:2.3:a:python:python:3.12.12:*:*:*:*:*:*:*",
        licenses=["PSF-2.0"],
        source="python-build-standalone 20251031",
        deprecation_date="2028-10-31T00:00:00Z",
    )
    assert parse_manifest({"metadata": {"dependencies": [entry]}}, "buildpack.toml") == (
        Distribution(
            version=V("3.12.12"),
            uri=URI,
            sha256=SHA,
            os="linux",
            arch="amd64",
            purl="pkg:generic/cpython@3.12.12",
            cpe="cpe:2.3:a:python:python:3.12.12:*:*:*:*:*:*:*",
            licenses=("PSF-2.0",),
            source="python-build-standalone 20251031",
        ),
    )


def test_dependencies_table() -> None:
    data = {
        "dependencies": [
            _dependency("3.12.12"),
            _dependency("3.13.9", arch="arm64", checksum=SHA_B),
        ]
    }
    assert parse_manifest(data, "m") == (
        Distribution(V("3.12.12"), URI, SHA, "linux", "amd64"),
        Distribution(V("3.13.9"), URI, SHA_B, "linux", "arm64"),
    )


def test_python_build_standalone_distributions() -> None:
    data = {
        "distributions": [
            {"version": "3.12.12", "url": URI, "sha256": SHA, "arch": "arm64"},
        ]
    }
    assert parse_manifest(data, "m") == (Distribution(V("3.12.12"), URI, SHA, "linux", "arm64"),)


def test_non_cpython_entries_are_skipped() -> None:
    data = {
        "metadata": {
            "dependencies": [
                _dependency(id="pip", version="25.0"),
                _dependency(id="pypy", version="not-a-version"),
                _dependency(id="python", version="3.11.14"),
                _dependency(version="3.12.12"),
            ]
        }
    }
    assert [str(d.version) for d in parse_manifest(data, "m")] == ["3.11.14", "3.12.12"]


def test_every_problem_is_listed_at_once() -> None:
    data = {
        "dependencies": [
            _dependency("3.12"),
            _dependency("3.12.12", uri=""),
            {k: v for k, v in _dependency("3.13.9").items() if k != "uri"},
            _dependency("3.14.0", checksum="sha256:1234"),
            _dependency("3.14.1", checksum=f"md5:{SHA}"),
            _dependency("3.14.2", checksum="G" * 64),
            "not a table",
            _dependency("3.11.14"),
        ]
    }
    assert _problems(data) == (
        EntryVersionInvalid(1, "3.12"),
        EntryWithoutUri(2, "3.12.12"),
        EntryWithoutUri(3, "3.13.9"),
        EntryChecksumInvalid(4, "3.14.0"),
        EntryChecksumInvalid(5, "3.14.1"),
        EntryChecksumInvalid(6, "3.14.2"),
        EntryNotATable(7),
    )


def test_missing_version() -> None:
    entry = {k: v for k, v in _dependency().items() if k != "version"}
    assert _problems({"dependencies": [entry]}) == (EntryVersionInvalid(1, None),)


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"dependencies": []},
        {"metadata": {}},
        {"metadata": {"dependencies": [_dependency(id="pip")]}},
    ],
)
def test_empty_manifest(data: dict[str, Any]) -> None:
    assert _problems(data) == (NoDistributions(),)


def test_upper_case_checksum_is_accepted_and_normalised() -> None:
    [distribution] = parse_manifest({"dependencies": [_dependency(checksum=SHA_B.upper())]}, "m")
    assert distribution.sha256 == SHA_B


def test_checksum_without_prefix_is_accepted() -> None:
    [distribution] = parse_manifest({"dependencies": [_dependency(checksum=SHA_B)]}, "m")
    assert distribution.sha256 == SHA_B


def test_relative_uris_against_a_path(tmp_path: Path) -> None:
    data = {
        "dependencies": [
            _dependency("3.12.12", uri="cpython-3.12.12.tar.gz"),
            _dependency("3.12.11", uri="../old/cpython-3.12.11.tar.gz"),
            _dependency("3.12.10", uri="https://elsewhere.test/cpython.tar.gz"),
            _dependency("3.12.9", uri="file:///srv/cpython.tar.gz"),
        ]
    }
    base = tmp_path / "mirror" / "manifest.toml"
    uris = [d.uri for d in parse_manifest(data, "m", str(base))]
    assert uris == [
        f"file://{tmp_path}/mirror/cpython-3.12.12.tar.gz",
        f"file://{tmp_path}/old/cpython-3.12.11.tar.gz",
        "https://elsewhere.test/cpython.tar.gz",
        "file:///srv/cpython.tar.gz",
    ]


@pytest.mark.parametrize(
    ("base", "uri", "expected"),
    [
        (
            "http://127.0.0.1:8000/mirror/manifest.toml",
            "cpython-3.12.12%2Bpyenv.tar.gz",
            "http://127.0.0.1:8000/mirror/cpython-3.12.12%2Bpyenv.tar.gz",
        ),
        (
            "https://mirror.test/a/b/manifest.toml",
            "../c/cpython.tar.gz",
            "https://mirror.test/a/c/cpython.tar.gz",
        ),
        ("https://mirror.test/a/manifest.toml", "/c/x.tar.gz", "https://mirror.test/c/x.tar.gz"),
        ("file:///srv/m/manifest.toml", "x.tar.gz", "file:///srv/m/x.tar.gz"),
    ],
)
def test_relative_uris_against_a_url(base: str, uri: str, expected: str) -> None:
    [distribution] = parse_manifest({"dependencies": [_dependency(uri=uri)]}, base, base)
    assert distribution.uri == expected


def test_relative_uris_stay_relative_without_a_base() -> None:
    [distribution] = parse_manifest({"dependencies": [_dependency(uri="x.tar.gz")]}, "m")
    assert distribution.uri == "x.tar.gz"


def _manifest_file(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "manifest.toml"
    toml_file.write(
        path,
        {
            "dependencies": [
                _dependency("3.12.12", uri="cpython-3.12.12.tar.gz"),
                _dependency("3.12.12", uri="cpython-3.12.12-arm64.tar.gz", arch="arm64"),
            ]
        },
    )
    return path


def test_load_manifest_from_a_path(tmp_path: Path) -> None:
    path = _manifest_file(tmp_path / "m")
    distributions = load_manifest(str(path), timeout=5)
    assert [d.uri for d in distributions] == [
        f"file://{tmp_path}/m/cpython-3.12.12.tar.gz",
        f"file://{tmp_path}/m/cpython-3.12.12-arm64.tar.gz",
    ]


def test_load_manifest_from_a_file_url(tmp_path: Path) -> None:
    path = _manifest_file(tmp_path / "m")
    distributions = load_manifest(path.as_uri(), timeout=5)
    assert [d.uri for d in distributions] == [
        f"file://{tmp_path}/m/cpython-3.12.12.tar.gz",
        f"file://{tmp_path}/m/cpython-3.12.12-arm64.tar.gz",
    ]


def test_load_manifest_over_http(tmp_path: Path) -> None:
    _manifest_file(tmp_path / "srv" / "cpython")
    with FileServer(tmp_path / "srv") as server:
        distributions = load_manifest(server.url("cpython/manifest.toml"), timeout=5)
        assert [d.uri for d in distributions] == [
            server.url("cpython/cpython-3.12.12.tar.gz"),
            server.url("cpython/cpython-3.12.12-arm64.tar.gz"),
        ]
        assert server.requests == [("/cpython/manifest.toml", 200)]


def test_unreadable_manifests(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text("[[dependencies]\n", encoding="utf-8")
    (tmp_path / "latin1.toml").write_bytes(b"# caf\xe9\n")
    missing = str(tmp_path / "missing.toml")
    for location in (missing, str(tmp_path / "bad.toml"), str(tmp_path / "latin1.toml")):
        with pytest.raises(InvalidManifest) as caught:
            load_manifest(location, timeout=5)
        assert caught.value.source == location
        [problem] = caught.value.problems
        assert isinstance(problem, ManifestUnreadable)
    with pytest.raises(InvalidManifest) as caught:
        load_manifest(Path(missing).as_uri(), timeout=5)
    assert isinstance(caught.value.problems[0], ManifestUnreadable)


def test_unreachable_manifest_over_http(tmp_path: Path) -> None:
    with FileServer(tmp_path) as server:
        server.faults["/flaky.toml"] = Fault(statuses=[503])
        for path in ("missing.toml", "flaky.toml"):
            with pytest.raises(InvalidManifest) as caught:
                load_manifest(server.url(path), timeout=5)
            assert caught.value.source == server.url(path)
            [problem] = caught.value.problems
            assert isinstance(problem, ManifestUnreadable)
            assert problem.detail.startswith("HTTP Error")


def test_for_target() -> None:
    distributions = (
        Distribution(V("3.12.12"), "a", SHA, "linux", "amd64"),
        Distribution(V("3.12.12"), "b", SHA, "linux", "arm64"),
        Distribution(V("3.13.9"), "c", SHA, "linux", "amd64"),
        Distribution(V("3.13.9"), "d", SHA, "darwin", "arm64"),
    )
    assert [d.uri for d in for_target(distributions, "linux", "amd64")] == ["a", "c"]
    assert [d.uri for d in for_target(distributions, "linux", "arm64")] == ["b"]
    assert for_target(distributions, "linux", "riscv64") == ()


def test_with_uri_keeps_everything_else() -> None:
    distribution = Distribution(V("3.12.12"), "a", SHA, "linux", "amd64", "p", "c", ("L",), "s")
    assert distribution.with_uri("b") == Distribution(
        V("3.12.12"), "b", SHA, "linux", "amd64", "p", "c", ("L",), "s"
    )


def test_load_distributions(tmp_path: Path) -> None:
    data_file = tmp_path / "cpython.toml"
    data_file.write_text(toml_file.dumps({"dependencies": [_dependency("3.13.9")]}))
    for unset in (None, ""):
        loaded = load_distributions(unset, 5, data_file=data_file)
        assert [str(d.version) for d in loaded] == ["3.13.9"]
    manifest = str(_manifest_file(tmp_path))
    assert [str(d.version) for d in load_distributions(manifest, 5, data_file=data_file)] == [
        "3.12.12",
        "3.12.12",
    ]
    data_file.write_text("")
    with pytest.raises(InvalidManifest) as caught:
        load_distributions(None, 5, data_file=data_file)
    assert caught.value.source == "python-cnb's cpython.toml"


# --- the buildpack's own list ------------------------------------------------------------------

SOURCE = REPO / "tools" / "data" / "cpython-distributions-all.toml"
"""The generator's input (a copy of the team's list of every python-build-standalone release)."""


def test_the_data_file_is_the_default_and_ships_with_the_package() -> None:
    assert DATA_FILE == REPO / "src" / "python_cnb" / "data" / "cpython.toml"
    assert load_distributions(None, 5) == parse_manifest(toml_file.read(DATA_FILE), "x")


def test_the_data_file_holds_every_release_of_the_source_with_its_checksum() -> None:
    source = toml_file.read(SOURCE)["distributions"]
    raw = toml_file.read(DATA_FILE)["dependencies"]
    assert len(source) == len(raw) == 178
    for entry in raw:
        assert re.fullmatch(r"sha256:[0-9a-f]{64}", entry["checksum"]), entry
    distributions = load_distributions(None, 5)
    assert {(str(d.version), d.arch, d.uri, d.sha256) for d in distributions} == {
        (e["version"], e["arch"], e["url"], e["sha256"]) for e in source
    }
    assert all(d.os == "linux" and d.purl and d.cpe and d.licenses for d in distributions)


def test_the_data_file_has_both_architectures_for_each_version() -> None:
    source = toml_file.read(SOURCE)["distributions"]
    distributions = load_distributions(None, 5)
    for arch in ("amd64", "arm64"):
        wanted = {e["version"] for e in source if e["arch"] == arch}
        offered = [str(d.version) for d in for_target(distributions, "linux", arch)]
        assert len(offered) == len(set(offered)) == len(wanted) == 89
        assert set(offered) == wanted
    lines = {d.version.line for d in distributions}
    assert lines == {"3.9", "3.10", "3.11", "3.12", "3.13", "3.14"}
    assert {"3.10.2", "3.10.7", "3.12.7", "3.12.0", "3.9.10"} <= {
        str(d.version) for d in distributions
    }


def test_buildpack_toml_shows_the_newest_patch_of_each_line() -> None:
    metadata = toml_file.read(REPO / "buildpack.toml")["metadata"]
    shown = parse_manifest({"metadata": metadata}, "buildpack.toml")
    everything = load_distributions(None, 5)
    assert len(shown) == 12
    assert set(shown) <= set(everything)
    for arch in ("amd64", "arm64"):
        newest: dict[str, PythonVersion] = {}
        for d in for_target(everything, "linux", arch):
            newest[d.version.line] = max(newest.get(d.version.line, d.version), d.version)
        assert sorted(d.version for d in for_target(shown, "linux", arch)) == sorted(
            newest.values()
        )
    assert {str(d.version) for d in shown} == {
        "3.9.25",
        "3.10.21",
        "3.11.16",
        "3.12.14",
        "3.13.15",
        "3.14.7",
    }


# --- mirrors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, URI),
        ({"BP_DEPENDENCY_MIRROR": ""}, URI),
        (
            {"BP_DEPENDENCY_MIRROR": "https://mirror.test/{originalHost}"},
            "https://mirror.test/github.com/astral-sh/python-build-standalone/releases/download/"
            "20251031/cpython-3.12.12%2B20251031-x86_64-unknown-linux-gnu-install_only.tar.gz",
        ),
        (
            {"BP_DEPENDENCY_MIRROR": " https://mirror.test/base/ "},
            "https://mirror.test/base/astral-sh/python-build-standalone/releases/download/"
            "20251031/cpython-3.12.12%2B20251031-x86_64-unknown-linux-gnu-install_only.tar.gz",
        ),
        (
            {"BP_DEPENDENCY_MIRROR": "https://user:pass@mirror.test:8443"},
            "https://user:pass@mirror.test:8443/astral-sh/python-build-standalone/releases/"
            "download/20251031/cpython-3.12.12%2B20251031-x86_64-unknown-linux-gnu-install_only"
            ".tar.gz",
        ),
        (
            {"BP_DEPENDENCY_MIRROR": "file:///mirror/{originalHost}"},
            "file:///mirror/github.com/astral-sh/python-build-standalone/releases/download/"
            "20251031/cpython-3.12.12%2B20251031-x86_64-unknown-linux-gnu-install_only.tar.gz",
        ),
        (
            {"BP_DEPENDENCY_MIRROR": "HTTPS://MIRROR.test/{originalHost}"},
            "https://MIRROR.test/github.com/astral-sh/python-build-standalone/releases/download/"
            "20251031/cpython-3.12.12%2B20251031-x86_64-unknown-linux-gnu-install_only.tar.gz",
        ),
    ],
)
def test_apply_mirror(env: dict[str, str], expected: str) -> None:
    assert apply_mirror(URI, mirror_settings(env), ()) == expected


def test_mirror_keeps_the_original_query() -> None:
    uri = "https://downloads.test/a%20b/c.tgz?token=x"
    env = {"BP_DEPENDENCY_MIRROR": "https://mirror.test/{originalHost}?ignored=1"}
    assert (
        apply_mirror(uri, mirror_settings(env), ())
        == "https://mirror.test/downloads.test/a%20b/c.tgz?token=x"
    )


def test_host_specific_mirror_beats_the_default() -> None:
    env = {
        "BP_DEPENDENCY_MIRROR": "https://default.test",
        "BP_DEPENDENCY_MIRROR_GITHUB_COM": "https://github-mirror.test/gh",
        "BP_DEPENDENCY_MIRROR_EXAMPLE_COM": "https://example-mirror.test",
    }
    assert find_mirror(URI, mirror_settings(env), ()) == (
        "BP_DEPENDENCY_MIRROR_GITHUB_COM",
        "https://github-mirror.test/gh",
    )
    assert apply_mirror(URI, mirror_settings(env), ()).startswith(
        "https://github-mirror.test/gh/astral-sh/"
    )
    assert find_mirror("https://other.test/x", mirror_settings(env), ()) == (
        "BP_DEPENDENCY_MIRROR",
        "https://default.test",
    )


@pytest.mark.parametrize(
    ("name", "host"),
    [
        ("BP_DEPENDENCY_MIRROR_MY__HOST_EXAMPLE_COM", "my-host.example.com"),
        ("BP_DEPENDENCY_MIRROR_a__b__c_test", "a-b-c.test"),
        ("BP_DEPENDENCY_MIRROR_LOCALHOST", "localhost"),
    ],
)
def test_host_names_in_variables(name: str, host: str) -> None:
    env = {name: "https://mirror.test"}
    assert find_mirror(f"https://{host}/x.tgz", mirror_settings(env), ()) == (
        name,
        "https://mirror.test",
    )
    assert find_mirror(f"https://{host.upper()}:8443/x.tgz", mirror_settings(env), ()) == (
        name,
        "https://mirror.test",
    )
    assert find_mirror("https://github.com/x.tgz", mirror_settings(env), ()) is None


def test_empty_host_specific_mirror_is_ignored() -> None:
    env = {"BP_DEPENDENCY_MIRROR_GITHUB_COM": " ", "BP_DEPENDENCY_MIRROR": "https://d.test"}
    assert find_mirror(URI, mirror_settings(env), ()) == ("BP_DEPENDENCY_MIRROR", "https://d.test")


@pytest.mark.parametrize(
    "mirror",
    [
        "http://127.0.0.1:8000/{originalHost}",
        "http://127.1.2.3/m",
        "http://localhost:8000",
        "http://LOCALHOST",
        "http://[::1]:8000/m",
    ],
)
def test_plain_http_mirror_on_loopback(mirror: str) -> None:
    uri = apply_mirror(URI, mirror_settings({"BP_DEPENDENCY_MIRROR": mirror}), ())
    assert uri.startswith(mirror.replace("/{originalHost}", "/github.com"))
    assert uri.endswith(
        "/astral-sh/python-build-standalone/releases/download/20251031/"
        "cpython-3.12.12%2B20251031-x86_64-unknown-linux-gnu-install_only.tar.gz"
    )


@pytest.mark.parametrize(
    "mirror",
    [
        "http://mirror.test/{originalHost}",
        "http://10.0.0.1/m",
        "http://127.0.0.1.evil.test/m",
        "http://localhost.evil.test/m",
        "http://[::2]/m",
        "ftp://mirror.test/m",
        "mirror.test/{originalHost}",
        "/srv/mirror",
        "https://[::1",
    ],
)
def test_invalid_mirror(mirror: str) -> None:
    with pytest.raises(InvalidMirror) as caught:
        apply_mirror(URI, mirror_settings({"BP_DEPENDENCY_MIRROR_GITHUB_COM": mirror}), ())
    assert (caught.value.setting, caught.value.value) == ("BP_DEPENDENCY_MIRROR_GITHUB_COM", mirror)


def _mirror_binding(platform: Path, name: str, entries: dict[str, str]) -> None:
    path = platform / "bindings" / name
    path.mkdir(parents=True)
    (path / "type").write_text("dependency-mirror\n", encoding="utf-8")
    for entry, value in entries.items():
        (path / entry).write_text(value + "\n", encoding="utf-8")


def test_dependency_mirror_binding(tmp_path: Path) -> None:
    _mirror_binding(
        tmp_path,
        "mirror",
        {"default": "https://default.test/{originalHost}", "github.com": "https://gh.test"},
    )
    bindings = read_bindings(tmp_path, {})
    assert find_mirror(URI, (), bindings) == ("binding mirror/github.com", "https://gh.test")
    assert apply_mirror(URI, (), bindings).startswith("https://gh.test/astral-sh/")
    assert find_mirror("https://python.org/x.tgz", (), bindings) == (
        "binding mirror/default",
        "https://default.test/{originalHost}",
    )
    assert apply_mirror("https://python.org/x.tgz", (), bindings) == (
        "https://default.test/python.org/x.tgz"
    )


def test_host_specific_binding_beats_a_default_in_another_binding(tmp_path: Path) -> None:
    _mirror_binding(tmp_path, "a-default", {"default": "https://default.test"})
    _mirror_binding(tmp_path, "b-github", {"github.com": "https://gh.test"})
    bindings = read_bindings(tmp_path, {})
    assert find_mirror(URI, (), bindings) == ("binding b-github/github.com", "https://gh.test")
    assert find_mirror("https://python.org/x", (), bindings) == (
        "binding a-default/default",
        "https://default.test",
    )


def test_environment_beats_bindings(tmp_path: Path) -> None:
    _mirror_binding(
        tmp_path, "mirror", {"default": "https://b.test", "github.com": "https://c.test"}
    )
    bindings = read_bindings(tmp_path, {})
    env = {"BP_DEPENDENCY_MIRROR": "https://env.test"}
    assert find_mirror(URI, mirror_settings(env), bindings) == (
        "BP_DEPENDENCY_MIRROR",
        "https://env.test",
    )
    env = {"BP_DEPENDENCY_MIRROR_GITHUB_COM": "https://env-gh.test"}
    assert find_mirror(URI, mirror_settings(env), bindings) == (
        "BP_DEPENDENCY_MIRROR_GITHUB_COM",
        "https://env-gh.test",
    )


def test_bindings_of_other_types_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "bindings" / "ca"
    path.mkdir(parents=True)
    (path / "type").write_text("ca-certificates", encoding="utf-8")
    (path / "default").write_text("https://nope.test", encoding="utf-8")
    assert find_mirror(URI, (), read_bindings(tmp_path, {})) is None


def test_invalid_mirror_in_a_binding(tmp_path: Path) -> None:
    _mirror_binding(tmp_path, "m", {"default": "http://mirror.test"})
    bindings = read_bindings(tmp_path, {})
    assert bindings == (
        Binding("m", "dependency-mirror", None, tmp_path / "bindings" / "m", ("default",)),
    )
    with pytest.raises(InvalidMirror) as caught:
        apply_mirror(URI, (), bindings)
    assert (caught.value.setting, caught.value.value) == ("binding m/default", "http://mirror.test")


def test_manifest_over_http_with_credentials(tmp_path: Path) -> None:
    """LOW-5: credentials in a manifest URL are basic auth, also for its relative uris."""
    _manifest_file(tmp_path / "srv" / "cpython")
    with FileServer(tmp_path / "srv") as server:
        server.required_authorization = "Basic " + base64.b64encode(b"bob:pw").decode()
        url = f"http://bob:pw@127.0.0.1:{server.port}/cpython/manifest.toml"
        distributions = load_manifest(url, timeout=5)
        assert distributions[0].uri == (
            f"http://bob:pw@127.0.0.1:{server.port}/cpython/cpython-3.12.12.tar.gz"
        )
        with pytest.raises(InvalidManifest) as caught:
            load_manifest(server.url("cpython/manifest.toml"), timeout=5)
        assert caught.value.problems == (ManifestUnreadable("HTTP Error 401: Unauthorized"),)


def test_manifests_are_read_with_a_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """LOW-3: a 150 MB manifest of comments was read whole into memory."""
    monkeypatch.setattr(distributions_module, "MAX_MANIFEST_BYTES", 1000)
    path = _manifest_file(tmp_path / "m")
    path.write_text("#" * 2000 + "\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    with FileServer(tmp_path / "m") as server:
        for location in (str(path), path.as_uri(), server.url("manifest.toml")):
            with pytest.raises(InvalidManifest) as caught:
                load_manifest(location, timeout=5)
            assert caught.value.problems == (ManifestTooLarge(1000),)


def test_manifest_size_pins_the_download(tmp_path: Path) -> None:
    [pinned] = parse_manifest({"dependencies": [_dependency(size=123)]}, "m")
    assert pinned.size == 123
    assert pinned.with_uri("https://elsewhere.test/x").size == 123
    [unpinned] = parse_manifest({"dependencies": [_dependency()]}, "m")
    assert unpinned.size is None
    for size in (0, -1, "12", 1.5, True):
        assert _problems({"dependencies": [_dependency(size=size)]}) == (
            EntrySizeInvalid(1, "3.12.12"),
        )
