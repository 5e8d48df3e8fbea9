"""Requirement sets (pip, pip-tools, Pipenv, pyproject and setuptools apps): resolved, then
synced by an :class:`~python_cnb.dependencies.installers.Engine` (uv, or pip-tools)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

from packaging.utils import parse_sdist_filename, parse_wheel_filename

from python_cnb import output
from python_cnb.config.index import IndexSettings
from python_cnb.dependencies.installers import (
    Engine,
    Inputs,
    RequirementsWithoutHashes,
    hash_mismatch,
)
from python_cnb.dependencies.plan import DependencyPlan
from python_cnb.installed import normalize, snapshot
from python_cnb.layers.venv import VenvState
from python_cnb.support.commands import CommandFailed


class RequirementSetInstaller:
    """Interprets the plan (requirement files, a pinned set, a project to resolve) for an
    engine that resolves and syncs."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def description(self) -> str:
        return self.engine.description

    def prepare(self, plan: DependencyPlan, workdir: Path) -> Inputs:
        """Write the normalised requirements; resolve a project now when its reuse depends
        on the result (:attr:`DependencyPlan.resolves_every_build`)."""
        if plan.requirements is not None:
            for line, source in plan.requirements.vcs_lines():
                if source.editable:
                    output.info(
                        f"{line.file} line {line.number}: {source.name or source.shown} is "
                        f"installed from {source.shown} as a regular, non-editable install: an "
                        "image runs installed packages and never needs an editable checkout "
                        "(uv cannot install a Git source editable)"
                    )
            text, constraints = plan.requirements.render()
            if constraints:
                (workdir / "constraints.txt").write_text(constraints, encoding="utf-8")
                text = f"-c {workdir / 'constraints.txt'}\n{text}"
            path = workdir / "requirements.txt"
            path.write_text(text, encoding="utf-8")
            return Inputs(workdir, requirements=path)
        if plan.pinned_text is not None:
            path = workdir / "pinned.txt"
            path.write_text(plan.pinned_text, encoding="utf-8")
            return Inputs(workdir, resolved=path)
        if plan.resolves_every_build:
            resolved = workdir / "resolved.txt"
            self.engine.resolve(plan.resolve_inputs, resolved, refresh=True)
            return Inputs(workdir, resolved=resolved)
        return Inputs(workdir)

    def install(self, plan: DependencyPlan, inputs: Inputs, venv: VenvState) -> None:
        """Resolve what is not pinned yet, then sync the venv to it."""
        engine = self.engine
        resolved = inputs.resolved or inputs.workdir / "resolved.txt"
        if inputs.requirements is not None and plan.hashed:
            _check_hashes(plan)
            resolved = inputs.requirements  # hash-checking mode: installed as written, as pip does
        elif inputs.requirements is not None:
            engine.resolve([str(inputs.requirements)], resolved, display=plan.resolve_inputs[0])
        elif inputs.resolved is None:
            engine.resolve(plan.resolve_inputs, resolved)
        if plan.editable_project:
            resolved.write_text(resolved.read_text(encoding="utf-8") + "-e .\n", encoding="utf-8")
            output.info("Installing the app itself as an editable project")
        reinstall = () if venv.fresh else _local_distributions(venv, engine.index)
        if reinstall:
            output.info(f"Reinstalling from local sources: {', '.join(reinstall)}")
        moving = () if venv.fresh else tuple(s.name for s in plan.unpinned_vcs if s.name)
        if moving:
            output.info(f"Reinstalling from unpinned version control URLs: {', '.join(moving)}")
            reinstall = tuple(sorted({*reinstall, *moving}))
        try:
            engine.sync(resolved, hashed=plan.hashed, reinstall=reinstall)
        except CommandFailed as error:
            mismatch = hash_mismatch(error.output, error.display) if plan.hashed else None
            if mismatch is not None:
                raise mismatch from None
            raise

    def add(self, requirements: Sequence[str]) -> None:
        self.engine.install(requirements)

    def check(self) -> None:
        self.engine.check()


def _check_hashes(plan: DependencyPlan) -> None:
    """pip's hash-checking mode refuses a requirement without ``--hash`` (it would install
    it unchecked otherwise); so does python-cnb, before anything is downloaded. Lines with
    environment markers are left to the installer (pip skips those that do not apply)."""
    assert plan.requirements is not None
    missing = [
        f"{line.file} line {line.number}: {line.text}"
        for line in plan.requirements.unhashed()
        if ";" not in line.text
    ]
    if missing:
        example = next((line.text for line in plan.requirements.lines if line.hashed), "")
        raise RequirementsWithoutHashes(tuple(missing), example)


def _local_distributions(venv: VenvState, index: IndexSettings) -> tuple[str, ...]:
    """Installed distributions that came from local sources (a path or ``file:`` URL, the
    app itself, a find-links directory or the vendor directory): a sync keeps a
    distribution whose version is already there, so these are reinstalled on every sync,
    whatever changed in them."""
    local_files = {
        normalize(_project_of(item.name))
        for link in index.find_links
        if Path(link).is_dir()
        for item in Path(link).iterdir()
        if item.is_file()
    }
    names = []
    for name, dist in snapshot(venv.site_packages).items():
        direct_url = dist.dist_info / "direct_url.json"
        try:
            url = json.loads(direct_url.read_text(encoding="utf-8")).get("url", "")
        except (OSError, ValueError, AttributeError):
            url = ""
        if str(url).startswith("file:") or name in local_files:
            names.append(dist.name)
    return tuple(sorted(names))


def _project_of(filename: str) -> str:
    """The project name of a wheel or sdist file name (``my_lib-1.0-py3-none-any.whl``)."""
    try:
        if filename.endswith(".whl"):
            return str(parse_wheel_filename(filename)[0])
        return str(parse_sdist_filename(filename)[0])
    except ValueError:
        return filename.split("-", 1)[0]
