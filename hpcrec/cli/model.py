"""Model commands: ``train``, ``evaluate``, ``recommend``, ``neighbors``, ``cv``, ``plot``.

``--model`` offers every registered :class:`Recommender` (:func:`hpcrec.recommender.models`:
``hpcrec.mf`` and, when present, ``hpcrec.knn``); ``neighbors --measure`` every measure they
declare. Model options given on the command line go to the model's constructor;
an option a model does not take is an error. To add options for new models, add rows to
``MODEL_OPTIONS``.
"""
from __future__ import annotations

import argparse
import inspect
import logging
import sys

from ..core.comm import world
from ..core.context import RunContext
from ..core.device import DEVICES, share_cores
from ..core.errors import InputError
from ..io import jsontext
from ..io.atomic import resolve_output
from ..recommender import Recommender, models
from . import DeprecatedAlias

log = logging.getLogger("hpcrec")

MODELS = models()
MEASURES = sorted({m for cls in MODELS.values() for m in cls.measures}, key=lambda m: (m != "dot", m))

# (flags, argparse keywords): the dest is the model's constructor keyword.
MODEL_OPTIONS = (
    (("--factors",), dict(type=int, metavar="D", help="embedding dimension")),
    (("--epochs",), dict(type=int, metavar="E", help="passes over the data (GD: iterations)")),
    (("--lr",), dict(type=float, help="learning rate")),
    (("--reg",), dict(type=float, help="regularization weight")),
    (("--gravity",), dict(type=float, help="gravity weight (course-gd)")),
    (("--alpha",), dict(type=float, help="wals: confidence 1 + alpha * value (default 1)")),
    (("--threshold",), dict(type=float, help="wals: train on ratings >= THRESHOLD as positives")),
    (("--weighted-reg",), dict(action=argparse.BooleanOptionalAction, dest="weighted_reg",
                               help="als/wals: scale reg by each row's rating count (ALS-WR)")),
    (("--solver",), dict(choices=["cg", "cholesky"],
                         help="als/wals: warm-started conjugate gradients or exact Cholesky")),
    (("--cg-steps",), dict(type=int, dest="cg_steps", help="als/wals: CG steps per row (default 3)")),
    (("--init-std",), dict(type=float, dest="init_std", help="std of the initial factors")),
    (("--decay",), dict(type=float, help="learning-rate decay per epoch (biased-sgd)")),
    (("--batch-size",), dict(type=int, dest="batch_size", help="mini-batch size (course-gd)")),
    (("--seed",), dict(type=int, help="random seed")),
    (("--device",), dict(choices=DEVICES, help="compute device (default cpu)")),
    # k-NN (item-knn, user-knn)
    (("--similarity",), dict(choices=["cosine", "msd", "pearson", "pearson-baseline"],
                             help="k-NN similarity (default pearson-baseline)")),
    (("--k-neighbors", "--k"), dict(type=int, dest="k", action=DeprecatedAlias,
                                     help="k-NN: most neighbors one prediction uses, the k of "
                                          "k-NN (default 40; --k is a deprecated alias)")),
    (("--min-k",), dict(type=int, dest="min_k", help="k-NN: fewer neighbors -> baseline")),
    (("--max-neighbors",), dict(type=int, dest="max_neighbors", metavar="K",
                                help="k-NN: neighbors stored per item/user (default 200)")),
    (("--shrinkage",), dict(type=float, help="k-NN: shrinkage of pearson-baseline (default 100)")),
    (("--min-co-ratings", "--min-support"), dict(
        type=int, dest="min_support", action=DeprecatedAlias,
        help="k-NN: least co-ratings (a count) of a pair with a similarity; --min-support, "
             "a fraction in 'mine', is a deprecated alias")),
    (("--prediction",), dict(choices=["baseline", "means", "basic"],
                             help="k-NN rule: KNNBaseline, KNNWithMeans, KNNBasic style")),
    (("--damping",), dict(type=float, help="k-NN: weight of the baseline pseudo-neighbor")),
)


