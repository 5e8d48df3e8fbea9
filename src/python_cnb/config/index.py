"""Where packages come from, whatever the platform calls the setting, for every engine.

Sources, strongest first:

* the environment: ``PIP_INDEX_URL``, ``UV_DEFAULT_INDEX``, ``UV_INDEX_URL``, Kato's
  ``BUILD_PIP_INDEX_URL`` (the first set is the index; disagreement is logged);
  ``PIP_EXTRA_INDEX_URL``/``UV_EXTRA_INDEX_URL``/``UV_INDEX``; ``PIP_FIND_LINKS``/
  ``UV_FIND_LINKS``; ``PIP_TRUSTED_HOST``; ``PIP_NO_INDEX``/``UV_NO_INDEX``;
* a ``pip`` service binding: its ``pip.conf`` (``index-url``, ``extra-index-url``,
  ``find-links``, ``trusted-host``, ``no-index`` in ``[global]`` or ``[install]``);
* a vendored wheel directory in the app (``BP_PIP_DEST_PATH``, default ``vendor`` when it
  holds wheels or sdists): installs are then offline from it, as on Paketo.

Then the options written in the app's requirement files apply on top, as pip applies them
(:func:`with_requirement_options`): pip reads the environment and its configuration first,
and each option line of the file then changes that (an ``--index-url`` line replaces the
index *and* every extra index given so far; ``--extra-index-url`` and ``--find-links`` add;
``--no-index`` turns indexes off for good). The same result reaches the resolve and the
install, for both engines.

The same answer is rendered as pip options, uv options and Poetry settings, so the index
never depends on which tool runs. Passwords in index URLs are registered as secrets, so the
log never shows them.
"""

from __future__ import annotations

import configparser
import urllib.parse
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping, Optional, Sequence

from python_cnb import notices, output
from python_cnb.app.pipfile_lock import is_pypi
from python_cnb.app.requirements_files import FileOption
from python_cnb.buildpack_error import BuildpackError
from python_cnb.cnb.bindings import Binding, bindings_of_type
from python_cnb.config.secrets import InvalidBinding, UnreadablePipConf
from python_cnb.config.settings import flag

_INDEX_SETTINGS = ("PIP_INDEX_URL", "UV_DEFAULT_INDEX", "UV_INDEX_URL", "BUILD_PIP_INDEX_URL")
_EXTRA_SETTINGS = ("PIP_EXTRA_INDEX_URL", "UV_EXTRA_INDEX_URL", "UV_INDEX")
_FIND_LINKS_SETTINGS = ("PIP_FIND_LINKS", "UV_FIND_LINKS")
_DIST_SUFFIXES = (".whl", ".tar.gz", ".zip")


