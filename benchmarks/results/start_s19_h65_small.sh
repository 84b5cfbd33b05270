#!/bin/bash
# Small jobs and cold/warm starts (session 19, h65), trees alternated per round: whole-process
# wall, user, sys (s) and, for mine, the phases hpcrec logs (read + count + communicate + mine
# + write = its compute).
#   start_s19_h65_small.sh ROUNDS "TREE..."  (WORK: folder with dm.h5 and the nc-ab-TREE caches
# of fim_ranks_s17_h51.sh; VENV as there)
D=$(cd "$(dirname "$0")/../.." && pwd)/hpcrec/data/five_baskets.csv
P=${VENV:-.venv}/bin; W=${WORK:?set WORK}; cd "$W" || exit 1
export NUMBA_NUM_THREADS=1
for round in $(seq "$1"); do for t in $2; do
  for c in "--version" "mine --help" "mine $D --min-support 0.3 --algorithm fpmax -o $W/s.csv" "mine $W/dm.h5 --min-support 0.3 --algorithm fpclose -o $W/s.h5"; do
    load=$(cut -d' ' -f1 /proc/loadavg)
    /usr/bin/time -f '%e %U %S' -o "$W/st.txt" env PYTHONPATH="$t" NUMBA_CACHE_DIR="$W/nc-ab-$(basename "$t")" "$P/python" -m hpcrec $c > "$W/sl.txt" 2>&1
    read -r w u s < "$W/st.txt"
    comp=$(grep -o 'read [0-9.]*s, count [0-9.]*s, communicate [0-9.]*s, mine [0-9.]*s, write [0-9.]*s' "$W/sl.txt" | grep -o '[0-9.]*s' | tr -d s | paste -sd+ | bc)
    echo "round $round $(basename "$t") [$(echo $c | cut -c1-40)] wall $w user $u sys $s compute ${comp:--} load $load $(date +%H:%M:%S)"
  done; done; done
