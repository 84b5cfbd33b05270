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
from numba.cpython.unsafe.numbers import trailing_zeros

FIMI_DIGITS = 18     # item ids below 10**18, as the serial FIMI reader accepts
SHORT_LABEL = 8      # 131**8 < 2**63: a label of up to 8 bytes is its base-131 number
NUMBER_DIGITS = 15   # below 2**53: exact in float64, and m / 10**k correctly rounded
_POW10 = np.array([10.0 ** k for k in range(NUMBER_DIGITS + 1)])
_POW10_INT = np.array([10 ** k for k in range(NUMBER_DIGITS + 1)], dtype=np.int64)
_ZEROS = np.uint64(0x3030303030303030)       # SWAR constants of _digits8: '0' in every byte,
_ABOVE_9 = np.uint64(0x7676767676767676)     # what lifts a byte above 9 to the high bit,
_HIGH_BITS = np.uint64(0x8080808080808080)   # and the high bit of every byte


@njit(cache=True, nogil=True)
def fimi_tokens(buf, ids, ptr, row, limit, seen):
    """Tokenize FIMI bytes: ids into ``ids[ptr[row]:]``, each line's end into ``ptr[row +
    1]``, ``ptr[row + 2]``, ... (CSR row pointers, straight from the text); each line's ids
    sorted and deduplicated as it ends (while they are in the CPU's cache; only a line
    that is not strictly increasing is touched).

    ``buf`` holds whole lines (the last may lack its newline at end of file). Every id
    below ``len(seen)`` is marked there (``seen[id] = 1``: the dictionary of ids needs no
    pass of its own). Returns (rows done, status, the largest id written or -1, resume
    offset): status -1 done; the offset of the first byte outside the fast grammar; -2
    for an id above ``limit`` (too large for ``ids``' type); -3 when ``ptr`` is full:
    grow it and call again from the resume offset (a line start) with the rows done.
    ``ids`` needs room for ptr[row] + (len(buf) + 1) // 2 values.
    """
    span = len(seen)
    top = -1
    n = len(buf)
    k = ptr[row]
    line = 0
    ndig = 0
    val = 0
    ordered = True
    for i in range(n + 1):
        c = buf[i] if i < n else 10
        if 48 <= c <= 57:
            val = val * 10 + (c - 48)
            ndig += 1
            if ndig > FIMI_DIGITS:
                return row, i, top, line
            continue
        if ndig:
            if val > limit:
                return row, -2, top, line
            if k > ptr[row] and val <= ids[k - 1]:
                ordered = False
            ids[k] = val
            if val < span:
                seen[val] = 1
            if val > top:
                top = val
            k += 1
            ndig = 0
            val = 0
        if c == 10:
            if i == n and (n == 0 or buf[n - 1] == 10):
                break                           # no last line without its newline
            if row + 1 >= len(ptr):
                return row, -3, top, line
            if not ordered:
                _sort_row(ids, ptr[row], k)
                k = _unique_row(ids, ptr[row], k, ptr[row])
                ordered = True
            row += 1
            ptr[row] = k
            line = i + 1
        elif c == 13:
            if i + 1 >= n or buf[i + 1] != 10:
                return row, i, top, line
        elif c != 32 and c != 9:
            return row, i, top, line
    return row, -1, top, n


@njit(inline="always")
def _digits8(buf, i):
    """(how many of the 8 bytes at ``i`` are ASCII digits before the first other byte,
    their value), all 8 bytes at once (SWAR: one 64-bit load, no branch per byte)."""
    p = np.uint64(i)
    w = np.uint64(0)
    for k in range(8):
        w |= np.uint64(buf[p + np.uint64(k)]) << np.uint64(8 * k)
    x = w - _ZEROS                                   # each byte minus '0'
    bad = (x | (x + _ABOVE_9)) & _HIGH_BITS          # the high bit of every non-digit byte
    n = np.int64(trailing_zeros(bad) >> 3) if bad else 8
    if n == 0:
        return 0, 0
    d = x << np.uint64(8 * (8 - n))                  # the digits, led by zeros
    d = d * np.uint64(10) + (d >> np.uint64(8))      # pairs, then fours, then all eight
    d = ((d & np.uint64(0x00FF00FF00FF00FF)) * np.uint64(6553601)) >> np.uint64(16)
    d = ((d & np.uint64(0x0000FFFF0000FFFF)) * np.uint64(42949672960001)) >> np.uint64(32)
    return n, np.int64(d)


