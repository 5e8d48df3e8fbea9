"""Read an app's source with ``ast`` to find what can serve it, without importing it.

Run as a script by the app's own interpreter (``python -I -B app_inspect.py APP_DIR``), so
that the app's syntax is parsed by the Python it was written for; it prints one JSON
object. It uses the standard library only and runs on Python 3.9 and newer.

What it reports:

* ``django``: the project behind ``manage.py`` (in the app root or one level down): the
  settings module from ``DJANGO_SETTINGS_MODULE``, and ``WSGI_APPLICATION``/
  ``ASGI_APPLICATION`` from the settings file (or the project's ``wsgi.py``/``asgi.py``);
* ``modules``: for ``wsgi.py``, ``app.py`` and ``main.py``, the module-level callables
  named ``application`` or ``app`` and whether each is WSGI or ASGI, judged from the
  constructor (``Flask()``, ``FastAPI()``...), the function signature, or the framework the
  module imports; and whether the module runs as a script (``if __name__ == "__main__"``);
* ``wsgi_application_file``: whether ``wsgi/application`` (the OpenShift/Jelastic cartridge
  convention) defines ``application``.
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

ASGI_CONSTRUCTORS = {
    "FastAPI",
    "Starlette",
    "Quart",
    "Litestar",
    "Sanic",
    "get_asgi_application",
    "ProtocolTypeRouter",
}
WSGI_CONSTRUCTORS = {"Flask", "Bottle", "make_wsgi_app", "get_wsgi_application"}
ASGI_FRAMEWORKS = {"fastapi", "starlette", "quart", "litestar", "sanic", "channels", "blacksheep"}
WSGI_FRAMEWORKS = {"flask", "bottle", "falcon", "pyramid", "django", "werkzeug", "cherrypy"}
CALLABLE_NAMES = ("application", "app")
MODULES = ("wsgi", "app", "main")


def _parse(path: Path) -> Optional[ast.Module]:
    try:
        return ast.parse(path.read_text(encoding="utf-8", errors="replace"), filename=str(path))
    except (SyntaxError, ValueError, OSError):
        return None


def _dotted(node: ast.AST) -> str:
    """``fastapi.FastAPI`` for an attribute chain, ``Flask`` for a name."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return _dotted(node.value) + "." + node.attr
    if isinstance(node, ast.Call):
        return _dotted(node.func)
    return ""


def _imports(tree: ast.Module) -> Dict[str, str]:
    """Local name -> imported dotted origin (``FastAPI`` -> ``fastapi.FastAPI``)."""
    names: Dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:  # import falcon.asgi as fa: fa is falcon.asgi
                    names[alias.asname] = alias.name
                else:  # import falcon.asgi: the name bound is falcon, the package
                    head = alias.name.split(".")[0]
                    names[head] = head
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def _kind_of_call(call: ast.Call, imports: Dict[str, str]) -> str:
    """``asgi``, ``wsgi`` or ``unknown`` for ``app = <call>``, from what is called."""
    dotted = _dotted(call.func)
    head = dotted.split(".")[0]
    parts = (imports.get(head, head) + dotted[len(head) :]).split(".")
    root, name = parts[0], parts[-1]
    if "asgi" in parts or root in ASGI_FRAMEWORKS:  # falcon.asgi.App, django.core.asgi...
        return "asgi"
    if root in WSGI_FRAMEWORKS:
        return "wsgi"
    if name in ASGI_CONSTRUCTORS:
        return "asgi"
    if name in WSGI_CONSTRUCTORS:
        return "wsgi"
    return "unknown"


def _kind_of_function(node: ast.AST) -> str:
    arguments = node.args  # type: ignore[attr-defined]
    args = [a.arg for a in [*arguments.posonlyargs, *arguments.args]]
    if isinstance(node, ast.AsyncFunctionDef) and len(args) == 3:
        return "asgi"
    if isinstance(node, ast.FunctionDef) and len(args) == 2:
        return "wsgi"
    return "unknown"


def _is_main_guard(node: ast.stmt) -> bool:
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    if len(node.test.ops) != 1 or not isinstance(node.test.ops[0], ast.Eq):
        return False  # `if __name__ != "__main__":` guards the opposite
    sides = [node.test.left, *node.test.comparators]
    return any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides) and any(
        isinstance(s, ast.Constant) and s.value == "__main__" for s in sides
    )


