"""Make an unpacked CPython tell the truth about where it lives.

python-build-standalone's interpreter is relocatable, but its build-time metadata is not:
``_sysconfigdata_*.py``, ``config-*/Makefile``, ``pkgconfig/*.pc`` and ``python*-config``
still name the build prefix (``/install``) and the build's compilers (clang, llvm-ar).
Extensions built from sdists read these, so they are rewritten to the layer path and to the
build image's ``cc``/``c++``/``ar``, as uv does for the Pythons it manages.
"""

from __future__ import annotations

import ast
import json
import pprint
import re
from pathlib import Path
from typing import Any

from python_cnb.python.layout import PythonLayout

_COMPILER_KEYS = ("CC", "CXX", "LDSHARED", "LDCXXSHARED", "BLDSHARED", "LINKCC", "CPP", "AR")
_COMPILERS = (
    (re.compile(r"^(\S*/)?clang\+\+(?=\s|$)"), "c++"),
    (re.compile(r"^(\S*/)?clang(?=\s|$)"), "cc"),
    (re.compile(r"^(\S*/)?llvm-ar(?=\s|$)"), "ar"),
)


def _prefix_pattern(prefix: str) -> re.Pattern[str]:
    """``prefix`` as a whole path: not inside another path (``/tools/install``, ``./install``)
    nor a longer name (``/installer``), but possibly glued to a one-letter compiler option
    (``-I/install/include``, ``-L/install/lib``)."""
    start = r"(?:(?<![\w.-])|(?<=(?<![\w.-])-[A-Za-z]))"
    return re.compile(start + re.escape(prefix) + r"(?=[/'\"\s:;,)=]|$)", re.MULTILINE)


def _rewrite_value(value: Any, pattern: re.Pattern[str], new_prefix: str, key: str) -> Any:
    if not isinstance(value, str):
        return value
    value = pattern.sub(lambda _: new_prefix, value)
    if key in _COMPILER_KEYS:
        for compiler, replacement in _COMPILERS:
            value = compiler.sub(replacement, value)
    return value


def _rewrite_vars(
    variables: dict[str, Any], pattern: re.Pattern[str], new_prefix: str
) -> dict[str, Any]:
    return {
        key: _rewrite_value(value, pattern, new_prefix, key) for key, value in variables.items()
    }


def build_prefix(layout: PythonLayout) -> str | None:
    """The prefix the interpreter was built for, read from its sysconfig data."""
    for path in sorted(layout.stdlib.glob("_sysconfigdata_*.py")):
        variables = _read_sysconfigdata(path)
        prefix = variables.get("prefix")
        if isinstance(prefix, str) and prefix:
            return prefix
    return None


def _read_sysconfigdata(path: Path) -> dict[str, Any]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "build_time_vars" for t in node.targets
        ):
            value = ast.literal_eval(node.value)
            if isinstance(value, dict):
                return value
    return {}


def relocate(layout: PythonLayout) -> list[Path]:
    """Rewrite the build prefix and compilers in ``layout.home``; return the changed files."""
    old = build_prefix(layout)
    new = str(layout.home)
    if old is None or old == new:
        return []
    pattern = _prefix_pattern(old)
    changed = []
    for path in sorted(layout.stdlib.glob("_sysconfigdata_*.py")):
        variables = _rewrite_vars(_read_sysconfigdata(path), pattern, new)
        text = "# system configuration, relocated by python-cnb\nbuild_time_vars = "
        path.write_text(text + pprint.pformat(variables, width=100) + "\n", encoding="utf-8")
        changed.append(path)
    for path in sorted(layout.stdlib.glob("_sysconfig_vars_*.json")):
        variables = _rewrite_vars(json.loads(path.read_text(encoding="utf-8")), pattern, new)
        path.write_text(json.dumps(variables, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        changed.append(path)
    text_files = [
        *layout.stdlib.glob("config-3*/Makefile"),
        *layout.stdlib.glob("config-3*/python-config.py"),
        *layout.pkgconfig.glob("*.pc"),
        layout.config_script,
    ]
    for path in sorted(text_files):
        if path.is_symlink() or not path.is_file():
            continue
        before = path.read_text(encoding="utf-8", errors="surrogateescape")
        after = pattern.sub(lambda _: new, before)  # a function: no escapes in the path
        if after != before:
            path.write_text(after, encoding="utf-8", errors="surrogateescape")
            changed.append(path)
    return changed
