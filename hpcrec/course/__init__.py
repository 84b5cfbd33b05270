"""The data-mining and recommender lecture as Python functions (what ``hpcrec demo`` and
``examples/course.ipynb`` run).

* :mod:`~hpcrec.course.baskets` — retail basket analysis (support tuning, rules with
  confidence >= 0.6), FP-Growth on the five-transaction example;
* :mod:`~hpcrec.course.movies` — MovieLens 100K (or a synthetic set of its shape):
  exploration, sparse matrix, the course's gradient-descent models, regularization sweep,
  comparison with biased SGD and ALS, neighbors, embedding norms, t-SNE;
* :mod:`~hpcrec.course.figures` — one PNG per figure, drawn from the tables;
* :mod:`~hpcrec.course.story` — all steps in one call and the output folder;
  :mod:`~hpcrec.course.report` — the terminal report and ``report.md``.

Each step returns data (DataFrames, dicts); figures are separate functions. See docs/course.md.
"""
from . import baskets, figures, movies, report, story

__all__ = ["baskets", "figures", "movies", "report", "story"]
