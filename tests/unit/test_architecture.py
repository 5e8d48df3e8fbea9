"""The package tree's rules: imports point one way, programs and the spec stand alone, the
lifecycle runner depends on the spec only, and unit tests mirror the modules they test."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
BUILDPACK = SRC / "python_cnb"

LEVELS: tuple[frozenset[str], ...] = tuple(
    frozenset(level.split())
    for level in (
        "cnb programs output buildpack_error installed",
        "notices",
        "app",
        "config",
        "support",
        "python processes sbom bytecode",
        "layers",
        "dependencies django replay",
        "errors",
        "build detect",
        "__main__ python_cnb",
    )
)
"""The buildpack's packages and top-level modules, bottom first: each imports only from
lower levels or from inside itself (``python_cnb`` is the package's ``__init__``)."""


def _module_name(path: Path) -> str:
    name = ".".join(path.with_suffix("").relative_to(SRC).parts)
    return name.removesuffix(".__init__")


def _imports(path: Path) -> set[str]:
    """Every absolute module a file imports (``from a import b`` counts ``a`` and ``a.b``)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _unit(module: str) -> str:
    """The box a ``python_cnb`` module belongs to: its package, or itself at the top level."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _is_module(name: str) -> bool:
    path = SRC.joinpath(*name.split("."))
    return path.is_dir() or path.with_suffix(".py").is_file()


def _level(unit: str) -> int:
    for number, level in enumerate(LEVELS):
        if unit in level:
            return number
    raise AssertionError(f"{unit} has no level in LEVELS: place it")


def _buildpack_files() -> list[Path]:
    return sorted(BUILDPACK.rglob("*.py"))


def test_every_package_and_top_level_module_has_a_level() -> None:
    units = {_unit(_module_name(path)) for path in _buildpack_files()}
    placed = set().union(*LEVELS)
    assert units <= placed, f"not placed in LEVELS: {sorted(units - placed)}"
    assert placed <= units, f"LEVELS names what does not exist: {sorted(placed - units)}"


@pytest.mark.parametrize("path", _buildpack_files(), ids=lambda p: str(p.relative_to(SRC)))
def test_imports_point_down(path: Path) -> None:
    unit = _unit(_module_name(path))
    upward = sorted(
        name
        for name in _imports(path)
        if name.startswith("python_cnb.")
        and _is_module(name)
        and _unit(name) != unit
        and _level(_unit(name)) >= _level(unit)
    )
    assert not upward, f"{unit} (level {_level(unit)}) imports sideways or upward: {upward}"


@pytest.mark.parametrize(
    "path", sorted((BUILDPACK / "programs").glob("*.py")), ids=lambda p: p.name
)
def test_programs_use_the_standard_library_only(path: Path) -> None:
    """They run by path in another interpreter (the app's, under ``-I``): no python_cnb there."""
    ours = sorted(name for name in _imports(path) if name.split(".")[0].startswith("python_cnb"))
    assert not ours


def test_the_spec_package_imports_nothing_else_of_ours() -> None:
    for path in sorted((BUILDPACK / "cnb").glob("*.py")):
        outside = {
            name
            for name in _imports(path)
            if name.startswith("python_cnb") and not name.startswith("python_cnb.cnb")
        }
        assert not outside, f"{path.name} imports {sorted(outside)}"


def test_the_lifecycle_runner_depends_on_the_spec_only() -> None:
    for path in sorted((SRC / "python_cnb_lifecycle").glob("*.py")):
        ours = {
            name
            for name in _imports(path)
            if name.startswith("python_cnb")
            and not name.startswith(("python_cnb.cnb", "python_cnb_lifecycle"))
        }
        assert not ours, f"{path.name} imports {sorted(ours)}"


def test_the_buildpack_never_imports_the_lifecycle_runner() -> None:
    for path in _buildpack_files():
        assert not any(name.startswith("python_cnb_lifecycle") for name in _imports(path)), path


SPLIT_TESTS = {
    "test_python_version_constraints": "python_cnb.python.version",
    "test_python_version_eol": "python_cnb.python.version",
    "test_errors_dependencies": "python_cnb.errors",
    "test_errors_processes": "python_cnb.errors",
    "test_errors_python_version": "python_cnb.errors",
    "test_architecture": "python_cnb",
    "test_entrypoints": "python_cnb.__main__",
    "test_main": "python_cnb.__main__",
    "test_shim": "python_cnb",  # bin/ and libexec/, the shell side of the entry points
}
"""Unit test files that are not named after one module, and what they test."""


def _tested_module(stem: str) -> str:
    """``test_layers_venv`` -> ``python_cnb.layers.venv``; ``test_lifecycle_env`` ->
    ``python_cnb_lifecycle.env``; ``test_support_leaks`` -> ``tests.support.leaks`` (the test
    harness's own helpers, when python_cnb.support has no such module)."""
    if stem in SPLIT_TESTS:
        return SPLIT_TESTS[stem]
    words = stem.removeprefix("test_")
    if words.startswith("lifecycle_"):
        return "python_cnb_lifecycle." + words.removeprefix("lifecycle_")
    if (
        words.startswith("support_")
        and (SRC.parent / "tests" / "support")
        .joinpath(words.removeprefix("support_") + ".py")
        .is_file()
    ):
        return "tests.support." + words.removeprefix("support_")
    package, _, rest = words.partition("_")
    if rest and (BUILDPACK / package).is_dir():
        return f"python_cnb.{package}.{rest}"
    return f"python_cnb.{words}"


@pytest.mark.parametrize(
    "test_file",
    sorted(Path(__file__).parent.glob("test_*.py")),
    ids=lambda p: p.stem,
)
def test_unit_tests_mirror_modules(test_file: Path) -> None:
    module = _tested_module(test_file.stem)
    root = SRC if module.startswith("python_cnb") else SRC.parent
    assert _is_module(module) or root.joinpath(*module.split(".")).with_suffix(".py").is_file(), (
        f"{test_file.name} names no module ({module}); rename it after the module it tests"
    )
