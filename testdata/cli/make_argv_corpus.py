#!/usr/bin/env python3
"""Writes argv_corpus/: seed inputs of //cli:argv_fuzz.

One file per case of the golden corpus (testdata/golden/cases-public.json):
its argv joined with NUL bytes, as the fuzz target splits them. Run from the
repository root.
"""
import json
import os


def main():
    d = "testdata/cli/argv_corpus"
    os.makedirs(d, exist_ok=True)
    cases = json.load(open("testdata/golden/cases-public.json"))["cases"]
    for c in cases:
        with open(os.path.join(d, c["id"] + ".argv"), "wb") as f:
            f.write(b"\0".join(a.encode() for a in c["argv"]))


if __name__ == "__main__":
    main()
