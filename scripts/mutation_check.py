"""Mutation check: plant small bugs one at a time in a copy of the repository and run the tests that
must catch them. Every planted bug must be killed (a test fails); a survivor is a hole in the suite.

    python scripts/mutation_check.py                  # every mutant, two at a time
    python scripts/mutation_check.py --list           # names, files and what each bug is
    python scripts/mutation_check.py --only window_attention_dk_assign glove_clip_eta
    python scripts/mutation_check.py --family glove
    python scripts/mutation_check.py --mutants my_mutants.py   # try mutants of your own first

The copy holds the tracked files of the checkout (``git ls-files``). For each mutant the exact text
``old`` must occur once in ``path``; it is replaced by ``new``, the listed tests run with
``pytest -x`` and a fresh ``NUMBA_CACHE_DIR`` (Numba's cache is not invalidated when a jitted helper in
another file changes), and the file is restored. Before the mutants, the same tests run once on the
unchanged copy: a suite that already fails would "kill" everything.

Adding a mutant: append a ``Mutant`` to ``MUTANTS`` (or to a list ``MUTANTS`` in a file given with
``--mutants``) with a unique name, the family, the file, an ``old`` snippet long enough to occur once,
the bug as ``new``, the test files or node ids that should catch it, and one line saying what the bug
is. Run it with ``--only NAME``; if it survives, the suite needs a test, not the mutant a change.
``tests/test_mutation_check.py`` checks that every ``old`` still occurs exactly once, so a refactor
that moves the code fails there until the mutant is updated.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Mutant:
    name: str
    family: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]
    what: str


MUTANTS: list[Mutant] = [
]


def tracked_files(root: Path) -> list[str]:
    out = subprocess.run(["git", "ls-files"], cwd=root, check=True, capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if line]


def make_copy(root: Path, into: Path) -> None:
    for name in tracked_files(root):
        source = root / name
        if source.is_file():
            target = into / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def check_applies(mutant: Mutant, root: Path) -> str | None:
    """None when ``old`` occurs exactly once in the mutant's file, else the reason it does not apply."""
    path = root / mutant.path
    if not path.is_file():
        return f"{mutant.path} does not exist"
    count = path.read_text().count(mutant.old)
    if count != 1:
        return f"the old text occurs {count} times in {mutant.path} (must be once)"
    if mutant.old == mutant.new:
        return "old and new are the same"
    return None


@dataclass
class Outcome:
    mutant: Mutant | None
    status: str          # killed, survived, baseline-ok, baseline-failed, error, timeout
    detail: str
    seconds: float


