#!/bin/bash
# Session 25, lead: whole-process `hpcrec mine` (to HDF5, one rank) with HPCREC_HUGEPAGES
# on, off and auto, alternated three times: wall, user, sys seconds and peak RSS (kB).
#   bash benchmarks/results/fim_s25_lead_cli_hugepages.sh > OUT.txt
cd /work/main && . .venv/bin/activate
export NUMBA_CACHE_DIR=${NUMBA_CACHE_DIR:-/tmp/lead25/nc} HPCREC_DATA=/work/shared/data
unset NUMPY_MADVISE_HUGEPAGE
out=$(mktemp -d)
CASES=("/tmp/ladder/dm.h5 0.05 fpgrowth" "/tmp/ladder/dense-mushroom.h5 0.05 fpgrowth"
       "/tmp/ladder/dense-mushroom.h5 0.05 fpclose" "$HPCREC_DATA/fim/T10I4D100K.dat 0.0001 fpgrowth"
       "$HPCREC_DATA/fim/T10I4D100K.dat 0.0001 apriori")
for r in 1 2 3; do
  for c in "${CASES[@]}"; do
    set -- $c
    for hp in on off auto; do
      rm -f "$out/o.h5"
      HPCREC_HUGEPAGES=$hp flock /work/bench.lock /usr/bin/time -f "$(basename $1) $2 $3 $hp round $r: wall %e user %U sys %S rss_kb %M" \
        hpcrec -q mine "$1" --min-support "$2" --algorithm "$3" -o "$out/o.h5" 2>&1 | tail -1
    done
  done
done
rm -rf "$out"
