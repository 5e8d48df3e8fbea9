"""Which package index to install from, whatever the platform calls the setting.

Kato/Rainbond pass ``BUILD_PIP_INDEX_URL``; users of pip and uv set ``PIP_INDEX_URL`` and
``PIP_EXTRA_INDEX_URL`` or ``UV_INDEX_URL``/``UV_DEFAULT_INDEX`` and ``UV_EXTRA_INDEX_URL``.
Every engine gets the same answer, so the index never depends on which tool runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional

from python_cnb import output


@dataclass(frozen=True)
class IndexSettings:
    """The index configuration of a build."""

    index_url: Optional[str]
    """The primary index, or None for the tool's default (PyPI)."""
    index_url_setting: Optional[str]
    extra_index_urls: tuple[str, ...]

    def pip_env(self) -> dict[str, str]:
        """The settings as pip environment variables."""
        env = {}
        if self.index_url:
            env["PIP_INDEX_URL"] = self.index_url
        if self.extra_index_urls:
            env["PIP_EXTRA_INDEX_URL"] = " ".join(self.extra_index_urls)
        return env


_INDEX_SETTINGS = ("PIP_INDEX_URL", "UV_DEFAULT_INDEX", "UV_INDEX_URL", "BUILD_PIP_INDEX_URL")
_EXTRA_SETTINGS = ("PIP_EXTRA_INDEX_URL", "UV_EXTRA_INDEX_URL", "UV_INDEX")


def read_index_settings(env: Mapping[str, str]) -> IndexSettings:
    """Read the index settings; the first set of ``PIP_INDEX_URL``, ``UV_DEFAULT_INDEX``,
    ``UV_INDEX_URL``, ``BUILD_PIP_INDEX_URL`` is the index (a conflict is logged)."""
    given = [(name, env[name].strip()) for name in _INDEX_SETTINGS if env.get(name, "").strip()]
    if len({value for _, value in given}) > 1:
        output.warning(
            "Several package index settings disagree",
            "\n".join(f"  {name}={value}" for name, value in given)
            + f"\nUsing {given[0][0]}, the first in the order {', '.join(_INDEX_SETTINGS)}.",
        )
    extras: list[str] = []
    for name in _EXTRA_SETTINGS:
        for url in env.get(name, "").split():
            if url not in extras:
                extras.append(url)
    return IndexSettings(
        index_url=given[0][1] if given else None,
        index_url_setting=given[0][0] if given else None,
        extra_index_urls=tuple(extras),
    )