def inspect_module(path: Path) -> Optional[Dict[str, Any]]:
    """Callables and frameworks of one module file, or None when it does not parse."""
    tree = _parse(path)
    if tree is None:
        return None
    imports = _imports(tree)
    frameworks = sorted(
        {origin.split(".")[0] for origin in imports.values()} & (ASGI_FRAMEWORKS | WSGI_FRAMEWORKS)
    )
    callables: Dict[str, str] = {}
    for node in tree.body:
        targets: List[ast.expr] = []
        value: Optional[ast.AST] = None
        if isinstance(node, ast.Assign):
            targets, value = list(node.targets), node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        for target in targets:
            if isinstance(target, ast.Name) and target.id in CALLABLE_NAMES:
                kind = _kind_of_call(value, imports) if isinstance(value, ast.Call) else "unknown"
                callables[target.id] = kind
        if (
            isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.name in CALLABLE_NAMES
        ):
            callables[node.name] = _kind_of_function(node)
    for name, kind in list(callables.items()):
        if kind == "unknown":
            if set(frameworks) & ASGI_FRAMEWORKS and not set(frameworks) & WSGI_FRAMEWORKS:
                callables[name] = "asgi"
            elif set(frameworks) & WSGI_FRAMEWORKS:
                callables[name] = "wsgi"
    return {
        "callables": callables,
        "frameworks": frameworks,
        "is_script": any(_is_main_guard(node) for node in tree.body),
    }


def _string_assignment(tree: ast.Module, name: str) -> Optional[str]:
    """The string a module-level ``name = "..."`` sets; the last assignment wins, as it does
    when the module runs."""
    found: Optional[str] = None
    for node in tree.body:
        targets: List[ast.expr] = []
        value: Optional[ast.expr] = None
        if isinstance(node, ast.Assign):
            targets, value = list(node.targets), node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            constant = value.value if isinstance(value, ast.Constant) else None
            found = constant if isinstance(constant, str) else None
    return found


def _settings_module(manage_py: Path) -> Optional[str]:
    tree = _parse(manage_py)
    if tree is None:
        return None
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and _dotted(node.func).endswith("setdefault")
            and len(node.args) == 2
        ):
            key, value = node.args
            if (
                isinstance(key, ast.Constant)
                and key.value == "DJANGO_SETTINGS_MODULE"
                and isinstance(value, ast.Constant)
                and isinstance(value.value, str)
            ):
                return value.value
    return None


def _module_file(root: Path, dotted: str) -> Optional[Path]:
    base = root.joinpath(*dotted.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def inspect_django(app_dir: Path) -> Optional[Dict[str, Any]]:
    """The Django project of the app, if ``manage.py`` is in the root or one level down."""
    nested = [p for p in sorted(app_dir.glob("*/manage.py")) if not p.parent.name.startswith(".")]
    manage_py = next((p for p in [app_dir / "manage.py", *nested] if p.is_file()), None)
    if manage_py is None:
        return None
    project_root = manage_py.parent
    settings = _settings_module(manage_py)
    wsgi = asgi = None
    asgi_explicit = False
    if settings is not None:
        settings_file = _module_file(project_root, settings)
        tree = _parse(settings_file) if settings_file is not None else None
        if tree is not None:
            wsgi = _string_assignment(tree, "WSGI_APPLICATION")
            asgi = _string_assignment(tree, "ASGI_APPLICATION")
            asgi_explicit = asgi is not None
        package = settings.split(".")[0]
        if wsgi is None and (project_root / package / "wsgi.py").is_file():
            wsgi = f"{package}.wsgi.application"
        if asgi is None and wsgi is None and (project_root / package / "asgi.py").is_file():
            asgi = f"{package}.asgi.application"
    return {
        "manage_py": str(manage_py.relative_to(app_dir)),
        "directory": str(project_root.relative_to(app_dir)),
        "settings_module": settings,
        "wsgi_application": wsgi,
        "asgi_application": asgi,
        "asgi_explicit": asgi_explicit,
    }


def inspect_app(app_dir: Path) -> Dict[str, Any]:
    """Everything :mod:`python_cnb.processes` needs to choose a web process."""
    modules = {}
    for name in MODULES:
        path = app_dir / f"{name}.py"
        if path.is_file():
            result = inspect_module(path)
            if result is not None:
                modules[name] = result
    wsgi_file = app_dir / "wsgi" / "application"
    cartridge = inspect_module(wsgi_file) if wsgi_file.is_file() else None
    return {
        "django": inspect_django(app_dir),
        "modules": modules,
        "wsgi_application_file": bool(cartridge and "application" in cartridge["callables"]),
    }


if __name__ == "__main__":
    print(json.dumps(inspect_app(Path(sys.argv[1]))))
