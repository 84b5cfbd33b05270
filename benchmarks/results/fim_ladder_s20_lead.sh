#!/bin/bash
# the whole ladder (two rounds), all four algorithms against their pyfim peers
cd /work/main && . .venv/bin/activate
export NUMBA_CACHE_DIR=${NUMBA_CACHE_DIR:-/tmp/lead20/nc} HPCREC_DATA=/work/shared/data
out=$1; shift
flock /work/bench.lock timeout 1500 python benchmarks/fim_bench.py --datasets dense-mushroom dense-chess dense-connect longtail retail.dat T10I4D100K.dat \
  --data-dir /tmp/ladder --tools hpcrec-apriori pyfim-apriori hpcrec-fpgrowth pyfim-fpgrowth pyfim-eclat hpcrec-fpmax pyfim-fpmax hpcrec-fpclose pyfim-fpclose \
  --budget 20 --repeat 3 --rounds 2 --out "$out" "$@"
