"""requirements.txt and the files it pulls in with ``-r``/``-c``, read the way pip reads them.

python-cnb reads the requirement files itself (``pip._internal.req.req_file`` is the
reference): decoding (BOM, a PEP 263 ``coding:`` comment, UTF-8, else Latin-1 as pip's
locale fallback would), ``\\`` continuations, comments, ``${VAR}`` expansion from the build's
environment, then ``-r``/``-c`` includes (relative to the including file). The result is a
:class:`RequirementSet`: the requirement and constraint lines in pip's order, and the file
options (``--index-url``, ``--find-links``, ``--only-binary``...) in the order pip applies
them. The engines then get one normalised file without option lines, plus the options on
their command line, for the resolve *and* the install, so both see what the app wrote (and
uv's stricter parser never sees what pip would accept).
"""

from __future__ import annotations

import codecs
import hashlib
import re
import shlex
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from python_cnb import output
from python_cnb.app.project_files import inside_app, read_app_bytes
from python_cnb.buildpack_error import BuildpackError

_COMMENT = re.compile(r"(^|\s+)#.*$")
_ENV_VAR = re.compile(r"\$\{([A-Z0-9_]+)\}")
"""pip expands only ``${NAME}`` with POSIX names (upper case, digits, ``_``)."""
_CODING = re.compile(rb"coding[:=]\s*([-\w.]+)")
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF16, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
)
_OPTIONS_WITH_VALUE = {
    "-r": "requirement",
    "--requirement": "requirement",
    "-c": "constraint",
    "--constraint": "constraint",
    "-e": "editable",
    "--editable": "editable",
    "-i": "index-url",
    "--index-url": "index-url",
    "--extra-index-url": "extra-index-url",
    "-f": "find-links",
    "--find-links": "find-links",
    "--trusted-host": "trusted-host",
    "--only-binary": "only-binary",
    "--no-binary": "no-binary",
    "--all-releases": "all-releases",
    "--only-final": "only-final",
    "--use-feature": "use-feature",
    "--hash": "hash",
    "--config-settings": "config-settings",
    "-C": "config-settings",
}
_IGNORED = ("hash", "config-settings", "use-feature")
"""Accepted on an option line and without effect there (pip warns about a lone --hash)."""
_FLAGS = {
    "--no-index": "no-index",
    "--pre": "pre",
    "--prefer-binary": "prefer-binary",
    "--require-hashes": "require-hashes",
    "--no-require-hashes": "no-require-hashes",
}
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_DIST_SUFFIXES = (".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar")
_VCS_PREFIXES = ("git+", "hg+", "svn+", "bzr+")
_COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
"""A full commit hash (SHA-1 or SHA-256): the one kind of VCS ref that cannot move."""
_EGG = re.compile(r"(?:^|&)egg=([A-Za-z0-9][A-Za-z0-9._-]*)")


@dataclass(eq=False)
class MissingRequirementsFile(BuildpackError):
    """A ``-r``/``-c`` reference to a file that does not exist."""

    including_file: str
    line_number: int
    line: str
    missing: str


@dataclass(eq=False)
class InvalidRequirementsLine(BuildpackError):
    """A line pip cannot parse (unbalanced quotes, an option pip does not know)."""

    file: str
    line_number: int
    line: str
    reason: str


@dataclass(eq=False)
class LocalPathOutsideApp(BuildpackError):
    """A requirement that installs from a path outside the app directory."""

    file: str
    line_number: int
    line: str
    path: str


@dataclass(frozen=True)
class VcsSource:
    """A requirement installed from a version control URL (``git+https://…``)."""

    url: str
    """As written (``git+https://host/repo@ref#egg=name``): it may hold credentials."""
    name: Optional[str]
    """The distribution (``egg=name`` or ``name @ …``), when the line names it."""
    editable: bool
    commit: Optional[str]
    """The full commit hash the URL pins, None when its ref may move (a branch, a tag, the
    default branch)."""

    @property
    def shown(self) -> str:
        """The URL without ``user:password@``, for the log."""
        return redact_url(self.url)


