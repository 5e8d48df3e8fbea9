"""Record each test module's time from pytest JUnit reports into tests/durations.json, which
make test's lanes (tools/run_tests.sh, ``--shard``) use to split the modules evenly.

    python -m tools.test_durations .cache/junit-lane-*.xml
"""

from __future__ import annotations

import argparse
import json
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DURATIONS = ROOT / "tests" / "durations.json"


def module_seconds(reports: list[Path]) -> dict[str, float]:
    """Seconds per test file (``tests/unit/test_x.py``), summed over its test cases."""
    seconds: dict[str, float] = {}
    for report in reports:
        for case in ET.parse(report).iter("testcase"):  # noqa: S314
            classname = case.get("classname", "")
            # "tests.unit.test_x" or "tests.unit.test_x.TestClass": the file is the longest
            # prefix that exists.
            parts = classname.split(".")
            for end in range(len(parts), 0, -1):
                path = Path(*parts[:end]).with_suffix(".py")
                if (ROOT / path).is_file():
                    module = path.as_posix()
                    seconds[module] = seconds.get(module, 0.0) + float(case.get("time", 0))
                    break
    return {module: round(value, 1) for module, value in sorted(seconds.items())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("reports", nargs="+", type=Path)
    args = parser.parse_args()
    seconds = module_seconds(args.reports)
    DURATIONS.write_text(json.dumps(seconds, indent=1) + "\n")
    print(f"wrote {DURATIONS} ({len(seconds)} modules, {sum(seconds.values()):.0f} s)")


if __name__ == "__main__":
    main()
