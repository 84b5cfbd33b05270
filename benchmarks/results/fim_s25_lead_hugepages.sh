#!/bin/bash
# Session 25, lead: the in-process ladder cells with NumPy's huge-page advice on (1, NumPy's
# default) and off (0), alternated twice, each run with its pyfim peers.
#   bash benchmarks/results/fim_s25_lead_hugepages.sh OUTDIR
# writes OUTDIR/{dense,dm,dc,sparse,chess,connect}_hp{1,0}_r{1,2}.json
cd /work/main && . .venv/bin/activate
export NUMBA_CACHE_DIR=${NUMBA_CACHE_DIR:-/tmp/lead25/nc} HPCREC_DATA=/work/shared/data
out=$1; mkdir -p "$out"
SMALL="hpcrec-fpgrowth pyfim-fpgrowth hpcrec-apriori pyfim-apriori hpcrec-fpmax pyfim-fpmax"
FP="hpcrec-fpgrowth pyfim-fpgrowth pyfim-eclat hpcrec-fpclose pyfim-fpclose hpcrec-fpmax pyfim-fpmax"
bench() {  # NAME HP ROUND ARGS...
  local name=$1 hp=$2 r=$3; shift 3
  NUMPY_MADVISE_HUGEPAGE=$hp flock /work/bench.lock timeout 900 python benchmarks/fim_bench.py \
    --data-dir /tmp/ladder --budget 30 --repeat 3 --rounds 1 --out "$out/${name}_hp${hp}_r${r}.json" "$@" > /dev/null
}
for r in 1 2; do
  for hp in 1 0; do
    bench dense $hp $r --datasets dense-mushroom --supports 0.07 0.05 0.04 --tools $FP
    bench dm $hp $r --datasets /tmp/ladder/dm.h5 --supports 0.05 --tools $FP
    bench dc $hp $r --datasets /tmp/ladder/dc.h5 --supports 0.3 --tools $FP
    bench sparse $hp $r --datasets T10I4D100K.dat retail.dat --supports 0.0001 \
      --tools hpcrec-fpgrowth pyfim-eclat hpcrec-apriori pyfim-apriori hpcrec-fpmax pyfim-fpmax hpcrec-fpclose pyfim-fpclose
    bench chess $hp $r --datasets dense-chess --supports 0.45 --tools $SMALL
    bench connect $hp $r --datasets dense-connect --supports 0.75 --tools $SMALL
  done
done
