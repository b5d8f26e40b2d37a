"""The harness qualifies itself: a mutation campaign over the code the clause suite judges.

mutmut 3 mutates the reference S1SP (``s1sr/s1sp/``), the DUIS response builder and
reader (``s1sr/duis/response.py``), the units (``s1sr/units.py``) and the simulated
Secure devices (``s1sr/devices/simulated.py``), and runs the clause suite against each
mutant; a mutant the suite does not notice *survived*. mutmut's settings are the
``[mutmut]`` section of ``setup.cfg``; this project's judgements are in
``benchmarks/mutation-judgements.toml``: the functions not mutated (harness plumbing the
clause suite never configures), the survivors judged *equivalent* (no behaviour a User or
a device could observe changes) and the survivors judged *unreached* (real faults no
clause scenario can reach), each with why. See docs/mutation.md.

    .venv/bin/python benchmarks/mutation.py                 # a fresh campaign, then the score
    .venv/bin/python benchmarks/mutation.py --resume        # go on from mutants/ (an interrupted campaign)
    .venv/bin/python benchmarks/mutation.py --report        # only read mutants/ and print the score
    .venv/bin/python benchmarks/mutation.py 's1sr.units.*'  # re-test these mutants, then the score
    .venv/bin/python benchmarks/mutation.py --show NAME     # the diff of one mutant
    .venv/bin/python benchmarks/mutation.py --report --template   # TOML stubs for the unjudged survivors

mutmut runs the clause suite under the default S1SR version (4.3); the script then runs
the survivors (those not judged equivalent) against the clause suite of S1SR 4.2 too, whose
``@s1sr-4.2`` scenarios judge that version's rules, of 4.3 with MP162 and MP312 in force,
whose scenarios judge the reads and the caches, and of 4.3 with MP184 on the twin-element ESME,
whose scenarios judge its refusals: a mutant any of these runs fails is killed.
It prints the counts and the score killed / (mutants - equivalent); exit
code 0 when the score reaches the target (95 %), 1 below it, 2 for bad usage or a missing
DUIS schema. A campaign takes about 80 minutes on two busy cores (``--max-children 2``).

Two things bare ``mutmut run`` would get wrong here, which this script sets right:

- mutmut copies the project into ``mutants/``, where ``[tool.s1sr] duis_xsd`` (a path
  relative to ``pyproject.toml``) no longer points at the schema: the script resolves it
  from the checkout and passes it as ``S1SR_DUIS_XSD``, so every request and response of
  every mutant's run is schema-validated, as in CI.
- mutmut 3 does not mutate decorated functions, which would leave out every SRV handler
  (``@handles("1.5")`` ...). ``handles`` only registers the function and returns it
  unchanged, so the mutmut process started here is taught to mutate such functions, keeping
  the decorator on the trampoline alone (the one function the router then holds).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import fnmatch
import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
MUTANTS = REPO / "mutants"
JUDGEMENTS = REPO / "benchmarks" / "mutation-judgements.toml"
#: The mutated files (as ``only_mutate`` in setup.cfg); their .meta files in mutants/ hold the verdicts.
TARGETS = ("s1sr/s1sp/*.py", "s1sr/duis/response.py", "s1sr/units.py", "s1sr/devices/simulated.py")
#: Decorators that only register the function they decorate and return it unchanged.
REGISTRATION_DECORATORS = frozenset({"handles"})
TARGET_SCORE = 0.95
CHILD_FLAG = "--mutmut-child"
#: mutmut verdicts a judgement applies to: the suite ran and did not notice, or never ran the function.
JUDGEABLE = ("survived", "no tests")
#: The other S1SR versions (and packs) the clause suite runs under (mutmut's pass runs the default, 4.3, on
#: the default DMCs), each with the DMCs it needs (none: the default ones): their scenarios judge the rules
#: of that version (``@s1sr-4.2``: 18.63's whole-request rejection) or of the packs in force (``@mp-162``,
#: ``@mp-312``: the half-hourly reads and the S1SP's caches; ``@mp-184``: the twin-element ESME's refusals).
OTHER_VERSIONS: dict[str, tuple[str, ...]] = {
    "4.2": (),
    "4.3+MP162+MP312": (),
    "4.3+MP184": ("secure-esme-twin",),
}
VERSION_VERDICTS = MUTANTS / "s1sr-other-versions.json"
#: Seconds one clause-suite run under another version may take before its mutant counts as a timeout.
VERSION_RUN_TIMEOUT_S = 300


class UsageProblem(Exception):
    """Bad usage or a missing prerequisite: one line, exit code 2."""


# --- judgements ----------------------------------------------------------------------------


@dataclass(frozen=True)
class NotMutated:
    """A function left out of the campaign, and why."""

    file: str
    function: str
    why: str


@dataclass(frozen=True)
class Judgement:
    """A surviving mutant judged ``equivalent`` or ``unreached``: which function, which change, why."""

    kind: str
    mutant: str
    change: str
    why: str

    @property
    def function(self) -> str:
        return function_of(self.mutant)


@dataclass
class Judgements:
    """Everything ``mutation-judgements.toml`` holds."""

    not_mutated: list[NotMutated] = field(default_factory=list)
    judged: list[Judgement] = field(default_factory=list)


def function_of(mutant: str) -> str:
    """``s1sr.units.x_to_pence__mutmut_3`` -> ``s1sr.units.x_to_pence`` (what a judgement is tied to)."""
    return mutant.rpartition("__mutmut_")[0]


def load_judgements(path: Path = JUDGEMENTS) -> Judgements:
    """Read the judgements; :class:`UsageProblem` for an entry without its fields."""
    if not path.is_file():
        return Judgements()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise UsageProblem(f"{path.name}: {exc}") from None
    found = Judgements()
    for index, entry in enumerate(data.get("not_mutated", []), start=1):
        values = [entry.get(k) for k in ("file", "function", "why")]
        if not all(isinstance(v, str) and v.strip() for v in values):
            raise UsageProblem(f"{path.name}: [[not_mutated]] number {index} needs file, function and why")
        found.not_mutated.append(NotMutated(*values))
    for kind in ("equivalent", "unreached"):
        for index, entry in enumerate(data.get(kind, []), start=1):
            values = [entry.get(k) for k in ("mutant", "change", "why")]
            if not all(isinstance(v, str) and v.strip() for v in values):
                raise UsageProblem(f"{path.name}: [[{kind}]] number {index} needs mutant, change and why")
            found.judged.append(Judgement(kind, *values))
    return found


# --- the mutmut process -------------------------------------------------------------------


def _patch_mutmut(not_mutated: list[NotMutated]) -> None:
    """Teach mutmut the two things this project needs (mutmut 3 internals; checked by the caller).

    - Functions whose only decorators register them (``@handles(...)``) are mutated. mutmut
      skips decorated functions because its copies (the original and each mutant) would run
      the decorator again: ``handles`` would register the SRV twice. Here the copies lose the
      decorator and the trampoline keeps it, so the router holds exactly one function, which
      dispatches to the mutant under test.
    - The functions listed in ``[[not_mutated]]`` get no mutants.
    """
    import libcst as cst
    from mutmut.mutation import file_mutation

    def registration_only(node: Any) -> bool:
        if not isinstance(node, cst.FunctionDef) or not node.decorators:
            return False
        return all(
            isinstance(d.decorator, cst.Call)
            and isinstance(d.decorator.func, cst.Name)
            and d.decorator.func.value in REGISTRATION_DECORATORS
            for d in node.decorators
        )

    skip = file_mutation.MutationVisitor._skip_node_and_children
    arrange = file_mutation.function_trampoline_arrangement
    create = file_mutation.create_mutations
    left_out: dict[str, set[str]] = {}
    for entry in not_mutated:
        left_out.setdefault(entry.file, set()).add(entry.function)

    def skip_node_and_children(self: Any, node: Any) -> bool:
        return False if registration_only(node) else skip(self, node)

    def trampoline_arrangement(function: Any, mutants: Any, class_name: str | None) -> Any:
        declarations, nodes, assignments, names = arrange(function, mutants, class_name)
        if registration_only(function):
            trampoline, *copies = nodes
            nodes = [trampoline, *(copy.with_changes(decorators=[]) for copy in copies)]
        return declarations, nodes, assignments, names

    def create_mutations(filename: str, code: str, *args: Any, **kwargs: Any) -> Any:
        module, mutations, ignored_classes, ignored_functions = create(filename, code, *args, **kwargs)
        names = left_out.get(Path(filename).as_posix(), set())
        if names:
            qualified: dict[Any, str] = {}
            for statement in module.body:
                if isinstance(statement, cst.FunctionDef):
                    qualified[statement] = statement.name.value
                elif isinstance(statement, cst.ClassDef) and isinstance(statement.body, cst.IndentedBlock):
                    for method in statement.body.body:
                        if isinstance(method, cst.FunctionDef):
                            qualified[method] = f"{statement.name.value}.{method.name.value}"
            mutations = [m for m in mutations if qualified.get(m.contained_by_top_level_function) not in names]
        return module, mutations, ignored_classes, ignored_functions

    file_mutation.MutationVisitor._skip_node_and_children = skip_node_and_children  # type: ignore[method-assign]
    file_mutation.function_trampoline_arrangement = trampoline_arrangement
    file_mutation.create_mutations = create_mutations


def _check_mutmut() -> None:
    """The patch relies on mutmut 3 internals: say so in one line if they moved."""
    from importlib.metadata import version

    try:
        from mutmut.mutation import file_mutation
    except ImportError:
        raise UsageProblem("mutmut is not installed: pip install -e '.[dev]'") from None
    needed = ("create_mutations", "function_trampoline_arrangement", "MutationVisitor")
    if not version("mutmut").startswith("3.") or not all(hasattr(file_mutation, n) for n in needed):
        raise UsageProblem(f"mutmut {version('mutmut')} is not a mutmut 3 this script knows: use mutmut 3.8")


def _mutmut_child(args: list[str]) -> None:
    """Run mutmut's command line in this process, patched as above (cwd: the checkout)."""
    _patch_mutmut(load_judgements().not_mutated)
    from mutmut.__main__ import cli

    cli.main(args, prog_name="mutmut")


