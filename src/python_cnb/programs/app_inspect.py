"""Read an app's source with ``ast`` to find what can serve it, without importing it.

Run as a script by the app's own interpreter (``python -I -B app_inspect.py APP_DIR``), so
that the app's syntax is parsed by the Python it was written for; it prints one JSON
object. It uses the standard library only and runs on Python 3.9 and newer.

What it reports:

* ``django``: the project behind ``manage.py`` (in the app root or one level down): the
  settings module from ``DJANGO_SETTINGS_MODULE``, and ``WSGI_APPLICATION``/
  ``ASGI_APPLICATION`` from the settings file (``wsgi_explicit``/``asgi_explicit``), else
  guessed from the project's ``wsgi.py`` (or, without one, its ``asgi.py``);
* ``modules``: for ``wsgi.py``, ``app.py`` and ``main.py``:

  - ``callables``: the module-level objects named ``application`` or ``app``, and any other
    made by a framework's app class (``api = FastAPI()``), each ``wsgi``, ``asgi``,
    ``ambiguous`` or ``unknown``; judged, first to last, from the constructor call
    (``Flask()``, ``FastAPI()``, ``falcon.asgi.App()``...), the function signature, the
    object it aliases (``application = app``), the app classes a factory defined in the
    module calls (``app = create_app()``), then the frameworks the module imports:
    ``ambiguous`` when it imports both ASGI and WSGI frameworks and nothing else says;
  - ``frameworks``: the web frameworks it imports;
  - ``script``: where it runs as a script, or None: an ``if __name__ == "__main__":``
    block, or top-level code that does something when run (a call other than setup such as
    ``logging.basicConfig()``, a loop);
  - ``serves_on_import``: where importing it starts a server or a loop (a top-level
    ``app.run()``, ``uvicorn.run(...)``, ``asyncio.run(...)``, ``while``), or None; a server
    cannot import such a module, so it runs as a script;
  - ``factories``: the module-level app factories (``def create_app():``, ``make_app``,
    the names Flask's CLI looks for), each with the kind of app it makes, judged as for
    callables;
* ``packages``: the same for the modules of an ``app`` package in the root (``app/__init__.py``,
  ``app/app.py``, ``app/main.py``, ``app/wsgi.py``) and of each package of a src layout
  (``src/<package>/...``), with their dotted names and the directory to import them from;
* ``ui_scripts``: the root ``.py`` files that import Streamlit or Gradio, with where they call
  ``.launch()`` (a Gradio app's server);
* ``wsgi_application_file``: whether ``wsgi/application`` (the OpenShift/Jelastic cartridge
  convention) defines ``application``.
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Set, Tuple, TypedDict


class ModuleInfo(TypedDict):
    """What one module (``wsgi.py``, ``app.py``, ``main.py``) offers a server."""

    callables: Dict[str, str]
    """Each app object's name and kind: ``wsgi``, ``asgi``, ``ambiguous`` or ``unknown``."""
    frameworks: List[str]
    """The web frameworks the module imports, sorted."""
    script: Optional[str]
    """Where the module runs as a script (``line 9: ...``), or None."""
    serves_on_import: Optional[str]
    """Where importing the module starts a server or a loop, or None."""
    factories: Dict[str, str]
    """Each app factory's name (``create_app``, ``make_app``) and the kind of app it makes."""


class PackageModule(TypedDict):
    """A module of a package (``app/main.py``, ``src/shop/app.py``)."""

    module: str
    """Its dotted name: ``app.main``, ``shop.app``, ``app`` for ``app/__init__.py``."""
    file: str
    """Its file, relative to the app."""
    path: str
    """The directory to import it from, relative to the app: ``.``, or ``src``."""
    info: ModuleInfo


class UiScript(TypedDict):
    """A root script that imports Streamlit or Gradio."""

    framework: str
    """``streamlit`` or ``gradio``."""
    launch: Optional[str]
    """Where it calls ``.launch()`` (Gradio's server), or None."""