@njit(inline="always")
def _digits(buf, i, n):
    """(end, value) of the run of ASCII digits at ``i``; a run of more than NUMBER_DIGITS
    digits ends early (its value is then meaningless: the caller refuses it)."""
    j = i
    m = 0
    while j + 8 <= n:
        k, v = _digits8(buf, j)
        m = m * _POW10_INT[k] + v
        j += k
        if k < 8 or j - i > NUMBER_DIGITS:
            return j, m
    while j < n and 48 <= buf[j] <= 57 and j - i <= NUMBER_DIGITS:
        m = m * 10 + (buf[j] - 48)
        j += 1
    return j, m


@njit(inline="always")
def _numeral(buf, i, n):
    """(value, end) of the unsigned numeral at ``i``; end -1 when there is none or it has
    more than NUMBER_DIGITS digits."""
    j, m = _digits(buf, i, n)
    if j == i or j - i > NUMBER_DIGITS:
        return 0, -1
    return m, j


@njit(inline="always")
def _after(buf, j, n, sep):
    """The offset after the separator ``sep`` at ``j``, or -1 when it is not there (or j is)."""
    if j < 0:
        return -1
    for s in range(len(sep)):
        if j >= n or buf[j] != sep[s]:
            return -1
        j += 1
    return j


@njit(inline="always")
def _decimal(buf, i, n):
    """(value, end) of the decimal ``-?digits[.digits]`` at ``i`` (at least one digit, at
    most NUMBER_DIGITS): float64 division ``m / 10**k``, correctly rounded; end -1 when
    there is none."""
    neg = i < n and buf[i] == 45                     # '-'
    j, m = _digits(buf, i + neg, n)
    digits, frac = j - i - neg, 0
    if j < n and buf[j] == 46:                       # '.'
        k, f = _digits(buf, j + 1, n)
        frac = k - j - 1
        if digits + frac <= NUMBER_DIGITS:
            m = m * _POW10_INT[frac] + f
        digits, j = digits + frac, k
    if digits == 0 or digits > NUMBER_DIGITS:
        return 0.0, -1
    v = m / _POW10[frac]
    return -v if neg else v, j


@njit(cache=True, nogil=True)
def delimited_numbers(buf, sep, n_fields, ids, rating, stamp, start, seen):
    """Parse ``user SEP item SEP rating [SEP timestamp]`` lines (blank lines skipped).

    Fields 0, 1 and 3 are unsigned integer numerals (into ``ids[0]``, ``ids[1]``,
    ``stamp``), field 2 a decimal ``-?digits[.digits]`` (into ``rating``: float64
    division, then the float32 store), each of at most NUMBER_DIGITS digits. Rows go to
    ``start``, ``start + 1``, ...; ``sep`` is one or two bytes. Every user (item) id below
    ``seen.shape[1]`` is marked in ``seen[0]`` (``seen[1]``): the dictionary of ids needs
    no pass of its own. Returns (rows written, status, largest user id, largest item id):
    status -1 done, -2 an id too large for ``ids``' type (e.g. int32: parse again into
    int64), else the offset of the first byte outside the grammar.
    """
    n = len(buf)
    span = seen.shape[1]
    top_user = top_item = -1
    row = start
    i = 0
    while i < n:
        c = buf[i]
        if c == 10:                                        # blank line
            i += 1
            continue
        if c == 13 and i + 1 < n and buf[i + 1] == 10:
            i += 2
            continue
        u, j = _numeral(buf, i, n)
        j = _after(buf, j, n, sep)
        if j < 0:
            return row - start, min(i, n - 1), top_user, top_item
        v, k = _numeral(buf, j, n)
        k = _after(buf, k, n, sep)
        if k < 0:
            return row - start, min(j, n - 1), top_user, top_item
        ids[0, row] = u
        ids[1, row] = v
        if ids[0, row] != u or ids[1, row] != v:
            return row - start, -2, top_user, top_item
        if u < span:
            seen[0, u] = 1
        if v < span:
            seen[1, v] = 1
        top_user = max(top_user, u)
        top_item = max(top_item, v)
        r, i = _decimal(buf, k, n)
        if i < 0:
            return row - start, min(k, n - 1), top_user, top_item
        rating[row] = r
        if n_fields == 4:
            j = _after(buf, i, n, sep)
            if j < 0:
                return row - start, min(i, n - 1), top_user, top_item
            t, i = _numeral(buf, j, n)
            if i < 0:
                return row - start, min(j, n - 1), top_user, top_item
            stamp[row] = t
        if i < n and buf[i] == 13:
            i += 1
            if i >= n or buf[i] != 10:
                return row - start, i - 1, top_user, top_item
        if i < n:
            if buf[i] != 10:
                return row - start, i, top_user, top_item
            i += 1
        row += 1
    return row - start, -1, top_user, top_item


