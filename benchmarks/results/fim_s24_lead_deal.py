"""Session 24, lead: ``kernels.blocks.deal`` of 4 M random records to 2 blocks, in the mask
layout (2 columns) and with 3 key words (4 columns): seconds of three calls after one.

    python benchmarks/results/fim_s24_lead_deal.py
"""
import time

import numpy as np

from hpcrec.kernels import blocks


def _timed(rec, n_words, width, spl, label) -> None:
    out = np.empty_like(rec)
    blocks.deal(rec, n_words, width, spl, out)
    for _ in range(3):
        t = time.perf_counter()
        blocks.deal(rec, n_words, width, spl, out)
        print(label, round(time.perf_counter() - t, 4), "s")


def main() -> None:
    rng = np.random.default_rng(0)
    n = 4_000_000
    mask = np.empty((n, 2), np.int64)
    mask[:, 0], mask[:, 1] = rng.integers(0, 1 << 50, n), 7
    _timed(mask, 2, 55, np.array([[20, 1 << 49]], np.int64), "mask layout")
    words = rng.integers(0, 1 << 40, (n, 4))
    _timed(words, 3, 0, np.ascontiguousarray(words[:1, :3]), "3 key words")


if __name__ == "__main__":
    main()
