"""Checkpoint identity: a checkpoint is resumed only by the run that wrote it (same data,
model, parameters, ranks); anything else is one clear error naming the difference. A finished
run's checkpoint is marked complete. Serial tests, plus an MPI test of the rank count."""
import h5py
import numpy as np
import pytest
from helpers import needs_ranks

from hpcrec.core.comm import serial, world
from hpcrec.core.errors import HpcrecError, InputError
from hpcrec.io import ratings, synthetic
from hpcrec.mf import BiasedSGD
from hpcrec.mf.checkpoint import FILE, data_digest


@pytest.fixture(scope="module")
def train():
    return synthetic.ratings(n_users=120, n_items=80, n_ratings=3000, seed=4)


def _model(**kw):
    return BiasedSGD(factors=4, **{"epochs": 4, **kw})


def _one_rating_changed(r):
    other = r.subset(np.arange(r.nnz))
    other.rating[7] = 6.0 - other.rating[7]
    return other


def test_digest_sees_content_ids_and_order(train):
    d = data_digest(train, serial())
    assert d == data_digest(train.subset(np.arange(train.nnz)), serial())
    assert d != data_digest(_one_rating_changed(train), serial())
    swapped = train.subset(np.r_[1, 0, np.arange(2, train.nnz)])
    assert d != data_digest(swapped, serial())   # order decides the SGD model
    relabelled = train.subset(np.arange(train.nnz))
    relabelled.user_ids = relabelled.user_ids + 1000
    assert d != data_digest(relabelled, serial())


@pytest.mark.parametrize("change, match", [
    ("data", "training data"),
    ("seed", r"seed 0 \(checkpoint\) vs 9 \(this run\)"),
    ("model", "lr 0.02"),
])
def test_resume_of_another_run_is_refused(train, tmp_path, change, match):
    _model(epochs=6).set_checkpoint(tmp_path, every=2).fit(train, serial())
    data = _one_rating_changed(train) if change == "data" else train
    kw = {"seed": {"seed": 9}, "model": {"lr": 0.05}}.get(change, {})
    with pytest.raises(InputError, match=match):
        _model(epochs=6, **kw).set_checkpoint(tmp_path, resume=True).fit(data, serial())


def test_finished_run_is_marked_complete_and_resumes_to_the_same_model(train, tmp_path):
    done = _model().set_checkpoint(tmp_path, every=3).fit(train, serial())
    with h5py.File(tmp_path / FILE) as fh:
        assert bool(fh.attrs["complete"]) and int(fh.attrs["epoch"]) == 4
    again = _model().set_checkpoint(tmp_path, resume=True).fit(train, serial())
    np.testing.assert_array_equal(again.P, done.P)
    assert again.history == done.history          # nothing retrained, nothing appended
    with pytest.raises(InputError, match="holds 4 epochs, this run asks for 3"):
        _model(epochs=3).set_checkpoint(tmp_path, resume=True).fit(train, serial())


def _damage(path, **attrs):
    with h5py.File(path, "a") as fh:
        for key, value in attrs.items():
            if value is None:
                del fh.attrs[key]
            else:
                fh.attrs[key] = value


@pytest.mark.parametrize("attrs, match", [
    ({"epoch": -1}, "damaged checkpoint"),
    ({"epoch": 3}, "damaged checkpoint"),              # history has 4 entries
    ({"identity": "{not json"}, "damaged checkpoint metadata"),
    ({"identity": None}, "not a checkpoint of this hpcrec version"),   # format 1 had none
])
def test_damaged_or_old_checkpoint_is_a_clean_error(train, tmp_path, attrs, match):
    _model().set_checkpoint(tmp_path).fit(train, serial())
    _damage(tmp_path / FILE, **attrs)
    with pytest.raises(InputError, match=match):
        _model().set_checkpoint(tmp_path, resume=True).fit(train, serial())


def test_cli_resume_of_another_data_set_is_one_line_exit_2(train, tmp_path, run_cli):
    """The fold-1-then-fold-2 mistake of a reused checkpoint folder, through the CLI."""
    hdf5_files = [ratings.write_h5(r, tmp_path / f"fold{k}.h5")
                  for k, r in enumerate((train, _one_rating_changed(train)))]
    ck = tmp_path / "ck"
    args = ["--factors", "4", "--epochs", "3", "--checkpoint", ck]
    rc, _, err = run_cli("train", hdf5_files[0], "-o", tmp_path / "a.h5", *args)
    assert rc == 0, err
    rc, _, err = run_cli("train", hdf5_files[1], "-o", tmp_path / "b.h5", *args, "--resume")
    assert rc == 2 and "training data (same sizes, other content)" in err, err
    assert "Traceback" not in err and not (tmp_path / "b.h5").exists()


@pytest.mark.mpi
def test_resume_with_another_rank_count_is_refused(train, tmp_path_factory):
    comm = world()
    needs_ranks(comm)
    folder = comm.bcast_obj(str(tmp_path_factory.mktemp("ck")) if comm.is_root else None)
    if comm.is_root:
        _model().set_checkpoint(folder).fit(train, serial())
    comm.barrier()
    with pytest.raises(HpcrecError, match=rf"ranks 1 \(checkpoint\) vs {comm.size} \(this run\)"):
        _model().set_checkpoint(folder, resume=True).fit(train, comm)
