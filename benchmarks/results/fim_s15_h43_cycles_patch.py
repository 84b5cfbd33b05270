"""Cycle counts inside the search (session 15, helper h43; benchmarks/README.md, "Pair
counts at the sparse roots"): patches a copy of the tree (``python THIS DIR``, DIR holding
``hpcrec/kernels/projected.py``, e.g. a ``git archive`` of main or of issue-15c4) so that
``_search`` reads LLVM's cycle counter around the kernels it calls and adds them up in
``projected.PROF`` (through the ``need`` array, widened). Read with fim_s15_h43_cycles.py;
not for timing (the counter runs while the process waits).
"""
import sys

p = sys.argv[1] + '/hpcrec/kernels/projected.py'
s = open(p).read()


def rep(old, new):
    global s
    assert old in s, old[:60]
    s = s.replace(old, new)


rep('''AHEAD = 8   # rows''',
    '''@intrinsic
def rdtsc(typingctx):
    def codegen(context, builder, signature, args):
        fn = builder.module.declare_intrinsic("llvm.readcyclecounter", [], ir.FunctionType(ir.IntType(64), []))
        return builder.call(fn, [])
    return types.int64(), codegen


AHEAD = 8   # rows''')
rep('''    need = np.zeros(10, np.int64)''',
    '''    need = np.zeros(40, np.int64)''')
rep('''            need[:] = 0
            status = _search(''',
    '''            need[:10] = 0
            status = _search(''')
rep('''        yield int(status), store''',
    '''        PROF[:] += need[10:]
        need[10:] = 0
        yield int(status), store''')
rep('''GROW = 2  #''',
    '''PROF = np.zeros(30, np.int64)
GROW = 2  #''')
rep('''            mtop, top, n_perfect, n_seen, n_rows = _children(
                rows, ri, pool, node, minc, scratch, mem, (mtop, top))''',
    '''            c0 = rdtsc()
            mtop, top, n_perfect, n_seen, n_rows = _children(
                rows, ri, pool, node, minc, scratch, mem, (mtop, top))
            c1 = rdtsc()
            kk = 10 if depth == 0 else (12 if mtop > first_child else 14)
            need[kk] += c1 - c0
            need[kk + 1] += 1
            need[30 + min(depth, 3)] += node.t1 - node.t0''')
if '_pair_children(' in s:
    rep('''                mtop, top, n_perfect, n_seen = _pair_children(
                    pairs, ranks, (state[P_BASE], a), node, minc, scratch, mem, (mtop, top))''',
    '''                c0 = rdtsc()
                mtop, top, n_perfect, n_seen = _pair_children(
                    pairs, ranks, (state[P_BASE], a), node, minc, scratch, mem, (mtop, top))
                need[38] += rdtsc() - c0
                need[39] += 1''')
    rep('''                _pair_counts(rows, ri, (r_first, rtop, first_child, n_child, node.item), scratch,
                             pairs, ranks)''',
    '''                c0 = rdtsc()
                _pair_counts(rows, ri, (r_first, rtop, first_child, n_child, node.item), scratch,
                             pairs, ranks)
                need[36] += rdtsc() - c0
                need[37] += 1''')
rep('''            if node.t1 - node.t0 <= WORD:
                _bit_columns(rows, ri, pool, node, scratch, mem, loc, bits)
                mtop = first_child
            elif node.t1 - node.t0 <= WIDE and _wide_columns(
                    rows, ri, pool, node, scratch, mem, wide, bits):
                mtop = first_child''',
    '''            c0 = rdtsc()
            if node.t1 - node.t0 <= WORD:
                _bit_columns(rows, ri, pool, node, scratch, mem, loc, bits)
                mtop = first_child
                need[16] += rdtsc() - c0
                need[17] += 1
            elif node.t1 - node.t0 <= WIDE and _wide_columns(
                    rows, ri, pool, node, scratch, mem, wide, bits):
                mtop = first_child
                need[18] += rdtsc() - c0
                need[19] += 1''')
rep('''            rtop, itop = _fill_children(rows, ri, pool, node, scratch, mem,
                                        (rtop, itop, stamp), rtable)''',
    '''            c0 = rdtsc()
            rtop, itop = _fill_children(rows, ri, pool, node, scratch, mem,
                                        (rtop, itop, stamp), rtable)
            kk = 20 if depth == 0 else 22
            need[kk] += rdtsc() - c0
            need[kk + 1] += 1''')
rep('''            status = OK
            if lvl[0].pos > 0:
                status = _bit_search(loc, prefix, absorbed, out, form, fit, state, need)
            elif wlvl[0].pos > 0:
                status = _wide_search((wide, loc), prefix, absorbed, out, form, fit, state, need)''',
    '''            status = OK
            c0 = rdtsc()
            if lvl[0].pos > 0:
                status = _bit_search(loc, prefix, absorbed, out, form, fit, state, need)
                need[24] += rdtsc() - c0
            elif wlvl[0].pos > 0:
                status = _wide_search((wide, loc), prefix, absorbed, out, form, fit, state, need)
                need[26] += rdtsc() - c0''')
rep('''    j, depth, stamp = state[J], state[DEPTH], state[STAMP]
    while j >= lo:''',
    '''    j, depth, stamp = state[J], state[DEPTH], state[STAMP]
    c_all = rdtsc()
    while j >= lo:''')
rep('''            if status != OK:
                return status
    return OK


def _first_work''',
    '''            if status != OK:
                return status
    need[28] += rdtsc() - c_all
    return OK


def _first_work''')
open(p, 'w').write(s)
