"""Numeric ratings lines parsed by pyarrow's CSV reader (C++), where it is exact.

Used by :mod:`.streamread` when pyarrow is installed (it is optional: the ``parquet`` and
``test`` extras), before the compiled tokenizer of ``hpcrec.kernels.textparse``: a block
is handed to pyarrow only inside a grammar where both give the same numbers — bytes from
``0-9 . - SEP LF``, CR only before LF, every run of digits and dots at most 15 bytes long
(so a rating ``m / 10**k`` has m < 10**15: its correctly rounded value, which pyarrow and
the tokenizer both compute), no empty field, non-negative ids and timestamps. A block
outside it returns None and goes to the tokenizer, which defers to the serial reader.
Not importing Numba here is half the point: a ratings ``convert`` then starts in ~0.3 s
of imports instead of ~2 s (Numba, and the SciPy it loads on the first compiled call).
"""
from __future__ import annotations

import numpy as np

MAX_RUN = 15
WINDOW = 1 << 20
BLOCK_BYTES = 1 << 20   # pyarrow's unit of work: a chunk is parsed in such pieces, in parallel with threads


def _pyarrow():
    try:
        import pyarrow as pa
        import pyarrow.csv as pacsv
    except ImportError:
        return None
    return pa, pacsv


def available() -> bool:
    return _pyarrow() is not None


def _in_grammar(block: np.ndarray, sep: int, window: int = WINDOW) -> bool:
    """Whether ``block`` is in the grammar of the module docstring (checked by windows of
    ``window`` bytes, which stay in the CPU cache: about four times faster than whole
    blocks)."""
    for s in range(0, len(block), window):
        if not _window_in_grammar(block[s:s + window + MAX_RUN], sep):  # runs across windows too
            return False
    cr = np.flatnonzero(block == 13) if np.count_nonzero(block == 13) else ()
    return not len(cr) or (cr[-1] + 1 < len(block) and bool(np.all(block[cr + 1] == 10)))


def _window_in_grammar(w: np.ndarray, sep: int) -> bool:
    """Only bytes of the grammar in ``w``, and no run of more than MAX_RUN digits and dots."""
    numeric = ((w >= 48) & (w <= 57)) | (w == 46)                      # 0-9 and '.'
    others = sum(np.count_nonzero(w == c) for c in {45, sep, 10, 13} - {46})  # '-' SEP LF CR
    if np.count_nonzero(numeric) + others != len(w):
        return False
    run, width = numeric, 1      # run[i]: bytes i .. i + width - 1 all numeric
    while width <= MAX_RUN:
        step = min(width, MAX_RUN + 1 - width)
        run, width = run[:-step] & run[step:], width + step
    return not run.any()


def _pieces(column, dtype):
    """A null-free numeric column's chunks as NumPy views of its buffers (``to_numpy``
    would import pandas, a quarter of a second)."""
    return [np.frombuffer(c.buffers()[1], dtype=dtype, count=len(c),
                          offset=c.offset * np.dtype(dtype).itemsize) for c in column.chunks]


def parse_into(block: np.ndarray, sep: bytes, out: list[np.ndarray], start: int,
               threads: bool = False) -> int | None:
    """Parse the ``user SEP item SEP rating[ SEP timestamp]`` lines of ``block`` into the
    columns ``out`` (user, item, rating[, timestamp]) from row ``start`` on, straight from
    pyarrow's buffers. Returns the rows written, or None outside the grammar of the module
    docstring (then what it wrote is to be overwritten).

    ``threads``: let pyarrow parse with its thread pool (for a rank alone on its node).
    """
    arrow = _pyarrow()
    if arrow is None or len(sep) != 1 or sep in b"0123456789." or not _in_grammar(block, sep[0]):
        return None
    pa, pacsv = arrow
    names = ["user", "item", "rating", "timestamp"][:len(out)]
    types = {"user": pa.int64(), "item": pa.int64(), "rating": pa.float64(), "timestamp": pa.int64()}
    try:
        table = pacsv.read_csv(
            pa.py_buffer(block),
            read_options=pacsv.ReadOptions(column_names=names, use_threads=threads,
                                           block_size=BLOCK_BYTES),
            parse_options=pacsv.ParseOptions(delimiter=sep.decode(), quote_char=False,
                                             escape_char=False, ignore_empty_lines=True),
            convert_options=pacsv.ConvertOptions(column_types={k: types[k] for k in names},
                                                 null_values=[], strings_can_be_null=False,
                                                 check_utf8=False))
    except pa.ArrowInvalid:
        return None
    if any(table.column(k).null_count for k in names):
        return None
    for name, dest in zip(names, out):
        row = start
        for piece in _pieces(table.column(name), np.float64 if name == "rating" else np.int64):
            if name != "rating" and len(piece) and piece.min() < 0:
                return None
            dest[row:row + len(piece)] = piece
            row += len(piece)
    return table.num_rows