def duis_schema() -> Path:
    """The DUIS schema the suite validates against: ``S1SR_DUIS_XSD``, else the checkout's ``[tool.s1sr]``."""
    env = os.environ.get("S1SR_DUIS_XSD")
    if env:
        path, source = Path(env), "S1SR_DUIS_XSD"
    else:
        pyproject = REPO / "pyproject.toml"
        value = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("tool", {}).get("s1sr", {}).get("duis_xsd")
        if not value:
            raise UsageProblem("no DUIS schema: set S1SR_DUIS_XSD or [tool.s1sr] duis_xsd in pyproject.toml")
        path, source = (REPO / value).resolve(), "[tool.s1sr] duis_xsd"
    if not path.is_file():
        raise UsageProblem(f"the DUIS schema {path} (from {source}) does not exist: set S1SR_DUIS_XSD to its path")
    return path.resolve()


def run_mutmut(args: list[str], schema: Path | None = None) -> None:
    """Run ``mutmut ARGS`` in a fresh process at the checkout's root."""
    env = dict(os.environ)
    if schema is not None:
        env.update(S1SR_DUIS_XSD=str(schema), S1SR_REQUIRE_XSD="1")
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), CHILD_FLAG, *args], cwd=REPO, env=env)
    if done.returncode != 0:
        raise UsageProblem(f"mutmut {' '.join(args)} exited with code {done.returncode}")


