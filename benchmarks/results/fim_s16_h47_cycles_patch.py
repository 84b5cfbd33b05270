"""Cycle counts inside the search, per call site and depth (session 16, helper h47;
benchmarks/README.md, "Pair counts at the sparse roots for FP-Max and FP-Close"): patches a
copy of the tree (``python THIS DIR``, DIR holding ``hpcrec/kernels/projected.py``, e.g. a
``git archive`` of main with ``kernels/`` moved under ``hpcrec/``) so that ``_search``
reads LLVM's cycle counter around every call of the kernels in NAMES in its loop, adding
them per depth (0, 1, 2 and deeper) into ``projected.PROF`` (through the ``need`` array,
widened); labels in ``projected.LABELS``. Read with fim_s16_h47_cycles.py (the patched tree
first on PYTHONPATH, an editable install's import hook dropped). Not for timing: the
counter runs while the process waits, and calls inside a paused ``_search`` (GROW) are
counted without their share of the total."""
import re
import sys

p = sys.argv[1] + '/hpcrec/kernels/projected.py'
src = open(p).read()
NAMES = ["_root_supersets", "_closure_key", "_has_closure", "_covered", "_pair_children", "_children",
         "_sort_members", "_absorbed_and_children", "_covered_ids", "_bit_columns", "_row_keys",
         "_store", "_supersets", "_fill_by_masks", "_fill_children", "_pair_counts",
         "_full_rows_weight", "_closed_bit_search", "_maximal_bit_search", "_bit_search", "_wide_search",
         "_emit_subsets", "_split_prefix", "_mask"]
lines = src.split('\n')
s0 = next(i for i, ln in enumerate(lines) if ln.startswith('def _search('))
s1 = next(i for i, ln in enumerate(lines) if ln.startswith('def _first_work('))
w0 = next(i for i in range(s0, s1) if lines[i].strip() == 'while j >= lo:')
out = lines[:w0]
labels = []
i = w0
pat = re.compile(r'^(\s*)(?:[\w\[\], .]+=\s*)?(' + '|'.join(NAMES) + r')\(')
while i < s1:
    ln = lines[i]
    m = pat.match(ln)
    if m and not ln.strip().startswith(('if ', 'elif ', 'return', 'and ')):
        ind, name = m.group(1), m.group(2)
        j = i
        depth_p = 0
        while True:
            depth_p += lines[j].count('(') - lines[j].count(')')
            if depth_p <= 0:
                break
            j += 1
        slot = len(labels)
        labels.append(f"{name}@{i + 1}")
        out.append(f"{ind}c0_ = rdtsc()")
        out.extend(lines[i:j + 1])
        out.append(f"{ind}kk_ = 10 + 6 * {slot} + 2 * min(depth, 2)")
        out.append(f"{ind}need[kk_] += rdtsc() - c0_")
        out.append(f"{ind}need[kk_ + 1] += 1")
        i = j + 1
        continue
    out.append(ln)
    i += 1
out.extend(lines[s1:])
src = '\n'.join(out)
def rep(old, new):
    global src
    assert old in src, old[:60]
    src = src.replace(old, new, 1)
rep('AHEAD = 8   # rows', '''@intrinsic
def rdtsc(typingctx):
    def codegen(context, builder, signature, args):
        fn = builder.module.declare_intrinsic("llvm.readcyclecounter", [], ir.FunctionType(ir.IntType(64), []))
        return builder.call(fn, [])
    return types.int64(), codegen


AHEAD = 8   # rows''')
rep('    need = np.zeros(10, np.int64)', '    need = np.zeros(400, np.int64)')
rep('            need[:] = 0\n', '            need[:10] = 0\n')
rep('        yield int(status), store',
    '        PROF[:] += need[10:]\n        need[10:] = 0\n        yield int(status), store')
rep('GROW = 2  #', 'PROF = np.zeros(390, np.int64)\nLABELS = %r\nGROW = 2  #' % labels)
rep('''    j, depth, stamp = state[J], state[DEPTH], state[STAMP]
    while j >= lo:''', '''    j, depth, stamp = state[J], state[DEPTH], state[STAMP]
    c_all = rdtsc()
    while j >= lo:''')
rep('''            if status != OK:
                return status
    return OK


def _first_work''', '''            if status != OK:
                return status
    need[399] += rdtsc() - c_all
    return OK


def _first_work''')
open(p, 'w').write(src)
print(len(labels), labels)
