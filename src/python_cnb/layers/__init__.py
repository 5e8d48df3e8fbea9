"""One module per layer; shared helpers for logging what happened to a cached layer."""

from __future__ import annotations

from python_cnb import output
from python_cnb.cnb.layers import LayerDecision


def log_decision(decision: LayerDecision[object], what: str) -> None:
    """Log ``Using cached <what>`` or ``Discarding cached <what> since:`` with every reason."""
    if decision.reused:
        output.info(f"Using cached {what}")
    elif decision.reasons:
        output.info(f"Discarding cached {what} since:")
        for reason in decision.reasons:
            output.detail(f"- {reason}")
