"""The course's numbers (mlxtend documentation and tutorials) reproduced by hpcrec.fim."""
from __future__ import annotations

import pytest

from hpcrec.data import path as bundled
from hpcrec.fim import apriori, association_rules, fpgrowth, fpmax
from hpcrec.io import load_transactions

ALGORITHMS = [apriori, fpgrowth, fpmax]


def as_dict(frame):
    return {frozenset(s): round(v, 6) for s, v in zip(frame["itemsets"], frame["support"])}


@pytest.fixture(scope="module")
def retail(shared_data):
    return load_transactions(shared_data / "fim" / "retail_dataset.csv", partition=False)


@pytest.mark.parametrize("algo", [apriori, fpgrowth])
def test_retail_supports(retail, algo):
    got = as_dict(algo(retail, min_support=0.2, use_colnames=True))
    single = {"Bagel": 0.425397, "Milk": 0.501587, "Bread": 0.504762, "Eggs": 0.438095,
              "Meat": 0.476190, "Pencil": 0.361905, "Diaper": 0.406349, "Cheese": 0.501587,
              "Wine": 0.438095}
    for item, support in single.items():
        assert got[frozenset([item])] == support
    assert len(got) == 33


def test_retail_rules(retail):
    frequent = apriori(retail, min_support=0.2, use_colnames=True)
    rules = association_rules(frequent, num_itemsets=315, metric="confidence", min_threshold=0.6)
    assert len(rules) == 14
    row = rules[(rules.antecedents == frozenset(["Bagel"])) & (rules.consequents == frozenset(["Bread"]))]
    assert len(row) == 1
    expected = {"support": 0.279365, "confidence": 0.656716, "lift": 1.301042,
                "leverage": 0.064641, "conviction": 1.442650}
    for column, value in expected.items():
        assert row[column].iloc[0] == pytest.approx(value, abs=5e-7)


def test_five_baskets_fpgrowth():
    tx = load_transactions(bundled("five_baskets.csv"), partition=False)
    got = as_dict(fpgrowth(tx, min_support=0.6, use_colnames=True))
    expected = {("Kidney Beans",): 1.0, ("Eggs",): 0.8, ("Yogurt",): 0.6, ("Onion",): 0.6,
                ("Milk",): 0.6, ("Kidney Beans", "Eggs"): 0.8, ("Kidney Beans", "Yogurt"): 0.6,
                ("Eggs", "Onion"): 0.6, ("Kidney Beans", "Onion"): 0.6,
                ("Kidney Beans", "Eggs", "Onion"): 0.6, ("Kidney Beans", "Milk"): 0.6}
    assert got == {frozenset(k): v for k, v in expected.items()}


# Spark's data/mllib/sample_fpgrowth.txt: 54 itemsets and 89 rules at 0.2 / 0.7
SPARK = [line.split() for line in ["r z h k p", "z y x w v u t s", "s x o n r", "x z y m t s q e",
                              "z", "x z y r q t p"]]


@pytest.mark.parametrize("algo", [apriori, fpgrowth])
def test_pyspark_fixture(algo):
    frequent = algo(SPARK, min_support=0.2, use_colnames=True)
    assert len(frequent) == 54
    rules = association_rules(frequent, num_itemsets=6, metric="confidence", min_threshold=0.7)
    # Spark reports rules with one-item consequents only
    assert (rules["consequents"].map(len) == 1).sum() == 89


def test_fpmax_five_baskets():
    tx = load_transactions(bundled("five_baskets.csv"), partition=False)
    got = as_dict(fpmax(tx, min_support=0.6, use_colnames=True))
    assert got == {frozenset(["Kidney Beans", "Eggs", "Onion"]): 0.6,
                   frozenset(["Kidney Beans", "Yogurt"]): 0.6,
                   frozenset(["Kidney Beans", "Milk"]): 0.6}