def run_pytest(copy: Path, tests: tuple[str, ...], timeout: float) -> tuple[int | None, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(copy)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    with tempfile.TemporaryDirectory(prefix="numba-cache-") as cache:
        env["NUMBA_CACHE_DIR"] = cache
        command = [sys.executable, "-m", "pytest", "-x", "-q", "-rf", "-p", "no:cacheprovider", *tests]
        try:
            done = subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return None, ""
    return done.returncode, done.stdout + done.stderr


def first_failure(output: str) -> str:
    match = re.search(r"^FAILED (\S+)", output, re.MULTILINE)
    return match.group(1) if match else ""


def run_mutant(mutant: Mutant, copy: Path, timeout: float) -> Outcome:
    path = copy / mutant.path
    original = path.read_text()
    start = time.perf_counter()
    try:
        path.write_text(original.replace(mutant.old, mutant.new, 1))
        code, output = run_pytest(copy, mutant.tests, timeout)
    finally:
        path.write_text(original)
    seconds = time.perf_counter() - start
    if code is None:
        return Outcome(mutant, "timeout", f"no result after {timeout:.0f} s", seconds)
    if code == 1:
        return Outcome(mutant, "killed", first_failure(output), seconds)
    if code == 0:
        return Outcome(mutant, "survived", "every test passed", seconds)
    tail = output.strip().splitlines()[-3:]
    return Outcome(mutant, "error", f"pytest exit {code}: " + " | ".join(tail), seconds)


def verify_imports_from(copy: Path) -> None:
    """The tests must import the package from the copy, not from the checkout it was made from."""
    env = dict(os.environ, PYTHONPATH=str(copy))
    found = subprocess.run([sys.executable, "-c", "import scratch; print(scratch.__file__)"], cwd=copy, env=env,
                           capture_output=True, text=True, check=True).stdout.strip()
    if not Path(found).resolve().is_relative_to(copy.resolve()):
        raise SystemExit(f"the copy imports scratch from {found}, not from {copy}; cannot mutate safely")


def load_mutants(extra: list[str]) -> list[Mutant]:
    mutants = list(MUTANTS)
    for file in extra:
        namespace = {"Mutant": Mutant, "__name__": "mutants"}
        exec(compile(Path(file).read_text(), file, "exec"), namespace)  # the user's own list of mutants
        mutants.extend(namespace["MUTANTS"])
    names = [m.name for m in mutants]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise SystemExit(f"mutant names must be unique: {duplicated}")
    return mutants


def select(mutants: list[Mutant], only: list[str] | None, family: list[str] | None) -> list[Mutant]:
    if only:
        unknown = set(only) - {m.name for m in mutants}
        if unknown:
            raise SystemExit(f"--only: unknown mutants {sorted(unknown)}")
        mutants = [m for m in mutants if m.name in only]
    if family:
        unknown = set(family) - {m.family for m in mutants}
        if unknown:
            raise SystemExit(f"--family: unknown families {sorted(unknown)}")
        mutants = [m for m in mutants if m.family in family]
    return mutants


def print_table(outcomes: list[Outcome]) -> None:
    rows = [(o.mutant.name, o.mutant.path, o.status, f"{o.seconds:.0f}s", o.detail) for o in outcomes]
    widths = [max(len(r[i]) for r in rows + [("mutant", "file", "status", "time", "")]) for i in range(4)]
    print(f"{'mutant':<{widths[0]}}  {'file':<{widths[1]}}  {'status':<{widths[2]}}  {'time':>{widths[3]}}  "
          "killed by / detail")
    for row in rows:
        print(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:<{widths[2]}}  {row[3]:>{widths[3]}}  {row[4]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run these mutants only")
    parser.add_argument("--family", nargs="+", help="run the mutants of these families only")
    parser.add_argument("--mutants", nargs="+", default=[], metavar="FILE",
                        help="Python files defining a list MUTANTS of Mutant(...) to run as well")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--jobs", type=int, default=2, help="mutants run at once, each in its own copy")
    parser.add_argument("--timeout", type=float, default=900, help="seconds one test run may take")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip the run of the tests on the unchanged copy")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be a positive integer")

    mutants = select(load_mutants(args.mutants), args.only, args.family)
    if args.list:
        for m in mutants:
            print(f"{m.name:<34} {m.family:<14} {m.path}\n{'':<34} {m.what}")
        return 0
    problems = [(m.name, reason) for m in mutants if (reason := check_applies(m, ROOT))]
    if problems:
        for name, reason in problems:
            print(f"{name}: {reason}", file=sys.stderr)
        return 2
    if not mutants:
        print("no mutants selected", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="mutation-check-") as work:
        copies = [Path(work) / f"copy{i}" for i in range(min(args.jobs, len(mutants)))]
        for copy in copies:
            make_copy(ROOT, copy)
        verify_imports_from(copies[0])
        if not args.no_baseline:
            tests = tuple(sorted({t for m in mutants for t in m.tests}))
            print(f"baseline: {len(tests)} test files / ids on the unchanged copy ...", file=sys.stderr, flush=True)
            code, output = run_pytest(copies[0], tests, args.timeout * 2)
            if code != 0:
                print(output[-3000:], file=sys.stderr)
                print("the unchanged copy fails its tests; fix the suite before mutating it", file=sys.stderr)
                return 2
        free = list(copies)

        def job(mutant: Mutant) -> Outcome:
            copy = free.pop()
            try:
                outcome = run_mutant(mutant, copy, args.timeout)
            finally:
                free.append(copy)
            print(f"{outcome.status:>8}  {mutant.name}  ({outcome.seconds:.0f} s) {outcome.detail}",
                  file=sys.stderr, flush=True)
            return outcome

        with ThreadPoolExecutor(max_workers=len(copies)) as pool:
            outcomes = list(pool.map(job, mutants))

    print_table(outcomes)
    killed = sum(o.status in ("killed", "timeout") for o in outcomes)
    print(f"\n{killed} of {len(outcomes)} planted bugs killed")
    return 0 if killed == len(outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
