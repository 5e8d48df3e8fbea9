from __future__ import annotations

from pathlib import Path

from tools.test_durations import module_seconds


def test_module_seconds_sums_cases_per_file(tmp_path: Path) -> None:
    report = tmp_path / "junit.xml"
    report.write_text(
        '<testsuites><testsuite name="pytest">'
        '<testcase classname="tests.unit.test_architecture" name="a" time="1.25"/>'
        '<testcase classname="tests.unit.test_architecture" name="b" time="0.5"/>'
        '<testcase classname="tests.tools.test_test_durations.TestX" name="c" time="2"/>'
        '<testcase classname="tests.unit.test_gone" name="d" time="9"/>'
        "</testsuite></testsuites>"
    )
    assert module_seconds([report]) == {
        "tests/tools/test_test_durations.py": 2.0,
        "tests/unit/test_architecture.py": 1.8,
    }
