"""Names of a package, and whole modules, loaded on first use, so that importing one light
module (e.g. ``hpcrec.io.atomic``, or the miner for ``hpcrec mine``) does not import heavy
ones (pandas, h5py, the parsers) that the command never touches."""
from __future__ import annotations

import importlib
import importlib.util
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


def lazy_module(name: str):
    """Module ``name``, executed on its first attribute access (``importlib.util.LazyLoader``);
    the module itself when it is already imported."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