def redact_url(url: str) -> str:
    """``url`` with the ``user:password@`` of its authority replaced by ``****@``."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, path = rest.partition("/")
    if "@" not in authority:
        return url
    return f"{scheme}://****@{authority.rsplit('@', 1)[1]}{slash}{path}"


def _install_target(text: str) -> Optional[tuple[bool, Optional[str], str]]:
    """``(editable, name, target)`` of a requirement line, as pip reads it: what ``-e`` or
    ``--editable`` names, the URL of ``name @ URL`` (with that name), else the first word."""
    try:
        tokens = shlex.split(text)
    except ValueError:
        tokens = []
    if not tokens:
        return None
    first = tokens[0]
    if first in ("-e", "--editable"):
        return (True, None, tokens[1]) if len(tokens) > 1 else None
    if first.startswith("--editable="):
        return True, None, first.split("=", 1)[1]
    if first.startswith("-e"):
        return True, None, first[2:]
    requirement = text.split(";", 1)[0].strip()
    name_part, at, rest = requirement.partition("@")
    if at and "://" not in name_part and rest.split():  # ``name @ URL``
        return False, name_part.strip().split("[", 1)[0], rest.split()[0]
    return False, None, first


def _vcs_source(text: str) -> Optional[VcsSource]:
    """The VCS URL a requirement line installs from, if it names one."""
    found = _install_target(text)
    if found is None:
        return None
    editable, name, target = found
    if not target.lower().startswith(_VCS_PREFIXES):
        return None
    base, _, fragment = target.partition("#")
    egg = _EGG.search(fragment)
    if name is None and egg is not None:
        name = egg.group(1).split("[", 1)[0]
    path = urllib.parse.urlsplit(base.split("+", 1)[1]).path
    ref = path.rpartition("@")[2] if "@" in path else ""
    commit = ref if _COMMIT.fullmatch(ref) else None
    return VcsSource(target, canonicalize_name(name) if name else None, editable, commit)


@dataclass(frozen=True)
class RequirementLine:
    """One requirement (or constraint) as written, after joining and ``${VAR}`` expansion."""

    file: str
    """Shown name: relative to the app, or in full when outside it."""
    number: int
    text: str
    constraint: bool

    def _parts(self) -> tuple[str, list[str]]:
        """The requirement and its per-requirement options, split as pip splits them
        (``break_args_options``: at the first space-separated token that starts with ``-``)."""
        tokens = self.text.split(" ")
        first = next((i for i, t in enumerate(tokens) if t.startswith("-")), len(tokens))
        return " ".join(tokens[:first]), tokens[first:]

    @property
    def vcs(self) -> Optional[VcsSource]:
        """The version control URL the line installs from, if any."""
        return _vcs_source(self.text)

    @property
    def installed_text(self) -> str:
        """The line as the engines get it: an editable VCS requirement (``-e git+…``)
        becomes a regular one (the URL alone), since an image runs installed packages and
        never needs an editable checkout (which uv refuses for Git sources)."""
        vcs = self.vcs
        return vcs.url if vcs is not None and vcs.editable else self.text

    @property
    def hashed(self) -> bool:
        _, options = self._parts()
        return any(o == "--hash" or o.startswith("--hash=") for o in options)

    @property
    def hashes(self) -> tuple[str, ...]:
        """The values of the line's ``--hash`` options (``sha256:…``), as written."""
        _, options = self._parts()
        options = [o for o in options if o]
        found = []
        for index, option in enumerate(options):
            if option.startswith("--hash="):
                found.append(option.partition("=")[2])
            elif option == "--hash" and index + 1 < len(options):
                found.append(options[index + 1])
        return tuple(found)

    @property
    def pin(self) -> Optional[tuple[str, str]]:
        """``(normalized name, version)`` when the line pins one version (``name==1.0``,
        ``name == 1.0 ; marker``, ``name===1.0``), else None."""
        requirement, _ = self._parts()
        try:
            parsed = Requirement(requirement)
        except InvalidRequirement:
            return None
        specifiers = list(parsed.specifier)
        if parsed.url or len(specifiers) != 1 or specifiers[0].operator not in ("==", "==="):
            return None
        version = specifiers[0].version
        if version.endswith(".*"):
            return None
        return canonicalize_name(parsed.name), version


@dataclass(frozen=True)
class FileOption:
    """A file-wide option line (``--index-url URL``), in the order pip applies it."""

    name: str
    """Canonical long name without dashes: ``index-url``, ``no-index``..."""
    value: str
    file: str
    number: int


