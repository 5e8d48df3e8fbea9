from __future__ import annotations

from tests.support.shards import shards


def test_every_module_goes_to_exactly_one_group() -> None:
    modules = ["tests/unit/test_a.py"] * 3 + ["tests/integration/test_b.py", "tests/e2e/test_c.py"]
    groups = shards(modules, 2, record={})
    assert set().union(*groups) == set(modules)
    assert not groups[0] & groups[1]


def test_the_container_tier_goes_to_the_last_group() -> None:
    modules = ["tests/e2e/test_c.py", "tests/e2e/test_d.py", "tests/integration/test_b.py"]
    groups = shards(modules, 2, record={})
    assert groups[1] >= {"tests/e2e/test_c.py", "tests/e2e/test_d.py"}
    assert groups[0] == {"tests/integration/test_b.py"}


def test_groups_balance_recorded_time() -> None:
    record = {"m1": 100.0, "m2": 60.0, "m3": 50.0, "m4": 10.0}
    groups = shards(list(record), 2, record=record)
    loads = sorted(sum(record[m] for m in group) for group in groups)
    assert loads == [110.0, 110.0]


def test_unrecorded_modules_are_guessed_by_their_tier() -> None:
    # 30 unit tests (0.1 s each) weigh less than one integration test (10 s).
    modules = ["tests/unit/test_a.py"] * 30 + ["tests/integration/test_b.py"] * 2
    record = {"tests/unit/test_x.py": 15.0}
    groups = shards([*modules, "tests/unit/test_x.py"], 2, record=record)
    assert {"tests/integration/test_b.py"} in groups


def test_modules_that_need_the_outside_network_go_to_the_last_group() -> None:
    modules = ["tests/tools/test_fill.py", "tests/unit/test_a.py", "tests/unit/test_b.py"]
    record = {
        "tests/tools/test_fill.py": 1.0,
        "tests/unit/test_a.py": 50.0,
        "tests/unit/test_b.py": 40.0,
    }
    groups = shards(modules, 2, record=record, host_network={"tests/tools/test_fill.py"})
    assert "tests/tools/test_fill.py" in groups[1]
    assert shards(modules, 2, record=record)[0] == {"tests/unit/test_a.py"}