def add_model_options(p) -> None:
    p.add_argument("--model", choices=list(MODELS), default="biased-sgd",
                   help="model (default biased-sgd)")
    for flags, kwargs in MODEL_OPTIONS:
        p.add_argument(*flags, default=None, **kwargs)


def build_model(args) -> Recommender:
    """The model named by ``--model`` with the options given on the command line."""
    cls = MODELS[args.model]
    accepted = inspect.signature(cls.__init__).parameters
    kwargs = {}
    for flags, kwargs_ in MODEL_OPTIONS:
        dest = kwargs_.get("dest", flags[0].lstrip("-").replace("-", "_"))
        value = getattr(args, dest, None)
        if value is None:
            continue
        if dest not in accepted:
            typed = {new: old for old, new in (getattr(args, "deprecated", None) or {}).items()}
            raise InputError(f"option {typed.get(flags[0], flags[0])} does not apply to model {args.model}")
        kwargs[dest] = value
    return cls(**kwargs)


def register(sub) -> None:
    p = sub.add_parser("train", help="train a recommender on ratings and save it to HDF5")
    p.add_argument("ratings", help="training ratings (HDF5, MovieLens u.data/u1.base, CSV, ...)")
    p.add_argument("-o", "--output", required=True, help="model file (.h5)")
    add_model_options(p)
    p.add_argument("--test", help="held-out ratings scored after every epoch")
    p.add_argument("--checkpoint", metavar="DIR", help="write checkpoints into DIR (and on SIGTERM)")
    p.add_argument("--checkpoint-every", type=int, default=1, metavar="N", help="epochs between checkpoints")
    p.add_argument("--resume", action="store_true", help="continue from the checkpoint in DIR if any")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="score a model on held-out ratings (JSON on stdout)")
    p.add_argument("model", help="model file (.h5)")
    p.add_argument("--test", required=True, help="held-out ratings")
    p.add_argument("--metrics-k", "--k", type=int, dest="k", metavar="K", action=DeprecatedAlias,
                   help="also precision/recall/NDCG/MAP at cut-off K (--k: deprecated alias)")
    p.add_argument("--threshold", type=float, default=4.0, help="held-out rating counted as positive")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("recommend", help="top-k items for a user")
    p.add_argument("model")
    p.add_argument("--user", required=True, help="raw user id")
    p.add_argument("-k", type=int, default=10)
    p.add_argument("--include-seen", action="store_true", help="keep items the user rated")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_recommend)

    p = sub.add_parser("neighbors", help="items nearest to an item in embedding space")
    p.add_argument("model")
    p.add_argument("--item", required=True, help="title substring (or raw item id)")
    p.add_argument("--measure", choices=MEASURES,
                   help="factorization: dot (default) or cosine of item vectors; k-NN: a "
                        "similarity (default: the model's own)")
    p.add_argument("-k", type=int, default=6)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_neighbors)

    p = sub.add_parser("cv", help="cross-validate a model (MovieLens folds u1..u5 or k-fold)")
    p.add_argument("ratings", help="ml-100k folder (or a file in it) for --folds movielens")
    p.add_argument("--folds", default="movielens", help="'movielens' or a number of folds")
    add_model_options(p)
    p.add_argument("--metrics-k", type=int, metavar="K", help="also ranking metrics at K")
    p.set_defaults(func=cmd_cv)

    p = sub.add_parser("plot", help="PNG views of a model: error per epoch, norms, t-SNE")
    p.add_argument("model")
    p.add_argument("-o", "--output", required=True, help="output folder")
    p.add_argument("--max-items", type=int, default=600, help="most rated items shown by t-SNE")
    p.set_defaults(func=cmd_plot, output_is_folder=True)


