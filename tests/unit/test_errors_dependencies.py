"""The error blocks of the dependency step: what was found, why it fails, how to fix it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from python_cnb import output
from python_cnb.app.files import ToolConstraint
from python_cnb.app.package_manager import (
    Candidate,
    InvalidPackageManagerSetting,
    MissingLockFile,
    MultiplePackageManagers,
    PackageManager,
)
from python_cnb.app.pipfile_lock import InvalidPipfileLock, NotPinned
from python_cnb.app.project_files import InvalidProjectFile, ParserMessage
from python_cnb.app.requirements_files import InvalidRequirementsLine, LocalPathOutsideApp
from python_cnb.config.forbidden_env import FORBIDDEN, ForbiddenEnvironment
from python_cnb.config.index import VendorDirOutsideApp
from python_cnb.config.tool_specs import (
    InvalidToolConstraint,
    NoToolVersion,
    Override,
    OverrideViolatesConstraint,
)
from python_cnb.dependencies.failure import PackageBuildFailed, WheelSupport
from python_cnb.dependencies.installers import (
    DependencyConflict,
    HashMismatch,
    LockFileOutOfDate,
    RequirementsWithoutHashes,
)
from python_cnb.errors import describe
from python_cnb.layers.tools import ToolInstallFailed
from python_cnb.python.version import LockedPythonMismatch, PythonVersion
from python_cnb.support.commands import CommandFailed


def test_invalid_project_file() -> None:
    title, body = describe(
        InvalidProjectFile(
            "pyproject.toml", ParserMessage("Expected '=' after a key (at line 3, column 5)")
        )
    )
    assert title == "Invalid pyproject.toml"
    assert body == (
        "pyproject.toml cannot be parsed: Expected '=' after a key (at line 3, column 5)\n\n"
        "Fix the syntax of pyproject.toml (it is TOML 1.0) and build again."
    )


def test_multiple_package_managers() -> None:
    title, body = describe(
        MultiplePackageManagers(
            (
                Candidate(PackageManager.PIP, "requirements.txt"),
                Candidate(PackageManager.UV, "uv.lock"),
            )
        )
    )
    assert title == "Several package managers' files were found"
    assert body.startswith(
        "The app has dependency files of more than one package manager:\n"
        "  - requirements.txt (pip)\n"
        "  - uv.lock (uv)\n\n"
    )
    assert "will not guess which one lists what the app needs." in body
    assert (
        "  1. Keep the files of the package manager you use, and delete the others "
        "(requirements.txt, uv.lock).\n"
        "  2. Or choose explicitly: set BP_PYTHON_PACKAGE_MANAGER to pip or uv "
        "(Kato/Rainbond: BUILD_PYTHON_PACKAGE_MANAGER)." in body
    )


def test_multiple_package_managers_name_the_files_of_each() -> None:
    body = describe(
        MultiplePackageManagers(
            (
                Candidate(PackageManager.PIPENV, "Pipfile"),
                Candidate(PackageManager.POETRY, "pyproject.toml [tool.poetry]"),
                Candidate(PackageManager.PIP_TOOLS, "requirements.in"),
            )
        )
    )[1]
    assert "  - Pipfile (pipenv)\n" in body
    assert "  - pyproject.toml [tool.poetry] (poetry)\n" in body
    assert (
        "delete the others (Pipfile and Pipfile.lock, poetry.lock and [tool.poetry], "
        "requirements.in)." in body
    )
    assert "set BP_PYTHON_PACKAGE_MANAGER to pipenv or poetry or pip-tools" in body


@pytest.mark.parametrize(
    ("error", "title", "found", "command"),
    [
        (
            MissingLockFile(PackageManager.PIPENV, "Pipfile", "Pipfile.lock", "pipenv lock"),
            "Pipfile.lock is missing",
            "The app has Pipfile (Pipenv), but no Pipfile.lock.",
            "  1. Run `pipenv lock` in the app directory.\n  2. Commit Pipfile.lock.",
        ),
        (
            MissingLockFile(PackageManager.POETRY, "pyproject.toml", "poetry.lock", "poetry lock"),
            "poetry.lock is missing",
            "The app has pyproject.toml (Poetry), but no poetry.lock.",
            "  1. Run `poetry lock` in the app directory.\n  2. Commit poetry.lock.",
        ),
    ],
)
def test_missing_lock_file(error: MissingLockFile, title: str, found: str, command: str) -> None:
    actual_title, body = describe(error)
    assert actual_title == title
    assert body.startswith(found + "\n\n")
    assert "Without the lock file the installed versions would change from build to build." in body
    assert body.endswith("How to fix it:\n" + command)


def test_unknown_package_manager_setting() -> None:
    assert describe(InvalidPackageManagerSetting("BP_PYTHON_PACKAGE_MANAGER", "conda")) == (
        "Invalid value for BP_PYTHON_PACKAGE_MANAGER",
        'BP_PYTHON_PACKAGE_MANAGER is set to:\n    "conda"\n\n'
        "It must be one of: pip, pip-tools, pipenv, poetry, uv, pyproject, setuptools.",
    )


def test_package_manager_setting_without_its_files() -> None:
    error = InvalidPackageManagerSetting("BUILD_PYTHON_PACKAGE_MANAGER", "poetry", "poetry.lock")
    assert describe(error) == (
        "BUILD_PYTHON_PACKAGE_MANAGER names files the app does not have",
        "BUILD_PYTHON_PACKAGE_MANAGER=poetry installs from poetry.lock, which the app does not"
        " have.\n\n"
        "Add poetry.lock, or change or unset BUILD_PYTHON_PACKAGE_MANAGER.",
    )


def test_locked_python_mismatch() -> None:
    title, body = describe(
        LockedPythonMismatch(PythonVersion(3, 13, 1), ".python-version", "uv.lock", ">=3.10,<3.13")
    )
    assert title == "Python 3.13.1 contradicts uv.lock"
    assert body.startswith(
        ".python-version selects Python 3.13.1, but uv.lock allows only:\n"
        '    ">=3.10,<3.13"\n\n'
        "Installing would fail or install something other than what was locked.\n\n"
    )
    assert "  1. Change .python-version to a version uv.lock allows, or\n" in body
    assert body.endswith("  2. update uv.lock (and re-lock) for Python 3.13.")


def test_forbidden_environment_lists_every_variable_with_its_reason() -> None:
    variables = (
        ("PIP_TARGET", "/target"),
        ("PIP_USER", "1"),
        ("UV_PYTHON", "3.12"),
        ("VIRTUAL_ENV", "/venv"),
    )
    title, body = describe(ForbiddenEnvironment(variables))
    assert title == "Environment variables that would redirect the install"
    assert body.startswith(
        "These variables are set for the build, and python-cnb cannot honour them:\n"
        "  - PIP_TARGET=/target: pip would install outside the app's virtualenv\n"
        "  - PIP_USER=1: pip would install into a user site outside the app's virtualenv\n"
        "  - UV_PYTHON=3.12: uv must use the buildpack's Python\n"
        "  - VIRTUAL_ENV=/venv: the buildpack creates the app's virtualenv\n\n"
        "Nothing was installed.\n\n"
    )
    assert "Remove them from the platform's environment (pack build --env" in body


def test_forbidden_environment_knows_every_reason() -> None:
    body = describe(ForbiddenEnvironment(tuple((name, "x") for name in sorted(FORBIDDEN))))[1]
    for name, reason in FORBIDDEN.items():
        assert f"  - {name}=x: {reason}\n" in body


def test_forbidden_environment_masks_credentials() -> None:
    output.register_secret("hunter2")
    body = describe(
        ForbiddenEnvironment((("PIP_TARGET", "https://u:pw@x.test/"), ("UV_PYTHON", "hunter2")))
    )[1]
    assert "  - PIP_TARGET=https://****@x.test/: " in body
    assert "  - UV_PYTHON=****: " in body
    assert "hunter2" not in body


def test_invalid_pipfile_lock() -> None:
    assert describe(InvalidPipfileLock("flask", NotPinned("*"))) == (
        "Invalid Pipfile.lock",
        "The entry 'flask' of Pipfile.lock cannot be installed: its version '*' is not pinned "
        "with ==.\n\nRegenerate the lock file with `pipenv lock` and commit it.",
    )


def test_tool_install_failed_online() -> None:
    title, body = describe(
        ToolInstallFailed("uv", "0.13.9", "ERROR: No matching distribution", False)
    )
    assert title == "Could not install uv 0.13.9"
    assert body == (
        "python-cnb installs uv 0.13.9 from the package index to build the app, and that "
        "failed:\n    ERROR: No matching distribution\n\n"
        "Check the package index settings (PIP_INDEX_URL, BUILD_PIP_INDEX_URL, a pip binding) "
        "and that the index serves this version."
    )


def test_tool_install_failed_offline() -> None:
    output_lines = "\n".join(f"line {n}" for n in range(1, 31))
    title, body = describe(ToolInstallFailed("poetry", "2.5.1", output_lines, True))
    assert title == "Could not install poetry 2.5.1"
    assert "    line 30\n\n" in body
    assert "    line 15\n" not in body
    assert body.endswith(
        "The build is offline (vendored packages): add the tool's wheel (and its dependencies) "
        "to the vendor directory, or remove the vendor directory."
    )


def test_dependency_conflict() -> None:
    title, body = describe(
        DependencyConflict(
            "uv pip check", "flask 3.1.3 requires click>=8.1, but click 7.0 is installed"
        )
    )
    assert title == "The installed packages have conflicting requirements"
    assert body.startswith(
        "After installing, `uv pip check` reports:\n"
        "    flask 3.1.3 requires click>=8.1, but click 7.0 is installed\n\n"
        "The app would start with a broken set of packages, so the build stops here.\n\n"
    )
    assert "set BP_PYTHON_CHECK_DEPENDENCIES=false." in body


def test_lock_file_out_of_date() -> None:
    title, body = describe(
        LockFileOutOfDate("poetry.lock", "poetry lock", "pyproject.toml changed significantly")
    )
    assert title == "poetry.lock is out of date"
    assert body == (
        "poetry.lock no longer matches pyproject.toml, so installing it would not install what "
        "pyproject.toml asks for.\n\n"
        "    pyproject.toml changed significantly\n\n"
        "How to fix it:\n  1. Run `poetry lock`.\n  2. Commit poetry.lock."
    )


# --- install integrity: what the requirement files install, and from where ----------------


def test_hash_mismatch_names_the_package_and_both_digests() -> None:
    title, body = describe(
        HashMismatch("tinypkg==1.0", "sha256:" + "0" * 64, "sha256:" + "7" * 64, "uv pip sync")
    )
    assert title == "Hash mismatch for tinypkg==1.0"
    assert f"expected: sha256:{'0' * 64}\n" in body
    assert f"actual:   sha256:{'7' * 64}" in body
    assert "uv pip sync refused to install it" in body


def test_requirements_without_hashes() -> None:
    title, body = describe(
        RequirementsWithoutHashes(
            ("requirements.txt line 2: gunicorn==27.0.1",), "flask==3.1.3 --hash=sha256:ab"
        )
    )
    assert title == "Requirements without hashes in hash-checking mode"
    assert "These have no hash:\n    requirements.txt line 2: gunicorn==27.0.1" in body
    assert '    "flask==3.1.3 --hash=sha256:ab"' in body
    assert "--generate-hashes" in body


def test_local_path_outside_the_app() -> None:
    title, body = describe(LocalPathOutsideApp("requirements.txt", 3, "-e /opt/lib", "/opt/lib"))
    assert title == "A requirement installs from outside the app"
    assert body.startswith('Line 3 of requirements.txt reads:\n    "-e /opt/lib"\n\n')
    assert "'/opt/lib', which is outside the app directory" in body


def test_vendor_dir_outside_the_app() -> None:
    title, body = describe(VendorDirOutsideApp("../../..", "/"))
    assert title == "BP_PIP_DEST_PATH is outside the app"
    assert body.startswith('BP_PIP_DEST_PATH is set to:\n    "../../.."\nwhich is /, outside')


def test_invalid_requirements_line() -> None:
    title, body = describe(
        InvalidRequirementsLine("requirements.txt", 2, "--frobnicate", "pip does not accept it")
    )
    assert title == "Invalid line in requirements.txt"
    assert "pip cannot read it: pip does not accept it." in body


def test_a_failed_build_from_source_names_the_package_the_python_and_the_fix() -> None:
    title, body = describe(
        PackageBuildFailed(
            "uv pip sync",
            "mysqlclient",
            "mysql_config",
            "/bin/sh: 1: mysql_config: not found",
            "3.13.9",
            "3.13",
            None,
        )
    )
    assert title == "mysqlclient could not be built from source for Python 3.13.9"
    assert "this is a build-image problem, not a bug in the app" in body
    assert "    /bin/sh: 1: mysql_config: not found" in body
    assert "because nothing pins a version: it takes the newest one available" in body
    assert "write 3.12 in .python-version" in body
    assert "Or upgrade mysqlclient to a release that ships wheels for Python 3.13." in body
    _, asked = describe(
        PackageBuildFailed(
            "pip-sync",
            "greenlet",
            None,
            "\u00d7 Failed to build",
            "3.12.1",
            "3.12",
            ".python-version",
        )
    )
    assert "because .python-version asks for it" in asked
    assert "build-image problem" not in asked


def test_a_release_with_wheels_for_other_pythons_gets_the_newest_line_proposed() -> None:
    def body(wheels: WheelSupport) -> str:
        return describe(
            PackageBuildFailed(
                "uv pip sync", "greenlet", "gcc", "gcc: not found", "3.13.9", "3.13", None, wheels
            )
        )[1]

    text = body(WheelSupport("3.0.1", ("3.8", "3.9", "3.10", "3.11", "3.12"), "3.1.1"))
    assert "greenlet 3.0.1 publishes wheels for CPython 3.8-3.12, not 3.13." in text
    assert (
        "Pin the newest Python greenlet 3.0.1 has wheels for: write 3.12 in .python-version."
        in text
    )
    assert (
        "Or upgrade greenlet to 3.1.1 or later (greenlet==3.1.1 is its first release with "
        "wheels for CPython 3.13)." in text
    )
    gaps = body(WheelSupport("1.0", ("3.8", "3.10", "3.11"), None))
    assert "greenlet 1.0 publishes wheels for CPython 3.8, 3.10-3.11, not 3.13." in gaps
    assert "Or upgrade greenlet to a release that ships wheels for Python 3.13." in gaps


UV_CONSTRAINT = ToolConstraint("uv", "<0.13.9", "pyproject.toml", "required-version", 14)


def test_tool_install_failed_names_what_chose_the_version() -> None:
    origin = "BP_PYTHON_PACKAGE_MANAGER_VERSION=0.13.8"
    _, body = describe(ToolInstallFailed("uv", "0.13.8", "ERROR: no", False, origin))
    assert (
        "BP_PYTHON_PACKAGE_MANAGER_VERSION=0.13.8 chose uv 0.13.8, not the version the "
        "buildpack pins: if the index does not serve it, change that."
    ) in body


def test_invalid_tool_constraint() -> None:
    title, body = describe(InvalidToolConstraint(replace(UV_CONSTRAINT, specifier="latest")))
    assert title == "Invalid required-version in pyproject.toml"
    assert body == (
        "pyproject.toml line 14:\n"
        '    "required-version = "latest""\n\n'
        "required-version constrains the version of uv that builds the app: it must be a PEP "
        '440 version specifier, such as ">=0.5" or "==0.13.9".\n\n'
        "How to fix it: correct that line in pyproject.toml (or remove it) and build again."
    )


def test_no_tool_version() -> None:
    title, body = describe(NoToolVersion(UV_CONSTRAINT, "0.13.9", ("0.13.9", "0.13.7"), True))
    assert title == "No uv release satisfies required-version"
    assert body == (
        "pyproject.toml line 14:\n"
        '    "required-version = "<0.13.9""\n\n'
        "The buildpack pins uv 0.13.9, which does not satisfy it, and no release on the "
        "package index does (the package index lists: 0.13.9, 0.13.7).\n\n"
        "How to fix it:\n"
        "  1. Change required-version in pyproject.toml to allow uv 0.13.9 (pinned and "
        "hash-checked) or a release the index serves.\n"
        "  2. Or set BP_PYTHON_PACKAGE_MANAGER_VERSION to a version of uv that satisfies it "
        "and that the package index serves.\n"
        "  3. Or check the package index settings (PIP_INDEX_URL, BUILD_PIP_INDEX_URL, a pip "
        "binding): the index may not serve every release."
    )
    _, body = describe(NoToolVersion(UV_CONSTRAINT, "0.13.9", (), False))
    assert "(the package index lists no release of it)" in body
    assert "BP_PYTHON_PACKAGE_MANAGER_VERSION" not in body  # it would not pin this tool


def test_override_violates_constraint() -> None:
    override = Override("BUILD_PYTHON_PACKAGE_MANAGER_VERSION", "0.13.9")
    title, body = describe(OverrideViolatesConstraint(override, UV_CONSTRAINT))
    assert title == "BUILD_PYTHON_PACKAGE_MANAGER_VERSION=0.13.9 does not satisfy required-version"
    assert body.startswith(
        "BUILD_PYTHON_PACKAGE_MANAGER_VERSION asks for uv 0.13.9, but pyproject.toml line 14:\n"
        '    "required-version = "<0.13.9""\n\n'
        "uv 0.13.9 does not satisfy that"
    )
    assert "  1. Unset BUILD_PYTHON_PACKAGE_MANAGER_VERSION: the constraint then chooses" in body


def test_a_failed_command_names_the_tools_chosen_at_another_version() -> None:
    origin = 'requires-poetry = "<2.5.1" (pyproject.toml line 11)'
    failure = CommandFailed(
        "poetry sync", 1, "Error: boom", echoed=True, chosen_tools=(("poetry", "2.5.0", origin),)
    )
    _, body = describe(failure)
    assert (
        f"poetry 2.5.0 is not the version the buildpack pins: {origin} chose it. If the "
        "failure comes from that version, change that."
    ) in body
    assert (
        "is not the version the buildpack pins"
        not in describe(replace(failure, chosen_tools=()))[1]
    )
