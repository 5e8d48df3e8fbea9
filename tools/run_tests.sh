#!/usr/bin/env bash
# make test's pytest run, in two lanes at once when the machine allows it (two cores, and
# unshare can give a lane its own loopback): the test index listens on the fixed port
# 127.0.0.1:3141, so a lane needs a network namespace of its own to run beside another.
#   lane A (own loopback): half the test modules by recorded time (tests/durations.json)
#   lane B (host network): the other half, with the container tier (Docker's host network)
# Each lane writes a JUnit report (.cache/junit-lane-*.xml); `python -m tools.test_durations
# .cache/junit-lane-*.xml` refreshes the record when modules change a lot.
# PYTHON_CNB_TEST_LANES=1 runs everything in one pytest session, as does a machine without
# the means. Extra arguments go to every pytest run.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
pytest=("$PY" -m pytest -q -rs "$@")

private_loopback() { unshare -n sh -c 'ip link set lo up && exec "$@"' sh "$@"; }

why_one_lane() {
  if [[ "${PYTHON_CNB_TEST_LANES:-2}" == 1 ]]; then echo "PYTHON_CNB_TEST_LANES=1"
  elif (( $(nproc) < 2 )); then echo "one CPU"
  elif ! command -v ip >/dev/null; then echo "no ip command (iproute2)"
  elif ! private_loopback true 2>/dev/null; then echo "unshare -n is not permitted here"
  fi
}

# A full disk fails every test at once with ENOSPC: say how much there is, before and after.
# Passed tests' tmp_path directories are removed as they end (pyproject.toml), so a run needs
# about 10 GB at its peak; less than that is named before anything starts.
disk_report() {
  local dir=${TMPDIR:-/tmp} avail_kb
  avail_kb=$(df -Pk "$dir" | awk 'NR == 2 { print $4 }')
  echo "make test: $1: $((avail_kb / 1024 / 1024)) GB free under $dir"
  if (( avail_kb < ${PYTHON_CNB_TEST_MIN_FREE_GB:-10} * 1024 * 1024 )); then
    echo "make test: WARNING: little disk space is free under $dir; the builds in the" \
      "tests may fail with 'No space left on device' (OSError 28), which is the disk, not" \
      "the code. Free some space (old /tmp/pytest-of-$(id -un) directories) and run again."
  fi
}
disk_report "before the tests"
trap 'disk_report "after the tests"' EXIT

reason=$(why_one_lane)
if [[ -n "$reason" ]]; then
  echo "make test: one lane ($reason)"
  exec "${pytest[@]}"
fi

log=$(mktemp "${TMPDIR:-/tmp}/python-cnb-lane-a.XXXXXX")
echo "make test: two lanes at once (tools/run_tests.sh); lane A's output follows lane B's"
PYTHON_CNB_TEST_LANE=a private_loopback "${pytest[@]}" --shard 0/2 \
  --junitxml=.cache/junit-lane-a.xml >"$log" 2>&1 &
lane_a=$!
trap 'kill "$lane_a" 2>/dev/null; disk_report "after the tests"' EXIT
PYTHON_CNB_TEST_LANE=b "${pytest[@]}" --shard 1/2 --junitxml=.cache/junit-lane-b.xml
b=$?
wait "$lane_a"
a=$?
trap 'disk_report "after the tests"' EXIT
echo "===== lane A (--shard 0/2) ====="
cat "$log"
rm -f "$log"
echo "make test: lane A exit $a, lane B exit $b"
(( a == 0 && b == 0 ))
