"""How long the log masker takes on long words (MEDIUM-3): ``python -m bench.mask``.

Prints seconds per call for words of 100 kB to 4 MB; linear time means the figures grow
tenfold when the size does. Not a test: the tests check the result, never the time.
"""

from __future__ import annotations

import time
from typing import Callable

from python_cnb.output import mask

WORDS: dict[str, Callable[[int], str]] = {
    "letters": lambda n: "x" * n,
    "a://a://...": lambda n: "a://" * (n // 4),
    "scheme://userinfo@": lambda n: "h://" + "u" * n + "@host",
    "a999...://": lambda n: "a" + "9" * n + "://u:p@h",
}


def main() -> None:
    for name, make in WORDS.items():
        for size in (100_000, 1_000_000, 4_000_000):
            text = make(size)
            started = time.perf_counter()
            mask(text)
            print(f"{name:20} {size:>9} chars  {time.perf_counter() - started:.4f} s")


if __name__ == "__main__":
    main()
