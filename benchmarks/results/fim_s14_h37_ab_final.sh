#!/bin/bash
# benchmarks/results/fim_s14_h37_ab_final.sh (run as /tmp/h37/ab_final.sh, results to /tmp/h37/res)
# the final A/B: dense ladder (FP-Growth) then sparse files, main against this branch, pyfim in the same rounds
cd /work/wt-h37
source /work/venvs/h37/bin/activate
export NUMBA_CACHE_DIR=/work/venvs/h37/numba-cache MPLBACKEND=Agg
L=/tmp/h37/ladder
echo "# dense start $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
FILES="$L/dense-mushroom.h5" TOOLS="hpcrec-fpgrowth" PYFIM="pyfim-fpgrowth pyfim-eclat" \
  flock /work/bench.lock timeout --kill-after=15 360 benchmarks/fim_before_after.sh main 3 "0.3 0.2 0.1" > /tmp/h37/res/fim_ab_s14_h37_mushroom.jsonl
FILES="$L/dense-chess.h5" TOOLS="hpcrec-fpgrowth" PYFIM="pyfim-fpgrowth pyfim-eclat" \
  flock /work/bench.lock timeout --kill-after=15 360 benchmarks/fim_before_after.sh main 2 "0.6 0.45" > /tmp/h37/res/fim_ab_s14_h37_chess.jsonl
FILES="$L/dense-connect.h5" TOOLS="hpcrec-fpgrowth" PYFIM="pyfim-fpgrowth pyfim-eclat" \
  flock /work/bench.lock timeout --kill-after=15 360 benchmarks/fim_before_after.sh main 2 "0.8 0.75" > /tmp/h37/res/fim_ab_s14_h37_connect.jsonl
FILES="retail.dat T10I4D100K.dat" TOOLS="hpcrec-fpgrowth" PYFIM="pyfim-fpgrowth pyfim-eclat" \
  flock /work/bench.lock timeout --kill-after=15 360 benchmarks/fim_before_after.sh main 2 "0.001 0.0001" > /tmp/h37/res/fim_ab_s14_h37_sparse.jsonl
echo "# done $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
