#!/usr/bin/env python3
"""Golden-corpus test for the realm-measurements binary.

Usage: golden_test.py BINARY CASES_JSON GEN_INPUTS_PY [MANIFEST]

Regenerates the corpus inputs with gen_inputs.py into a temporary folder,
runs BINARY over every case of CASES_JSON (each in a fresh folder holding
the inputs, which is also the working directory) and compares, like the
project's golden checker (testdata/golden/README.md, "What is compared"):
exit code, stdout exactly, out.dtb by sha256 (and absence when none is
expected), endorsements.json as parsed JSON with key order. A case tagged
"may-reject" also passes when the binary refuses it (non-zero exit and a
message on stderr). Stderr is reported, not enforced.

PENDING lists the cases that need a VMM model not written yet. A pending
case that fails is reported as "pending"; a pending case that passes makes
the test fail, so the list cannot go stale. Any other failure fails the test.
Prints a diff per failing case and ends with "N passed, M failed".
"""

import concurrent.futures
import difflib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

# Cases whose VMM model does not exist yet (QEMU, cloud-hypervisor). Remove
# ids here as the models land; the test fails when a listed case passes.
PENDING = set()

OUT_DTB = "out.dtb"
OUT_END = "endorsements.json"
TIMEOUT_S = 120


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def diff(expected, actual, name):
    out = "".join(difflib.unified_diff(
        expected.splitlines(keepends=True), actual.splitlines(keepends=True),
        fromfile="expected " + name, tofile="actual " + name))
    return out if out.endswith("\n") else out + "\n"


def json_pairs(text):
    # Lists of pairs keep the key order in the comparison.
    return json.loads(text, object_pairs_hook=lambda p: [list(x) for x in p])


def generate_inputs(gen_inputs_py, manifest, dest):
    sys.path.insert(0, os.path.dirname(os.path.abspath(gen_inputs_py)))
    import gen_inputs  # noqa: E402
    lines = gen_inputs.write_all(dest)
    if manifest:
        with open(manifest) as f:
            want = [l.rstrip("\n") for l in f if l.strip()]
        if want != lines:
            sys.exit("regenerated inputs differ from the manifest:\n" + "\n".join(
                difflib.unified_diff(want, lines, lineterm="")))


def case_dir(src, root, case_id):
    d = os.path.join(root, "run", case_id)
    os.makedirs(d)
    for name in os.listdir(src):
        try:
            os.link(os.path.join(src, name), os.path.join(d, name))
        except OSError:
            shutil.copyfile(os.path.join(src, name), os.path.join(d, name))
    return d


def run_case(binary, case, src, root):
    """Returns (problems, notes)."""
    d = case_dir(src, root, case["id"])
    env = dict(os.environ)
    env.pop("BUILD_WORKING_DIRECTORY", None)  # argv paths are relative to d
    try:
        p = subprocess.run([binary] + case["argv"], cwd=d, env=env,
                           capture_output=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return [f"timed out after {TIMEOUT_S}s\n"], []
    rc = p.returncode
    out = p.stdout.decode("utf-8", "replace")
    err = p.stderr.decode("utf-8", "replace")
    problems, notes = [], []

    if "may-reject" in case.get("tags", []) and rc != 0 and err.strip():
        notes.append(f"rejected (allowed: may-reject): exit {rc}: "
                     f"{err.strip().splitlines()[0]}")
        return problems, notes

    if rc != case["expected_exit_code"]:
        problems.append(f"exit code: expected {case['expected_exit_code']}, "
                        f"got {rc}; stderr: {err.strip()[:500]}\n")
    if out != case["expected_stdout"]:
        problems.append(diff(case["expected_stdout"], out, "stdout"))

    dtb = os.path.join(d, OUT_DTB)
    want = case.get("expected_dtb_sha256")
    if want is not None:
        if not os.path.exists(dtb):
            problems.append(f"{OUT_DTB} not written (expected sha256 {want})\n")
        else:
            with open(dtb, "rb") as f:
                data = f.read()
            if sha256(data) != want:
                problems.append(
                    f"{OUT_DTB}: sha256 {sha256(data)} size {len(data)}; "
                    f"expected {want} size {case.get('expected_dtb_size')} "
                    f"(testdata/golden/dtbs/{case['id']}.dtb)\n")
    elif os.path.exists(dtb) and OUT_DTB in case["argv"]:
        problems.append(f"{OUT_DTB} written but the reference wrote none\n")

    end = os.path.join(d, OUT_END)
    want_json = case.get("expected_endorsements_json")
    if want_json is not None:
        if not os.path.exists(end):
            problems.append(f"{OUT_END} not written\n")
        else:
            with open(end, "rb") as f:
                got = f.read().decode("utf-8", "replace")
            try:
                same = json_pairs(got) == json_pairs(want_json)
            except ValueError as e:
                same = False
                problems.append(f"{OUT_END} is not valid JSON: {e}\n")
            if not same:
                problems.append(diff(want_json, got, OUT_END))
            elif got != want_json:
                notes.append(f"{OUT_END}: same JSON, different formatting")
    elif os.path.exists(end) and OUT_END in case["argv"]:
        problems.append(f"{OUT_END} written but the reference wrote none\n")

    if case.get("stderr_match") == "exact" and err != case["expected_stderr"]:
        notes.append("stderr differs (not enforced)")
    shutil.rmtree(d, ignore_errors=True)
    return problems, notes


def main(argv):
    if len(argv) not in (4, 5):
        sys.exit(__doc__)
    binary = os.path.abspath(argv[1])
    with open(argv[2], encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    ids = {c["id"] for c in cases}
    unknown = PENDING - ids
    if unknown:
        sys.exit(f"PENDING names cases that are not in the corpus: {sorted(unknown)}")

    root = tempfile.mkdtemp(prefix="golden-",
                            dir=os.environ.get("TEST_TMPDIR"))
    try:
        src = os.path.join(root, "inputs")
        generate_inputs(argv[3], argv[4] if len(argv) == 5 else None, src)
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as ex:
            results = list(ex.map(lambda c: run_case(binary, c, src, root), cases))
    finally:
        shutil.rmtree(root, ignore_errors=True)

    passed = failed = pending_failed = 0
    stale = []
    for case, (problems, notes) in zip(cases, results):
        cid = case["id"]
        extra = f"  ({'; '.join(notes)})" if notes else ""
        if cid in PENDING:
            if problems:
                pending_failed += 1
                print(f"pending {cid}: needs a VMM model not written yet")
            else:
                stale.append(cid)
                print(f"STALE {cid}: passes but is listed as pending; remove "
                      f"it from PENDING{extra}")
            continue
        if problems:
            failed += 1
            print(f"FAIL {cid}: {case['description']}")
            print("  argv: " + " ".join(case["argv"]))
            for pr in problems:
                for line in pr.rstrip("\n").splitlines():
                    print("    " + line)
        else:
            passed += 1
            print(f"ok   {cid}{extra}")
    print(f"{pending_failed} pending (expected to fail), {len(stale)} stale "
          f"pending entries")
    print(f"{passed} passed, {failed + len(stale)} failed")
    return 0 if failed == 0 and not stale else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
