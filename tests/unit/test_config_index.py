"""Where packages come from: environment, pip binding, vendored wheels, lock file sources."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from python_cnb import output
from python_cnb.app.requirements_files import FileOption
from python_cnb.cnb.bindings import Binding, read_bindings
from python_cnb.config.index import (
    IndexSettings,
    VendorDirOutsideApp,
    read_index_settings,
    vendor_dir,
    with_lock_sources,
    with_requirement_options,
    without_index_environment,
)
from python_cnb.config.settings import InvalidSetting

INDEXES = {
    "PIP_INDEX_URL": "https://pip.test/simple",
    "UV_DEFAULT_INDEX": "https://uv-default.test/simple",
    "UV_INDEX_URL": "https://uv-index.test/simple",
    "BUILD_PIP_INDEX_URL": "https://kato.test/simple",
}
PIP_CONF = """\
[global]
index-url = https://conf.test/simple
extra-index-url =
    https://conf-extra-1.test/simple
    https://conf-extra-2.test/simple
find-links = https://conf.test/links
trusted-host = conf.test
"""


def _pip_binding(tmp_path: Path, conf: str = PIP_CONF, entry: str = "pip.conf") -> Binding:
    path = tmp_path / "platform" / "bindings" / "pip-config"
    path.mkdir(parents=True)
    (path / "type").write_text("pip\n", encoding="utf-8")
    (path / entry).write_text(conf, encoding="utf-8")
    (binding,) = read_bindings(tmp_path / "platform", {})
    return binding


def _vendored(
    app: Path, directory: str = "vendor", name: str = "flask-3.1.3-py3-none-any.whl"
) -> Path:
    path = app / directory
    path.mkdir(parents=True)
    (path / name).write_bytes(b"")
    return path


@pytest.mark.parametrize(
    ("unset", "source"),
    [
        ((), "PIP_INDEX_URL"),
        (("PIP_INDEX_URL",), "UV_DEFAULT_INDEX"),
        (("PIP_INDEX_URL", "UV_DEFAULT_INDEX"), "UV_INDEX_URL"),
        (("PIP_INDEX_URL", "UV_DEFAULT_INDEX", "UV_INDEX_URL"), "BUILD_PIP_INDEX_URL"),
    ],
)
def test_index_precedence(
    capsys: pytest.CaptureFixture[str], unset: tuple[str, ...], source: str
) -> None:
    env = {name: value for name, value in INDEXES.items() if name not in unset}
    settings = read_index_settings(env)
    assert (settings.index_url, settings.source) == (INDEXES[source], source)
    listed = "\n".join(f"  {name}={value}" for name, value in env.items())
    assert capsys.readouterr().out == (
        "\n[Warning: Several package index settings disagree]\n"
        f"{listed}\n"
        f"Using {source}, the first in the order PIP_INDEX_URL, UV_DEFAULT_INDEX, "
        "UV_INDEX_URL, BUILD_PIP_INDEX_URL.\n\n"
        if len(env) > 1
        else ""
    )


def test_agreeing_index_settings_are_not_a_warning(capsys: pytest.CaptureFixture[str]) -> None:
    env = {
        "UV_INDEX_URL": " https://same.test/simple ",
        "BUILD_PIP_INDEX_URL": "https://same.test/simple/",
        "PIP_INDEX_URL": "",
    }
    settings = read_index_settings(env)
    assert (settings.index_url, settings.source) == ("https://same.test/simple", "UV_INDEX_URL")
    assert capsys.readouterr() == ("", "")


def test_no_settings() -> None:
    settings = read_index_settings({})
    assert settings == IndexSettings()
    assert settings.pip_options() == []
    assert settings.uv_options() == []
    assert settings.pip_env() == {}
    assert settings.describe() == []


def test_extra_indexes_find_links_and_trusted_hosts() -> None:
    settings = read_index_settings(
        {
            "PIP_EXTRA_INDEX_URL": "https://a.test/simple  https://b.test/simple",
            "UV_EXTRA_INDEX_URL": "https://c.test/simple https://a.test/simple/",
            "UV_INDEX": "internal=https://d.test/simple https://e.test/simple?x=y",
            "PIP_FIND_LINKS": "/wheels https://links.test/",
            "UV_FIND_LINKS": "/more-wheels /wheels",
            "PIP_TRUSTED_HOST": "a.test b.test",
        }
    )
    assert settings == IndexSettings(
        extra_index_urls=(
            "https://a.test/simple",
            "https://b.test/simple",
            "https://c.test/simple",
            "https://d.test/simple",
            "https://e.test/simple?x=y",
        ),
        find_links=("/wheels", "https://links.test/", "/more-wheels"),
        trusted_hosts=("a.test", "b.test"),
    )


@pytest.mark.parametrize(
    ("env", "no_index"),
    [
        ({"PIP_NO_INDEX": "1"}, True),
        ({"PIP_NO_INDEX": "true"}, True),
        ({"PIP_NO_INDEX": " YES "}, True),
        ({"UV_NO_INDEX": "on"}, True),
        ({"UV_NO_INDEX": "1", "PIP_NO_INDEX": "0"}, True),
        ({"PIP_NO_INDEX": "0"}, False),
        ({"PIP_NO_INDEX": "false"}, False),
        ({"UV_NO_INDEX": ""}, False),
    ],
)
def test_no_index(env: dict[str, str], no_index: bool) -> None:
    assert read_index_settings(env).no_index is no_index


@pytest.mark.parametrize("name", ["PIP_NO_INDEX", "UV_NO_INDEX"])
def test_a_garbled_no_index_is_refused(name: str) -> None:
    """It silently meant "use the index" (its own truthy set); pip and uv refuse it too."""
    with pytest.raises(InvalidSetting) as caught:
        read_index_settings({name: "sometimes"})
    assert (caught.value.name, caught.value.value) == (name, "sometimes")


def test_pip_binding(tmp_path: Path) -> None:
    binding = _pip_binding(tmp_path)
    settings = read_index_settings({}, (binding,))
    assert settings == IndexSettings(
        index_url="https://conf.test/simple",
        source="the pip binding",
        extra_index_urls=("https://conf-extra-1.test/simple", "https://conf-extra-2.test/simple"),
        find_links=("https://conf.test/links",),
        trusted_hosts=("conf.test",),
        pip_conf=binding.path / "pip.conf",
    )
    assert settings.notes == ("Using pip configuration from binding 'pip-config'",)


def test_the_environment_beats_the_binding(tmp_path: Path) -> None:
    binding = _pip_binding(tmp_path)
    env = {
        "BUILD_PIP_INDEX_URL": "https://kato.test/simple",
        "PIP_EXTRA_INDEX_URL": "https://env-extra.test/simple",
        "PIP_FIND_LINKS": "/wheels",
        "PIP_TRUSTED_HOST": "kato.test",
    }
    settings = read_index_settings(env, (binding,))
    assert (settings.index_url, settings.source) == (
        "https://kato.test/simple",
        "BUILD_PIP_INDEX_URL",
    )
    assert settings.extra_index_urls == (
        "https://env-extra.test/simple",
        "https://conf-extra-1.test/simple",
        "https://conf-extra-2.test/simple",
    )
    assert settings.find_links == ("/wheels", "https://conf.test/links")
    assert settings.trusted_hosts == ("kato.test", "conf.test")


def test_binding_install_section_and_no_index(tmp_path: Path) -> None:
    conf = (
        "[global]\nindex-url = https://global.test/simple\n"
        "[install]\nindex-url = https://install.test/simple\nno-index = true\n"
    )
    binding = _pip_binding(tmp_path, conf, entry="pip.ini")
    settings = read_index_settings({}, (binding,))
    assert (settings.index_url, settings.no_index, settings.pip_conf) == (
        "https://install.test/simple",
        True,
        binding.path / "pip.ini",
    )


def test_bindings_of_other_types_are_ignored(tmp_path: Path) -> None:
    binding = _pip_binding(tmp_path)
    other = Binding("other", "maven", None, binding.path, binding.entries)
    assert read_index_settings({}, (other,)) == IndexSettings()


def test_a_pip_binding_without_configuration(tmp_path: Path) -> None:
    binding = _pip_binding(tmp_path, entry="url")
    assert read_index_settings({}, (binding,)) == IndexSettings()


def test_vendored_wheels(tmp_path: Path) -> None:
    vendor = _vendored(tmp_path)
    settings = read_index_settings(
        {"PIP_INDEX_URL": "https://pip.test/simple", "PIP_FIND_LINKS": "/wheels"}, (), tmp_path
    )
    assert settings == IndexSettings(
        index_url="https://pip.test/simple",
        source="PIP_INDEX_URL",
        find_links=(str(vendor), "/wheels"),
        no_index=True,
        vendor_dir=vendor,
    )
    assert settings.describe() == [
        "Installing offline from the vendored packages in vendor/",
        f"Package index: none (offline, from {vendor}, /wheels)",
    ]
    assert settings.pip_options() == [
        "--no-index",
        "--find-links",
        str(vendor),
        "--find-links",
        "/wheels",
    ]


@pytest.mark.parametrize("name", ["six-1.17.0.tar.gz", "lib-1.0.zip", "x-1-py3-none-any.whl"])
def test_vendored_distribution_kinds(tmp_path: Path, name: str) -> None:
    vendor = _vendored(tmp_path, name=name)
    assert vendor_dir(tmp_path) == vendor


def test_vendor_dir_setting(tmp_path: Path) -> None:
    _vendored(tmp_path)
    wheels = _vendored(tmp_path, "deps/wheels")
    assert vendor_dir(tmp_path, "deps/wheels") == wheels
    settings = read_index_settings({}, (), tmp_path, "deps/wheels")
    assert (settings.vendor_dir, settings.find_links) == (wheels, (str(wheels),))
    assert settings.notes == ("Installing offline from the vendored packages in deps/wheels/",)
    assert vendor_dir(tmp_path, "missing") is None


def test_a_vendor_dir_without_distributions_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "vendor" / "lib").mkdir(parents=True)
    (tmp_path / "vendor" / "lib" / "x-1-py3-none-any.whl").write_bytes(b"")
    (tmp_path / "vendor" / "README.md").write_text("x", encoding="utf-8")
    assert vendor_dir(tmp_path) is None
    assert read_index_settings({}, (), tmp_path) == IndexSettings()


def test_without_an_app_dir_nothing_is_vendored(tmp_path: Path) -> None:
    _vendored(tmp_path)
    assert read_index_settings({}) == IndexSettings()


FULL = IndexSettings(
    index_url="https://pip.test/simple",
    source="PIP_INDEX_URL",
    extra_index_urls=("https://a.test/simple", "https://b.test/simple"),
    find_links=("/wheels",),
    trusted_hosts=("a.test",),
    pip_conf=Path("/bindings/pip/pip.conf"),
)


def test_pip_options() -> None:
    assert FULL.pip_options() == [
        "--index-url",
        "https://pip.test/simple",
        "--extra-index-url",
        "https://a.test/simple",
        "--extra-index-url",
        "https://b.test/simple",
        "--find-links",
        "/wheels",
        "--trusted-host",
        "a.test",
    ]


def test_uv_options() -> None:
    assert FULL.uv_options() == [
        "--index-url",
        "https://pip.test/simple",
        "--extra-index-url",
        "https://a.test/simple",
        "--extra-index-url",
        "https://b.test/simple",
        "--find-links",
        "/wheels",
        "--allow-insecure-host",
        "a.test",
    ]


def test_pip_env() -> None:
    assert FULL.pip_env() == {
        "PIP_CONFIG_FILE": "/bindings/pip/pip.conf",
        "PIP_INDEX_URL": "https://pip.test/simple",
        "PIP_EXTRA_INDEX_URL": "https://a.test/simple https://b.test/simple",
        "PIP_FIND_LINKS": "/wheels",
        "PIP_TRUSTED_HOST": "a.test",
    }


def test_describe() -> None:
    assert FULL.describe() == [
        "Package index: https://pip.test/simple (from PIP_INDEX_URL)",
        "Extra package index: https://a.test/simple",
        "Extra package index: https://b.test/simple",
        "Find links: /wheels",
    ]


def test_offline_renderings() -> None:
    offline = IndexSettings(
        index_url="https://pip.test/simple",
        source="PIP_INDEX_URL",
        extra_index_urls=("https://a.test/simple",),
        find_links=("/vendor",),
        trusted_hosts=("a.test",),
        no_index=True,
    )
    assert offline.pip_options() == [
        "--no-index",
        "--find-links",
        "/vendor",
        "--trusted-host",
        "a.test",
    ]
    assert offline.uv_options() == [
        "--no-index",
        "--find-links",
        "/vendor",
        "--allow-insecure-host",
        "a.test",
    ]
    assert offline.pip_env() == {
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": "/vendor",
        "PIP_TRUSTED_HOST": "a.test",
    }
    assert offline.describe() == ["Package index: none (offline, from /vendor)"]
    assert IndexSettings(no_index=True).describe() == ["Package index: none (offline)"]


def test_with_no_lock_sources_nothing_changes() -> None:
    assert with_lock_sources(FULL, ()) is FULL


def test_the_first_lock_source_becomes_the_index() -> None:
    sources = ("https://private.test/simple", "https://other.test/simple")
    index = with_lock_sources(IndexSettings(extra_index_urls=("https://x.test/simple",)), sources)
    assert index == IndexSettings(
        index_url="https://private.test/simple",
        source="Pipfile.lock",
        extra_index_urls=("https://x.test/simple", "https://other.test/simple"),
    )
    assert index.describe() == [
        "Package index: https://private.test/simple (from Pipfile.lock)",
        "Extra package index: https://x.test/simple",
        "Extra package index: https://other.test/simple",
    ]


def test_lock_sources_are_extra_indexes_when_a_setting_chose_the_index() -> None:
    configured = IndexSettings(index_url="https://mirror.test/simple/", source="PIP_INDEX_URL")
    sources = (
        "https://pypi.org/simple",
        "https://mirror.test/simple",
        "https://private.test/simple",
        "https://pypi.python.org/simple",
    )
    assert with_lock_sources(configured, sources) == IndexSettings(
        index_url="https://mirror.test/simple/",
        source="PIP_INDEX_URL",
        extra_index_urls=("https://private.test/simple",),
    )


def test_pypi_first_keeps_the_default_index() -> None:
    sources = ("https://pypi.org/simple", "https://private.test/simple", "https://pypi.org/simple")
    assert with_lock_sources(IndexSettings(), sources) == IndexSettings(
        extra_index_urls=("https://private.test/simple",)
    )


def test_pypi_after_a_private_index_stays_an_extra_index() -> None:
    sources = ("https://private.test/simple", "https://pypi.org/simple")
    assert with_lock_sources(IndexSettings(), sources) == IndexSettings(
        index_url="https://private.test/simple",
        source="Pipfile.lock",
        extra_index_urls=("https://pypi.org/simple",),
    )


def test_lock_sources_offline() -> None:
    offline = IndexSettings(find_links=("/vendor",), no_index=True)
    index = with_lock_sources(offline, ("https://private.test/simple", "https://pypi.org/simple"))
    assert (index.index_url, index.no_index) == (None, True)
    assert index.pip_options() == ["--no-index", "--find-links", "/vendor"]


def test_no_duplicate_of_the_primary_index() -> None:
    sources = ("https://private.test/simple", "https://private.test/simple/")
    for configured in (
        IndexSettings(),
        IndexSettings(index_url="https://private.test/simple/", source="UV_INDEX_URL"),
        IndexSettings(index_url="https://private.test/simple", source="UV_INDEX_URL"),
    ):
        assert with_lock_sources(configured, sources).extra_index_urls == ()
    extras = IndexSettings(extra_index_urls=("https://other.test/simple/",))
    assert with_lock_sources(extras, ("https://x.test/simple", "https://other.test/simple")) == (
        IndexSettings(
            index_url="https://x.test/simple",
            source="Pipfile.lock",
            extra_index_urls=("https://other.test/simple/",),
        )
    )


def test_index_passwords_are_masked(tmp_path: Path) -> None:
    env = {
        "PIP_INDEX_URL": "https://user:s3cret@pip.test/simple",
        "PIP_EXTRA_INDEX_URL": "https://t0ken@extra.test/simple",
        "PIP_FIND_LINKS": "https://links:l1nkpw@links.test/",
    }
    read_index_settings(env)
    assert output.mask("s3cret t0ken l1nkpw user links") == "**** **** **** user links"


def test_binding_passwords_are_masked(tmp_path: Path) -> None:
    binding = _pip_binding(tmp_path, "[global]\nindex-url = https://u:p%40ss@conf.test/simple\n")
    read_index_settings({}, (binding,))
    assert output.mask("p%40ss p@ss") == "**** ****"


def test_lock_source_passwords_are_masked() -> None:
    with_lock_sources(IndexSettings(), ("https://u:l0ckpw@private.test/simple",))
    assert output.mask("password l0ckpw") == "password ****"


def test_urls_are_masked_in_the_log(capsys: pytest.CaptureFixture[str]) -> None:
    settings = read_index_settings({"UV_INDEX_URL": "https://u:pw-1@pip.test/simple"})
    for line in settings.describe():
        output.info(line)
    assert (
        capsys.readouterr().out
        == "Package index: https://****@pip.test/simple (from UV_INDEX_URL)\n"
    )


def _file_options(*lines: tuple[str, str]) -> tuple[FileOption, ...]:
    return tuple(
        FileOption(name, value, "requirements.txt", number)
        for number, (name, value) in enumerate(lines, start=1)
    )


PLATFORM = IndexSettings(
    index_url="https://mirror.test/simple",
    source="PIP_INDEX_URL",
    extra_index_urls=("https://platform-extra.test/simple",),
    find_links=("/platform/wheels",),
)


def test_an_index_url_line_replaces_the_platforms_index_and_extras() -> None:
    """pip: the file's --index-url replaces the finder's whole index list (extras too)."""
    result = with_requirement_options(
        PLATFORM,
        _file_options(
            ("extra-index-url", "https://early-extra.test/simple"),
            ("index-url", "https://private.test/simple"),
            ("extra-index-url", "https://late-extra.test/simple"),
        ),
    )
    assert result.index_url == "https://private.test/simple"
    assert result.source == "requirements.txt line 2"
    assert result.extra_index_urls == ("https://late-extra.test/simple",)
    assert result.find_links == ("/platform/wheels",)  # find-links only ever add


def test_extra_index_urls_and_find_links_add_to_the_platforms() -> None:
    result = with_requirement_options(
        PLATFORM,
        _file_options(("extra-index-url", "https://x.test/"), ("find-links", "/app/wheels")),
    )
    assert result.index_url == PLATFORM.index_url
    assert result.extra_index_urls == ("https://platform-extra.test/simple", "https://x.test/")
    assert result.find_links == ("/platform/wheels", "/app/wheels")


@pytest.mark.parametrize("platform_offline", [True, False])
def test_no_index_wins_for_good(platform_offline: bool) -> None:
    platform = replace(PLATFORM, no_index=platform_offline)
    lines = [("index-url", "https://private.test/"), ("extra-index-url", "https://x.test/")]
    if not platform_offline:
        lines.insert(0, ("no-index", ""))
    result = with_requirement_options(platform, _file_options(*lines))
    assert result.no_index
    assert result.uv_options()[:1] == ["--no-index"]
    assert "--index-url" not in result.uv_options()
    assert "--extra-index-url" not in result.pip_options()


def test_wheel_and_release_options() -> None:
    result = with_requirement_options(
        IndexSettings(),
        _file_options(
            ("only-binary", ":all:"),
            ("no-binary", "lxml"),
            ("pre", ""),
            ("prefer-binary", ""),
            ("trusted-host", "pkgs.test"),
        ),
    )
    assert result.pip_format_args() == [
        "--only-binary",
        ":all:",
        "--no-binary",
        "lxml",
        "--prefer-binary",
    ]
    assert result.uv_format_options(resolving=True) == [
        "--only-binary",
        ":all:",
        "--no-binary",
        "lxml",
        "--prerelease",
        "allow",
    ]
    assert "--prerelease" not in result.uv_format_options(resolving=False)
    assert result.uv_options() == ["--allow-insecure-host", "pkgs.test"]


def test_no_options_leave_the_platforms_settings() -> None:
    assert with_requirement_options(PLATFORM, ()) is PLATFORM


def test_the_fingerprint_leaves_credentials_out() -> None:
    with_password = IndexSettings(index_url="https://u:pw@pkgs.test/simple")
    assert "pw" not in with_password.fingerprint()
    assert (
        with_password.fingerprint()
        == IndexSettings(index_url="https://pkgs.test/simple").fingerprint()
    )
    assert (
        with_password.fingerprint() != IndexSettings(index_url="https://other.test/").fingerprint()
    )


def test_the_engines_environment_has_no_index_variables() -> None:
    env = {"PIP_INDEX_URL": "a", "UV_INDEX": "b", "PIP_FIND_LINKS": "c", "HOME": "/h"}
    assert without_index_environment(env) == {"HOME": "/h"}


def test_a_vendor_directory_outside_the_app_is_refused(tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    with pytest.raises(VendorDirOutsideApp) as caught:
        vendor_dir(app, "../..")
    assert caught.value.value == "../.."