def _suite_under(version: str, mutant: str, schema: Path) -> str:
    """Run the clause suite in mutants/ under ``version`` with ``mutant`` active; mutmut's word for the result."""
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "--rootdir=."]
    command += [f"--s1sr-version={version}", *(f"--dmc={dmc}" for dmc in OTHER_VERSIONS.get(version, ()))]
    command += ["s1sr/suite"]
    env = {**os.environ, "S1SR_DUIS_XSD": str(schema), "S1SR_REQUIRE_XSD": "1", "MUTANT_UNDER_TEST": mutant}
    try:
        done = subprocess.run(
            command, cwd=MUTANTS, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            timeout=VERSION_RUN_TIMEOUT_S,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return "timeout"
    return {0: "survived", 1: "killed"}.get(done.returncode, "suspicious")


def retest_under_other_versions(names: list[str], schema: Path, workers: int) -> dict[str, dict[str, str]]:
    """Each surviving mutant against the clause suite of every other S1SR version; kept in mutants/."""
    found: dict[str, dict[str, str]] = json.loads(VERSION_VERDICTS.read_text()) if VERSION_VERDICTS.is_file() else {}
    for version in OTHER_VERSIONS:
        # As mutmut does: the suite passes with no mutant active, and does not pass when told to fail. That
        # failure comes where the first mutated function is called, which may be at import (a module-level
        # XPath): pytest then stops loading the plugin (exit 3 or 4), not with a failed test.
        if _suite_under(version, "", schema) != "survived" or _suite_under(version, "fail", schema) == "survived":
            raise UsageProblem(f"the clause suite under S1SR {version} does not run cleanly in mutants/")
        done = found.get(version, {})
        todo = [name for name in names if name not in done]  # --resume: a pass already made is kept
        dmcs = ", ".join(OTHER_VERSIONS[version]) or "the default DMCs"
        print(f"mutation: {len(todo)} survivors against the clause suite of S1SR {version} on {dmcs}", flush=True)
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            runs = pool.map(_suite_under, [version] * len(todo), todo, [schema] * len(todo))
            verdicts = dict(zip(todo, runs, strict=True))
        found.setdefault(version, {}).update(verdicts)
        VERSION_VERDICTS.write_text(json.dumps(found, indent=2, sort_keys=True), encoding="utf-8")  # pass by pass
    return found


# --- reading the results -------------------------------------------------------------------


@dataclass(frozen=True)
class Mutant:
    """One mutant: its name, the file it mutates and mutmut's verdict."""

    name: str
    path: str
    status: str


def read_mutants() -> tuple[list[Mutant], Counter[str]]:
    """Every mutant of the target files with its verdict, from ``mutants/*.meta``.

    A survivor that the clause suite of another S1SR version kills counts as killed; the
    counter says how many each other version killed.
    """
    from mutmut.stats import status_by_exit_code

    others: dict[str, dict[str, str]] = json.loads(VERSION_VERDICTS.read_text()) if VERSION_VERDICTS.is_file() else {}
    found, killed_by = [], Counter[str]()
    for pattern in TARGETS:
        for meta in sorted(MUTANTS.glob(pattern + ".meta")):
            path = meta.relative_to(MUTANTS).as_posix().removesuffix(".meta")
            data = json.loads(meta.read_text(encoding="utf-8"))
            for name, exit_code in data["exit_code_by_key"].items():
                status = status_by_exit_code[exit_code]
                if status in JUDGEABLE:
                    version = next((v for v, verdicts in others.items() if verdicts.get(name) == "killed"), None)
                    if version is not None:
                        status = "killed"
                        killed_by[version] += 1
                found.append(Mutant(name, path, status))
    return found, killed_by


def change_of(mutant: Mutant) -> str:
    """The mutant's change as its removed and added lines (``- old / + new``), what a judgement names."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    lines = get_diff_for_mutant(mutant.name, path=mutant.path).splitlines()
    changed = [line for line in lines if line[:1] in "-+" and not line.startswith(("---", "+++"))]
    return " / ".join(f"{line[0]} {' '.join(line[1:].split())}" for line in changed)


@dataclass
class Score:
    """The campaign's counts, the judgements applied, and the score."""

    counts: Counter[str]
    judged: dict[str, Judgement]
    unjudged: list[tuple[Mutant, str]]
    stale: list[Judgement]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def judged_as(self, kind: str) -> int:
        return sum(1 for j in self.judged.values() if j.kind == kind)

    @property
    def value(self) -> float:
        counted = self.total - self.judged_as("equivalent")
        return self.counts["killed"] / counted if counted else 0.0


def score(mutants: list[Mutant], judgements: list[Judgement], change: Callable[[Mutant], str] = change_of) -> Score:
    """Apply the judgements to the survivors: one applies to every survivor of its function with its change."""
    by_key = {(j.function, j.change): j for j in judgements}
    judged: dict[str, Judgement] = {}
    unjudged: list[tuple[Mutant, str]] = []
    used: set[tuple[str, str]] = set()
    for mutant in mutants:
        if mutant.status not in JUDGEABLE:
            continue
        text = change(mutant)
        key = (function_of(mutant.name), text)
        if key in by_key:
            judged[mutant.name] = by_key[key]
            used.add(key)
        else:
            unjudged.append((mutant, text))
    stale = [j for key, j in by_key.items() if key not in used]
    return Score(Counter(m.status for m in mutants), judged, unjudged, stale)


def report(result: Score, killed_by: Counter[str], seconds: float | None, judgements: Judgements) -> None:
    """Print the figures, the survivors still to judge or kill, and judgements that no longer apply."""
    c = result.counts
    equivalent, unreached = result.judged_as("equivalent"), result.judged_as("unreached")
    survived = c["survived"] + c["no tests"] - equivalent - unreached
    others = ", ".join(f"{n} only by the S1SR {v} scenarios" for v, n in sorted(killed_by.items()))
    print()
    print(f"mutants      {result.total}  (functions not mutated: {len(judgements.not_mutated)})")
    print(f"killed       {c['killed']}" + (f"  ({others})" if others else ""))
    print(f"survived     {survived}  (not judged)")
    print(f"unreached    {unreached}  (real faults no clause scenario can reach; counted as not killed)")
    print(f"equivalent   {equivalent}")
    print(f"timeout      {c['timeout']}")
    for kind, count in sorted(c.items()):
        if kind not in ("killed", "survived", "no tests", "timeout"):
            print(f"{kind:<12} {count}")
    print(f"score        {result.value:.1%}  = killed / (mutants - equivalent); target {TARGET_SCORE:.0%}")
    if seconds is not None:
        print(f"campaign     {seconds / 60:.1f} min")
    if result.unjudged:
        print("\nsurvivors to kill with a scenario, or to judge (show one with --show NAME):")
        for mutant, text in result.unjudged:
            print(f"  {mutant.name}  [{mutant.status}]  {text[:150]}")
    if result.stale:
        print(f"\njudgements in {JUDGEMENTS.name} that match no survivor now (killed, or the code moved):")
        for j in result.stale:
            print(f"  {j.kind}: {j.mutant}  {j.change[:120]}")


def template(result: Score) -> None:
    """TOML stubs for the unjudged survivors, to paste into the judgements and complete."""
    for mutant, text in result.unjudged:
        print("[[equivalent]]  # or [[unreached]]")
        print(f"mutant = {json.dumps(mutant.name, ensure_ascii=False)}")
        print(f"change = {json.dumps(text, ensure_ascii=False)}")
        print('why = ""\n')


def main(argv: list[str] | None = None) -> int:
    """Run the campaign (or read its results) and print the score."""
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == [CHILD_FLAG]:
        _mutmut_child(args[1:])
        return 0
    parser = argparse.ArgumentParser(prog="benchmarks/mutation.py", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("mutants", nargs="*", help="re-test only these mutants (mutmut names, globs allowed)")
    parser.add_argument("--resume", action="store_true", help="keep mutants/ and its verdicts; test what is left")
    parser.add_argument("--report", action="store_true", help="run nothing: print the score of mutants/")
    parser.add_argument("--template", action="store_true", help="also print TOML stubs for unjudged survivors")
    parser.add_argument("--show", metavar="NAME", help="print the diff of one mutant")
    parser.add_argument("--max-children", type=int, default=2, help="mutants tested in parallel (default 2)")
    options = parser.parse_args(args)
    try:
        _check_mutmut()
        judgements = load_judgements()
        if options.show:
            run_mutmut(["show", options.show])
            return 0
        seconds = None
        if not options.report:
            started = time.monotonic()
            schema = duis_schema()
            if not (options.resume or options.mutants) and MUTANTS.exists():
                shutil.rmtree(MUTANTS)  # a campaign starts clean: mutmut's cache ignores changes to features
            print(f"mutation: the clause suite, schema validation on ({schema})", flush=True)
            run_mutmut(["run", "--max-children", str(options.max_children), *options.mutants], schema)
            os.chdir(REPO)  # mutmut reads setup.cfg and mutants/ from the current folder
            mutants, _ = read_mutants()
            result = score(mutants, judgements.judged)
            equivalent = {name for name, j in result.judged.items() if j.kind == "equivalent"}
            names = [
                m.name
                for m in mutants
                if m.status in JUDGEABLE
                and m.name not in equivalent
                and (not options.mutants or any(fnmatch.fnmatch(m.name, p) for p in options.mutants))
            ]
            retest_under_other_versions(names, schema, options.max_children)
            seconds = time.monotonic() - started
        os.chdir(REPO)
        mutants, killed_by = read_mutants()
        if not mutants:
            raise UsageProblem("no mutation results in mutants/: run the campaign first")
        result = score(mutants, judgements.judged)
    except UsageProblem as exc:
        print(f"mutation: error: {exc}", file=sys.stderr)
        return 2
    report(result, killed_by, seconds, judgements)
    if options.template:
        print()
        template(result)
    return 0 if result.value >= TARGET_SCORE else 1


if __name__ == "__main__":
    sys.exit(main())
