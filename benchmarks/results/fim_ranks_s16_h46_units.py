"""CPU (and wall) seconds of each unit of groups mined on demand (from its claim to the
rank's next claim, or to the round's close), per rank, written as JSON on rank 0:
`mpiexec -n 2 python -m mpi4py fim_ranks_s16_h46_units.py DATA SUPPORT ALGORITHM OUT.json`
(FP-Max / FP-Close; the code on PYTHONPATH)."""
import json
import sys
import time

from mpi4py import MPI

from hpcrec.fim import deal, engine

REC, CUR = [], {}
_take, _close = deal.Claims.take, deal.Claims.close
RND = [0]


def done(now):
    if CUR:
        REC.append({**CUR, "cpu": now[0] - CUR.pop("t0"), "wall": now[1] - CUR.pop("w0")})
        CUR.clear()


def take(self, j):
    now = (time.process_time(), time.perf_counter())
    done(now)
    got = _take(self, j)
    if got:
        CUR.update(round=RND[0], unit=j, units=len(self.taken), t0=time.process_time(), w0=time.perf_counter())
    return got


def close(self):
    done((time.process_time(), time.perf_counter()))
    RND[0] += 1
    return _close(self)


deal.Claims.take, deal.Claims.close = take, close
data, sup, alg, out = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
engine.mine_itemsets(data, sup, alg, result_on="blocks")
allrec = MPI.COMM_WORLD.gather(REC)
if MPI.COMM_WORLD.rank == 0:
    json.dump(allrec, open(out, "w"))