@dataclass(frozen=True)
class RequirementSet:
    """Everything pip would read from a root requirements file."""

    files: tuple[Path, ...]
    """Every local file read, in a stable order, each once."""
    lines: tuple[RequirementLine, ...]
    options: tuple[FileOption, ...]
    variables: tuple[tuple[str, Optional[str]], ...]
    """``${NAME}`` references and the values they expanded to (None: left as written)."""
    local_paths: tuple[Path, ...]
    """Directories and archives inside the app that requirement lines install from."""
    editable_paths: tuple[Path, ...] = ()
    """Those of :attr:`local_paths` installed editable (``-e``): their code is used in
    place, only their metadata is installed."""

    @property
    def hash_checking(self) -> bool:
        """pip's hash-checking mode: some requirement has ``--hash``, or ``--require-hashes``."""
        if any(o.name == "no-require-hashes" for o in self.options):
            return False
        return any(line.hashed for line in self.lines) or any(
            o.name == "require-hashes" for o in self.options
        )

    def unhashed(self) -> tuple[RequirementLine, ...]:
        """Requirements without ``--hash`` (hash-checking mode refuses them)."""
        return tuple(line for line in self.lines if not line.constraint and not line.hashed)

    def render(self) -> tuple[str, str]:
        """The requirements and the constraints, one per line, without option lines."""
        requirements = "".join(
            f"{line.installed_text}\n" for line in self.lines if not line.constraint
        )
        constraints = "".join(f"{line.text}\n" for line in self.lines if line.constraint)
        return requirements, constraints

    def vcs_lines(self) -> tuple[tuple[RequirementLine, VcsSource], ...]:
        """The requirements installed from a version control URL, with their source."""
        found = []
        for line in self.lines:
            source = line.vcs
            if source is not None and not line.constraint:
                found.append((line, source))
        return tuple(found)


def decode(data: bytes) -> str:
    """A requirements file's text, decoded as pip decodes it."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, errors="replace")
    for line in data.split(b"\n")[:2]:
        if line[:1] == b"#":
            match = _CODING.search(line)
            if match is not None:
                try:
                    return data.decode(match.group(1).decode("ascii"), errors="replace")
                except LookupError:
                    break
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # pip falls back to the locale's encoding; Latin-1 decodes any byte, and what pip
        # accepts there (a comment, an author's name) is the same text for every 8-bit locale.
        return data.decode("latin-1")


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Lines joined at ``\\`` continuations, then stripped of comments, as pip reads them
    (``pip._internal.req.req_file``), each with the number of its first line."""
    result: list[tuple[int, str]] = []
    buffer, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not buffer:
            start = number
        is_comment = bool(_COMMENT.match(raw))
        if raw.endswith("\\") and not is_comment:
            buffer += raw.strip("\\")
            continue
        # pip: a comment line ends a continuation, and stays a comment once joined
        line = " " + raw if buffer and is_comment else raw
        result.append((start, _COMMENT.sub("", buffer + line)))
        buffer = ""
    if buffer:  # a continuation at the end of the file: pip keeps the line
        result.append((start, _COMMENT.sub("", buffer)))
    return result


def _display_name(path: Path, app_dir: Path) -> str:
    """``path`` relative to the app, or in full when it is outside."""
    try:
        return str(path.relative_to(app_dir.resolve()))
    except ValueError:
        return str(path)


def _inside_app(app_dir: Path, path: Path) -> Path:
    """``path`` resolved, refused (unread) when it resolves outside the app: a requirements
    file or include may be echoed into the log (a symlink to /proc/self/environ)."""
    return inside_app(app_dir, _display_name(path, app_dir))


def _split_option(tokens: list[str]) -> list[tuple[str, str]]:
    """``[("index-url", URL), ...]`` for an option line; ValueError names what is wrong."""
    found: list[tuple[str, str]] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        index += 1
        name, eq, inline = token.partition("=") if token.startswith("--") else (token, "", "")
        if name in _FLAGS:
            if eq:
                raise ValueError(f"{name} takes no value")
            found.append((_FLAGS[name], ""))
            continue
        short = token[:2] if not token.startswith("--") else ""
        if short and short in _OPTIONS_WITH_VALUE and len(token) > 2:
            found.append((_OPTIONS_WITH_VALUE[short], token[2:].lstrip("=")))
            continue
        if name in _OPTIONS_WITH_VALUE:
            if eq:
                found.append((_OPTIONS_WITH_VALUE[name], inline))
            elif index < len(tokens):
                found.append((_OPTIONS_WITH_VALUE[name], tokens[index]))
                index += 1
            else:
                raise ValueError(f"{name} needs a value")
            continue
        raise ValueError(f"pip does not accept {token!r} in a requirements file")
    return found


