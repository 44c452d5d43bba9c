#!/usr/bin/env python3
"""Writes argv_corpus/ and cca_token_corpus/: seed inputs of //cli:argv_fuzz
and //cli:cca_token_argv_fuzz.

argv_corpus: one file per case of the golden corpus
(testdata/golden/cases-public.json), its argv joined with NUL bytes, as the
fuzz target splits them. cca_token_corpus: cca-token command lines over the
public vectors (testdata/vectors), a --batch one with its stdin after two
NULs. Run from the repository root.
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

    d = "testdata/cli/cca_token_corpus"
    os.makedirs(d, exist_ok=True)
    appraise = ["appraise", "cca-token-02.cbor", "--cpak", "ta-iak-p256.json",
                "--reference-corim", "corim-cca-realm-2025.cbor"]
    seeds = {
        "decode": ["decode", "cca-token-01.cbor"],
        "decode-strict-json": ["decode", "cca-token-cmw907.cbor", "--strict",
                               "--format", "json"],
        "verify": ["verify", "cca-token-02.cbor", "--cpak",
                   "ta-iak-p256.json"],
        "verify-nonce-at": ["verify", "cca-token-draft-ffm-00.cbor", "--cpak",
                            "cpak-tfm-p384.jwk.json", "--nonce", "00" * 32,
                            "--at", "2030-01-01T00:00:00Z"],
        "appraise": appraise + ["--format", "json"],
        "appraise-inline": ["appraise", "cca-token-02.cbor", "--cpak",
                            "ta-iak-p256.json", "--rim", "00" * 64, "--rpv",
                            "00" * 64, "--rem0", "00" * 64,
                            "--require-hash-alg",
                            "--separate-integrity-failures"],
    }
    for name, argv in seeds.items():
        with open(os.path.join(d, name + ".argv"), "wb") as f:
            f.write(b"\0".join(a.encode() for a in argv))
    with open(os.path.join(d, "batch.argv"), "wb") as f:
        f.write(b"\0".join(a.encode() for a in
                           ["appraise", "--batch"] + appraise[2:]))
        f.write(b"\0\0" + b'{"token": "cca-token-02.cbor", "at": 1}\n'
                b'{"token": "cca-token-01.cbor", "nonce": "00"}\nnot json\n')


if __name__ == "__main__":
    main()
