"""A package index on 127.0.0.1 for the integration tests, filled once from PyPI and cached.

    python -m tools.local_index fill --dest DIR -r FILE [-r FILE ...] [--python PATH ...]
    python -m tools.local_index serve --root DIR [--port N] [--auth USER:PASS]

*Filling* runs ``<python> -m pip download`` for every requirements file with every given
interpreter (by default each CPython 3.10+ under pyenv), so the wheels for each Python ABI end
up in ``DIR/files``. PyPI is only ever reached through pip, isolated from this machine's pip
configuration (``PIP_CONFIG_FILE=/dev/null``, inherited ``PIP_*`` variables dropped, explicit
``--index-url``). The upstream index is ``https://pypi.org/simple`` unless the environment
variable ``PYTHON_CNB_UPSTREAM_INDEX`` names another. The static build requirements of the
sdists it saves are downloaded too, so that installers can build them from the local index.
A stamp file, ``DIR/.stamp``, records the key of every fill that succeeded; a fill whose key
is already there does nothing, so a warm run needs no network.

*Serving* exposes ``DIR/files`` as a PEP 503 (HTML) and PEP 691 (JSON) simple repository
with PEP 658 metadata files and PEP 700 sizes, optionally behind HTTP Basic auth, on
127.0.0.1 only. pip, uv and Poetry can install from it.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import email.parser
import hashlib
import hmac
import html
import json
import logging
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tarfile
import tempfile
import threading
import urllib.parse
import zipfile
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from stat import S_ISREG
from types import TracebackType
from typing import Any, Iterator, Mapping, Optional, Sequence, Tuple, Type

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the dev environment is 3.11
    import tomli as tomllib

from packaging.utils import (
    NormalizedName,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

from tools.locks import exclusive

__all__ = [
    "CA_BUNDLE",
    "DEFAULT_UPSTREAM_INDEX",
    "FORMAT_VERSION",
    "FillError",
    "IndexServer",
    "default_pythons",
    "fill",
    "fill_key",
    "main",
    "sdist_build_requires",
    "serve",
    "upstream_index",
]

log = logging.getLogger(__name__)

#: Bump when the layout of ``DIR/files`` or the way it is filled changes.
FORMAT_VERSION = 1
DEFAULT_UPSTREAM_INDEX = "https://pypi.org/simple"
UPSTREAM_ENV = "PYTHON_CNB_UPSTREAM_INDEX"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
PYENV_VERSIONS = Path("/root/.pyenv/versions")
#: The oldest pip whose ``pip download`` we trust; older ones run from a fresh venv.
MIN_PIP = Version("23")
#: What pip builds an sdist with when it has no ``[build-system] requires``.
LEGACY_BUILD_REQUIRES = ("setuptools>=40.8.0", "wheel")
STAMP_NAME = ".stamp"
LOCK_NAME = ".lock"
FILES_DIR = "files"
LOCALHOST = "127.0.0.1"
REALM = "python-cnb-test"

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_V1_TYPE = "application/vnd.pypi.simple.v1+html"
HTML_TYPES = (HTML_V1_TYPE, "text/html", "text/*", "*/*")
API_VERSION = "1.1"

# --------------------------------------------------------------------------------------------
# Fill
# --------------------------------------------------------------------------------------------


class FillError(RuntimeError):
    """``pip download`` (or preparing an interpreter for it) failed."""


@dataclass(frozen=True)
class _Interpreter:
    path: Path
    version: str  # sys.version, one line
    machine: str
    pip: Optional[Version]


_PROBE = """\
import json, platform, sys
try:
    import pip
    pip_version = pip.__version__
except Exception:
    pip_version = None
print(json.dumps({"version": " ".join(sys.version.split()), "machine": platform.machine(),
                  "pip": pip_version}))
