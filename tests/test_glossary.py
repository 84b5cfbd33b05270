"""The glossary of docs/develop.md holds: every ``--option`` of an ``hpcrec COMMAND`` line in
the README, docs/ and jobscripts/README.md is an option of that command under its current
name (a deprecated alias is not documented as the way to do it); every dotted
``hpcrec.NAME`` the docs mention exists; one spelling of neighbor."""
import argparse
import importlib
import re
import shlex

import pytest
from conftest import REPO

from hpcrec import cli

BRITISH = "neighb" + "our"          # spelled apart, so this file does not hold it
TEXT_SUFFIXES = {".py", ".md", ".sh", ".sbatch", ".yml", ".toml", ".ipynb", ".txt", ".csv", ""}
TEXT_DIRS = ("hpcrec", "kernels", "docs", "tests", "benchmarks", "jobscripts", "scripts", "examples", ".ci")
DOCS = ["README.md", "jobscripts/README.md", *sorted(p.relative_to(REPO).as_posix()
                                                     for p in (REPO / "docs").glob("*.md"))]
COMMAND = re.compile(r"(?:^|[\s`(])(?:python -m mpi4py -m |python -m |-m )?hpcrec ([a-z][^`\n#|]*)")


def _subparsers(parser) -> dict:
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return actions[0].choices if actions else {}


def _options(parser) -> tuple[set, set]:
    """(current option strings, deprecated aliases) of a parser."""
    current, old = set(), set()
    for action in parser._actions:
        strings = action.option_strings
        if isinstance(action, cli.DeprecatedAlias):
            current.add(strings[0])
            old.update(strings[1:])
        else:
            current.update(strings)
    return current, old


def _commands(text: str):
    for line in text.replace("\\\n", " ").splitlines():
        for match in COMMAND.finditer(line):
            try:
                words = shlex.split(match.group(1), posix=True)
            except ValueError:
                words = match.group(1).split()
            yield words


@pytest.mark.parametrize("doc", DOCS)
def test_documented_options_exist(doc):
    commands = _subparsers(cli.build_parser(full=True))
    wrong = []
    for words in _commands((REPO / doc).read_text()):
        if not words or words[0] not in commands:
            continue
        parser, name, depth = commands[words[0]], words[0], 1
        while depth < len(words) and words[depth] in _subparsers(parser):   # bench run WORKLOAD
            parser, name, depth = _subparsers(parser)[words[depth]], f"{name} {words[depth]}", depth + 1
        current, old = _options(parser)
        for word in words:
            flag = word.split("=", 1)[0]
            if re.fullmatch(r"--[a-z][a-z0-9-]*", flag) and flag not in current:
                wrong.append(f"hpcrec {name} {flag}" + (" (deprecated)" if flag in old else ""))
    assert not wrong, f"{doc}: {sorted(set(wrong))}"


def test_one_spelling_of_neighbor():
    files = [REPO / "README.md", REPO / "pyproject.toml"]
    for top in TEXT_DIRS:
        files += [p for p in (REPO / top).rglob("*") if p.is_file() and p.suffix in TEXT_SUFFIXES
                  and "__pycache__" not in p.parts and "bad_inputs" not in p.parts]
    found = [str(p.relative_to(REPO)) for p in files
             if BRITISH in p.read_text(encoding="utf-8", errors="replace").lower()]
    assert not found, f"'{BRITISH}' in {found}: the glossary spells it 'neighbor'"


def _resolves(dotted: str) -> bool:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for name in parts[cut:]:
                obj = getattr(obj, name)
        except AttributeError:
            return False
        return True
    return False


@pytest.mark.parametrize("doc", DOCS + ["benchmarks/README.md"])
def test_documented_python_names_exist(doc):
    names = set(re.findall(r"`(hpcrec(?:\.[A-Za-z_][A-Za-z0-9_]*)+)", (REPO / doc).read_text()))
    assert not [n for n in sorted(names) if not _resolves(n)], doc
