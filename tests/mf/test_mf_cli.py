"""The model commands end to end: train / evaluate / recommend / neighbors / cv / plot,
bad inputs (one line, exit 2, no output file), SIGTERM + resume, and mpiexec runs."""
import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import child_env

from hpcrec.io import ratings as ratings_io
from hpcrec.io import splits, synthetic
from hpcrec.metrics import evaluate
from hpcrec.recommender import Recommender


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mfcli")
    r = synthetic.ratings(n_users=200, n_items=150, n_ratings=8000, seed=5)
    train, test = splits.random_split(r, 0.2, seed=0)
    ratings_io.write_h5(train, folder / "train.h5")
    ratings_io.write_h5(test, folder / "test.h5")
    return folder


def test_train_evaluate_recommend(files, run_cli, tmp_path):
    model = tmp_path / "m.h5"
    rc, out, err = run_cli("train", files / "train.h5", "--factors", "8", "--epochs", "5",
                           "--test", files / "test.h5", "-o", model)
    assert rc == 0, err
    assert "updates/s" in err and "rank(s)" in err
    rc, out, err = run_cli("evaluate", model, "--test", files / "test.h5", "--k", "5")
    assert rc == 0, err
    res = json.loads(out)
    assert {"rmse", "mae", "n", "precision_at_k", "recall_at_k", "ndcg_at_k"} <= res.keys()
    api = evaluate(Recommender.load(model), files / "test.h5", k=5)
    assert res["rmse"] == pytest.approx(api["rmse"]) and res["n"] == api["n"] == 1600
    rc, out, err = run_cli("recommend", model, "--user", "1", "-k", "4", "--json")
    assert rc == 0, err
    rows = json.loads(out)
    assert [r["rank"] for r in rows] == [1, 2, 3, 4]
    m = Recommender.load(model)
    ids, _ = m.recommend(1, k=4)
    assert [r["item"] for r in rows] == ids.tolist()


def test_neighbors_by_title_lists_other_matches(shared_data, run_cli, tmp_path):
    model = tmp_path / "m.h5"
    base = shared_data / "ml-100k" / "u1.base"
    assert run_cli("train", base, "--model", "als", "--factors", "8", "--epochs", "3", "-o", model)[0] == 0
    rc, out, err = run_cli("neighbors", model, "--item", "Aladdin", "--measure", "cosine", "-k", "6")
    assert rc == 0, err
    assert "Aladdin (1992)" in out.splitlines()[0]
    assert "Aladdin and the King of Thieves" in out
    assert len(out.strip().splitlines()) == 2 + 6
    rc, out, err = run_cli("neighbors", model, "--item", "no such film at all")
    assert rc == 2 and "no item title" in err


def test_cv_movielens_folds(shared_data, run_cli):
    rc, out, err = run_cli("cv", shared_data / "ml-100k", "--model", "als", "--factors", "4",
                           "--epochs", "1", timeout=300)
    assert rc == 0, err
    res = json.loads(out)
    assert [f["fold"] for f in res["folds"]] == ["u1", "u2", "u3", "u4", "u5"]
    assert res["mean"]["rmse"] == pytest.approx(np.mean([f["rmse"] for f in res["folds"]]))


def test_plot_writes_pngs(files, run_cli, tmp_path):
    pytest.importorskip("matplotlib")
    pytest.importorskip("sklearn")
    model = tmp_path / "m.h5"
    assert run_cli("train", files / "train.h5", "--factors", "4", "--epochs", "2", "-o", model)[0] == 0
    rc, out, err = run_cli("plot", model, "-o", tmp_path / "png", "--max-items", "60",
                           env={"MPLBACKEND": "Agg"})
    assert rc == 0, err
    for name in ("history.png", "norms.png", "tsne.png"):
        assert (tmp_path / "png" / name).read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("args, message", [
    (["--factors", "0"], "factors"),
    (["--model", "biased-sgd", "--gravity", "1"], "does not apply"),
    (["--model", "als", "--reg", "0"], "reg"),
    (["--resume"], "--checkpoint"),
])
def test_bad_training_options(files, run_cli, tmp_path, args, message):
    out_file = tmp_path / "m.h5"
    rc, out, err = run_cli("train", files / "train.h5", *args, "-o", out_file)
    assert rc == 2 and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not out_file.exists() and list(tmp_path.iterdir()) == []


