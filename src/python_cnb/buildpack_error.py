"""The root of the errors the buildpack reports to users.

Domain modules raise subclasses that carry data and no prose; ``python_cnb.errors`` turns
each into one error block (what was found, why it is wrong, how to fix it).
"""

from __future__ import annotations


class BuildpackError(Exception):
    """An error caused by the app, its configuration or the platform, not by a bug here."""
