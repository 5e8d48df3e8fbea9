"""What the engines' output says about a refused download (installers/__init__.py)."""

from __future__ import annotations

from python_cnb.dependencies.installers import HashMismatch, hash_mismatch

EXPECTED = "0" * 64
ACTUAL = "741cff804567377d9d64b44839eba04ed51231a6c5ee1b678b6bcfc658c34415"

UV_OUTPUT = f"""Resolved 1 package in 2ms
error: Failed to download `tinypkg==1.0`
  cause: Hash mismatch for `tinypkg==1.0`

         Expected:
           sha256:{EXPECTED}

         Computed:
           sha256:{ACTUAL}
"""
PIP_OUTPUT = f"""Processing ./w/tinypkg-1.0-py3-none-any.whl (from -r r.txt (line 1))
ERROR: THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE. If you have updated \
the package versions, please update the hashes. Otherwise, examine the package contents \
carefully; someone may have tampered with them.
    tinypkg==1.0 from file:///tmp/w/tinypkg-1.0-py3-none-any.whl (from -r r.txt (line 1)):
        Expected sha256 {EXPECTED}
             Got        {ACTUAL}
"""
PIP_SEVERAL_HASHES = PIP_OUTPUT.replace(
    f"Expected sha256 {EXPECTED}\n",
    f"Expected sha256 {EXPECTED}\n                  or {'1' * 64}\n",
)


def test_uv_mismatch() -> None:
    found = hash_mismatch(UV_OUTPUT, "uv pip sync")
    assert isinstance(found, HashMismatch)
    assert (found.package, found.expected, found.actual, found.installer) == (
        "tinypkg==1.0",
        f"sha256:{EXPECTED}",
        f"sha256:{ACTUAL}",
        "uv pip sync",
    )


def test_pip_mismatch() -> None:
    for output in (PIP_OUTPUT, PIP_SEVERAL_HASHES):
        found = hash_mismatch(output, "pip-sync")
        assert found is not None
        assert (found.package, found.expected, found.actual) == (
            "tinypkg==1.0",
            f"sha256:{EXPECTED}",
            f"sha256:{ACTUAL}",
        )


def test_other_failures_are_not_mismatches() -> None:
    assert hash_mismatch("error: No solution found when resolving dependencies", "uv") is None