def test_bad_inputs(files, run_cli, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("user,item,rating\n1,2,4\n2,3,nan\n")
    rc, _, err = run_cli("train", bad, "-o", tmp_path / "m.h5")
    assert rc == 2 and "finite" in err and not (tmp_path / "m.h5").exists()
    rc, _, err = run_cli("train", tmp_path / "missing.csv", "-o", tmp_path / "m.h5")
    assert rc == 2 and "no such file" in err
    garbage = tmp_path / "g.h5"
    garbage.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 50)
    rc, _, err = run_cli("evaluate", garbage, "--test", files / "test.h5")
    assert rc == 2 and len(err.strip().splitlines()) == 1
    rc, _, err = run_cli("evaluate", files / "train.h5", "--test", files / "test.h5")
    assert rc == 2 and "expected model" in err
    model = tmp_path / "m.h5"
    assert run_cli("train", files / "train.h5", "--factors", "2", "--epochs", "1", "-o", model)[0] == 0
    rc, _, err = run_cli("recommend", model, "--user", "999999")
    assert rc == 2 and "unknown user" in err
    rc, _, err = run_cli("train", files / "train.h5", "-o", tmp_path / "nofolder" / "m.h5")
    assert rc == 2 and "does not exist" in err


def _train_cmd(files, out, *extra, epochs=200):
    return [sys.executable, "-m", "hpcrec", "train", str(files / "train.h5"), "--factors", "8",
            "--epochs", str(epochs), "--lr", "0.005", "--decay", "1.0", "-o", str(out),
            *map(str, extra)]


# Long enough (about 1 ms an epoch here) that SIGTERM, sent once the first checkpoint exists,
# always lands while training still runs.
SIGTERM_EPOCHS = 3000


def test_sigterm_checkpoints_and_resume_is_bit_identical(files, tmp_path):
    ck = tmp_path / "ck"
    out = tmp_path / "m.h5"
    proc = subprocess.Popen(_train_cmd(files, out, "--checkpoint", ck, "--checkpoint-every", "50",
                                       epochs=SIGTERM_EPOCHS),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env())
    deadline = time.time() + 120
    while not (ck / "checkpoint.h5").exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    if proc.returncode == 0:
        pytest.skip("training finished before SIGTERM arrived (machine too fast for this test)")
    assert proc.returncode == 143, err
    assert "SIGTERM" in err and "Traceback" not in err and not out.exists()
    resumed = subprocess.run(_train_cmd(files, out, "--checkpoint", ck, "--checkpoint-every", "50",
                                        "--resume", epochs=SIGTERM_EPOCHS),
                             capture_output=True, text=True, env=child_env(), timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming" in resumed.stderr
    straight = subprocess.run(_train_cmd(files, tmp_path / "s.h5", epochs=SIGTERM_EPOCHS),
                              capture_output=True, text=True,
                              env=child_env(), timeout=300)
    assert straight.returncode == 0, straight.stderr
    a, b = Recommender.load(out), Recommender.load(tmp_path / "s.h5")
    for key in ("P", "Q", "bu", "bi"):
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key))


def test_mpiexec_train_matches_serial_for_als(files, run_cli, mpirun, tmp_path):
    args = ["--model", "als", "--factors", "6", "--epochs", "3"]
    rc, _, err = mpirun(2, "train", files / "train.h5", *args, "-o", tmp_path / "p.h5")
    assert rc == 0, err
    assert run_cli("train", files / "train.h5", *args, "-o", tmp_path / "s.h5")[0] == 0
    a, b = Recommender.load(tmp_path / "p.h5"), Recommender.load(tmp_path / "s.h5")
    np.testing.assert_allclose(a.P, b.P, atol=1e-6)
    np.testing.assert_allclose(a.Q, b.Q, atol=1e-6)
    rc, out, err = mpirun(2, "evaluate", tmp_path / "p.h5", "--test", files / "test.h5", "--k", "5")
    assert rc == 0, err
    assert json.loads(out)["rmse"] == pytest.approx(evaluate(a, files / "test.h5")["rmse"])
