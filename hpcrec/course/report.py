"""The demo's words: a short terminal report and ``report.md``, both from the numbers of
:func:`hpcrec.course.story.run` (every conclusion is computed, none is written in advance)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .baskets import itemset_text, printable

COURSE_MODELS = ("observed-only GD", "regularized GD")
BIASED_MODELS = ("biased SGD", "ALS")


def table_md(frame: pd.DataFrame, digits: int = 3) -> str:
    """A DataFrame as a GitHub markdown table (numbers rounded to ``digits``)."""
    frame = printable(frame)
    cells = [[_cell(v, digits) for v in row] for row in frame.itertuples(index=False)]
    head = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "|".join("---:" if pd.api.types.is_numeric_dtype(frame[c]) else "---"
                          for c in frame.columns) + "|"
    return "\n".join([head, rule] + ["| " + " | ".join(r) + " |" for r in cells])


def _cell(v, digits: int) -> str:
    if isinstance(v, (float, np.floating)):
        return f"{v:.{digits}f}" if np.isfinite(v) else "n/a"
    return str(v)


def findings(res: dict) -> dict:
    """The lecture's claims checked on this run's numbers."""
    cmp = res["tables"]["mf_comparison"].set_index("model")
    best = cmp["test_rmse"].idxmin()
    obs, reg = (cmp.loc[m] for m in COURSE_MODELS)
    return {
        "best_model": best, "best_test_rmse": float(cmp.loc[best, "test_rmse"]),
        "biased_best": best in BIASED_MODELS,
        "biased_beat_observed_only": bool((cmp.loc[list(BIASED_MODELS), "test_rmse"]
                                           < obs["test_rmse"]).all()),
        "regularized_test_gain": float(obs["test_rmse"] - reg["test_rmse"]),
        "rare_norm": (float(obs["rare_norm"]), float(reg["rare_norm"])),
        "popular_norm": (float(obs["popular_norm"]), float(reg["popular_norm"])),
        "genre_agreement": (float(obs["genre_agreement"]), float(reg["genre_agreement"]),
                            float(obs["genre_chance"])),
    }


def _neighbor_line(res: dict, model: str, measure: str, k: int = 5) -> str:
    nb = res["tables"]["mf_neighbors"]
    part = nb[(nb["model"] == model) & (nb["measure"] == measure)].head(k)
    return "; ".join(f"{t} [{g}, {n} ratings]" for t, g, n in zip(part["title"], part["genres"], part["ratings"]))


def terminal(res: dict, out, seconds: float) -> str:
    """What rank 0 prints: a screenful."""
    t, f = res["tables"], findings(res)
    rules, sweep = t["retail_rules"], t["retail_support_sweep"]
    five = t["five_baskets_itemsets"]
    s = t["ml_summary"].iloc[0]
    cmp = t["mf_comparison"]
    lines = [f"hpcrec demo: the data-mining and recommender lecture on {res['ranks']} rank(s)",
             f"1. Retail baskets: {res['retail_source']}",
             f"   {len(res['retail_baskets'])} baskets; min support 0.2: "
             f"{len(t['retail_itemsets'])} itemsets, {len(rules)} rules with confidence >= 0.6",
             "   support sweep: " + ", ".join(f"{r.min_support:g}: {r.n_itemsets} itemsets/{r.n_rules} rules"
                                            for r in sweep.itertuples())]
    for r in rules.head(3).itertuples():
        lines.append(f"   {itemset_text(r.antecedents)} -> {itemset_text(r.consequents)}: support "
                     f"{r.support:.3f}, confidence {r.confidence:.3f}, lift {r.lift:.3f}")
    lines += [f"2. FP-Growth, five transactions, min support 0.6: {len(five)} itemsets: "
              + ", ".join(f"{{{itemset_text(i)}}} {v:.1f}" for v, i in zip(five["support"], five["itemsets"])),
              f"3. Ratings: {res['ratings_source']}",
              f"   {int(s['users'])} users x {int(s['movies'])} movies, {int(s['ratings'])} ratings (density "
              f"{s['density']:.2%}); sparse matrix {res['matrix']['bytes_csr'] / 2**20:.1f} MiB "
              f"vs dense {res['matrix']['bytes_dense'] / 2**20:.1f} MiB",
              f"4. Regularization sweep on a validation split: best reg {res['regularization']['reg']:g}, "
              f"gravity {res['regularization']['gravity']:g}",
              "5. Models on the same 90/10 split (RMSE; mean embedding norm of the 10% most / least "
              "rated movies; genre agreement of cosine neighbors):"]
    for r in cmp.itertuples():
        lines.append(f"   {r.model:<17} train {r.train_rmse:.3f}  test {r.test_rmse:.3f}  "
                     f"norms popular {r.popular_norm:.2f} / rare {r.rare_norm:.2f}  "
                     f"genre agreement {r.genre_agreement:.2f} (chance {r.genre_chance:.2f})")
    lines += [f"   lowest test RMSE: {f['best_model']} ({f['best_test_rmse']:.3f}); biased models "
              f"{'beat' if f['biased_beat_observed_only'] else 'do NOT beat'} the observed-only model",
              f"6. Neighbors of {res['movie'][1]} (observed-only GD):",
              f"   dot:    {_neighbor_line(res, COURSE_MODELS[0], 'dot', 3)}",
              f"   cosine: {_neighbor_line(res, COURSE_MODELS[0], 'cosine', 3)}",
              f"Tables, figures and report.md in {out}/; {seconds:.0f} s on {res['ranks']} rank(s)."]
    return "\n".join(lines)


def markdown(res: dict) -> str:
    """``report.md``: every number of the run, with the lecture's conclusions checked."""
    t, f = res["tables"], findings(res)
    reg = res["regularization"]
    obs_rare, reg_rare = f["rare_norm"]
    obs_pop, reg_pop = f["popular_norm"]
    g_obs, g_reg, chance = f["genre_agreement"]
    sec = res["seconds"]
    parts = [
        "# hpcrec demo: the data-mining and recommender lecture",
        f"Run on {res['ranks']} MPI rank(s), seed {res['seed']}; time per part: "
        + ", ".join(f"{k} {v:.1f} s" for k, v in sec.items()) + f" (total {sum(sec.values()):.1f} s).",
        "## 1. Retail basket analysis (Apriori)",
        f"Data: {res['retail_source']}. {len(res['retail_baskets'])} baskets "
        "(the baskets mined are in `retail_baskets.csv`).",
        "Item supports:", table_md(t["retail_item_supports"]),
        "Support-threshold tuning (rules: confidence >= 0.6):", table_md(t["retail_support_sweep"]),
        f"At minimum support 0.2: {len(t['retail_itemsets'])} frequent itemsets "
        f"(`retail_itemsets.csv`) and {len(t['retail_rules'])} rules with confidence >= 0.6, "
        "by lift:",
        table_md(t["retail_rules"][["antecedents", "consequents", "support", "confidence", "lift",
                                    "leverage", "conviction"]]),
        "## 2. FP-Growth on the five-transaction example (minimum support 0.6)",
        table_md(t["five_baskets_itemsets"]),
        "## 3. Ratings: exploration and the sparse matrix",
        f"Data: {res['ratings_source']}.",
        table_md(t["ml_summary"], 4),
        f"The rating matrix is {res['matrix']['shape'][0]} x {res['matrix']['shape'][1]} with "
        f"{res['matrix']['nnz']} stored entries: {res['matrix']['bytes_csr'] / 2**20:.2f} MiB as CSR "
        f"against {res['matrix']['bytes_dense'] / 2**20:.2f} MiB dense (float32).",
        "Ratings per user and per movie:", table_md(t["ml_activity"], 1),
        "Most rated movies:", table_md(t["ml_top_movies"]),
        "By genre (a movie counts in each of its genres):", table_md(t["ml_by_genre"]),
    ]
    if "ml_by_occupation" in t:
        parts += ["By occupation:", table_md(t["ml_by_occupation"])]
    parts += [
        "## 4. Regularization (L2 + gravity) and hyper-parameter tuning",
        "The regularized gradient-descent model for each (reg, gravity), trained on 90 % of the "
        "training set and scored on the other 10 % (the test set is not used):",
        table_md(t["mf_sweep"]),
        f"Chosen: reg {reg['reg']:g}, gravity {reg['gravity']:g} (lowest validation RMSE).",
        "## 5. The models compared on the same 90/10 split",
        table_md(t["mf_comparison"]),
        "Norms: mean embedding norm of the 10 % most rated (`popular_norm`) and least rated "
        "(`rare_norm`) movies. Genre agreement: share of the 10 cosine-nearest neighbors among "
        "the 400 most rated movies that share a genre with the movie (`genre_chance`: random pairs).",
        "Findings on this run:",
        f"- Lowest test RMSE: **{f['best_model']}** ({f['best_test_rmse']:.3f}); the biased models "
        f"{'have' if f['biased_best'] else 'do NOT have'} the lowest test RMSE and "
        f"{'beat' if f['biased_beat_observed_only'] else 'do NOT beat'} the observed-only model.",
        f"- Regularization changes the test RMSE of the gradient-descent model by "
        f"{-f['regularized_test_gain']:+.3f} and shrinks the vectors of rarely rated movies "
        f"(mean norm {obs_rare:.2f} -> {reg_rare:.2f}; popular movies {obs_pop:.2f} -> {reg_pop:.2f}): "
        "without it, movies with few ratings keep long random vectors and the dot product "
        "ranks them among anybody's neighbors.",
        f"- Genre structure: cosine neighbors share a genre {g_obs:.0%} of the time in the "
        f"observed-only model and {g_reg:.0%} in the regularized one (chance {chance:.0%}); "
        "see `mf_tsne.png`.",
        f"## 6. Neighbors of {res['movie'][1]}",
    ]
    nb = t["mf_neighbors"]
    for model in nb["model"].unique():
        parts += [f"{model}:", table_md(nb[nb["model"] == model].drop(columns="model"))]
    parts += ["## Files",
              "CSV tables: one per table above. Figures: `retail_support_sweep.png`, "
              "`ml_exploration.png`, `mf_rmse.png`, `mf_history.png` (test RMSE per epoch), "
              "`mf_norms.png` (norm against ratings), `mf_tsne.png` (2-D t-SNE, by genre)."]
    return "\n\n".join(parts) + "\n"
