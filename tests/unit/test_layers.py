"""log_decision: what a cached layer's fate reads like in the build log."""

from __future__ import annotations

from pathlib import Path

import pytest

from python_cnb.cnb.layers import (
    CleanBuild,
    FieldChanged,
    Layer,
    LayerCause,
    LayerDecision,
    NewlyCreated,
)
from python_cnb.layers import log_decision


def _decision(tmp_path: Path, reused: bool, *causes: LayerCause) -> LayerDecision[object]:
    return LayerDecision(Layer(tmp_path, "python"), reused, None, causes)


def test_a_kept_layer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log_decision(_decision(tmp_path, True), "Python 3.12.7")
    assert capsys.readouterr().out == "Using cached Python 3.12.7\n"


def test_a_new_layer_logs_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log_decision(_decision(tmp_path, False, NewlyCreated()), "Python 3.12.7")
    assert capsys.readouterr().out == ""


def test_a_discarded_layer_lists_every_cause(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    decision = _decision(
        tmp_path, False, FieldChanged("Python version", "3.12.6", "3.12.7"), CleanBuild()
    )
    log_decision(decision, "virtualenv")
    assert capsys.readouterr().out == (
        "Discarding cached virtualenv since:\n"
        "  - The Python version changed from 3.12.6 to 3.12.7\n"
        "  - A clean build was requested\n"
    )
