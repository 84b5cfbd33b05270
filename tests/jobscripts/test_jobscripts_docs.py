"""One cluster install story: README's HPC route, jobscripts/sites/jsc.sh, jobscripts/README.md
and docs/scaling.md name the same module stage, modules and venv; the route's srun example is
complete (account, partition, nodes, tasks, time) and reads a file the route creates."""
import re
import shlex

from conftest import REPO


def _flat(path) -> str:
    """The text with backticks dropped and every run of blanks/newlines one blank."""
    return " ".join((REPO / path).read_text().replace("`", "").split())


def _jsc_default(name: str) -> str:
    return re.search(rf'"\$\{{{name}:=([^}}]+)}}"', (REPO / "jobscripts/sites/jsc.sh").read_text()).group(1)


def _route() -> str:
    text = (REPO / "README.md").read_text()
    section = text.split("## On a supercomputer (HPC route)", 1)[1].split("\n## ", 1)[0]
    return section.split("```bash", 1)[1].split("```", 1)[0].replace("\\\n", " ")


def test_one_install_story():
    stage, modules = _jsc_default("HPCREC_STAGE"), _jsc_default("HPCREC_MODULES")
    venv = "$PROJECT/$USER/hpcrec-venv"
    assert stage == "Stages/2025" and "mpi4py" in modules and "ParaStationMPI" in modules
    assert ('"${HPCREC_VENV:=${PROJECT:?set PROJECT (jutil env activate -p PROJECT)}/$USER/hpcrec-venv}"'
            in (REPO / "jobscripts/sites/jsc.sh").read_text())
    route = _route()
    assert f"module load {stage} {modules}\n" in route
    assert f'HPCREC_SITE_MPI=1 HPCREC_VENV="{venv}" . scripts/env.sh' in route
    for doc in ("jobscripts/README.md", "docs/scaling.md"):
        text = _flat(doc)
        assert stage in text and modules in text, doc
        assert venv in text, doc


def test_readme_srun_example_is_complete_and_reads_what_the_route_makes():
    lines = [line.split("#")[0].strip() for line in _route().splitlines()]
    srun = next(line for line in lines if " srun " in f" {line} ")
    argv = shlex.split(srun)
    options = set(argv[argv.index("srun") + 1:argv.index("python")])
    for flag in ("-A", "-p", "-N", "-n", "-t"):
        assert flag in options, flag
    reads = argv[argv.index("mine") + 1]
    made = [shlex.split(line)[shlex.split(line).index("-o") + 1] for line in lines[:lines.index(srun)]
            if " -o " in line]
    assert reads in made, (reads, made)
