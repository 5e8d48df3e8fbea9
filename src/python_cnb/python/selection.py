"""The build's "Determining Python version" step: from the app's request and the CPython
manifest to the one distribution to install.

It reads the request, loads the manifest's distributions for the target, chooses among
them, vetoes a choice that a lock file forbids, warns about an ageing line or a newer patch,
and points the chosen distribution's URL at the dependency mirror.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from python_cnb import notices, output
from python_cnb.app.files import AppFiles
from python_cnb.cnb.bindings import Binding
from python_cnb.cnb.context import BuildContext
from python_cnb.config.settings import TODAY_HOOK, Settings
from python_cnb.python.distributions import (
    Distribution,
    apply_mirror,
    for_target,
    load_distributions,
)
from python_cnb.python.requested import check_locked_python, read_requested_python_version
from python_cnb.python.version import (
    PythonVersion,
    RequestedPythonVersion,
    choose,
    newer_patch,
    support_notice,
    today_for_policy,
)
from python_cnb.support.download import TLS


def by_version(distributions: Sequence[Distribution]) -> dict[PythonVersion, Distribution]:
    """The distributions keyed by their version (the first, should the manifest list one
    twice), so that what is chosen among the versions is the distribution itself."""
    keyed: dict[PythonVersion, Distribution] = {}
    for distribution in distributions:
        keyed.setdefault(distribution.version, distribution)
    return keyed


@dataclass(frozen=True)
class PythonSelection:
    """The step's result: what to install, and the request it answers (later errors say why
    this Python was chosen)."""

    distribution: Distribution
    requested: RequestedPythonVersion


def determine_python(
    ctx: BuildContext,
    files: AppFiles,
    settings: Settings,
    bindings: tuple[Binding, ...],
    lock_files: Sequence[str],
    tls: TLS,
) -> PythonSelection:
    """The CPython distribution to install, from the requested version and the manifest.

    ``lock_files``: the names of the files the dependencies are installed from, whose
    Python constraint must admit the choice; ``tls``: the build's TLS context (for a
    manifest given by URL)."""
    requested = read_requested_python_version(files, settings.python_version_settings)
    if requested.is_default:
        output.info("No Python version requested: using the newest available")
    else:
        output.info(f"Python {requested.text} requested by {requested.origin}")
    distributions = by_version(
        for_target(
            load_distributions(settings.cpython_manifest, settings.download_timeout, tls),
            ctx.target.os,
            ctx.target.arch,
        )
    )
    available = list(distributions)
    today, hooked = today_for_policy(settings.policy_date)
    if hooked:
        output.info(notices.policy_date(today, TODAY_HOOK))
    choice = choose(
        requested,
        available,
        target=ctx.target.describe(),
        today=today,
        allow_end_of_life=settings.allow_end_of_life,
        custom_manifest=settings.cpython_manifest is not None,
    )
    version = choice.version
    check_locked_python(files, version, requested, lock_files)
    output.info(f"Selected Python {version}")
    support_warning = support_notice(choice, requested, max(available, default=None))
    if support_warning is not None:
        output.warning(*support_warning)
    newer = newer_patch(version, available)
    if newer is not None:
        output.warning(
            *notices.newer_patch(str(version), version.line, str(newer), requested.origin)
        )
    if requested.is_default:
        output.info(notices.pin_tip(version.line))
    distribution = distributions[version]
    mirrored = distribution.with_uri(
        apply_mirror(distribution.uri, settings.dependency_mirrors, bindings)
    )
    return PythonSelection(mirrored, requested)
