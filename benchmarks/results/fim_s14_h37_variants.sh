#!/bin/bash
# benchmarks/results/fim_s14_h37_variants.sh (was /tmp/h37/var.sh; child: fim_s14_h37_variants_child.py, there prof.py) ROUNDS N "VARIANTS" CASES...   variant dirs /tmp/h37/<v> (git archive layout) or "br" (the worktree)
rounds=$1; n=$2; vars=$3; shift 3
source /work/venvs/h37/bin/activate
cd /tmp/h37
for r in $(seq $rounds); do
  echo "# round $r load $(cut -d' ' -f1-3 /proc/loadavg) $(date -u +%H:%M:%S)"
  for v in $vars; do
    if [[ $v == br ]]; then
      NUMBA_CACHE_DIR=/tmp/h37/nc-br python /work/wt-h37/benchmarks/results/fim_s14_h37_variants_child.py "$@" --n $n | sed "s/^/$v /"
    else
      NUMBA_CACHE_DIR=/tmp/h37/nc-$v PYTHONPATH=/tmp/h37/$v/site:/tmp/h37/$v python /work/wt-h37/benchmarks/results/fim_s14_h37_variants_child.py "$@" --n $n | sed "s/^/$v /"
    fi
  done
done
echo "# end load $(cut -d' ' -f1-3 /proc/loadavg) $(date -u +%H:%M:%S)"
