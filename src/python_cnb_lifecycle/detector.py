"""The detector: run every ``bin/detect`` and resolve the build plan (lifecycle's depMap)."""

from __future__ import annotations

import itertools
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

from python_cnb.cnb import toml_file
from python_cnb.cnb.validate import check_plan
from python_cnb_lifecycle.builder import chown_tree
from python_cnb_lifecycle.errors import DETECT_ERROR, DETECT_FAILED, SPEC_VIOLATION, LifecycleError
from python_cnb_lifecycle.workspace import Buildpack

RunFn = Callable[[list[str], Path, Mapping[str, str]], int]


@dataclass
class PlanEntry:
    """A resolved plan entry: who provides a name, and every requirement of it."""

    name: str
    providers: list[str] = field(default_factory=list)
    requires: list[dict[str, Any]] = field(default_factory=list)


def _options(plan: Mapping[str, Any]) -> list[dict[str, Any]]:
    primary = {k: plan.get(k, []) for k in ("provides", "requires")}
    return [
        primary,
        *[{k: alt.get(k, []) for k in ("provides", "requires")} for alt in plan.get("or", [])],
    ]


def _trial(options: list[tuple[str, dict[str, Any]]]) -> list[PlanEntry] | None:
    """Resolve one combination of options; None when a requirement or provision is unmet."""
    entries: dict[str, PlanEntry] = {}
    extra: dict[str, list[str]] = {}
    for bp_id, option in options:
        for provide in option["provides"]:
            extra.setdefault(provide["name"], []).append(bp_id)
        for require in option["requires"]:
            name = require["name"]
            entry = entries.setdefault(name, PlanEntry(name))
            entry.providers += extra.pop(name, [])
            if not entry.providers:
                return None  # required before anything provided it
            entry.requires.append({"name": name, "metadata": dict(require.get("metadata", {}))})
    if any(extra.values()):
        return None  # provided but never required
    return list(entries.values())


def detect(
    buildpacks: list[Buildpack],
    app_dir: Path,
    env_for: Callable[[Buildpack, Path], dict[str, str]],
    run: RunFn,
    user: Optional[str] = None,
    scratch: Optional[Path] = None,
) -> list[PlanEntry]:
    """Run each buildpack's detect, then find the first combination of plans that resolves.

    Like the lifecycle, every detect runs; if any errored the group is an error (21), else
    if any failed, a failure (20).
    """
    plans: list[tuple[str, list[dict[str, Any]]]] = []
    failures: list[LifecycleError] = []
    with tempfile.TemporaryDirectory(prefix="lifecycle-detect-", dir=scratch) as tmp:
        for bp in buildpacks:
            plan_path = Path(tmp) / f"{bp.id.replace('/', '_')}-plan.toml"
            plan_path.write_text("")
            if user is not None:
                chown_tree(Path(tmp), user)
            code = run([str(bp.path / "bin" / "detect")], app_dir, env_for(bp, plan_path))
            if code == 100:
                failures.append(
                    LifecycleError("detect", DETECT_FAILED, f"{bp.id} did not detect (exit 100)")
                )
                continue
            if code != 0:
                failures.append(
                    LifecycleError("detect", DETECT_ERROR, f"{bp.id} detect errored (exit {code})")
                )
                continue
            try:
                plan = toml_file.read(plan_path)
            except toml_file.TOMLDecodeError as error:
                failures.append(
                    LifecycleError(
                        "detect", DETECT_ERROR, f"{bp.id} wrote invalid plan TOML: {error}"
                    )
                )
                continue
            problems = check_plan(plan)
            if problems:
                raise LifecycleError(
                    "detect", SPEC_VIOLATION, f"{bp.id} plan: " + "; ".join(problems)
                )
            plans.append((bp.id, _options(plan)))
    if failures:
        raise next((f for f in failures if f.code == DETECT_ERROR), failures[0])
    for combination in itertools.product(
        *[[(bp_id, o) for o in options] for bp_id, options in plans]
    ):
        resolved = _trial(list(combination))
        if resolved is not None:
            return resolved
    raise LifecycleError("detect", DETECT_FAILED, "no combination of build plans resolves")


def plan_for(buildpack_id: str, entries: list[PlanEntry]) -> list[dict[str, Any]]:
    """The buildpack plan: every requirement of each name the buildpack provides."""
    return [r for entry in entries if buildpack_id in entry.providers for r in entry.requires]