@dataclass(frozen=True)
class IndexSettings:
    """The index configuration of a build."""

    index_url: Optional[str] = None
    """The primary index, or None for the tools' default (PyPI)."""
    source: Optional[str] = None
    """Which setting gave the primary index."""
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    trusted_hosts: tuple[str, ...] = ()
    no_index: bool = False
    pip_conf: Optional[Path] = None
    """A ``pip`` binding's configuration file."""
    vendor_dir: Optional[Path] = None
    pre: bool = False
    """``--pre`` in a requirements file: pre-releases may be chosen."""
    prefer_binary: bool = False
    binary: tuple[tuple[str, str], ...] = ()
    """``("only-binary" | "no-binary", value)`` from requirements files, in order."""
    notes: tuple[str, ...] = field(default=(), compare=False)

    def pip_options(self) -> list[str]:
        """Options for pip, pip-compile and pip-sync."""
        return self._options(trusted_host="--trusted-host")

    def uv_options(self) -> list[str]:
        """Options for ``uv pip`` commands."""
        return self._options(trusted_host="--allow-insecure-host")

    def _options(self, *, trusted_host: str) -> list[str]:
        """The index options pip and uv share; only the trusted-host flag is named apart."""
        options: list[str] = []
        if self.no_index:
            options.append("--no-index")
        elif self.index_url:
            options += ["--index-url", self.index_url]
        for url in () if self.no_index else self.extra_index_urls:
            options += ["--extra-index-url", url]
        for link in self.find_links:
            options += ["--find-links", link]
        for host in self.trusted_hosts:
            options += [trusted_host, host]
        return options

    def pip_format_args(self) -> list[str]:
        """pip's own options for wheels and pre-releases (through ``--pip-args`` for
        pip-compile and pip-sync, which do not take them themselves)."""
        args = [arg for name, value in self.binary for arg in (f"--{name}", value)]
        return args + (["--prefer-binary"] if self.prefer_binary else [])

    def uv_format_options(self, *, resolving: bool) -> list[str]:
        """The same for uv (which has no ``--prefer-binary``: it is ignored)."""
        options = [arg for name, value in self.binary for arg in (f"--{name}", value)]
        return options + (["--prerelease", "allow"] if self.pre and resolving else [])

    def fingerprint(self) -> str:
        """What of these settings decides an install, credentials left out, for the venv's
        cache key (a changed index, find-links or wheel option resolves afresh)."""
        urls = [_without_userinfo(u) for u in (self.index_url or "", *self.extra_index_urls)]
        parts = [
            "no-index" if self.no_index else "index",
            *urls,
            "|",
            *(_without_userinfo(link) for link in self.find_links),
            "|",
            *self.trusted_hosts,
            "|",
            str(self.pre),
            str(self.prefer_binary),
            *(f"{name}={value}" for name, value in self.binary),
        ]
        return "\0".join(parts)

    def pip_env(self) -> dict[str, str]:
        """Settings as pip environment variables (for pip run by other tools)."""
        env: dict[str, str] = {}
        if self.pip_conf is not None:
            env["PIP_CONFIG_FILE"] = str(self.pip_conf)
        if self.no_index:
            env["PIP_NO_INDEX"] = "1"
        elif self.index_url:
            env["PIP_INDEX_URL"] = self.index_url
        if self.extra_index_urls and not self.no_index:
            env["PIP_EXTRA_INDEX_URL"] = " ".join(self.extra_index_urls)
        if self.find_links:
            env["PIP_FIND_LINKS"] = " ".join(self.find_links)
        if self.trusted_hosts:
            env["PIP_TRUSTED_HOST"] = " ".join(self.trusted_hosts)
        return env

    def describe(self) -> list[str]:
        """Log lines (credentials are masked by the output module)."""
        lines = [*self.notes]
        if self.no_index:
            offline = ", ".join(self.find_links)
            lines.append(
                f"Package index: none (offline, from {offline})"
                if offline
                else "Package index: none (offline)"
            )
            return lines  # extra indexes and find links are not used offline
        if self.index_url:
            lines.append(f"Package index: {self.index_url} (from {self.source})")
        lines += [f"Extra package index: {url}" for url in self.extra_index_urls]
        if self.find_links:
            lines.append("Find links: " + ", ".join(self.find_links))
        return lines