class DjangoInfo(TypedDict):
    """The Django project behind ``manage.py``."""

    manage_py: str
    """``manage.py``'s path, relative to the app."""
    directory: str
    """The project root (``manage.py``'s directory), relative to the app: ``.`` at the top."""
    settings_module: Optional[str]
    wsgi_application: Optional[str]
    asgi_application: Optional[str]
    wsgi_explicit: bool
    """Whether the settings set ``WSGI_APPLICATION`` (else it was guessed from wsgi.py)."""
    asgi_explicit: bool


class Inspection(TypedDict):
    """What this program prints, as JSON: everything inference reads (the processes step
    imports these types, so mypy checks every key on both sides)."""

    django: Optional[DjangoInfo]
    modules: Dict[str, ModuleInfo]
    """The modules of :data:`MODULES` that exist and parse, by name."""
    wsgi_application_file: bool
    """Whether ``wsgi/application`` defines ``application``."""
    packages: List[PackageModule]
    """The package modules that exist and parse: the ``app`` package's, then the src
    layout's (packages sorted by name), each package's ``__init__``, ``app``, ``main``,
    ``wsgi`` in this order."""
    ui_scripts: Dict[str, UiScript]
    """The root scripts that import Streamlit or Gradio, by file name."""


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
APP_CLASSES = {"FastAPI", "Starlette", "Quart", "Litestar", "Sanic", "Flask", "Bottle"}
"""Framework classes whose instances are apps, whatever the variable is called."""
FALCON_APP_CLASSES = {"App", "API"}
CALLABLE_NAMES = ("application", "app")
MODULES = ("wsgi", "app", "main")
PACKAGE_MODULES = ("__init__", "app", "main", "wsgi")
FACTORY_NAMES = ("create_app", "make_app")
"""The app factories Flask's CLI looks for, which gunicorn and uvicorn can call too."""
UI_FRAMEWORKS = ("streamlit", "gradio")
"""Frameworks whose apps are scripts their own server runs (``streamlit run``, Gradio's
``launch()``), not objects gunicorn or uvicorn could import."""
SETUP = (
    "django.setup",
    "dotenv",
    "faulthandler",
    "locale",
    "logging",
    "mimetypes",
    "os",
    "sys.path",
    "sys.setrecursionlimit",
    "sys.stderr",
    "sys.stdout",
    "warnings",
)
"""Calls that set things up (``load_dotenv()``, ``logging.basicConfig()``,
``sys.path.insert()``, ``os.makedirs()``, ``django.setup()``) rather than run the program."""
RUNNERS = {
    "infinity_polling",
    "main",
    "polling",
    "run",
    "run_app",
    "run_forever",
    "run_polling",
    "run_server",
    "run_simple",
    "run_until_complete",
    "serve",
    "serve_forever",
    "start_polling",
}
"""Calls that start a server or an event loop and return only when it stops (``app.run()``,
``uvicorn.run()``, ``asyncio.run()``, ``web.run_app()``, ``httpd.serve_forever()``,
``main()``), except ``subprocess.run()``."""


def _parse(path: Path) -> Optional[ast.Module]:
    """The module's tree, or None when it cannot be had: a syntax error, or source nested
    too deeply for the parser (``x = ------...1``: MemoryError "Parser stack overflowed",
    RecursionError during AST construction), which the app's own import would hit too."""
    try:
        return ast.parse(path.read_text(encoding="utf-8", errors="replace"), filename=str(path))
    except (SyntaxError, ValueError, OSError, MemoryError, RecursionError):
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


def _origin(call: ast.Call, imports: Dict[str, str]) -> List[str]:
    """The dotted parts of what ``call`` calls, its first name resolved through the
    module's imports (``FastAPI()`` after ``from fastapi import FastAPI``: fastapi.FastAPI)."""
    dotted = _dotted(call.func)
    head = dotted.split(".")[0]
    return (imports.get(head, head) + dotted[len(head) :]).split(".")


def _kind_of_call(call: ast.Call, imports: Dict[str, str]) -> str:
    """``asgi``, ``wsgi`` or ``unknown`` for ``app = <call>``, from what is called."""
    parts = _origin(call, imports)
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


