"""Names of a package loaded on first use (PEP 562), so that importing one light module of
it (e.g. ``hpcrec.io.atomic``, or the miner for ``hpcrec mine``) does not import its heavy
ones (pandas, h5py, the parsers)."""
from __future__ import annotations

import importlib
import sys


def lazy_names(package: str, homes: dict[str, str]):
    """A module ``__getattr__`` for ``package``: ``homes`` maps each exported name to the
    submodule that defines it (loaded, and the name cached, on first use); any other name
    is tried as a submodule."""
    def __getattr__(name: str):
        if name not in homes:
            try:
                return importlib.import_module(f"{package}.{name}")
            except ModuleNotFoundError:
                raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(f"{package}.{homes[name]}"), name)
        setattr(sys.modules[package], name, value)
        return value
    return __getattr__
