#!/bin/bash
# Before/after on the same machine in one run: child runs of this tree's fim_bench.py with
# the hpcrec of a base commit (a `git archive` of it, imported instead of the installed
# tree) and with this tree, interleaved tool by tool, so load changes hit both alike;
# pyfim runs in the same rounds (variant "peer"). Prints one JSON line per run (wall and
# CPU seconds, peak memory) and the load before each tool; summarize with
# benchmarks/fim_ab_table.py.
#   benchmarks/fim_before_after.sh BASE_COMMIT [ROUNDS] [SUPPORTS]
# FILES: data files (names in $HPCREC_DATA/fim, or paths; default retail.dat and
# T10I4D100K.dat), SUPPORTS: e.g. "0.1 0.07" (default 0.0001), TOOLS (hpcrec tools),
# PYFIM (pyfim tools, default fpgrowth and eclat), RESULT_ON (fim_bench.py's --result-on
# for runs on several ranks: all, the default, or blocks).
set -euo pipefail
base=${1:?base commit}; rounds=${2:-3}; supports=${3:-0.0001}
root=$(cd "$(dirname "$0")/.." && pwd)
py=${PYTHON:-python}
data="${HPCREC_DATA:-$root/../shared/data}/fim"
old=$(mktemp -d)
trap 'rm -rf "$old"' EXIT
git -C "$root" archive "$base" hpcrec kernels | tar -x -C "$old"
mv "$old/kernels" "$old/hpcrec/kernels"
# an editable install's import hook would win over PYTHONPATH: drop it in the base's runs
mkdir "$old/site" "$old/cwd"
cat > "$old/site/sitecustomize.py" <<'EOF'
import sys
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
EOF
run() {  # variant tool file
    local file=$3
    [[ -e $file ]] || file="$data/$3"
    # shellcheck disable=SC2086  # the supports are separate arguments
    local cmd=("$py" "$root/benchmarks/fim_bench.py" --child "$2" --data-file "$file"
               --supports $supports --repeat 3 --budget 60 --result-on "${RESULT_ON:-all}")
    if [[ $2 == *@* ]]; then cmd=(mpiexec -n "${2#*@}" "$py" -m mpi4py "${cmd[@]:1}"); fi
    # from an empty folder (python -m puts the current one on the path)
    if [[ $1 == before ]]; then
        (cd "$old/cwd" && NUMBA_CACHE_DIR="$old/numba-cache" PYTHONPATH="$old/site:$old" "${cmd[@]}")
    else
        (cd "$old/cwd" && "${cmd[@]}")
    fi 2>/dev/null | sed "s/^{/{\"variant\": \"$1\", /"
}
# untimed: compile what each tool needs into both Numba caches first. A child that compiles
# runs faster than one that loads the cache (its heap, grown by the compiler, takes the
# run's arrays without page faults: mushroom 0.2 FP-Close 0.82-0.91x the CPU), so a first
# round that compiles one side only (the base's cache is new) would bias the best-of-rounds
for f in ${FILES:-retail.dat T10I4D100K.dat}; do
    for t in ${TOOLS:-hpcrec-fpgrowth hpcrec-apriori hpcrec-apriori@2}; do
        run before "$t" "$f" >/dev/null; run after "$t" "$f" >/dev/null
    done
done
for r in $(seq "$rounds"); do
    for f in ${FILES:-retail.dat T10I4D100K.dat}; do
        for t in ${TOOLS:-hpcrec-fpgrowth hpcrec-apriori hpcrec-apriori@2}; do
            echo "# round $r $t $f: load $(cut -d' ' -f1-3 /proc/loadavg) at $(date -u +%H:%M:%S)"
            run before "$t" "$f"; run after "$t" "$f"
        done
        for t in ${PYFIM-pyfim-fpgrowth pyfim-eclat}; do run peer "$t" "$f"; done
    done
done
echo "# end: load $(cut -d' ' -f1-3 /proc/loadavg) at $(date -u +%H:%M:%S)"
