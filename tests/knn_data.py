"""Small rating sets shared by the k-NN tests (not a test module)."""
import numpy as np
import pandas as pd


def small_ratings(seed: int = 0, n_users: int = 40, n_items: int = 30, density: float = 0.35):
    """(train, test) DataFrames of user, item, rating with continuous float32-exact ratings.

    Continuous ratings make similarity ties (where Surprise and hpcrec may order
    neighbors differently) vanishingly unlikely. The test set holds a few pairs with a
    user and an item unseen in training.
    """
    rng = np.random.default_rng(seed)
    mask = rng.random((n_users, n_items)) < density
    u, i = np.nonzero(mask)
    user_bias, item_bias = rng.normal(0, 0.5, n_users), rng.normal(0, 0.5, n_items)
    r = np.clip(3.2 + user_bias[u] + item_bias[i] + rng.normal(0, 0.8, len(u)), 1, 5)
    r = np.round(r, 2).astype(np.float32).astype(np.float64)
    df = pd.DataFrame({"user": u + 101, "item": i + 1001, "rating": r}).sample(frac=1, random_state=seed)
    test_mask = rng.random(len(df)) < 0.2
    train, test = df[~test_mask].reset_index(drop=True), df[test_mask].reset_index(drop=True)
    cold = pd.DataFrame({"user": [9999, 101, 9999], "item": [1001, 8888, 8888], "rating": [3.0, 3.0, 3.0]})
    return train, pd.concat([test, cold], ignore_index=True)
