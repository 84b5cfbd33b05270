"""k-NN under MPI: any rank count gives bit-for-bit the serial model; errors reach every rank."""
import numpy as np
import pandas as pd
import pytest
from helpers import small_ratings

from hpcrec.core.comm import serial, world
from hpcrec.core.errors import HpcrecError
from hpcrec.knn import ItemKNN, UserKNN


@pytest.mark.mpi
@pytest.mark.parametrize("cls,sim", [(ItemKNN, "pearson-baseline"), (UserKNN, "pearson"),
                                     (ItemKNN, "msd")])
def test_any_rank_count_gives_the_serial_model(cls, sim):
    train, test = small_ratings(8, n_users=70, n_items=50)
    params = {"k": 6, "similarity": sim, "max_neighbors": 12}
    dist = cls(**params).fit(train, comm=world())
    ref = cls(**params).fit(train, comm=serial())
    for a, b in ((dist.neighbors, ref.neighbors), (dist.ratings_by_y, ref.ratings_by_y)):
        for x, y in zip((a.indptr, a.indices, a.data), (b.indptr, b.indices, b.data)):
            np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(dist.bu, ref.bu)
    np.testing.assert_array_equal(dist.predict(test.user, test.item), ref.predict(test.user, test.item))
    np.testing.assert_array_equal(dist.recommend([101, 150], k=5)[0], ref.recommend([101, 150], k=5)[0])


@pytest.mark.mpi
def test_duplicate_ratings_fail_on_every_rank():
    train, _ = small_ratings(9)
    twice = pd.concat([train, train.iloc[-1:]], ignore_index=True)
    with pytest.raises(HpcrecError, match="more than once"):
        ItemKNN().fit(twice, comm=world())
