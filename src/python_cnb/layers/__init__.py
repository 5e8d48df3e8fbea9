"""One module per layer; shared helpers for logging what happened to a cached layer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from python_cnb import notices, output

if TYPE_CHECKING:  # the package is loaded by an unchanged rebuild (its manifest module)
    from python_cnb.cnb.layers import LayerDecision


def log_decision(decision: LayerDecision[Any], what: str) -> None:
    """Log ``Using cached <what>`` or ``Discarding cached <what> since:`` with every reason.

    ``Any``: a decision about any metadata type will do (``LayerDecision`` is invariant)."""
    if decision.reused:
        output.info(notices.layer_reused(what))
        return
    reasons = [reason for reason in map(notices.layer_cause, decision.causes) if reason]
    if reasons:
        output.info(notices.layer_discarded(what))
        for reason in reasons:
            output.detail(f"- {reason}")
