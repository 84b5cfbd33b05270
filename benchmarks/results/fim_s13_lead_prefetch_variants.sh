#!/bin/bash
cases="/tmp/h33/ladder/dense-mushroom.h5:0.1:fpmax /tmp/h33/ladder/dense-mushroom.h5:0.2:fpmax /tmp/h33/ladder/dense-mushroom.h5:0.1:fpgrowth /tmp/h33/ladder/dense-connect.h5:0.8:fpmax /work/shared/data/fim/T10I4D100K.dat:0.0001:fpgrowth /work/shared/data/fim/T10I4D100K.dat:0.0001:fpmax"
for v in vA vB vC; do (cd /tmp/lead13/$v/cwd && NUMBA_CACHE_DIR=/tmp/lead13/$v/nc PYTHONPATH=/tmp/lead13/$v/site:/tmp/lead13/$v /work/main/.venv/bin/python /tmp/lead13/t.py warm-$v /tmp/h33/ladder/dense-mushroom.h5:0.3:fpmax >/dev/null); done
uptime
for r in 1 2 3; do for v in vA vB vC; do (cd /tmp/lead13/$v/cwd && NUMBA_CACHE_DIR=/tmp/lead13/$v/nc PYTHONPATH=/tmp/lead13/$v/site:/tmp/lead13/$v /work/main/.venv/bin/python /tmp/lead13/t.py $v $cases); done; done
uptime
