"""Data bundled with hpcrec (only what may be redistributed).

``five_baskets.csv`` is the five-transaction example of the mlxtend documentation
(the course's FP-Growth toy set). Everything else the demo needs is generated.
"""
from importlib.resources import files


def path(name: str):
    """Path of a bundled data file."""
    return files(__name__) / name
