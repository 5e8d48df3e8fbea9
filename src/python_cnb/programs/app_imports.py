"""The modules an app's code imports that neither the standard library nor the app provides.

Run as a script by the app's own interpreter (``python -I -B app_imports.py APP_DIR``), so
that both the grammar and the standard library are the ones the app will run with; it prints
one JSON object, ``{"imports": {name: [where, ...]}, "files": count}``. Standard library only;
Python 3.9 and newer.

An app that declares no dependencies gets an empty virtual environment, so any such import
fails at launch: the build uses this to fail first, naming the imports. Not counted: imports
guarded by ``try: ... except ImportError`` (optional ones) or ``if TYPE_CHECKING:``, relative
imports, the app's own modules (beside the root, under ``src/``, or beside the importing
file, where a script finds its siblings), and test and documentation code, which does not
run in the image.
"""

from __future__ import annotations

import ast
import json
import os
import sys
import sysconfig
from typing import Dict, Iterator, List, Set

SKIPPED_DIRS = {
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    "env",
    ".tox",
    ".nox",
    "node_modules",
    "__pycache__",
    "site-packages",
    "tests",
    "test",
    "docs",
    "doc",
}
MAX_FILES = 5000
"""Reading stops here: an app this large is read well enough by then."""
MAX_PLACES = 3
"""Where each import is, for the error: the first few places are enough."""
OPTIONAL_GUARDS = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}


def stdlib_names() -> Set[str]:
    """The standard library's top-level module names for this interpreter."""
    names = set(sys.builtin_module_names) | {"__future__", "__main__"}
    known = getattr(sys, "stdlib_module_names", None)  # 3.10+
    if known is not None:
        return names | set(known)
    for directory in (sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"]):
        for place in (directory, os.path.join(directory, "lib-dynload")):
            if os.path.isdir(place):
                names.update(_module_names(place))
    return names


def _module_names(directory: str) -> Set[str]:
    """Top-level importable names in ``directory``: modules, packages, extension modules."""
    names: Set[str] = set()
    try:
        entries = os.listdir(directory)
    except OSError:
        return names
    for entry in entries:
        path = os.path.join(directory, entry)
        if entry.endswith(".py"):
            names.add(entry[:-3])
        elif ".cpython-" in entry or entry.endswith((".so", ".abi3.so")):
            names.add(entry.split(".")[0])
        elif entry.isidentifier() and os.path.isdir(path) and _holds_python(path):
            names.add(entry)
    return names


def _holds_python(directory: str) -> bool:
    """A package, regular or namespace: a directory with a module in it."""
    try:
        return any(name.endswith(".py") for name in os.listdir(directory))
    except OSError:
        return False


def _is_test_file(name: str) -> bool:
    return name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"


def python_files(app_dir: str) -> Iterator[str]:
    """The app's ``.py`` files that may run in the image, sorted, at most MAX_FILES."""
    count = 0
    for directory, dirs, files in os.walk(app_dir):
        dirs[:] = sorted(
            d for d in dirs if d not in SKIPPED_DIRS and not d.startswith(".") and "-" not in d
        )
        for name in sorted(files):
            if name.endswith(".py") and not _is_test_file(name):
                yield os.path.join(directory, name)
                count += 1
                if count >= MAX_FILES:
                    return


def _guarded(handlers: List[ast.ExceptHandler]) -> bool:
    for handler in handlers:
        if handler.type is None:
            return True
        types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        if any(isinstance(t, ast.Name) and t.id in OPTIONAL_GUARDS for t in types):
            return True
    return False


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _required_imports(body: List[ast.stmt]) -> Iterator[ast.stmt]:
    """Import statements that must succeed for the code to run (not optional, not typing)."""
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
            continue
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _required_imports(node.orelse)
            continue
        handlers: List[ast.ExceptHandler] = getattr(node, "handlers", None) or []
        for field in ("body", "orelse", "finalbody"):
            if field == "body" and handlers and _guarded(handlers):
                continue  # try: import x / except ImportError: the import is optional
            inner = getattr(node, field, None)
            if isinstance(inner, list):
                yield from _required_imports([s for s in inner if isinstance(s, ast.stmt)])
        for handler in handlers:
            yield from _required_imports(handler.body)
        for case in getattr(node, "cases", None) or []:  # match statements
            yield from _required_imports(case.body)


def _top_names(node: ast.stmt) -> List[str]:
    if isinstance(node, ast.Import):
        return [alias.name.split(".")[0] for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        return [node.module.split(".")[0]]
    return []


def undeclared_imports(app_dir: str) -> Dict[str, object]:
    """See the module docstring."""
    stdlib = stdlib_names()
    roots = [app_dir, os.path.join(app_dir, "src")]
    local: Set[str] = set()
    for root in roots:
        if os.path.isdir(root):
            local |= _module_names(root)
    found: Dict[str, List[str]] = {}
    beside_by_dir: Dict[str, Set[str]] = {}
    files = 0
    for path in python_files(app_dir):
        try:
            with open(path, "rb") as handle:
                tree = ast.parse(handle.read(), filename=path)
        except (SyntaxError, ValueError, OSError):
            continue  # not this check's business: the app's own bug, or not Python
        files += 1
        directory = os.path.dirname(path)
        if directory not in beside_by_dir:  # one listing per directory, not per file
            beside_by_dir[directory] = _module_names(directory)
        beside = beside_by_dir[directory]
        relative = os.path.relpath(path, app_dir)
        for node in _required_imports(tree.body):
            for name in _top_names(node):
                if name in stdlib or name in local or name in beside:
                    continue
                places = found.setdefault(name, [])
                if len(places) < MAX_PLACES:
                    places.append(f"{relative}:{node.lineno}")
    return {"imports": dict(sorted(found.items())), "files": files}


if __name__ == "__main__":
    json.dump(undeclared_imports(sys.argv[1]), sys.stdout)
