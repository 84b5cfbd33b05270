"""The recommender contract (hpcrec.recommender.Recommender), for every registered model on
the CPU and on a (simulated) GPU, at 1 rank and at every rank count scripts/test.sh runs.

What each test holds a model to is in its docstring; model-specific accuracy and oracle
tests live beside each family (tests/test_mf_*.py, tests/test_knn_*.py).
"""
from __future__ import annotations

import numpy as np
import pytest
from helpers import COMMS, RANK_TOLERANCE, TINY_MODELS, make_comm, shared_tmp, tiny_model, tiny_ratings

from hpcrec.core.comm import serial
from hpcrec.core.errors import InputError
from hpcrec.io import load_ratings
from hpcrec.io.ratings import write_h5
from hpcrec.recommender import Recommender, models

NAMES = sorted(models())


@pytest.fixture(scope="module")
def data():
    return tiny_ratings(4)


def _raw(r, k=None):
    """Raw (user ids, item ids) of a Ratings' first ``k`` entries."""
    return r.user_ids[r.user[:k]], r.item_ids[r.item[:k]]


def _untimed(history: list[dict]) -> list[dict]:
    return [{k: v for k, v in h.items() if not k.endswith("seconds")} for h in history]


def test_every_registered_model_has_a_tiny_configuration():
    """A model added to the registry must say how the contract trains it and what it
    promises across rank counts (tests/helpers.py)."""
    assert NAMES == sorted(TINY_MODELS) == sorted(RANK_TOLERANCE)
    assert all(issubclass(cls, Recommender) and cls.name == name for name, cls in models().items())


@pytest.mark.parametrize("name", NAMES)
def test_parameters_are_checked_at_construction(name, data):
    """Every model refuses a bad parameter when it is built, not later in ``fit``; the
    parameters it saves build the same model again; ``fit`` checks them once more."""
    cls = models()[name]
    with pytest.raises(InputError, match="device"):
        cls(device="tpu")
    model = tiny_model(name)
    assert cls(**model.params()).params() == model.params()
    model.device = "tpu"
    with pytest.raises(InputError, match="device"):
        model.fit(data[0], serial())
    assert model.item_ids is None   # refused before any work


@pytest.mark.parametrize("comm_name", COMMS)
@pytest.mark.parametrize("name", NAMES)
def test_fit_predict_recommend(name, device, comm_name, data):
    """Fit statistics; finite predictions with the cold-start rule (an unknown user and
    item get the global mean); recommend: k items best first, seen ones excluded, the same
    for a batch as one by one, an unknown user refused."""
    comm = make_comm(comm_name)
    train, test = data
    model = tiny_model(name, device).fit(train, comm)
    assert model.fit_stats["ranks"] == comm.size and model.fit_stats["seconds"] >= 0
    users, items = _raw(test)
    pred = model.predict(users, items)
    assert pred.shape == (test.nnz,) and np.isfinite(pred).all()
    cold = model.predict([10**9, users[0], 10**9], [items[0], 10**9, 10**9])
    assert np.isfinite(cold).all()
    assert cold[2] == pytest.approx(float(np.mean(train.rating, dtype=np.float64)), rel=1e-6)
    for u in range(3):
        seen = set(train.item_ids[train.item[train.user == u]].tolist())
        ids, scores = model.recommend(train.user_ids[u], k=5)
        assert len(ids) == 5 and not seen & set(ids.tolist())
        assert np.all(np.diff(scores) <= 0)
        every, _ = model.recommend(train.user_ids[u], k=train.n_items, exclude_seen=False)
        assert seen <= set(every.tolist())
    batch_ids, batch_scores = model.recommend(train.user_ids[:3], k=5)
    one_ids, one_scores = model.recommend(train.user_ids[2], k=5)
    np.testing.assert_array_equal(batch_ids[2], one_ids)
    np.testing.assert_allclose(batch_scores[2], one_scores, rtol=1e-12)   # BLAS blocks differ
    with pytest.raises(InputError, match="unknown user"):
        model.recommend(10**9)


@pytest.mark.parametrize("name", NAMES)
def test_neighbor_queries_honour_the_measure(name, device, data):
    """similar_items answers in every measure the class declares — differently for
    different measures — best first, without the item itself; the default measure is one
    of them; any other measure, a bad k and an unknown item are refused."""
    train, _ = data
    model = tiny_model(name, device).fit(train, serial())
    assert model.default_measure in model.measures
    item = train.item_ids[train.item[0]]
    answers = {}
    for measure in model.measures:
        ids, scores = model.similar_items(item, k=6, measure=measure)
        assert 0 < len(ids) <= 6 and item not in ids.tolist()
        assert np.all(np.diff(scores) <= 0) and np.isfinite(scores).all()
        answers[measure] = (ids.tolist(), np.round(scores, 12).tolist())
    assert len(set(map(repr, answers.values()))) == len(answers), answers
    default = model.similar_items(item, k=6)
    assert (default[0].tolist(), np.round(default[1], 12).tolist()) == answers[model.default_measure]
    with pytest.raises(InputError, match="measure"):
        model.similar_items(item, measure="no-such-measure")
    with pytest.raises(InputError, match="k must be"):
        model.similar_items(item, k=0)
    with pytest.raises(InputError, match="unknown item id"):
        model.similar_items(10**9)


