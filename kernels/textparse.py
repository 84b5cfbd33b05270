"""Compiled tokenizers for the parallel text readers (hpcrec.io.streamread): bytes in, numbers out.

Each kernel accepts only a strict *fast grammar* — plain ASCII numerals, one separator, LF
or CRLF line ends — for which its numbers are exactly what the serial (pandas / Python)
readers produce. Anything else (signs, exponents, quotes, text, a lone CR, too many digits)
stops the kernel and returns the offending byte offset, so the caller can hand the whole
file to the serial reader, which gives the exact semantics and error messages. Kernels
are cached on disk (``cache=True``): only the first run after installation compiles them.
"""
from __future__ import annotations

import numpy as np
from numba import njit

FIMI_DIGITS = 18     # item ids below 10**18, as the serial FIMI reader accepts
NUMBER_DIGITS = 15   # below 2**53: exact in float64, and m / 10**k correctly rounded
_POW10 = np.array([10.0 ** k for k in range(NUMBER_DIGITS + 1)])


@njit(cache=True, nogil=True)
def fimi_tokens(buf, ids, start, limit, lens):
    """Tokenize FIMI bytes into ``ids[start:]`` and per-line token counts ``lens``.

    ``buf`` holds whole lines (the last may lack its newline at end of file). Returns
    (end of the ids written, lines written, offset of the first byte outside the fast
    grammar or -1, or -2 for an id above ``limit``: too large for ``ids``' type).
    ``ids`` needs room for start + (len(buf) + 1) // 2 values, ``lens`` for the newlines + 1.
    """
    n = len(buf)
    k = start
    rows = 0
    ndig = 0
    val = 0
    linelen = 0
    for i in range(n):
        c = buf[i]
        if 48 <= c <= 57:
            val = val * 10 + (c - 48)
            ndig += 1
            if ndig > FIMI_DIGITS:
                return k, rows, i
            continue
        if ndig:
            if val > limit:
                return k, rows, -2
            ids[k] = val
            k += 1
            linelen += 1
            ndig = 0
            val = 0
        if c == 10:
            lens[rows] = linelen
            rows += 1
            linelen = 0
        elif c == 13:
            if i + 1 >= n or buf[i + 1] != 10:
                return k, rows, i
        elif c != 32 and c != 9:
            return k, rows, i
    if ndig:
        if val > limit:
            return k, rows, -2
        ids[k] = val
        k += 1
        linelen += 1
    if n and buf[n - 1] != 10:
        lens[rows] = linelen
        rows += 1
    return k, rows, -1


@njit(cache=True, nogil=True)
def delimited_numbers(buf, sep, n_fields, user, item, rating, stamp, start):
    """Parse ``user SEP item SEP rating [SEP timestamp]`` lines (blank lines skipped).

    Fields 0, 1 and 3 are unsigned integer numerals (into ``user``, ``item``, ``stamp``),
    field 2 a decimal ``-?digits[.digits]`` (into ``rating``: float64 division, then the
    float32 store), each of at most NUMBER_DIGITS digits. Rows go to ``start``, ``start +
    1``, ...; ``sep`` is one or two bytes. Returns (rows written, offset of the first byte
    outside the grammar or -1).
    """
    n = len(buf)
    nsep = len(sep)
    row = start
    i = 0
    while i < n:
        if buf[i] == 10:                                   # blank line
            i += 1
            continue
        if buf[i] == 13 and i + 1 < n and buf[i + 1] == 10:
            i += 2
            continue
        for f in range(n_fields):
            if f:
                for s in range(nsep):
                    if i >= n or buf[i] != sep[s]:
                        return row - start, min(i, n - 1)
                    i += 1
            neg = False
            if f == 2 and i < n and buf[i] == 45:          # '-'
                neg = True
                i += 1
            m = 0
            ndig = 0
            frac = 0
            dot = False
            while i < n:
                c = buf[i]
                if 48 <= c <= 57:
                    m = m * 10 + (c - 48)
                    ndig += 1
                    if dot:
                        frac += 1
                elif c == 46 and f == 2 and not dot:       # '.'
                    dot = True
                else:
                    break
                i += 1
            if ndig == 0 or ndig > NUMBER_DIGITS:
                return row - start, min(i, n - 1)
            if f == 0:
                user[row] = m
            elif f == 1:
                item[row] = m
            elif f == 2:
                v = m / _POW10[frac]
                rating[row] = -v if neg else v
            else:
                stamp[row] = m
        if i < n and buf[i] == 13:
            i += 1
            if i >= n or buf[i] != 10:
                return row - start, i - 1
        if i < n:
            if buf[i] != 10:
                return row - start, i
            i += 1
        row += 1
    return row - start, -1


