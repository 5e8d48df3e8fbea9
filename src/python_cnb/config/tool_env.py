"""The environment the build's tools (pip, uv, Poetry, Django) run with.

Like Heroku's CNB, the user's and platform's variables are passed through, so private
indexes, ``${VAR}`` in requirements files and settings read by ``manage.py`` work, and so
does ``PYTHONPATH`` (an app in ``src/`` whose ``manage.py`` needs it). Variables that would
make a tool run a different Python are removed (``PYTHONHOME`` is refused before: see
:mod:`python_cnb.config.forbidden_env`).
"""

from __future__ import annotations

from typing import Mapping

_REMOVED = ("PYTHONHOME", "PYTHONSTARTUP", "PYTHONEXECUTABLE")


def tool_env(base: Mapping[str, str], **overrides: str) -> dict[str, str]:
    """``base`` without the variables that redirect Python, plus ``overrides``."""
    env = {name: value for name, value in base.items() if name not in _REMOVED}
    env.update(overrides)
    return env
