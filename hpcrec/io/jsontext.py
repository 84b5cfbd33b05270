"""Strict JSON out: every document hpcrec writes or prints parses with any JSON reader.

Python's ``json`` writes ``NaN`` and ``Infinity``, which JSON does not have; here a
non-finite float becomes ``null`` (documented for every JSON output), numpy scalars and
arrays become plain numbers and lists, and ``allow_nan=False`` guards the rest.
"""
from __future__ import annotations

import json
import math

import numpy as np


def plain(obj):
    """``obj`` with numpy values turned into Python ones and non-finite floats into None."""
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return plain(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def dumps(obj, **kwargs) -> str:
    """Strict JSON text of ``obj`` (see the module docstring)."""
    return json.dumps(plain(obj), allow_nan=False, **kwargs)