@njit(cache=True, nogil=True)
def sort_unique_rows(indptr, cols, lookup):
    """Sort each CSR row's columns and drop duplicates, compacting both in place; with a
    non-empty ``lookup`` each kept column ``c`` becomes ``lookup[c]`` on the way (an
    increasing map, e.g. ids to their codes, so the order and the distinct values stay).

    Returns ``indptr`` (rewritten); ``cols[:indptr[-1]]`` holds the result. A row already
    strictly increasing (FIMI files usually list items in order) is only moved; others are
    sorted in place (no allocation at all).
    """
    mapped = len(lookup) > 0
    w = 0
    a = indptr[0]
    for r in range(len(indptr) - 1):
        b = indptr[r + 1]
        ordered = True
        for j in range(a + 1, b):
            if cols[j] <= cols[j - 1]:
                ordered = False
                break
        if not ordered:
            cols[a:b].sort()
        if b > a:                    # w <= j: compacting never overwrites an unread column
            prev = cols[a]
            cols[w] = lookup[prev] if mapped else prev
            w += 1
            for j in range(a + 1, b):
                c = cols[j]
                if c != prev:
                    cols[w] = lookup[c] if mapped else c
                    w += 1
                    prev = c
        indptr[r + 1] = w
        a = b
    indptr[0] = 0
    return indptr


@njit(cache=True, nogil=True)
def basket_cells(buf, starts, ends, lens):
    """Split basket CSV lines (comma-separated items) into cells: byte spans, stripped of
    blanks and tabs, empty ones dropped, and per-line counts ``lens``.

    Blank lines are no rows (a line of blanks is an empty basket), as for ``csv.reader``.
    The fast grammar is printable ASCII without quotes, LF or CRLF line ends. Returns
    (cells written, lines written, offset of the first byte outside it or -1).
    ``starts``/``ends`` need room for (len(buf) + 1) // 2 cells, ``lens`` for the newlines + 1.
    """
    n = len(buf)
    k = 0
    rows = 0
    i = 0
    while i < n:
        j = i
        while j < n and buf[j] != 10:
            j += 1
        e = j - 1 if j > i and buf[j - 1] == 13 else j
        if e > i:
            count = 0
            s = i
            for p in range(i, e + 1):
                if p == e or buf[p] == 44:
                    a, b = s, p
                    while a < b and (buf[a] == 32 or buf[a] == 9):
                        a += 1
                    while b > a and (buf[b - 1] == 32 or buf[b - 1] == 9):
                        b -= 1
                    if b > a:
                        starts[k] = a
                        ends[k] = b
                        k += 1
                        count += 1
                    s = p + 1
                else:
                    c = buf[p]
                    if c == 34 or c >= 127 or (c < 32 and c != 9):
                        return k, rows, p
            lens[rows] = count
            rows += 1
        i = j + 1
    return k, rows, -1


@njit(cache=True, nogil=True)
def cell_table(buf, starts, ends, out):
    """Copy cell ``c`` (bytes ``starts[c]:ends[c]`` of ``buf``) into row ``c`` of the
    zeroed 2-D uint8 ``out`` (one fixed-width byte string per cell)."""
    for c in range(len(starts)):
        for p in range(starts[c], ends[c]):
            out[c, p - starts[c]] = buf[p]
