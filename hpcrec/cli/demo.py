"""``hpcrec demo``: the course's story end to end on the embedded default data."""
from __future__ import annotations

import logging
from pathlib import Path

from ..comm import world
from ..data import path as bundled
from ..io import formats, synthetic

log = logging.getLogger("hpcrec")


def register(sub) -> None:
    p = sub.add_parser("demo", help="run the course demo on the embedded default data")
    p.add_argument("--out", default="hpcrec-out", help="output folder (default: ./hpcrec-out)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_demo)


def cmd_demo(args) -> int:
    comm = world()
    out = Path(args.out)
    baskets, ratings = out / "five_baskets.h5", out / "synthetic_ratings.h5"
    with comm.collective_errors():
        if comm.is_root:
            out.mkdir(parents=True, exist_ok=True)
            formats.write_h5(formats.load_any(bundled("five_baskets.csv")), baskets)
            synthetic.write_ratings_h5(ratings, 943, 1682, 100_000, seed=args.seed)
    comm.barrier()
    with comm.collective_errors():
        tx = formats.load_transactions(baskets)
        rt = formats.load_ratings(ratings)
    parts = comm.gather_obj((comm.rank, tx.n_rows, tx.nnz, rt.nnz))
    if comm.is_root:
        print(f"hpcrec demo on {comm.size} rank(s); data in {out}/")
        print(f"  transactions: {tx.n_total} baskets, {tx.n_items} items")
        print(f"  ratings: {rt.n_total} ratings, {rt.n_users} users x {rt.n_items} items (synthetic, ml-100k shape)")
        for rank, rows, nnz, nr in parts:
            print(f"  rank {rank}: {rows} baskets ({nnz} items), {nr} ratings")
    return 0