def _is_app_class(call: ast.Call, imports: Dict[str, str]) -> bool:
    """Whether ``call`` makes a framework's app (``FastAPI()``, ``falcon.App()``)."""
    parts = _origin(call, imports)
    return parts[-1] in APP_CLASSES or (parts[0] == "falcon" and parts[-1] in FALCON_APP_CLASSES)


def _kind_of_factory(node: ast.AST, imports: Dict[str, str]) -> str:
    """The kind of the apps a function defined in the module makes (``def create_app():
    app = Flask(__name__)``): ``wsgi`` or ``asgi`` when all are of one kind."""
    kinds = {
        _kind_of_call(call, imports)
        for call in ast.walk(node)
        if isinstance(call, ast.Call)
        and (
            _is_app_class(call, imports)
            or _origin(call, imports)[-1] in ASGI_CONSTRUCTORS | WSGI_CONSTRUCTORS
        )
    }
    return kinds.pop() if len(kinds) == 1 else "unknown"


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


def _assignments(node: ast.stmt) -> Tuple[List[str], Optional[ast.expr]]:
    """The names a module-level assignment binds, and the value."""
    if isinstance(node, ast.Assign):
        names = [t.id for t in node.targets if isinstance(t, ast.Name)]
        return names, node.value
    if isinstance(node, ast.AnnAssign) and node.value is not None:
        return ([node.target.id] if isinstance(node.target, ast.Name) else []), node.value
    return [], None


def _objects(
    tree: ast.Module, imports: Dict[str, str]
) -> Tuple[Dict[str, str], Set[str], Dict[str, str]]:
    """Every module-level name with its kind (the last binding wins, as when the module
    runs), the names bound to a framework's app object, and the kind of app each function
    makes."""
    kinds: Dict[str, str] = {}
    apps: Set[str] = set()
    factories: Dict[str, str] = {}
    functions: Set[str] = set()
    """The names still bound to a function when the module has run."""
    for node in tree.body:
        names, value = _assignments(node)
        for name in names:
            kind, is_app = "unknown", False
            if isinstance(value, ast.Call):
                kind, is_app = _kind_of_call(value, imports), _is_app_class(value, imports)
                if kind == "unknown" and isinstance(value.func, ast.Name):
                    kind = factories.get(value.func.id, "unknown")
            elif isinstance(value, ast.Name):  # application = app
                kind, is_app = kinds.get(value.id, "unknown"), value.id in apps
            kinds[name] = kind
            functions.discard(name)
            if is_app:
                apps.add(name)
            else:
                apps.discard(name)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            kinds[node.name] = _kind_of_function(node)
            factories[node.name] = _kind_of_factory(node, imports)
            functions.add(node.name)
            apps.discard(node.name)
        elif isinstance(node, ast.ClassDef):
            kinds.pop(node.name, None)
            apps.discard(node.name)
            functions.discard(node.name)
    return kinds, apps, {name: factories[name] for name in factories if name in functions}


def _shorten(code: str, limit: int = 60) -> str:
    code = " ".join(code.split())
    return code if len(code) <= limit else code[: limit - 3] + "..."


def _called(node: ast.stmt) -> Optional[ast.Call]:
    """The call a statement consists of (``main()``, ``await x()``), if it is one."""
    value = node.value if isinstance(node, ast.Expr) else None
    if isinstance(value, ast.Await):
        value = value.value
    return value if isinstance(value, ast.Call) else None


