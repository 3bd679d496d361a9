"""``python -m scratch.crosscheck list | export FAMILY --out DIR | check FAMILY --fn module:function``."""
from __future__ import annotations

import argparse
import sys

from .cases import FAMILIES, cases
from .checker import FRAMEWORKS, load_function, run
from .export import export


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scratch.crosscheck", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="print the cases of a family (or of all) with their arrays")
    listing.add_argument("family", nargs="?", choices=FAMILIES)
    writing = commands.add_parser("export", help="write a family's cases for other languages")
    writing.add_argument("family", choices=FAMILIES + ("all",))
    writing.add_argument("--out", required=True, help="the directory to write")
    checking = commands.add_parser("check", help="check a function against a family's cases")
    checking.add_argument("family", choices=FAMILIES)
    checking.add_argument("--fn", required=True, help="package.module:function (or file.py:function)")
    checking.add_argument("--framework", choices=FRAMEWORKS, default="torch")
    checking.add_argument("--case", default="*", help="glob of case names, e.g. 'capsule/route_*' (default: all)")
    args = parser.parse_args(argv)

    if args.command == "list":
        for case in cases(args.family):
            arrays = ", ".join(f"{k} {tuple(v.shape)}" for k, v in {**case.differentiable, **case.constants}.items())
            print(f"{case.name:<42} {arrays}  → {', '.join(case.outputs)}")
        return 0
    if args.command == "export":
        written = export(cases(None if args.family == "all" else args.family), args.out)
        print("\n".join(str(path) for path in written))
        return 0
    return min(run(cases(args.family), load_function(args.fn), args.framework, args.case), 1)


if __name__ == "__main__":
    sys.exit(main())