@njit(inline="always")
def _sort_row(cols, a, b):
    """Sort ``cols[a:b]`` in place (short rows: insertion sort, no call)."""
    if b - a <= 24:
        for j in range(a + 1, b):
            c = cols[j]
            t = j - 1
            while t >= a and cols[t] > c:
                cols[t + 1] = cols[t]
                t -= 1
            cols[t + 1] = c
    else:
        cols[a:b].sort()


@njit(inline="always")
def _unique_row(cols, a, b, w):
    """Copy the distinct values of the sorted ``cols[a:b]`` to ``cols[w:]`` (``w <= a``);
    the end of the copy."""
    if b > a:
        prev = cols[a]
        cols[w] = prev
        w += 1
        for j in range(a + 1, b):
            c = cols[j]
            if c != prev:
                cols[w] = c
                w += 1
                prev = c
    return w


@njit(cache=True, nogil=True)
def recode_in_place(values, lookup, shift):
    """``values[i] = lookup[values[i] - shift]`` for every ``i``: ids become their codes in
    one pass, with no temporary array (every id is in the table)."""
    for i in range(len(values)):
        values[i] = lookup[values[i] - shift]


@njit(cache=True, nogil=True)
def sort_unique_rows(indptr, cols, lookup):
    """Sort each CSR row's columns and drop duplicates, compacting both in place; with a
    non-empty ``lookup`` every column ``c`` is first replaced by ``lookup[c]`` (e.g. a
    rank's local label numbers by their global codes: basket CSV).

    Returns ``indptr`` (rewritten); ``cols[:indptr[-1]]`` holds the result. A row already
    strictly increasing is only moved; others are sorted in place (no allocation at all).
    """
    mapped = len(lookup) > 0
    w = 0
    a = indptr[0]
    for r in range(len(indptr) - 1):
        b = indptr[r + 1]
        ordered = True
        for j in range(a, b):
            if mapped:
                cols[j] = lookup[cols[j]]
            if j > a and cols[j] <= cols[j - 1]:
                ordered = False
        if not ordered:
            _sort_row(cols, a, b)
        w = _unique_row(cols, a, b, w)    # w <= a: compacting never overwrites an unread column
        indptr[r + 1] = w
        a = b
    indptr[0] = 0
    return indptr


@njit(cache=True, nogil=True)
def _label(buf, a, b, h, value, table):
    """The number of the label ``buf[a:b]`` (hash ``h``; ``value``: its base-131 number,
    exact for labels of at most 8 bytes), added to ``table`` (:class:`LabelArrays`) if new;
    -1 when the table would pass half full or the arena is too small (nothing added then)."""
    slots, keys, arena, used = table
    mask = len(slots) - 1
    q = h & mask
    short = b - a <= SHORT_LABEL
    while True:
        x = slots[q]
        if x < 0:
            x = used[0]
            o = used[1]
            if 2 * (x + 1) > len(slots) or x >= len(keys) or o + b - a > len(arena):
                return -1
            arena[o:o + b - a] = buf[a:b]
            keys[x, 0] = o
            keys[x, 1] = o + b - a
            keys[x, 2] = h
            keys[x, 3] = value if short else -1
            slots[q] = x
            used[0] = x + 1
            used[1] = o + b - a
            return x
        if short:
            if keys[x, 3] == value:           # the label itself: no byte compare
                return x
        elif keys[x, 2] == h and keys[x, 1] - keys[x, 0] == b - a:
            o = keys[x, 0]
            same = True
            for t in range(b - a):
                if arena[o + t] != buf[a + t]:
                    same = False
                    break
            if same:
                return x
        q = (q + 1) & mask