"""


def upstream_index() -> str:
    """The index ``fill`` downloads from: ``$PYTHON_CNB_UPSTREAM_INDEX`` or PyPI."""
    return os.environ.get(UPSTREAM_ENV) or DEFAULT_UPSTREAM_INDEX


def default_pythons(minimum: int = 11) -> list[Path]:
    """Each pyenv CPython 3.``minimum`` and later on this machine (``…/3.1X.Y/bin/python3.1X``).

    The default starts at 3.11: 3.10 is past its end of life, and the test apps' packages
    need 3.11 or newer."""
    found: dict[tuple[int, int], tuple[tuple[int, ...], Path]] = {}
    if not PYENV_VERSIONS.is_dir():
        return []
    for directory in PYENV_VERSIONS.glob("3.1[0-9]*"):
        match = re.fullmatch(r"3\.(1\d)\.(\d+)", directory.name)
        if not match:
            continue  # 3.13.0t, 3.14-dev, virtualenvs…
        minor, patch = int(match.group(1)), int(match.group(2))
        if minor < minimum:
            continue
        binary = directory / "bin" / f"python3.{minor}"
        if not binary.exists():
            continue
        # One interpreter per minor version: the newest patch release.
        previous = found.get((3, minor))
        if previous is None or previous[0] < (3, minor, patch):
            found[(3, minor)] = ((3, minor, patch), binary)
    return [found[key][1] for key in sorted(found)]


def _pip_env() -> dict[str, str]:
    """This process's environment without pip configuration, plus our own pip settings."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("PIP_") and name not in {"PYTHONPATH", "PYTHONHOME"}
    }
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INPUT"] = "1"
    # Also as variables, so that the pip subprocess that installs build requirements for an
    # sdist (build isolation) uses the same index and CA bundle as we do.
    env["PIP_INDEX_URL"] = upstream_index()
    if CA_BUNDLE.exists():
        env["PIP_CERT"] = str(CA_BUNDLE)
    return env


def _pip_options() -> list[str]:
    options = ["--index-url", upstream_index(), "--progress-bar", "off"]
    if CA_BUNDLE.exists():
        options += ["--cert", str(CA_BUNDLE)]
    return options


