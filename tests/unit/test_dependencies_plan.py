"""What decides the installed packages per package manager, and the venv's fingerprint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from python_cnb.app.files import AppFiles
from python_cnb.app.package_manager import PackageManager
from python_cnb.app.pipfile_lock import InvalidPipfileLock
from python_cnb.app.project_files import InvalidProjectFile, OutsideApp
from python_cnb.app.requirements_files import MissingRequirementsFile
from python_cnb.config.index import IndexSettings
from python_cnb.dependencies.plan import DependencyPlan, plan_dependencies
from tests.support.contexts import write_app

HASH_A = "sha256:" + "a" * 64
HASH_B = "sha256:" + "b" * 64
PIPFILE_LOCK = {
    "_meta": {
        "sources": [
            {"name": "pypi", "url": "https://pypi.org/simple", "verify_ssl": True},
            {"name": "private", "url": "https://pkgs.test/simple/", "verify_ssl": True},
        ]
    },
    "default": {
        "flask": {"version": "==3.1.3", "hashes": [HASH_A]},
        "click": {"version": "==8.5.1", "hashes": [HASH_B], "markers": "python_version >= '3.10'"},
    },
    "develop": {"pytest": {"version": "==9.0.0", "hashes": [HASH_A]}},
}


def _names(plan: DependencyPlan, app: Path) -> list[str]:
    return [path.relative_to(app.resolve()).as_posix() for path in plan.files]


def test_pip(tmp_path: Path) -> None:
    app = write_app(
        tmp_path,
        {"requirements.txt": "-r requirements/base.txt\nflask\n", "requirements/base.txt": "six\n"},
    )
    plan = plan_dependencies(AppFiles(app), PackageManager.PIP)
    assert _names(plan, app) == ["requirements.txt", "requirements/base.txt"]
    assert plan == DependencyPlan(
        PackageManager.PIP,
        plan.files,
        resolve_inputs=("requirements.txt",),
        requirements=plan.requirements,
    )
    assert plan.requirements is not None
    assert plan.requirements.render() == ("six\nflask\n", "")
    assert plan.describe(app) == "requirements.txt, requirements/base.txt"


def test_version_control_urls_without_a_commit_are_unpinned(tmp_path: Path) -> None:
    commit = "ab" * 20
    app = write_app(
        tmp_path,
        {
            "requirements.txt": "-e git+https://host/a#egg=branch\n"
            f"-e git+https://host/b@{commit}#egg=pinned\n"
            "tagged @ git+https://host/c@v1.0\n"
            "flask\n"
        },
    )
    plan = plan_dependencies(AppFiles(app), PackageManager.PIP)
    assert [source.name for source in plan.unpinned_vcs] == ["branch", "tagged"]
    # The fingerprint covers the lines' text: a new commit ref changes it.
    before = plan.fingerprint(app)
    (app / "requirements.txt").write_text(
        (app / "requirements.txt").read_text().replace(commit, "cd" * 20)
    )
    changed = plan_dependencies(AppFiles(app), PackageManager.PIP)
    assert changed.fingerprint(app) != before
    assert changed.explain(before, changed.fingerprint(app), app) == [
        "The dependency files changed (requirements.txt)"
    ]


def test_pip_with_a_fully_hashed_requirements_txt(tmp_path: Path) -> None:
    app = write_app(
        tmp_path,
        {
            "requirements.txt": f"--index-url https://pkgs.test/simple\n-r base.txt\n"
            f"flask==3.1.3 \\\n    --hash={HASH_A}\n",
            "base.txt": f"six==1.17.0 --hash={HASH_B}\n",
        },
    )
    plan = plan_dependencies(AppFiles(app), PackageManager.PIP)
    assert _names(plan, app) == ["requirements.txt", "base.txt"]
    assert plan.hashed
    assert plan.requirements is not None and not plan.requirements.unhashed()


def test_pip_with_a_partly_hashed_requirements_txt(tmp_path: Path) -> None:
    """pip's hash-checking mode starts with the first --hash: the plan is hashed, and the
    unhashed line is what the build refuses."""
    app = write_app(
        tmp_path,
        {"requirements.txt": f"flask==3.1.3 --hash={HASH_A}\n-r base.txt\n", "base.txt": "six\n"},
    )
    plan = plan_dependencies(AppFiles(app), PackageManager.PIP)
    assert plan.hashed
    assert plan.requirements is not None
    assert [line.text for line in plan.requirements.unhashed()] == ["six"]


def test_pip_with_a_missing_nested_file(tmp_path: Path) -> None:
    app = write_app(tmp_path, {"requirements.txt": "-r missing.txt\n"})
    with pytest.raises(MissingRequirementsFile):
        plan_dependencies(AppFiles(app), PackageManager.PIP)


def test_pip_tools(tmp_path: Path) -> None:
    app = write_app(
        tmp_path, {"requirements.in": "-c constraints.txt\nflask\n", "constraints.txt": ""}
    )
    plan = plan_dependencies(AppFiles(app), PackageManager.PIP_TOOLS)
    assert _names(plan, app) == ["requirements.in", "constraints.txt"]
    assert plan == DependencyPlan(
        PackageManager.PIP_TOOLS,
        plan.files,
        resolve_inputs=("requirements.in",),
        requirements=plan.requirements,
    )


def test_pipenv(tmp_path: Path) -> None:
    app = write_app(tmp_path, {"Pipfile": "", "Pipfile.lock": json.dumps(PIPFILE_LOCK)})
    plan = plan_dependencies(AppFiles(app), PackageManager.PIPENV)
    assert _names(plan, app) == ["Pipfile.lock"]
    assert plan == DependencyPlan(
        PackageManager.PIPENV,
        plan.files,
        pinned_text=(
            f"click==8.5.1 ; python_version >= '3.10' --hash={HASH_B}\n"
            f"flask==3.1.3 --hash={HASH_A}\n"
        ),
        hashed=True,
        lock_sources=("https://pypi.org/simple", "https://pkgs.test/simple"),
    )
    assert plan.describe(app) == "Pipfile.lock"


def test_pipenv_without_hashes(tmp_path: Path) -> None:
    lock = {"default": {"flask": {"version": "==3.1.3"}, "six": {"version": "==1.17.0"}}}
    app = write_app(tmp_path, {"Pipfile.lock": json.dumps(lock)})
    plan = plan_dependencies(AppFiles(app), PackageManager.PIPENV)
    assert (plan.pinned_text, plan.hashed, plan.lock_sources) == (
        "flask==3.1.3\nsix==1.17.0\n",
        False,
        (),
    )


def test_pipenv_with_an_invalid_lock(tmp_path: Path) -> None:
    app = write_app(tmp_path, {"Pipfile.lock": "{"})
    with pytest.raises(InvalidProjectFile):
        plan_dependencies(AppFiles(app), PackageManager.PIPENV)
    app = write_app(tmp_path, {"Pipfile.lock": '{"default": {"flask": {"version": "*"}}}'})
    with pytest.raises(InvalidPipfileLock):
        plan_dependencies(AppFiles(app), PackageManager.PIPENV)


def test_pyproject(tmp_path: Path) -> None:
    app = write_app(tmp_path, {"pyproject.toml": "[project]\nname = 'app'\n", "setup.py": ""})
    plan = plan_dependencies(AppFiles(app), PackageManager.PYPROJECT)
    assert _names(plan, app) == ["pyproject.toml"]
    assert plan == DependencyPlan(
        PackageManager.PYPROJECT,
        plan.files,
        resolve_inputs=("pyproject.toml",),
        editable_project=True,
    )


@pytest.mark.parametrize(
    ("files", "names", "entry"),
    [
        (
            ("setup.py", "setup.cfg", "pyproject.toml"),
            ["setup.py", "setup.cfg", "pyproject.toml"],
            "setup.py",
        ),
        (("setup.cfg",), ["setup.cfg"], "setup.cfg"),
        (("setup.py",), ["setup.py"], "setup.py"),
    ],
)
def test_setuptools(tmp_path: Path, files: tuple[str, ...], names: list[str], entry: str) -> None:
    app = write_app(tmp_path, dict.fromkeys(files, ""))
    plan = plan_dependencies(AppFiles(app), PackageManager.SETUPTOOLS)
    assert _names(plan, app) == names
    assert plan == DependencyPlan(
        PackageManager.SETUPTOOLS, plan.files, resolve_inputs=(entry,), editable_project=True
    )


@pytest.mark.parametrize(
    ("manager", "files"),
    [
        (PackageManager.UV, ("uv.lock", "pyproject.toml", "uv.toml")),
        (PackageManager.UV, ("uv.lock", "pyproject.toml")),
        (PackageManager.POETRY, ("poetry.lock", "pyproject.toml")),
    ],
)
def test_locked_projects(tmp_path: Path, manager: PackageManager, files: tuple[str, ...]) -> None:
    app = write_app(tmp_path, dict.fromkeys(files, ""))
    (app / "requirements.txt").write_text("flask\n", encoding="utf-8")
    plan = plan_dependencies(AppFiles(app), manager)
    assert _names(plan, app) == list(files)
    assert plan == DependencyPlan(manager, plan.files)
    assert plan.describe(app) == ", ".join(files)


def test_no_dependencies(tmp_path: Path) -> None:
    app = write_app(tmp_path, {"requirements.txt": "flask\n"})
    plan = plan_dependencies(AppFiles(app), PackageManager.NONE)
    assert plan == DependencyPlan(PackageManager.NONE, ())
    assert plan.fingerprint(app) == "no dependencies"
    assert plan.describe(app) == ""


def test_fingerprint_is_stable(tmp_path: Path) -> None:
    files = {"requirements.txt": "-r base.txt\nflask\n", "base.txt": "six\n"}
    first = plan_dependencies(AppFiles(write_app(tmp_path / "a", files)), PackageManager.PIP)
    second = plan_dependencies(AppFiles(write_app(tmp_path / "b", files)), PackageManager.PIP)
    fingerprint = first.fingerprint(tmp_path / "a" / "app")
    assert fingerprint.startswith("fp2;files=")
    assert fingerprint == first.fingerprint(tmp_path / "a" / "app")
    assert fingerprint == second.fingerprint(tmp_path / "b" / "app")


@pytest.mark.parametrize("changed", ["requirements.txt", "requirements/base.txt", "nested.txt"])
def test_fingerprint_changes_with_any_file(tmp_path: Path, changed: str) -> None:
    app = write_app(
        tmp_path,
        {
            "requirements.txt": "-r requirements/base.txt\nflask\n",
            "requirements/base.txt": "-c ../nested.txt\nsix\n",
            "nested.txt": "six==1.17.0\n",
        },
    )
    before = plan_dependencies(AppFiles(app), PackageManager.PIP).fingerprint(app)
    with (app / changed).open("a", encoding="utf-8") as stream:
        stream.write("# changed\n")
    assert plan_dependencies(AppFiles(app), PackageManager.PIP).fingerprint(app) != before


@pytest.mark.parametrize(
    ("manager", "changed"),
    [
        (PackageManager.UV, "uv.lock"),
        (PackageManager.UV, "pyproject.toml"),
        (PackageManager.UV, "uv.toml"),
        (PackageManager.POETRY, "poetry.lock"),
        (PackageManager.POETRY, "pyproject.toml"),
        (PackageManager.SETUPTOOLS, "setup.py"),
        (PackageManager.SETUPTOOLS, "setup.cfg"),
        (PackageManager.SETUPTOOLS, "pyproject.toml"),
        (PackageManager.PYPROJECT, "pyproject.toml"),
        (PackageManager.PIP_TOOLS, "requirements.in"),
    ],
)
def test_fingerprint_changes_with_each_planned_file(
    tmp_path: Path, manager: PackageManager, changed: str
) -> None:
    names = ("uv.lock", "uv.toml", "poetry.lock", "pyproject.toml", "setup.py", "setup.cfg")
    app = write_app(tmp_path, {**dict.fromkeys(names, "# a\n"), "requirements.in": "flask\n"})
    before = plan_dependencies(AppFiles(app), manager).fingerprint(app)
    (app / changed).write_text("# b\n", encoding="utf-8")
    assert plan_dependencies(AppFiles(app), manager).fingerprint(app) != before


def test_fingerprint_ignores_files_outside_the_plan(tmp_path: Path) -> None:
    app = write_app(tmp_path, {"uv.lock": "", "pyproject.toml": "", "requirements.txt": "a\n"})
    before = plan_dependencies(AppFiles(app), PackageManager.UV).fingerprint(app)
    (app / "requirements.txt").write_text("b\n", encoding="utf-8")
    (app / "main.py").write_text("print()\n", encoding="utf-8")
    assert plan_dependencies(AppFiles(app), PackageManager.UV).fingerprint(app) == before


def test_fingerprint_changes_with_a_pipfile_lock(tmp_path: Path) -> None:
    app = write_app(tmp_path, {"Pipfile.lock": json.dumps(PIPFILE_LOCK)})
    before = plan_dependencies(AppFiles(app), PackageManager.PIPENV).fingerprint(app)
    changed = {**PIPFILE_LOCK, "default": {"flask": {"version": "==3.1.2", "hashes": [HASH_A]}}}
    (app / "Pipfile.lock").write_text(json.dumps(changed), encoding="utf-8")
    assert plan_dependencies(AppFiles(app), PackageManager.PIPENV).fingerprint(app) != before


def test_fingerprint_includes_the_pinned_text(tmp_path: Path) -> None:
    app = write_app(tmp_path, {"Pipfile.lock": "{}"})
    plan = plan_dependencies(AppFiles(app), PackageManager.PIPENV)
    other = DependencyPlan(plan.manager, plan.files, pinned_text="flask==3.1.3\n")
    assert plan.fingerprint(app) != other.fingerprint(app)


def test_includes_outside_the_app_are_refused(tmp_path: Path) -> None:
    app = write_app(tmp_path, {"requirements.txt": "-r ../shared/base.txt\n"})
    shared = tmp_path / "shared" / "base.txt"
    shared.parent.mkdir()
    shared.write_text("six\n", encoding="utf-8")
    with pytest.raises(OutsideApp):
        plan_dependencies(AppFiles(app), PackageManager.PIP)


def _pip_plan(app: Path, env: dict[str, str] | None = None) -> tuple[DependencyPlan, str]:
    plan = plan_dependencies(AppFiles(app, env or {}), PackageManager.PIP)
    return plan, plan.fingerprint(app, IndexSettings())


def test_fingerprint_covers_variable_values_and_explains_them(tmp_path: Path) -> None:
    app = write_app(tmp_path, {"requirements.txt": "tinypkg==${TINY_VERSION}\n"})
    _, before = _pip_plan(app, {"TINY_VERSION": "1.0"})
    assert _pip_plan(app, {"TINY_VERSION": "1.0"})[1] == before
    after_plan, after = _pip_plan(app, {"TINY_VERSION": "2.0"})
    assert after != before
    assert after_plan.explain(before, after, app) == [
        "The values of ${VAR} in the requirement files changed (TINY_VERSION)"
    ]


def test_fingerprint_covers_an_include_named_by_a_variable(tmp_path: Path) -> None:
    app = write_app(tmp_path, {"requirements.txt": "-r ${REQ}\n", "reqs/a.txt": "six==1\n"})
    _, before = _pip_plan(app, {"REQ": "reqs/a.txt"})
    (app / "reqs" / "a.txt").write_text("six==2\n", encoding="utf-8")
    plan, after = _pip_plan(app, {"REQ": "reqs/a.txt"})
    assert plan.explain(before, after, app) == [
        "The dependency files changed (requirements.txt, reqs/a.txt)"
    ]


def test_fingerprint_covers_the_tree_of_a_local_package(tmp_path: Path) -> None:
    app = write_app(
        tmp_path,
        {"requirements.txt": "./libs/mylib\n", "libs/mylib/mylib/__init__.py": "V = 1\n"},
    )
    _, before = _pip_plan(app)
    (app / "libs" / "mylib" / "mylib" / "__pycache__").mkdir()
    (app / "libs" / "mylib" / "mylib.egg-info").mkdir()
    (app / "libs" / "mylib" / "mylib.egg-info" / "PKG-INFO").write_text("x", encoding="utf-8")
    assert _pip_plan(app)[1] == before  # what building writes is not the source
    (app / "libs" / "mylib" / "mylib" / "__init__.py").write_text("V = 2\n", encoding="utf-8")
    plan, after = _pip_plan(app)
    assert plan.explain(before, after, app) == [
        "The local packages or find-links directories changed (libs/mylib)"
    ]


def test_fingerprint_covers_find_links_directories_and_index_settings(tmp_path: Path) -> None:
    app = write_app(tmp_path, {"requirements.txt": "tinypkg\n", "vendor/tinypkg-1.0.tar.gz": "a"})
    plan = plan_dependencies(AppFiles(app), PackageManager.PIP)
    vendored = IndexSettings(no_index=True, find_links=(str(app / "vendor"),))
    before = plan.fingerprint(app, vendored)
    (app / "vendor" / "tinypkg-1.0.tar.gz").write_text("b", encoding="utf-8")
    after = plan.fingerprint(app, vendored)
    assert plan.explain(before, after, app, vendored) == [
        "The local packages or find-links directories changed (vendor)"
    ]
    other_index = plan.fingerprint(app, IndexSettings(index_url="https://u:p@mirror.test/"))
    same_without_password = plan.fingerprint(app, IndexSettings(index_url="https://mirror.test/"))
    assert other_index == same_without_password  # credentials are not part of it
    assert plan.explain(before, other_index, app) == [
        "The local packages or find-links directories changed (one no longer used)",
        "The package index settings changed",
    ]


def test_a_fingerprint_of_an_older_python_cnb_is_explained_as_changed_files(
    tmp_path: Path,
) -> None:
    plan, current = _pip_plan(write_app(tmp_path, {"requirements.txt": "six\n"}))
    assert plan.explain("0" * 64, current, tmp_path / "app") == [
        "The dependency files changed (requirements.txt)"
    ]


def test_projects_are_resolved_every_build_and_keyed_on_the_result(tmp_path: Path) -> None:
    app = write_app(tmp_path, {"setup.py": "# reads deps.txt\n"})
    plan = plan_dependencies(AppFiles(app), PackageManager.SETUPTOOLS)
    assert plan.resolves_every_build
    before = plan.fingerprint(app, IndexSettings(), "tinypkg==1.0\n")
    after = plan.fingerprint(app, IndexSettings(), "tinypkg==2.0\n")
    assert plan.explain(before, after, app) == ["The resolved requirement set changed"]
    assert not plan_dependencies(AppFiles(app), PackageManager.PIPENV).resolves_every_build


def test_an_editable_local_package_is_keyed_on_its_metadata_files(tmp_path: Path) -> None:
    app = write_app(
        tmp_path,
        {
            "requirements.txt": "-e ./lib\n",
            "lib/setup.py": "# reads deps.txt\n",
            "lib/deps.txt": "six\n",
            "lib/pkg/__init__.py": "V = 1\n",
        },
    )
    _, before = _pip_plan(app)
    (app / "lib" / "pkg" / "__init__.py").write_text("V = 2\n", encoding="utf-8")
    assert _pip_plan(app)[1] == before  # its code is used in place
    (app / "lib" / "deps.txt").write_text("six==1.17.0\n", encoding="utf-8")
    plan, after = _pip_plan(app)
    assert plan.explain(before, after, app) == [
        "The local packages or find-links directories changed (lib)"
    ]