def _top_level(body: List[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements that run when the module runs, also inside top-level ``if``, ``try``
    and ``with`` blocks (but not in a main guard, nor in functions and classes)."""
    for node in body:
        yield node
        if isinstance(node, ast.If) and not _is_main_guard(node):
            yield from _top_level([*node.body, *node.orelse])
        elif isinstance(node, ast.Try):
            handlers = [s for h in node.handlers for s in h.body]
            yield from _top_level([*node.body, *handlers, *node.orelse, *node.finalbody])
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            yield from _top_level(node.body)


def _where(node: ast.stmt, code: str) -> str:
    return f"line {node.lineno}: `{code}`"


def _runs(node: ast.stmt, imports: Dict[str, str], *, setup_too: bool) -> Optional[str]:
    """Where ``node`` runs the program: a loop, or a call (a runner such as ``app.run()``,
    or, with ``setup_too``, any call but setup)."""
    if isinstance(node, ast.While):
        return _where(node, _shorten(f"while {ast.unparse(node.test)}:"))
    if isinstance(node, (ast.For, ast.AsyncFor)) and setup_too:
        return _where(node, _shorten(f"for {ast.unparse(node.target)} in ...:"))
    call = _called(node)
    if call is None:
        return None
    parts = _origin(call, imports)
    if setup_too:
        dotted = ".".join(parts)
        if any(dotted == s or dotted.startswith(s + ".") for s in SETUP):
            return None
    elif parts[-1] not in RUNNERS or parts[0] == "subprocess":
        return None
    return _where(node, _shorten(ast.unparse(call.func)) + "()")


def _script(tree: ast.Module, imports: Dict[str, str]) -> Optional[str]:
    """Where the module runs as a script, or None when running it only defines things."""
    for node in _top_level(tree.body):
        if _is_main_guard(node):
            return _where(node, 'if __name__ == "__main__":')
        found = _runs(node, imports, setup_too=True)
        if found is not None:
            return found
    return None


def _serves_on_import(tree: ast.Module, imports: Dict[str, str]) -> Optional[str]:
    """Where importing the module starts a server or a loop, or None."""
    for node in _top_level(tree.body):
        found = _runs(node, imports, setup_too=False)
        if found is not None:
            return found
    return None


def inspect_module(path: Path) -> Optional[ModuleInfo]:
    """Callables, frameworks and script code of one module file, or None when it does not
    parse (or nests too deeply for this inspector's recursive walk, as ``a.b.c...``
    thousands long does: skipped like a syntax error)."""
    tree = _parse(path)
    if tree is None:
        return None
    try:
        return _inspect_tree(tree)
    except RecursionError:
        return None


def _inspect_tree(tree: ast.Module) -> ModuleInfo:
    imports = _imports(tree)
    frameworks = sorted(
        {origin.split(".")[0] for origin in imports.values()} & (ASGI_FRAMEWORKS | WSGI_FRAMEWORKS)
    )
    kinds, apps, made = _objects(tree, imports)
    callables = {n: kinds[n] for n in kinds if n in CALLABLE_NAMES or n in apps}
    factories = {n: made[n] for n in FACTORY_NAMES if n in made}
    asgi, wsgi = set(frameworks) & ASGI_FRAMEWORKS, set(frameworks) & WSGI_FRAMEWORKS
    guess = "ambiguous" if asgi and wsgi else "asgi" if asgi else "wsgi" if wsgi else "unknown"
    for found in (callables, factories):
        for name, kind in list(found.items()):
            if kind == "unknown":
                found[name] = guess
    return {
        "callables": callables,
        "frameworks": frameworks,
        "script": _script(tree, imports),
        "serves_on_import": _serves_on_import(tree, imports),
        "factories": factories,
    }


def _ui_framework(tree: ast.Module) -> Optional[str]:
    """``streamlit`` or ``gradio`` when the module imports it (Streamlit first: a Streamlit
    script may use Gradio's client, never the other way round)."""
    roots = {origin.split(".")[0] for origin in _imports(tree).values()}
    return next((name for name in UI_FRAMEWORKS if name in roots), None)


def _launch(tree: ast.Module) -> Optional[str]:
    """Where the module calls ``<something>.launch()``, anywhere (Gradio's ``demo.launch()``
    is often in a main guard), or None."""
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "launch"
        ):
            return f"line {node.lineno}: `{_shorten(ast.unparse(node.func))}()`"
    return None


def inspect_ui_script(path: Path) -> Optional[UiScript]:
    """The UI framework a script imports, or None (also when it does not parse)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    if not any(name in text for name in UI_FRAMEWORKS):  # most files: no parse needed
        return None
    tree = _parse(path)
    if tree is None:
        return None
    try:
        framework = _ui_framework(tree)
        return None if framework is None else {"framework": framework, "launch": _launch(tree)}
    except RecursionError:
        return None


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
    try:
        return _settings_in(tree)
    except RecursionError:
        return None


def _settings_in(tree: ast.Module) -> Optional[str]:
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


def inspect_django(app_dir: Path) -> Optional[DjangoInfo]:
    """The Django project of the app, if ``manage.py`` is in the root or one level down."""
    nested = [p for p in sorted(app_dir.glob("*/manage.py")) if not p.parent.name.startswith(".")]
    manage_py = next((p for p in [app_dir / "manage.py", *nested] if p.is_file()), None)
    if manage_py is None:
        return None
    # A root manage.py linked into the project (a monorepo's backend/manage.py) runs there:
    # Python puts the script's real directory on sys.path, so the project root is that one.
    real, root = manage_py.resolve(), app_dir.resolve()
    if manage_py.is_symlink() and root in real.parents:
        manage_py = app_dir / real.relative_to(root)
    project_root = manage_py.parent
    settings = _settings_module(manage_py)
    wsgi = asgi = None
    wsgi_explicit = asgi_explicit = False
    if settings is not None:
        settings_file = _module_file(project_root, settings)
        tree = _parse(settings_file) if settings_file is not None else None
        if tree is not None:
            wsgi = _string_assignment(tree, "WSGI_APPLICATION")
            asgi = _string_assignment(tree, "ASGI_APPLICATION")
            wsgi_explicit, asgi_explicit = wsgi is not None, asgi is not None
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
        "wsgi_explicit": wsgi_explicit,
        "asgi_explicit": asgi_explicit,
    }


def _package_dirs(app_dir: Path) -> List[Tuple[Path, str]]:
    """The packages whose modules may hold the app, with the directory to import them
    from: ``app/`` in the root, then each package of a src layout."""
    found: List[Tuple[Path, str]] = []
    app = app_dir / "app"
    # A regular package beats app.py; a namespace package (no __init__.py) does not.
    if (app / "__init__.py").is_file() or (app.is_dir() and not (app_dir / "app.py").is_file()):
        found.append((app, "."))
    src = app_dir / "src"
    if src.is_dir():
        for package in sorted(src.iterdir()):
            if package.name.isidentifier() and (package / "__init__.py").is_file():
                found.append((package, "src"))
    return found


def inspect_packages(app_dir: Path) -> List[PackageModule]:
    """The modules of :func:`_package_dirs` that exist and parse."""
    found: List[PackageModule] = []
    for package, path in _package_dirs(app_dir):
        for name in PACKAGE_MODULES:
            file = package / f"{name}.py"
            info = inspect_module(file) if file.is_file() else None
            if info is not None:
                dotted = package.name if name == "__init__" else f"{package.name}.{name}"
                file_name = str(file.relative_to(app_dir))
                found.append({"module": dotted, "file": file_name, "path": path, "info": info})
    return found


def inspect_ui_scripts(app_dir: Path) -> Dict[str, UiScript]:
    """The root scripts that import Streamlit or Gradio."""
    found: Dict[str, UiScript] = {}
    for path in sorted(app_dir.glob("*.py")):
        script = inspect_ui_script(path) if path.is_file() else None
        if script is not None:
            found[path.name] = script
    return found


def inspect_app(app_dir: Path) -> Inspection:
    """Everything :mod:`python_cnb.processes.inference` needs to choose a web process."""
    modules: Dict[str, ModuleInfo] = {}
    for name in MODULES:
        path = app_dir / f"{name}.py"
        if name == "app" and (app_dir / "app" / "__init__.py").is_file():
            continue  # `import app` imports the package
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
        "packages": inspect_packages(app_dir),
        "ui_scripts": inspect_ui_scripts(app_dir),
    }


if __name__ == "__main__":
    print(json.dumps(inspect_app(Path(sys.argv[1]))))