def _run(argv: Sequence[str], *, env: Mapping[str, str], capture: bool = False) -> str:
    """Run a command; return its stdout if ``capture``. The seam the unit tests replace."""
    result = subprocess.run(
        list(argv),
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE if capture else None,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise FillError(f"{' '.join(argv)} exited with status {result.returncode}")
    return result.stdout if capture else ""


def _probe(python: Path, env: Mapping[str, str]) -> _Interpreter:
    output = _run([str(python), "-I", "-c", _PROBE], env=env, capture=True)
    data = json.loads(output.strip().splitlines()[-1])
    pip = data.get("pip")
    return _Interpreter(
        path=python,
        version=str(data["version"]),
        machine=str(data["machine"]),
        pip=Version(pip) if pip else None,
    )


def fill_key(requirements: Sequence[Path], interpreters: Sequence[tuple[str, str]]) -> str:
    """The stamp key: requirements' contents, (path, version) of interpreters, format, index."""
    material = {
        "format": FORMAT_VERSION,
        "index": upstream_index(),
        "requirements": sorted(hashlib.sha256(r.read_bytes()).hexdigest() for r in requirements),
        "pythons": sorted([path, version] for path, version in interpreters),
    }
    encoded = json.dumps(material, sort_keys=True).encode()
    return hashlib.sha256(encoded).hexdigest()


def _stamped_keys(dest: Path) -> set[str]:
    try:
        text = (dest / STAMP_NAME).read_text()
    except FileNotFoundError:
        return set()
    return {line.strip() for line in text.splitlines() if line.strip()}


def _write_stamp(dest: Path, keys: set[str]) -> None:
    stamp = dest / STAMP_NAME
    temporary = stamp.with_name(f"{STAMP_NAME}.{os.getpid()}.tmp")
    temporary.write_text("".join(f"{key}\n" for key in sorted(keys)))
    temporary.replace(stamp)


def _locked(dest: Path) -> contextlib.AbstractContextManager[None]:
    """Serialise fills of the same directory (make test's lanes, parallel CI jobs)."""
    return exclusive(dest / LOCK_NAME)


@contextlib.contextmanager
def _pip_for(interpreter: _Interpreter, env: Mapping[str, str]) -> Iterator[Path]:
    """An interpreter whose pip is new enough: the one given, or a fresh venv made from it."""
    if interpreter.pip is not None and interpreter.pip >= MIN_PIP:
        yield interpreter.path
        return
    with tempfile.TemporaryDirectory(prefix="local-index-venv-") as directory:
        venv = Path(directory) / "venv"
        _run([str(interpreter.path), "-m", "venv", str(venv)], env=env)
        python = venv / "bin" / "python"
        _run(
            [str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip", *_pip_options()],
            env=env,
        )
        yield python


def fill(requirements: Sequence[Path], dest: Path, pythons: Sequence[Path]) -> None:
    """Download every requirements file's distributions for every interpreter into dest/files.

    Runs ``<python> -m pip download -d <dest>/files -r <file>`` once per (interpreter, file),
    so each file is resolved on its own and environment markers are evaluated for each
    interpreter; then downloads the build requirements of every sdist in ``files`` with the
    same interpreter (see :func:`sdist_build_requires`).

    Does nothing when ``<dest>/.stamp`` already holds this fill's key (see :func:`fill_key`;
    nested ``-r``/``-c`` files are not part of the key). The key is added to the stamp only
    after every download succeeded; keys of earlier fills stay, as files are only added.
    """
    requirements = [Path(r).resolve() for r in requirements]
    if not pythons:
        raise FillError("no Python interpreters to fill the index for")
    for requirement in requirements:
        if not requirement.is_file():
            raise FillError(f"requirements file not found: {requirement}")
    dest.mkdir(parents=True, exist_ok=True)
    files = dest / FILES_DIR
    env = _pip_env()
    with _locked(dest):
        interpreters = [_probe(Path(python), env) for python in pythons]
        key = fill_key(requirements, [(str(i.path), i.version) for i in interpreters])
        keys = _stamped_keys(dest) if files.is_dir() else set()
        if key in keys:
            log.info("local index %s is up to date", dest)
            return
        files.mkdir(exist_ok=True)
        for interpreter in interpreters:
            with _pip_for(interpreter, env) as python:
                for requirement in requirements:
                    if requirement_platforms(requirement) and interpreter is not interpreters[0]:
                        continue  # another platform's wheels: one download is enough
                    _pip_download(python, files, requirement, env)
                _download_build_requirements(python, files, env)
        _write_stamp(dest, {*keys, key})


def _is_sdist(path: Path) -> bool:
    if not path.name.endswith((".tar.gz", ".zip")):
        return False
    try:
        parse_sdist_filename(path.name)
    except ValueError:
        return False
    return True


def sdist_build_requires(path: Path) -> list[str]:
    """The static ``[build-system] requires`` of an sdist (pip's setuptools fallback without).

    Requirements a backend adds dynamically (``get_requires_for_build_wheel``) are not known
    without running it; list them in a requirements file if an install needs them.
    """
    data: Optional[bytes] = None
    try:
        data = _sdist_member(path, "pyproject.toml")
    except (OSError, zipfile.BadZipFile, tarfile.TarError, EOFError) as error:
        log.warning("cannot read %s: %s", path, error)
    if data is None:
        return list(LEGACY_BUILD_REQUIRES)
    try:
        table = tomllib.loads(data.decode())
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return list(LEGACY_BUILD_REQUIRES)
    build_system = table.get("build-system")
    if not isinstance(build_system, dict) or not isinstance(build_system.get("requires"), list):
        return list(LEGACY_BUILD_REQUIRES)
    return [str(r) for r in build_system["requires"] if isinstance(r, str)]


PLATFORM_DIRECTIVE = re.compile(r"^#\s*platform:\s*(\S+)\s*$", re.MULTILINE)
"""``# platform: manylinux_2_28_aarch64`` in a requirements file: its wheels are downloaded
for that platform (binary only, no dependencies), once, not for every interpreter: the build
tools of another architecture, which ``make package`` carries for that target."""


def requirement_platforms(requirement: Path) -> list[str]:
    """The ``# platform:`` tags of a requirements file (none: this machine's)."""
    return PLATFORM_DIRECTIVE.findall(requirement.read_text(encoding="utf-8"))


def _pip_download(python: Path, files: Path, requirement: Path, env: Mapping[str, str]) -> None:
    """``pip download`` what ``requirement`` lists into ``files``, with this tool's options."""
    platforms = requirement_platforms(requirement)
    foreign = ["--no-deps", "--only-binary", ":all:"] if platforms else []
    for tag in platforms:
        foreign += ["--platform", tag]
    _run(
        [
            str(python), "-m", "pip", "download",
            "--dest", str(files),
            *_pip_options(),
            *foreign,
            "--requirement", str(requirement),
        ],
        env=env,
    )  # fmt: skip


def _download_build_requirements(python: Path, files: Path, env: Mapping[str, str]) -> None:
    """Download what pip needs to build each sdist in ``files``, so it installs offline too.

    ``pip download`` builds the metadata of an sdist in an isolated environment filled from
    upstream but does not save the build requirements; an install from the local index would
    then fail to build. One download per distinct requirement set, since the sets of different
    sdists may conflict; repeated while the downloads bring new sdists.
    """
    done: set[str] = set()
    for _ in range(5):
        pending = sorted(p for p in files.iterdir() if p.name not in done and _is_sdist(p))
        if not pending:
            return
        sets: set[tuple[str, ...]] = set()
        for sdist in pending:
            done.add(sdist.name)
            requires = tuple(sorted(set(sdist_build_requires(sdist))))
            if requires:
                sets.add(requires)
        with tempfile.TemporaryDirectory(prefix="local-index-build-") as directory:
            for number, requires in enumerate(sorted(sets)):
                listing = Path(directory) / f"build-requires-{number}.txt"
                listing.write_text("".join(f"{line}\n" for line in requires))
                _pip_download(python, files, listing, env)


# --------------------------------------------------------------------------------------------
# Serve
# --------------------------------------------------------------------------------------------


@dataclass
class _Distribution:
    """What the index says about one file in ``files/``; computed lazily, cached by stat."""

    filename: str
    project: NormalizedName
    version: str
    size: int
    mtime_ns: int
    is_wheel: bool
    _sha256: Optional[str] = None
    _metadata_loaded: bool = False
    _requires_python: Optional[str] = None
    _metadata: Optional[bytes] = None  # wheels only: the METADATA file


_RequestRecord = Tuple[str, str, int]


class _Repository:
    """The distributions in a directory, grouped by project; thread-safe."""

    def __init__(self, files: Path) -> None:
        self.files = files
        self._lock = threading.Lock()
        self._cache: dict[str, _Distribution] = {}

    def _describe(self, name: str, stat: os.stat_result) -> Optional[_Distribution]:
        try:
            if name.endswith(".whl"):
                project, version, _, _ = parse_wheel_filename(name)
                is_wheel = True
            else:
                project, version = parse_sdist_filename(name)
                is_wheel = False
        except ValueError:  # InvalidWheelFilename, InvalidSdistFilename, InvalidVersion
            return None
        with self._lock:
            cached = self._cache.get(name)
            if (
                cached is not None
                and cached.size == stat.st_size
                and cached.mtime_ns == stat.st_mtime_ns
            ):
                return cached
            described = _Distribution(
                filename=name,
                project=project,
                version=str(version),
                size=stat.st_size,
                mtime_ns=stat.st_mtime_ns,
                is_wheel=is_wheel,
            )
            self._cache[name] = described
            return described

    def distributions(self) -> list[_Distribution]:
        """Every parseable distribution file (no hashes computed)."""
        found: list[_Distribution] = []
        try:
            entries = list(os.scandir(self.files))
        except FileNotFoundError:
            return []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                if not entry.is_file():
                    continue
                described = self._describe(entry.name, entry.stat())
            except OSError:  # removed while we looked
                continue
            if described is not None:
                found.append(described)
        return found

    def projects(self) -> list[NormalizedName]:
        """The normalized names of all projects, sorted."""
        return sorted({d.project for d in self.distributions()})

    def project(self, name: NormalizedName) -> list[_Distribution]:
        """The files of one project, with hashes and metadata loaded, by version and name."""
        found: list[_Distribution] = []
        for distribution in self.distributions():
            if distribution.project != name:
                continue
            try:
                self.sha256(distribution)
            except OSError:  # removed while we looked
                continue
            self._load_metadata(distribution)
            found.append(distribution)
        return sorted(found, key=_sort_key)

    def get(self, filename: str) -> Optional[_Distribution]:
        """The distribution with this exact file name, if it is in the directory."""
        if not filename or "/" in filename or "\\" in filename or filename.startswith("."):
            return None
        try:
            stat = (self.files / filename).stat()
        except OSError:
            return None
        if not S_ISREG(stat.st_mode):
            return None
        return self._describe(filename, stat)

    def path(self, distribution: _Distribution) -> Path:
        """Where the distribution's file is."""
        return self.files / distribution.filename

    def sha256(self, distribution: _Distribution) -> str:
        """The file's sha256 (hex), computed once per (name, size, mtime)."""
        if distribution._sha256 is None:
            digest = hashlib.sha256()
            with self.path(distribution).open("rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
            distribution._sha256 = digest.hexdigest()
        return distribution._sha256

    def requires_python(self, distribution: _Distribution) -> Optional[str]:
        """``Requires-Python`` from the wheel's METADATA or the sdist's PKG-INFO."""
        self._load_metadata(distribution)
        return distribution._requires_python

    def metadata(self, distribution: _Distribution) -> Optional[bytes]:
        """The wheel's METADATA file (PEP 658), or None for sdists and broken wheels."""
        self._load_metadata(distribution)
        return distribution._metadata

    def _load_metadata(self, distribution: _Distribution) -> None:
        if distribution._metadata_loaded:
            return
        path = self.path(distribution)
        data: Optional[bytes] = None
        try:
            if distribution.is_wheel:
                data = _wheel_metadata(path, distribution)
            else:
                data = _sdist_pkg_info(path)
        except (OSError, zipfile.BadZipFile, tarfile.TarError, EOFError, ValueError) as error:
            log.debug("cannot read metadata of %s: %s", path, error)
        if data is not None:
            headers = email.parser.BytesHeaderParser().parsebytes(data)
            value = headers.get("Requires-Python")
            distribution._requires_python = str(value).strip() if value else None
            if distribution.is_wheel:
                distribution._metadata = data
        distribution._metadata_loaded = True


def _sort_key(distribution: _Distribution) -> tuple[Version, str]:
    return Version(distribution.version), distribution.filename


def _wheel_metadata(path: Path, distribution: _Distribution) -> Optional[bytes]:
    with zipfile.ZipFile(path) as archive:
        candidates = [
            name
            for name in archive.namelist()
            if name.count("/") == 1 and name.endswith(".dist-info/METADATA")
        ]
        if not candidates:
            return None
        # The right .dist-info is {name}-{version}; prefer it if a wheel holds several.
        expected = canonicalize_name(distribution.project)

        def matches(name: str) -> bool:
            stem = name.split("/", 1)[0][: -len(".dist-info")]
            project = stem.rsplit("-", 1)[0]
            return canonicalize_name(project) == expected

        chosen = next((name for name in candidates if matches(name)), candidates[0])
        return archive.read(chosen)


def _sdist_member(path: Path, member_name: str) -> Optional[bytes]:
    """``<top>/<member_name>`` from an sdist (.tar.gz or .zip), or None."""
    suffix = f"/{member_name}"
    if path.name.endswith(".zip"):
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                if name.count("/") == 1 and name.endswith(suffix):
                    return archive.read(name)
        return None
    with tarfile.open(path, "r:*") as archive:
        for member in archive:
            name = member.name.removeprefix("./")
            if member.isfile() and name.count("/") == 1 and name.endswith(suffix):
                handle = archive.extractfile(member)
                return handle.read() if handle is not None else None
    return None


def _sdist_pkg_info(path: Path) -> Optional[bytes]:
    return _sdist_member(path, "PKG-INFO")


def _wants_json(accept: Optional[str], query: Mapping[str, list[str]]) -> tuple[bool, str]:
    """Content negotiation (PEP 691): (json?, content type of the answer)."""
    requested_format = query.get("format", [""])[-1]
    if requested_format == JSON_TYPE:
        return True, JSON_TYPE
    if requested_format in (HTML_V1_TYPE, "text/html"):
        return False, requested_format
    json_q = html_q = v1_html_q = 0.0
    if not accept:
        return False, "text/html; charset=utf-8"
    for media_range in accept.split(","):
        media_type, _, parameters = media_range.strip().partition(";")
        media_type = media_type.strip().lower()
        quality = 1.0
        for parameter in parameters.split(";"):
            key, _, value = parameter.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media_type == JSON_TYPE:
            json_q = max(json_q, quality)
        elif media_type in HTML_TYPES:
            html_q = max(html_q, quality)
            if media_type == HTML_V1_TYPE:
                v1_html_q = max(v1_html_q, quality)
    if json_q > html_q:
        return True, JSON_TYPE
    if v1_html_q > 0 and v1_html_q >= html_q:
        return False, HTML_V1_TYPE
    return False, "text/html; charset=utf-8"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(
        self,
        address: tuple[str, int],
        repository: _Repository,
        auth: Optional[tuple[str, str]],
    ) -> None:
        self.repository = repository
        self.expected_authorization = (
            "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            if auth is not None
            else None
        )
        self.requests: list[_RequestRecord] = []
        self.requests_lock = threading.Lock()
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet about clients hanging up; other errors go to the logger, not stderr."""
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            log.debug("client %s: %s", client_address, error)
        else:
            log.error("error serving %s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "python-cnb-local-index/1"
    timeout = 60  # close idle keep-alive connections

    # -- logging ---------------------------------------------------------------------------

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Record (method, path, status) instead of writing an access log to stderr."""
        status = code.value if isinstance(code, HTTPStatus) else int(code)
        with self.server.requests_lock:
            self.server.requests.append((self.command or "", self.path or "", status))

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""
        log.debug("%s %s", self.address_string(), format % args)

    # -- dispatch --------------------------------------------------------------------------

    def do_GET(self) -> None:
        """Answer a GET."""
        self._dispatch(body=True)

    def do_HEAD(self) -> None:
        """Answer a HEAD like a GET, without the body."""
        self._dispatch(body=False)

    def _dispatch(self, *, body: bool) -> None:
        if not self._authorized():
            self._send_bytes(
                HTTPStatus.UNAUTHORIZED,
                b"401 Unauthorized\n",
                "text/plain; charset=utf-8",
                body=body,
                headers={"WWW-Authenticate": f'Basic realm="{REALM}"'},
            )
            return
        split = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(split.path)
        query = urllib.parse.parse_qs(split.query)
        parts = path.split("/")
        if path in ("/", "/simple"):
            self._redirect("/simple/")
        elif path == "/simple/":
            self._project_list(query, body=body)
        elif len(parts) == 3 and parts[1] == "simple":  # /simple/<name> (no slash)
            self._redirect(f"/simple/{canonicalize_name(parts[2])}/")
        elif len(parts) == 4 and parts[1] == "simple" and parts[3] == "":
            normalized = canonicalize_name(parts[2])
            if normalized != parts[2]:
                self._redirect(f"/simple/{normalized}/")
            else:
                self._project_page(normalized, query, body=body)
        elif len(parts) == 3 and parts[1] == FILES_DIR and parts[2]:
            self._file(parts[2], body=body)
        else:
            self._not_found(body=body)

    def _authorized(self) -> bool:
        expected = self.server.expected_authorization
        if expected is None:
            return True
        given = self.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), expected.encode())

    # -- pages -----------------------------------------------------------------------------

    def _project_list(self, query: Mapping[str, list[str]], *, body: bool) -> None:
        projects = self.server.repository.projects()
        as_json, content_type = _wants_json(self.headers.get("Accept"), query)
        if as_json:
            document = {
                "meta": {"api-version": API_VERSION},
                "projects": [{"name": name} for name in projects],
            }
            data = json.dumps(document, indent=1).encode()
        else:
            links = "\n".join(
                f'    <a href="{html.escape(urllib.parse.quote(n))}/">{html.escape(n)}</a><br>'
                for n in projects
            )
            data = _html_page("Simple index", links).encode()
        self._send_page(data, content_type, body=body)

    def _project_page(
        self, name: NormalizedName, query: Mapping[str, list[str]], *, body: bool
    ) -> None:
        repository = self.server.repository
        distributions = repository.project(name)
        if not distributions:
            self._not_found(body=body)
            return
        as_json, content_type = _wants_json(self.headers.get("Accept"), query)
        if as_json:
            data = json.dumps(_project_json(repository, name, distributions), indent=1).encode()
        else:
            links = "\n".join(_project_link(repository, d) for d in distributions)
            data = _html_page(f"Links for {name}", links).encode()
        self._send_page(data, content_type, body=body)

    def _send_page(self, data: bytes, content_type: str, *, body: bool) -> None:
        """A page with an ETag; ``If-None-Match`` with it gets 304, as PyPI answers."""
        etag = '"' + hashlib.sha256(content_type.encode() + data).hexdigest()[:32] + '"'
        headers = {**_INDEX_HEADERS, "ETag": etag}
        if etag in _etags(self.headers.get("If-None-Match")):
            self._send_bytes(
                HTTPStatus.NOT_MODIFIED, b"", content_type, body=False, headers=headers
            )
            return
        self._send_bytes(HTTPStatus.OK, data, content_type, body=body, headers=headers)

    def _file(self, filename: str, *, body: bool) -> None:
        repository = self.server.repository
        if filename.endswith(".metadata"):
            distribution = repository.get(filename[: -len(".metadata")])
            metadata = repository.metadata(distribution) if distribution is not None else None
            if metadata is None:
                self._not_found(body=body)
                return
            self._send_bytes(
                HTTPStatus.OK,
                metadata,
                "application/octet-stream",
                body=body,
                headers=_FILE_HEADERS,
            )
            return
        distribution = repository.get(filename)
        if distribution is None:
            self._not_found(body=body)
            return
        try:
            handle = repository.path(distribution).open("rb")
        except OSError:
            self._not_found(body=body)
            return
        with handle:
            size = os.fstat(handle.fileno()).st_size
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(size))
            for name, value in _FILE_HEADERS.items():
                self.send_header(name, value)
            self.end_headers()
            if body:
                shutil.copyfileobj(handle, self.wfile, 1 << 16)

    # -- helpers ---------------------------------------------------------------------------

    def _redirect(self, location: str) -> None:
        query = urllib.parse.urlsplit(self.path).query
        target = f"{location}?{query}" if query else location
        self._send_bytes(
            HTTPStatus.MOVED_PERMANENTLY,
            b"",
            "text/plain; charset=utf-8",
            body=False,
            headers={"Location": target},
        )

    def _not_found(self, *, body: bool) -> None:
        self._send_bytes(
            HTTPStatus.NOT_FOUND, b"404 Not Found\n", "text/plain; charset=utf-8", body=body
        )

    def _send_bytes(
        self,
        status: HTTPStatus,
        data: bytes,
        content_type: str,
        *,
        body: bool,
        headers: Optional[Mapping[str, str]] = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if body and data:
            self.wfile.write(data)


_INDEX_HEADERS = {"Vary": "Accept", "Cache-Control": "max-age=0"}
"""Pages are revalidated at every use (PyPI's live 10 minutes; tests change the index)."""
_FILE_HEADERS = {"Cache-Control": "max-age=365000000, immutable, public"}
"""Files never change once published: PyPI's file host says so, and clients cache them."""


def _etags(header: Optional[str]) -> set[str]:
    """The entity tags of an ``If-None-Match`` header (weak ones compare as strong)."""
    if not header:
        return set()
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def _html_page(title: str, links: str) -> str:
    return (
        "<!DOCTYPE html>\n<html>\n  <head>\n"
        f'    <meta name="pypi:repository-version" content="{API_VERSION}">\n'
        f"    <title>{html.escape(title)}</title>\n  </head>\n  <body>\n"
        f"    <h1>{html.escape(title)}</h1>\n{links}\n  </body>\n</html>\n"
    )


def _file_url(filename: str) -> str:
    return f"../../{FILES_DIR}/{urllib.parse.quote(filename)}"


def _project_link(repository: _Repository, distribution: _Distribution) -> str:
    href = f"{_file_url(distribution.filename)}#sha256={repository.sha256(distribution)}"
    attributes = [f'href="{html.escape(href)}"']
    requires_python = repository.requires_python(distribution)
    if requires_python:
        attributes.append(f'data-requires-python="{html.escape(requires_python)}"')
    metadata = repository.metadata(distribution)
    if metadata is not None:
        value = html.escape(f"sha256={hashlib.sha256(metadata).hexdigest()}")
        attributes.append(f'data-dist-info-metadata="{value}"')
        attributes.append(f'data-core-metadata="{value}"')
    return f"    <a {' '.join(attributes)}>{html.escape(distribution.filename)}</a><br>"


def _project_json(
    repository: _Repository, name: NormalizedName, distributions: Sequence[_Distribution]
) -> dict[str, Any]:
    files: list[dict[str, Any]] = []
    for distribution in distributions:
        entry: dict[str, Any] = {
            "filename": distribution.filename,
            "url": _file_url(distribution.filename),
            "hashes": {"sha256": repository.sha256(distribution)},
        }
        requires_python = repository.requires_python(distribution)
        if requires_python:
            entry["requires-python"] = requires_python
        metadata = repository.metadata(distribution)
        if metadata is not None:
            # Never the legacy "dist-info-metadata" key in JSON: pip 22.3-23.1 crash on it
            # (TypeError: unhashable type: 'dict'; pip#12042, PEP 714). HTML has both names.
            entry["core-metadata"] = {"sha256": hashlib.sha256(metadata).hexdigest()}
        entry["size"] = distribution.size
        # No "upload-time" (optional, PEP 700): it would be the file's download time, and uv
        # records it in uv.lock, so fixture lock files would differ from machine to machine.
        entry["yanked"] = False
        files.append(entry)
    versions = sorted({d.version for d in distributions}, key=Version)
    return {
        "meta": {"api-version": API_VERSION},
        "name": name,
        "files": files,
        "versions": versions,
    }


class IndexServer:
    """A running local index; see :func:`serve`. Close it (or use ``with``) when done."""

    def __init__(self, root: Path, server: _Server, scheme: str = "http") -> None:
        self.root = root
        self._server = server
        self.scheme = scheme
        self.host, self.port = str(server.server_address[0]), int(server.server_address[1])
        self.base_url = f"{scheme}://{self.host}:{self.port}"
        self.url = f"{self.base_url}/simple/"
        self._auth: Optional[tuple[str, str]] = None
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"local-index-{self.port}",
            daemon=True,
        )
        self._thread.start()

    @property
    def requests(self) -> list[_RequestRecord]:
        """``(method, path, status)`` of every request so far, in order; clear() it freely."""
        return self._server.requests

    def url_with_credentials(self, user: str, password: str) -> str:
        """The index URL with ``user:password@`` (percent-encoded) in it, for pip and uv."""
        quoted = f"{urllib.parse.quote(user, safe='')}:{urllib.parse.quote(password, safe='')}"
        return f"{self.scheme}://{quoted}@{self.host}:{self.port}/simple/"

    @property
    def authenticated_url(self) -> str:
        """:attr:`url` with the server's own credentials in it (just :attr:`url` without auth)."""
        if self._auth is None:
            return self.url
        return self.url_with_credentials(*self._auth)

    def close(self) -> None:
        """Stop serving and free the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> IndexServer:
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"IndexServer(url={self.url!r}, root={str(self.root)!r})"


def serve(
    root: Path,
    *,
    host: str = LOCALHOST,
    port: int = 0,
    auth: tuple[str, str] | None = None,
    tls: ssl.SSLContext | None = None,
) -> IndexServer:
    """Serve ``root/files`` as a simple repository on 127.0.0.1 in a daemon thread.

    ``port=0`` picks a free port. With ``auth=(user, password)`` every request needs those
    HTTP Basic credentials; others get 401. With ``tls`` (a server-side SSL context) it
    serves HTTPS.
    """
    if host != LOCALHOST:
        raise ValueError(f"the local index only binds {LOCALHOST}, not {host!r}")
    if auth is not None and (not auth[0] or ":" in auth[0]):
        raise ValueError("auth user must be non-empty and contain no ':'")
    server = _Server((host, port), _Repository(Path(root) / FILES_DIR), auth)
    server.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    index = IndexServer(Path(root), server, "https" if tls is not None else "http")
    index._auth = auth
    return index


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------


def _parse_auth(value: str) -> tuple[str, str]:
    user, colon, password = value.partition(":")
    if not colon or not user:
        raise argparse.ArgumentTypeError("expected USER:PASSWORD")
    return user, password


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command-line entry point; see the module docstring."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.local_index",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)

    fill_parser = commands.add_parser("fill", help="download distributions from upstream")
    fill_parser.add_argument("--dest", type=Path, required=True, help="index root directory")
    fill_parser.add_argument(
        "-r",
        "--requirement",
        dest="requirements",
        type=Path,
        action="append",
        required=True,
        help="requirements file",
    )
    fill_parser.add_argument(
        "--python",
        dest="pythons",
        type=Path,
        action="append",
        help="interpreter to download for (default: pyenv 3.10+)",
    )

    serve_parser = commands.add_parser("serve", help="serve an index root on 127.0.0.1")
    serve_parser.add_argument("--root", type=Path, required=True, help="index root directory")
    serve_parser.add_argument("--port", type=int, default=0, help="port (default: any free)")
    serve_parser.add_argument("--auth", type=_parse_auth, help="require USER:PASSWORD")

    args = parser.parse_args(argv)
    if args.command == "fill":
        logging.basicConfig(level=logging.INFO, format="%(message)s")
        pythons = args.pythons or default_pythons()
        try:
            fill(args.requirements, args.dest, pythons)
        except FillError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        print(f"filled {args.dest / FILES_DIR} for {', '.join(map(str, pythons))}")
        return 0

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with serve(args.root, port=args.port, auth=args.auth) as index:
        print(index.authenticated_url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while not stop.wait(1):
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