def _without_userinfo(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


INDEX_ENVIRONMENT = (
    *_INDEX_SETTINGS,
    *_EXTRA_SETTINGS,
    *_FIND_LINKS_SETTINGS,
    "PIP_TRUSTED_HOST",
    "PIP_NO_INDEX",
    "UV_NO_INDEX",
    "UV_INSECURE_HOST",
    "PIP_ONLY_BINARY",
    "PIP_NO_BINARY",
    "UV_ONLY_BINARY",
    "UV_NO_BINARY",
)
"""Variables the engines would read on their own; the engines get the settings explicitly
instead, so what the app's files say is never mixed back with the platform's."""


def without_index_environment(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` without :data:`INDEX_ENVIRONMENT`."""
    return {name: value for name, value in env.items() if name not in INDEX_ENVIRONMENT}


def _split(value: str) -> list[str]:
    return [item for item in value.replace("\n", " ").split() if item]


def _uv_index_entry(value: str) -> str:
    """``UV_INDEX`` entries may be ``name=url``."""
    name, sep, url = value.partition("=")
    return url if sep and "://" not in name else value


def _read_pip_conf(binding: Binding, path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError) as error:
        problem = UnreadablePipConf(str(error).strip())
        raise InvalidBinding(binding.name, binding.type, path.name, problem) from None
    values: dict[str, str] = {}
    for section in ("global", "install"):
        if parser.has_section(section):
            values.update({key: parser.get(section, key) for key in parser.options(section)})
    return values


def _with_secrets_registered(settings: IndexSettings) -> IndexSettings:
    """``settings``, after masking the credentials of every URL in them from the log."""
    _register_url_secrets(
        [u for u in (settings.index_url, *settings.extra_index_urls, *settings.find_links) if u]
    )
    return settings


def _register_url_secrets(urls: list[str]) -> None:
    for url in urls:
        parts = urllib.parse.urlsplit(url)
        for secret in (parts.password, parts.username if parts.password is None else None):
            if secret:
                output.register_secret(urllib.parse.unquote(secret))
                output.register_secret(secret)


@dataclass(eq=False)
class VendorDirOutsideApp(BuildpackError):
    """``BP_PIP_DEST_PATH`` names a directory outside the app."""

    value: str
    resolved: str


def vendor_dir(app_dir: Path, name: str = "vendor") -> Optional[Path]:
    """The app's vendored wheel directory (``name``: ``Settings.vendor_dir``), if it has one
    (inside the app: the image is built from the app's files, not from whatever the build
    machine has elsewhere)."""
    path = app_dir / name
    if not path.resolve().is_relative_to(app_dir.resolve()):
        raise VendorDirOutsideApp(name, str(path.resolve()))
    if path.is_dir() and any(p.name.endswith(_DIST_SUFFIXES) for p in path.iterdir()):
        return path
    return None


def _unique(items: list[str]) -> tuple[str, ...]:
    """``items`` without repeats, first occurrence kept."""
    return tuple(dict.fromkeys(items))


def _same_url(first: str, second: str) -> bool:
    """Index URLs that differ only by a trailing slash are the same index."""
    return first.rstrip("/") == second.rstrip("/")


def _unique_urls(urls: list[str]) -> tuple[str, ...]:
    """``urls`` without repeats (a trailing slash makes no difference), first one kept."""
    kept: list[str] = []
    for url in urls:
        if not any(_same_url(url, other) for other in kept):
            kept.append(url)
    return tuple(kept)


def read_index_settings(
    env: Mapping[str, str],
    bindings: tuple[Binding, ...] = (),
    app_dir: Optional[Path] = None,
    vendor: str = "vendor",
) -> IndexSettings:
    """The index settings of the build (see the module docstring for precedence)."""
    notes: list[str] = []
    pip_conf: Optional[Path] = None
    conf: dict[str, str] = {}
    for binding in bindings_of_type(bindings, "pip"):
        for entry in ("pip.conf", "pip.ini"):
            if entry in binding.entries:
                pip_conf = binding.entry_path(entry)
                conf = _read_pip_conf(binding, pip_conf)
                notes.append(f"Using pip configuration from binding {binding.name!r}")
                break
    given = [(name, env[name].strip()) for name in _INDEX_SETTINGS if env.get(name, "").strip()]
    if len({value.rstrip("/") for _, value in given}) > 1:
        output.warning(*notices.index_settings_disagree(given, _INDEX_SETTINGS))
    if not given and conf.get("index-url"):
        given = [("the pip binding", conf["index-url"].strip())]
    extras: list[str] = []
    for name in _EXTRA_SETTINGS:
        extras += [
            _uv_index_entry(url) if name == "UV_INDEX" else url for url in _split(env.get(name, ""))
        ]
    extras += _split(conf.get("extra-index-url", ""))
    find_links = [link for name in _FIND_LINKS_SETTINGS for link in _split(env.get(name, ""))]
    find_links += _split(conf.get("find-links", ""))
    trusted = _split(env.get("PIP_TRUSTED_HOST", "")) + _split(conf.get("trusted-host", ""))
    # Both read, so a garbled one fails even beside a set one (pip and uv refuse it too).
    no_index_settings = [flag(env, name) for name in ("PIP_NO_INDEX", "UV_NO_INDEX")]
    conf_no_index = conf.get("no-index", "").strip().lower() in ("1", "true", "yes", "on")
    no_index = any(no_index_settings) or conf_no_index
    vendored = vendor_dir(app_dir, vendor) if app_dir is not None else None
    if app_dir is not None and vendored is not None:
        find_links.insert(0, str(vendored))
        no_index = True
        shown = vendored.relative_to(app_dir) if vendored.is_relative_to(app_dir) else vendored
        notes.append(f"Installing offline from the vendored packages in {shown}/")
    settings = IndexSettings(
        index_url=given[0][1] if given else None,
        source=given[0][0] if given else None,
        extra_index_urls=_unique_urls(extras),
        find_links=_unique(find_links),
        trusted_hosts=_unique(trusted),
        no_index=no_index,
        pip_conf=pip_conf,
        vendor_dir=vendored,
        notes=tuple(notes),
    )
    return _with_secrets_registered(settings)


def with_lock_sources(
    index: IndexSettings, sources: tuple[str, ...], insecure_hosts: tuple[str, ...] = ()
) -> IndexSettings:
    """Add the package indexes a lock file names, as pipenv uses them: the first is the index
    and the others are extra indexes. PyPI first means the tools' default index. When a
    setting chose the index (a PyPI mirror, or offline), it stays, PyPI sources are left to
    it, and the other sources become extra indexes."""
    if not sources:
        return index
    _register_url_secrets(list(sources))
    if insecure_hosts:
        index = replace(index, trusted_hosts=_unique([*index.trusted_hosts, *insecure_hosts]))
    if index.index_url is None and not index.no_index:
        extras = list(sources[1:])
        if not is_pypi(sources[0]):
            index = replace(index, index_url=sources[0], source="Pipfile.lock")
    else:
        extras = [source for source in sources if not is_pypi(source)]
    primary = index.index_url
    added = [
        url for url in extras if not (is_pypi(url) if primary is None else _same_url(url, primary))
    ]
    return replace(index, extra_index_urls=_unique_urls([*index.extra_index_urls, *added]))


def with_requirement_options(index: IndexSettings, options: Sequence[FileOption]) -> IndexSettings:
    """``index`` (the platform's) changed by the option lines of the app's requirement files,
    in order, as ``pip install -r`` changes its finder (``handle_option_line``)."""
    if not options:
        return index
    primary, source = index.index_url, index.source
    extras = list(index.extra_index_urls)
    find_links = list(index.find_links)
    trusted = list(index.trusted_hosts)
    no_index = index.no_index
    pre, prefer_binary, binary = index.pre, index.prefer_binary, list(index.binary)
    for option in options:
        where = f"{option.file} line {option.number}"
        if option.name == "no-index":
            no_index, primary, source, extras = True, None, where, []
        elif option.name == "index-url" and not no_index:
            primary, source, extras = option.value, where, []
        elif option.name == "extra-index-url" and not no_index:
            extras.append(option.value)
        elif option.name == "find-links":
            find_links.append(option.value)
        elif option.name == "trusted-host":
            trusted.append(option.value)
        elif option.name == "pre" or (option.name == "all-releases" and option.value == ":all:"):
            pre = True
        elif option.name == "prefer-binary":
            prefer_binary = True
        elif option.name in ("only-binary", "no-binary"):
            binary.append((option.name, option.value))
    settings = replace(
        index,
        index_url=primary,
        source=source,
        extra_index_urls=_unique_urls(extras),
        find_links=_unique(find_links),
        trusted_hosts=_unique(trusted),
        no_index=no_index,
        pre=pre,
        prefer_binary=prefer_binary,
        binary=tuple(binary),
    )
    return _with_secrets_registered(settings)