def cmd_train(args) -> int:
    from ..mf import TrainingInterrupted
    comm = world()
    model = build_model(args)
    if args.resume and not args.checkpoint:
        raise InputError("--resume needs --checkpoint DIR")
    if args.checkpoint:
        model.set_checkpoint(args.checkpoint, args.checkpoint_every, args.resume)
    with comm.collective_errors():  # fail on a bad output path before training, not after
        if comm.is_root:
            resolve_output(args.output)
    ctx = RunContext.build(comm, model.device, stop_signals=model.stop_signals)
    timer = ctx.timer
    try:
        with ctx, timer.phase("train"):
            model.fit(args.ratings, test=args.test, context=ctx)
    except TrainingInterrupted as exc:
        if comm.is_root:
            log.warning("%s", exc)
        return 143
    with timer.phase("write"), comm.collective_errors():
        if comm.is_root:
            model.save(args.output)
    stats = model.fit_stats
    if comm.is_root:
        rate = (f"; {stats['updates'] / stats['epoch_seconds'] / 1e6:.2f} M rating updates/s "
                "in the epochs" if stats.get("epoch_seconds") else "")
        log.info("trained %s on %d rank(s): %s%s; wrote %s", model.name, comm.size,
                 timer.summary(("train", "write")), rate, args.output)
    return 0


def cmd_evaluate(args) -> int:
    from ..metrics import evaluate
    comm = world()
    with comm.collective_errors():
        model = Recommender.load(args.model)
    result = evaluate(model, args.test, args.k, comm, args.threshold)
    if comm.is_root:
        print(jsontext.dumps(result))
    return 0


def cmd_recommend(args) -> int:
    comm = world()
    with comm.collective_errors():
        if comm.is_root:
            model = Recommender.load(args.model)
            ids, scores = model.recommend(args.user, k=args.k, exclude_seen=not args.include_seen)
            rows = [{"rank": n + 1, "item": _plain(i), "score": float(s),
                     "title": _title(model, i)} for n, (i, s) in enumerate(zip(ids, scores))]
    if comm.is_root:
        _print_rows(rows, args.json)
    return 0


def cmd_neighbors(args) -> int:
    comm = world()
    with comm.collective_errors():
        if comm.is_root:
            model = Recommender.load(args.model)
            measure = model.default_measure if args.measure is None else args.measure
            matches = model.find_items(args.item)
            if len(matches) == 0:
                j = model.item_index(args.item)
                if j[0] < 0:
                    raise InputError(f"no item title contains {args.item!r} and no item has that id")
                matches = j
            ids, scores = model.similar_items(model.item_ids[matches[0]], k=args.k, measure=measure)
            rows = [{"rank": n + 1, "item": _plain(i), "score": float(s), "title": _title(model, i)}
                    for n, (i, s) in enumerate(zip(ids, scores))]
            query = _title(model, model.item_ids[matches[0]]) or str(model.item_ids[matches[0]])
            others = [_title(model, model.item_ids[j]) for j in matches[1:]]
    if comm.is_root:
        if args.json:
            print(jsontext.dumps({"item": query, "measure": measure, "other_matches": others,
                              "neighbors": rows}))
        else:
            print(f"Nearest neighbors of {query} ({measure}).")
            if others:
                print(f"[Found more than one matching item. Other candidates: {', '.join(others)}]")
            _print_rows(rows, False)
    return 0


def cmd_cv(args) -> int:
    from ..model_selection import cross_validate
    comm = world()
    share_cores(comm)
    build_model(args)  # check the options once, before any fold
    result = cross_validate(lambda: build_model(args), args.ratings, args.folds, args.metrics_k,
                            comm=comm)
    if comm.is_root:
        print(jsontext.dumps(result))
    return 0


def cmd_plot(args) -> int:
    from .. import plots
    comm = world()
    with comm.collective_errors():
        if comm.is_root:
            written = plots.plot_all(Recommender.load(args.model), args.output, args.max_items)
    if comm.is_root:
        for path in written:
            print(path)
    return 0


def _plain(x):
    return x.item() if hasattr(x, "item") else x


def _title(model, raw_item) -> str:
    if model.item_titles is None:
        return ""
    j = model.item_index(raw_item)[0]
    return str(model.item_titles[j]) if j >= 0 else ""


def _print_rows(rows, as_json: bool) -> None:
    if as_json:
        print(jsontext.dumps(rows))
        return
    for r in rows:
        sys.stdout.write(f"{r['rank']:>3}  {r['score']:8.4f}  {r['item']}  {r['title']}\n")
