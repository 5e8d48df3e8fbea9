"""Assertions shared by the integration tests."""

from __future__ import annotations

import re

from python_cnb_lifecycle.runner import BuildResult


def assert_one_error_block(result: BuildResult, title: str) -> str:
    """The build failed with exit 1 and exactly one ``[Error: <title>]`` block, no traceback.

    Returns the block's text.
    """
    assert not result.success, result.output
    assert result.error is not None and "build failed (exit 1)" in result.error.message, (
        result.output
    )
    assert result.output.count("[Error: ") == 1, result.output
    # No traceback of the buildpack's own (a tool's or Django's output may hold theirs).
    assert "Internal buildpack error" not in result.output, result.output
    assert not re.search(r'File "[^"]*/python_cnb/', result.output), result.output
    start = result.output.index(f"[Error: {title}]")
    end = result.output.find("\nERROR: ", start)
    return result.output[start:end]