CREDENTIAL = "<credential>"
"""What :attr:`RequirementSet.variables` records for a variable used as a URL's user or
password: the venv's cache key is stored with the image, and a password's digest there could
be guessed; the URL's host and path (which decide the packages) are keyed apart."""


def _in_userinfo(line: str, start: int) -> bool:
    """Whether position ``start`` of ``line`` is inside the ``user:password@`` of a URL."""
    scheme = line.rfind("://", 0, start)
    if scheme < 0:
        return False
    netloc = (
        line[scheme + 3 :].split("/", 1)[0].split(maxsplit=1)[0]
        if line[scheme + 3 :].strip()
        else ""
    )
    return "@" in netloc and start < scheme + 3 + netloc.rfind("@")


def _expand(line: str, env: Mapping[str, str], seen: dict[str, Optional[str]]) -> str:
    """pip's expansion: a set, non-empty variable replaces ``${NAME}``; others stay."""

    def value(match: re.Match[str]) -> str:
        found = env.get(match.group(1)) or None
        credential = found is not None and _in_userinfo(line, match.start())
        if seen.get(match.group(1)) != CREDENTIAL:
            seen[match.group(1)] = CREDENTIAL if credential else found
        return found if found is not None else match.group(0)

    return _ENV_VAR.sub(value, line)


def _local_target(text: str, cwd: Path) -> Optional[str]:
    """The path or ``file:`` URL a requirement line installs from, if it names one (paths
    relative to ``cwd``, where the engines run, as pip resolves them)."""
    found = _install_target(text)
    if found is None:
        return None
    editable, _, target = found
    if target.lower().startswith("file:"):
        return urllib.parse.unquote(urllib.parse.urlsplit(target).path) or None
    if _URL.match(target) or "+" in target.split("/", 1)[0]:
        return None  # a remote URL or a VCS reference
    looks_like_path = target.startswith((".", "/", "~")) or "/" in target
    if editable and (cwd / re.sub(r"\[[^\]]*\]$", "", target)).is_dir():
        looks_like_path = True  # pip: an editable that names an existing directory
    if looks_like_path or target.endswith(_DIST_SUFFIXES):
        return re.sub(r"\[[^\]]*\]$", "", target)  # ./lib[extra]: the path without extras
    return None


class _Reader:
    def __init__(self, app_dir: Path, env: Mapping[str, str]) -> None:
        self.app_dir, self.env = app_dir, env
        self.root = app_dir.resolve()
        self.files: list[Path] = []
        self.lines: list[RequirementLine] = []
        self.options: list[FileOption] = []
        self.variables: dict[str, Optional[str]] = {}
        self.local_paths: list[Path] = []
        self.editable_paths: list[Path] = []
        self.visiting: list[tuple[Path, bool]] = []

    def read(self, path: Path, constraint: bool) -> None:
        if (path, constraint) in self.visiting:
            return  # a cycle: pip refuses it, a repeat adds nothing
        self.visiting.append((path, constraint))
        if path not in self.files:
            self.files.append(path)
        shown = _display_name(path, self.app_dir)
        data = read_app_bytes(self.app_dir, path)  # an unreadable file is named as such
        for number, raw in _logical_lines(decode(path.read_bytes() if data is None else data)):
            line = _expand(raw, self.env, self.variables).strip()
            if line:
                self._line(path, shown, number, line, constraint)

    def _line(self, path: Path, shown: str, number: int, line: str, constraint: bool) -> None:
        if not line.startswith("-") or line.startswith(("-e", "--editable")):
            self._requirement(shown, number, line, constraint)
            return
        try:
            options = _split_option(shlex.split(line))
        except ValueError as error:
            raise InvalidRequirementsLine(shown, number, line, str(error)) from None
        for name, value in options:
            if name in ("requirement", "constraint"):
                self._include(path, shown, number, line, value, name == "constraint")
            elif name == "find-links":
                # pip: relative to the requirements file when that exists, else as written
                beside = path.parent / value
                self.options.append(
                    FileOption(name, str(beside) if beside.exists() else value, shown, number)
                )
            elif name not in _IGNORED:
                self.options.append(FileOption(name, value, shown, number))

    def _requirement(self, shown: str, number: int, line: str, constraint: bool) -> None:
        self.lines.append(RequirementLine(shown, number, line, constraint))
        vcs = _vcs_source(line)
        if vcs is not None:  # a token in a Git URL is masked wherever an installer echoes it
            parts = urllib.parse.urlsplit(vcs.url.split("+", 1)[1])
            for secret in (parts.password, parts.username if parts.password is None else None):
                if secret:
                    output.register_secret(secret)
                    output.register_secret(urllib.parse.unquote(secret))
        target = _local_target(line, self.app_dir)
        if target is None:
            return
        resolved = (self.app_dir / Path(target).expanduser()).resolve()
        if not resolved.is_relative_to(self.root):
            raise LocalPathOutsideApp(shown, number, line, target)
        if resolved not in self.local_paths:
            self.local_paths.append(resolved)
        if line.startswith(("-e", "--editable")) and resolved not in self.editable_paths:
            self.editable_paths.append(resolved)

    def _include(
        self, path: Path, shown: str, number: int, line: str, reference: str, constraint: bool
    ) -> None:
        if _URL.match(reference):
            # a remote file: the engine fetches it, as pip would
            self.lines.append(
                RequirementLine(shown, number, f"{'-c' if constraint else '-r'} {reference}", False)
            )
            return
        candidate = path.parent / reference
        if not candidate.is_file():
            raise MissingRequirementsFile(shown, number, line, reference)
        self.read(_inside_app(self.app_dir, candidate), constraint)


