#!/bin/bash
# Before/after on the same machine in one run: child runs of fim_bench.py for a base commit
# (a `git archive` of it on PYTHONPATH) and this tree, interleaved round by round, so load
# changes hit both alike; pyfim runs in the same rounds. Prints one JSON line per run and
# the load before each round. Compare the best (or median) per variant and tool.
#   benchmarks/fim_before_after.sh BASE_COMMIT [ROUNDS] [SUPPORT]
# TOOLS (hpcrec tools, default below) and PYFIM (pyfim tools, default fpgrowth and eclat).
set -euo pipefail
base=${1:?base commit}; rounds=${2:-3}; support=${3:-0.0001}
root=$(cd "$(dirname "$0")/.." && pwd)
py="$root/.venv/bin/python"
data="${HPCREC_DATA:-$root/../shared/data}/fim"
old=$(mktemp -d)
trap 'rm -rf "$old"' EXIT
git -C "$root" archive "$base" hpcrec kernels | tar -x -C "$old"
mv "$old/kernels" "$old/hpcrec/kernels"
run() {  # variant tool file
    local cmd=("$py" "$root/benchmarks/fim_bench.py" --child "$2" --data-file "$data/$3"
               --supports "$support" --repeat 3 --budget 60)
    if [[ $2 == *@* ]]; then cmd=("$root/.venv/bin/mpiexec" -n "${2#*@}" "$py" -m mpi4py "${cmd[@]:1}"); fi
    if [[ $1 == before ]]; then PYTHONPATH="$old" "${cmd[@]}"; else "${cmd[@]}"; fi \
        2>/dev/null | sed "s/^{/{\"variant\": \"$1\", /"
}
for r in $(seq "$rounds"); do
    echo "# round $r: $(uptime)"
    for f in retail.dat T10I4D100K.dat; do
        for t in ${TOOLS:-hpcrec-fpgrowth hpcrec-apriori hpcrec-apriori@2}; do
            run before "$t" "$f"; run after "$t" "$f"
        done
        for t in ${PYFIM-pyfim-fpgrowth pyfim-eclat}; do run now "$t" "$f"; done
    done
done
