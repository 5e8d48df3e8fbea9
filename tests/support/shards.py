"""make test's lanes (tools/run_tests.sh): the test modules split into groups of nearly
equal time, by the times of a recorded run."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Collection, Optional, Sequence

DURATIONS = Path(__file__).resolve().parents[1] / "durations.json"
"""Seconds per test module from a recorded run (``python -m tools.test_durations``)."""
UNRECORDED_SECONDS = {"tests/integration/": 10.0, "tests/e2e/": 60.0}
"""A test's guessed time in a module the record does not know yet (elsewhere: 0.1 s)."""
HOST_NETWORK = "tests/e2e/"
"""The container tier needs the host network: its modules go to the last group, whose lane
has it."""


def recorded(path: Path = DURATIONS) -> dict[str, float]:
    return {k: float(v) for k, v in json.loads(path.read_text()).items()} if path.is_file() else {}


def seconds(module: str, tests: int, record: dict[str, float]) -> float:
    if module in record:
        return record[module]
    guess = next((s for tier, s in UNRECORDED_SECONDS.items() if module.startswith(tier)), 0.1)
    return guess * tests


def shards(
    modules: Sequence[str],
    count: int,
    record: Optional[dict[str, float]] = None,
    host_network: Collection[str] = (),
) -> list[set[str]]:
    """The modules of the collected tests (one entry per test) dealt into ``count`` groups,
    longest first onto the least loaded; a module's tests stay together (they share its
    module-scoped builds). The container tier and the ``host_network`` modules (a test marked
    ``host_network`` needs the outside network) go to the last group. Deterministic: every
    lane computes the same split."""
    record = recorded() if record is None else record
    tests = Counter(modules)
    time = {module: seconds(module, n, record) for module, n in tests.items()}
    pinned = {m for m in time if m.startswith(HOST_NETWORK) or m in host_network}
    groups: list[set[str]] = [set() for _ in range(count)]
    loads = [0.0] * count
    for module in sorted(time, key=lambda m: (m not in pinned, -time[m], m)):
        lightest = count - 1 if module in pinned else loads.index(min(loads))
        groups[lightest].add(module)
        loads[lightest] += time[module]
    return groups