def read_requirements(
    root: Path, app_dir: Path, env: Optional[Mapping[str, str]] = None
) -> RequirementSet:
    """``root`` and everything it includes, read as pip reads them with ``env`` set."""
    reader = _Reader(app_dir, env or {})
    reader.read(_inside_app(app_dir, root), False)
    return RequirementSet(
        files=tuple(reader.files),
        lines=tuple(reader.lines),
        options=tuple(reader.options),
        variables=tuple(sorted(reader.variables.items())),
        local_paths=tuple(reader.local_paths),
        editable_paths=tuple(reader.editable_paths),
    )


def collect(root: Path, app_dir: Path) -> tuple[Path, ...]:
    """``root`` and every file it includes, in a stable order, each once."""
    return read_requirements(root, app_dir).files


def fingerprint(files: tuple[Path, ...], app_dir: Path) -> str:
    """SHA-256 over the names and contents of ``files``."""
    digest = hashlib.sha256()
    for path in files:
        name = _display_name(path, app_dir)
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


_SKIPPED_DIRS = {"__pycache__", ".git", ".hg", ".svn", ".eggs", ".tox", ".nox", ".venv"}


def tree_digest(path: Path) -> str:
    """SHA-256 over a local package: a file's bytes, or a directory's relative names, modes
    and bytes (VCS and bytecode directories and ``*.egg-info`` left out: building writes
    them, and they are not the package's source)."""
    digest = hashlib.sha256()
    if path.is_file():
        digest.update(path.read_bytes())
        return digest.hexdigest()
    if not path.is_dir():
        return "missing"
    for item in sorted(path.rglob("*")):
        relative = item.relative_to(path)
        if any(p in _SKIPPED_DIRS or p.endswith(".egg-info") for p in relative.parts):
            continue
        if item.is_symlink():
            digest.update(f"{relative}\0link\0{item.readlink()}\0".encode())
        elif item.is_file():
            mode = "x" if item.stat().st_mode & 0o111 else "f"
            digest.update(f"{relative}\0{mode}\0".encode() + item.read_bytes() + b"\0")
    return digest.hexdigest()


_METADATA_SUFFIXES = (".toml", ".cfg", ".txt", ".in", ".json")


def metadata_digest(path: Path) -> str:
    """SHA-256 over what an editable install takes from a project: the files at its top
    (pyproject.toml, setup.py, setup.cfg, and the requirement or version files they may
    read); its code is used in place."""
    digest = hashlib.sha256()
    if not path.is_dir():
        return tree_digest(path)
    for item in sorted(path.iterdir()):
        if item.is_file() and (item.name == "setup.py" or item.name.endswith(_METADATA_SUFFIXES)):
            digest.update(item.name.encode() + b"\0" + item.read_bytes() + b"\0")
    return digest.hexdigest()


def directory_listing_digest(path: Path) -> str:
    """SHA-256 over the distribution files directly in a find-links directory."""
    digest = hashlib.sha256()
    if not path.is_dir():
        return "missing"
    for item in sorted(path.iterdir()):
        if item.is_file() and item.name.endswith(_DIST_SUFFIXES):
            digest.update(item.name.encode() + b"\0" + item.read_bytes() + b"\0")
    return digest.hexdigest()
