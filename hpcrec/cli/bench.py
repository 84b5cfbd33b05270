"""``hpcrec bench``: one measurement (``run``), a scaling study (``study``), its report (``report``)."""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

from ..core.comm import world
from ..core.errors import InputError

log = logging.getLogger("hpcrec")


def register(sub) -> None:
    from ..bench import workloads
    p = sub.add_parser("bench", help="benchmarks and scaling studies (records, SLURM jobs, reports)")
    bsub = p.add_subparsers(dest="bench_command", required=True, metavar="ACTION")

    run = bsub.add_parser("run", help="one measurement under the current launcher; appends a record")
    wsub = run.add_subparsers(dest="workload", required=True, metavar="WORKLOAD")
    for w in workloads.WORKLOADS.values():
        wp = wsub.add_parser(w.name, help=w.help)
        for prm in w.params:
            opt = "--" + prm.name.replace("_", "-")
            kw = {"help": f"{prm.help} (default: {prm.default})" if prm.default not in (None, "")
                  else prm.help, "dest": prm.name, "default": prm.default}
            if prm.type is not str:
                kw["type"] = prm.type
            if prm.choices:
                kw["choices"] = prm.choices
            wp.add_argument(opt, required=prm.default is None, **kw)
        wp.add_argument("-r", "--records", default="bench-records.jsonl",
                        help="JSON-lines file to append to; a CSV copy goes beside it "
                             "(default: ./bench-records.jsonl)")
        wp.add_argument("--warmup", type=int, default=0,
                        help="untimed runs first, keeping JIT compilation out of the measurement "
                             "(default 0)")
        wp.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE",
                        help="label stored with the record (study=NAME, mode=strong|weak, ...)")
        wp.set_defaults(func=cmd_run, params=[prm.name for prm in w.params])

    pt = bsub.add_parser("point", help="one 'bench run' under a time limit: an overrun is "
                         "killed and recorded as timed out (exit 124)")
    pt.add_argument("--timeout", type=float, required=True, metavar="S", help="seconds the run may take")
    pt.add_argument("--ranks", type=int, required=True, help="ranks the launcher starts (for the record)")
    pt.add_argument("--nodes", type=int, default=1, help="nodes they run on (for the record)")
    pt.add_argument("command", nargs=argparse.REMAINDER,
                    help="after '--': the launcher and 'python -m mpi4py -m hpcrec bench run ...'")
    pt.set_defaults(func=cmd_point)

    st = bsub.add_parser("study", help="run a declarative scaling study locally, or as SLURM jobs")
    st.add_argument("study", help="study description (.toml or .json)")
    st.add_argument("-o", "--out", help="study folder (default: study-NAME beside the study file)")
    st.add_argument("--ranks", type=int, nargs="+", metavar="P",
                    help="run only the points with these rank counts (default: every point); "
                         "records are appended, so points run one at a time report together")
    st.add_argument("--slurm", action="store_true", help="render one SLURM jobscript per point")
    st.add_argument("--submit", action="store_true", help="submit the jobscripts with sbatch (implies --slurm)")
    st.add_argument("--wait", action="store_true", help="with --submit: wait for every job to end")
    st.set_defaults(func=cmd_study)

    rp = bsub.add_parser("report", help="tables and PNG plots (speedup, efficiency, phases) from records")
    rp.add_argument("records", nargs="+", help="records .jsonl files or study folders")
    rp.add_argument("-o", "--out", required=True, help="output folder for report.md, CSV and PNGs")
    rp.add_argument("--project", action="store_true",
                    help="add the alpha-beta model's projection to 64 nodes / 256 ranks")
    rp.add_argument("--ranks-per-node", type=int, default=4,
                    help="ranks per node in the projection (default 4: one per GPU)")
    rp.add_argument("--max-nodes", type=int, default=64, help="largest projected node count (default 64)")
    rp.add_argument("--links-per-node", type=int, default=4,
                    help="InfiniBand HDR200 adapters per node in the projection "
                         "(default 4, as JUWELS Booster)")
    rp.set_defaults(func=cmd_report)


def _tags(pairs: list[str]) -> dict:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InputError(f"--tag wants KEY=VALUE, got {pair!r}")
        out[key] = value
    return out


def cmd_run(args) -> int:
    from ..bench import record, workloads
    comm = world()
    with comm.collective_errors():
        tags = _tags(args.tag)
        path = Path(args.records)
        if path.suffix != ".jsonl" or not path.parent.is_dir():  # checked before the work
            raise InputError(f"records file must be a .jsonl in an existing folder: {path}")
    rec = workloads.measure(args.workload, {k: getattr(args, k) for k in args.params}, comm, tags,
                            args.warmup)
    with comm.collective_errors():
        if comm.is_root:
            record.append(rec, path)
    if comm.is_root:
        print(record.result_line(rec), flush=True)
    return 0


def _single_process(what: str) -> None:
    if world().size > 1:
        raise InputError(f"run 'hpcrec bench {what}' as one process: it launches its own ranks")


def cmd_point(args) -> int:
    from ..bench import point
    _single_process("point")
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if args.ranks < 1 or args.nodes < 1:
        raise InputError("--ranks and --nodes must be positive")
    return point.run(command, args.timeout, args.ranks, args.nodes)


def cmd_study(args) -> int:
    from ..bench import local, slurm, study
    _single_process("study")
    if args.wait and not args.submit:
        raise InputError("--wait needs --submit")
    spec = study.select_points(study.load(args.study), args.ranks)
    out = (Path(args.out) if args.out else Path(args.study).parent / f"study-{spec.name}").resolve()
    if args.slurm or args.submit:
        scripts = slurm.render_all(spec, out)
        for s in scripts:
            print(s)
        if args.submit:
            budget = spec.timeout_s * (spec.repeat + spec.warmup) * len(spec.points) + 300
            jobs = slurm.submit(scripts, wait=args.wait, timeout_s=budget)
            log.info("submitted %d job(s): %s", len(jobs), " ".join(jobs))
        return 0
    local.run_local(spec, out)
    log.info("records in %s", out / "records.jsonl")
    return 0


def cmd_report(args) -> int:
    from ..bench import report
    _single_process("report")
    files = report.write(args.records, Path(args.out), project=args.project,
                         ranks_per_node=args.ranks_per_node, max_nodes=args.max_nodes,
                         links_per_node=args.links_per_node)
    for f in files:
        print(f)
    return 0
