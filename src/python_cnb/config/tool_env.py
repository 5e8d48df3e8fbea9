"""The environment the build's tools (pip, uv, Poetry, Django) run with.

Like Heroku's CNB, the user's and platform's variables are passed through, so private
indexes, ``${VAR}`` in requirements files and settings read by ``manage.py`` work. Variables
that would make a tool run a different Python are removed.
"""

from __future__ import annotations

from typing import Mapping

_REMOVED = ("PYTHONHOME", "PYTHONPATH", "PYTHONSTARTUP", "PYTHONEXECUTABLE")


def tool_env(base: Mapping[str, str], **overrides: str) -> dict[str, str]:
    """``base`` without the variables that redirect Python, plus ``overrides``."""
    env = {name: value for name, value in base.items() if name not in _REMOVED}
    env.update(overrides)
    return env