@pytest.mark.parametrize("name", NAMES)
def test_save_load_round_trip(name, device, data, tmp_path):
    """A saved model loads as the same class with the same parameters and history, and
    answers every query exactly as before."""
    train, test = data
    model = tiny_model(name, device).fit(train, serial())
    model.save(tmp_path / "m.h5")
    back = Recommender.load(tmp_path / "m.h5")
    assert type(back) is type(model) and back.params() == model.params()
    assert back.history == model.history
    users, items = _raw(test)
    np.testing.assert_array_equal(back.predict(users, items), model.predict(users, items))
    for a, b in zip(back.recommend(users[:7], k=5), model.recommend(users[:7], k=5)):
        np.testing.assert_array_equal(a, b)
    for measure in model.measures:
        for a, b in zip(back.similar_items(items[0], k=4, measure=measure),
                        model.similar_items(items[0], k=4, measure=measure)):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("comm_name", COMMS)
@pytest.mark.parametrize("name", NAMES)
def test_checkpoints_are_supported_or_refused(name, comm_name, data, tmp_path):
    """Every model answers set_checkpoint: a model with epochs writes a checkpoint that a
    resumed run continues from (here: the finished state, so the same model); one without
    refuses with one clear error."""
    comm = make_comm(comm_name)
    folder = shared_tmp(comm, tmp_path)
    model = tiny_model(name)
    try:
        model.set_checkpoint(folder, every=1)
    except InputError as exc:
        assert str(exc) == f"model {name} does not support checkpoints"
        assert "epochs" not in model.params()
        return
    assert "epochs" in model.params()
    model.fit(data[0], comm)
    assert (folder / "checkpoint.h5").is_file()
    resumed = tiny_model(name).set_checkpoint(folder, resume=True).fit(data[0], comm)
    users, items = _raw(data[1])
    np.testing.assert_array_equal(resumed.predict(users, items), model.predict(users, items))
    assert _untimed(resumed.history) == _untimed(model.history)   # rank 0's timings were saved


@pytest.mark.parametrize("comm_name", COMMS)
@pytest.mark.parametrize("name", NAMES)
def test_a_shard_is_never_cut_again(name, comm_name, data, tmp_path):
    """``fit`` on the part a rank read (an HDF5 file read by every rank) gives the model that
    ``fit`` on the whole data set gives: the part is used as it is, not cut once more."""
    comm = make_comm(comm_name)
    train, test = data
    path = shared_tmp(comm, tmp_path) / "train.h5"
    if comm.is_root:
        write_h5(train, path)
    comm.barrier()
    shard = load_ratings(path, comm)
    assert (shard.shard.part, shard.shard.parts, shard.n_total) == (comm.rank, comm.size, train.nnz)
    from_shard = tiny_model(name).fit(shard, comm)
    from_whole = tiny_model(name).fit(train, comm)
    users, items = _raw(test)
    np.testing.assert_array_equal(from_shard.predict(users, items), from_whole.predict(users, items))
    if comm.size > 1:
        with pytest.raises(InputError, match="never cut again"):
            shard.part(0, 1)


@pytest.mark.mpi
@pytest.mark.parametrize("name", NAMES)
def test_rank_count_promise(name, device, data):
    """Across rank counts a model keeps its documented promise (tests/helpers.py:
    RANK_TOLERANCE) on every rank: the predictions of one rank within the tolerance, or,
    where the update order depends on the ranks (DSGD), the accuracy of one rank, and on
    the CPU the same model again for the same rank count (the GPU's SGD is Hogwild)."""
    comm = make_comm("world")
    train, test = data
    users, items = _raw(test)
    dist = tiny_model(name, device).fit(train, comm).predict(users, items)
    gathered = comm.allgather_obj(dist.tobytes())
    assert all(g == gathered[0] for g in gathered)   # every rank holds the same model
    one = tiny_model(name, device).fit(train, serial()).predict(users, items)
    tolerance = RANK_TOLERANCE[name]
    if tolerance is not None:
        np.testing.assert_allclose(dist, one, rtol=0, atol=tolerance)
        return
    rmse = [np.sqrt(np.mean((p - test.rating) ** 2)) for p in (dist, one)]
    assert abs(rmse[0] - rmse[1]) < 0.05, rmse
    if device == "cpu":
        again = tiny_model(name, device).fit(train, comm).predict(users, items)
        np.testing.assert_array_equal(dist, again)