@njit(cache=True, nogil=True)
def basket_labels(buf, ids, ptr, row, field_limit, table):
    """Tokenize basket CSV lines (comma-separated items) into per-rank label numbers.

    Each cell, stripped of blanks and tabs (empty ones dropped), becomes the number of its
    text in this rank's dictionary (``table``, a :class:`LabelArrays`: ``slots`` of key
    numbers, -1 empty, a power-of-two size; key ``x`` is ``arena[keys[x, 0]:keys[x, 1]]`` with hash ``keys[x,
    2]`` and, up to 8 bytes, its base-131 number ``keys[x, 3]``: printable bytes are
    digits below 131, so that number is the label), written to ``ids[ptr[row]:]``; each
    line's end goes to ``ptr[row + 1]``, ... (CSR row pointers, straight from the text).
    ``used`` holds (keys, arena bytes) in use and is updated. Blank lines are no rows (a
    line of blanks is an empty basket), as for ``csv.reader``. The fast grammar is
    printable ASCII without quotes, LF or CRLF line ends, fields of at most
    ``field_limit`` bytes. One pass over the bytes: each cell's number is made as it is read.

    Returns (rows done, status, resume offset): status -1 done; a byte offset outside the
    grammar; -3 when ``ptr``, the table or the arena cannot take the next row or label:
    grow them (:func:`rehash`) and call again from the resume offset (the line's start)
    with the rows done.
    """
    n = len(buf)
    k = ptr[row]
    line = 0          # where this line starts
    content = False   # a byte other than the final CR seen on this line
    field = 0         # where this field starts
    a = -1            # first byte of the cell (-1: only blanks so far), one past its last
    b = 0
    v = np.int64(0)   # base-131 number of the bytes since a (wraps beyond 8 bytes)
    vb = v            # ... of buf[a:b]
    for i in range(n + 1):
        c = buf[i] if i < n else 10
        if c == 44 or c == 10:
            if i - field > field_limit:
                return row, field, line
            if a >= 0:
                h = vb * np.int64(-7046029254386353131)
                h ^= h >> 31
                x = _label(buf, a, b, h, vb, table)
                if x < 0:
                    return row, -3, line
                ids[k] = x
                k += 1
            field = i + 1
            a = -1
            v = np.int64(0)
            if c == 10:
                if content:
                    if row + 1 >= len(ptr):
                        return row, -3, line
                    row += 1
                    ptr[row] = k
                if i == n:
                    break
                content = False
                line = i + 1
            else:
                content = True                    # "," alone is an empty basket
        elif c == 13:
            if i + 1 < n and buf[i + 1] == 10:
                continue
            return row, i, line
        else:
            content = True
            if c == 32 or c == 9:
                if a >= 0:
                    v = v * np.int64(131) + c
                continue
            if c == 34 or c >= 127 or c < 32:
                return row, i, line
            if a < 0:
                a = i
            v = v * np.int64(131) + c
            vb = v
            b = i + 1
    return row, -1, n


@njit(cache=True, nogil=True)
def rehash(slots, keys, n_keys):
    """Fill the empty (-1) power-of-two table ``slots`` with keys 0..n_keys-1 by their hashes."""
    mask = len(slots) - 1
    for x in range(n_keys):
        q = keys[x, 2] & mask
        while slots[q] >= 0:
            q = (q + 1) & mask
        slots[q] = x


@njit(cache=True, nogil=True)
def cell_table(buf, starts, ends, out):
    """Copy cell ``c`` (bytes ``starts[c]:ends[c]`` of ``buf``) into row ``c`` of the
    zeroed 2-D uint8 ``out`` (one fixed-width byte string per cell)."""
    for c in range(len(starts)):
        for p in range(starts[c], ends[c]):
            out[c, p - starts[c]] = buf[p]
