#!/usr/bin/env python3
"""README doc test (issue 19): every `console` block of README.md runs as
written and prints what the README shows.

Usage: readme_test.py README.md NAME=BINARY...

Each ```console block holds commands ("$ " lines, continued by a trailing
backslash) each followed by its expected output (stdout and stderr as the
terminal shows them, merged). `./bazelw run //pkg:target --` runs the built
binary named after the target (NAME=BINARY arguments; a README command that
needs any other Bazel invocation fails the test). Commands run in README
order with bash in one scratch copy of the repository's inputs (configs/,
testdata/), each block starting at its root; `cd DIR` moves within a block.

Expected output conventions:
  a line "..." (or "…") stands for any number of lines, including none;
  "…" inside a line stands for any text;
  "/path/to/clone" stands for the folder the commands run in;
  a last line "(exit status N)" expects that status (default 0).
"""
import functools
import os
import re
import shutil
import subprocess
import sys
import tempfile

CLONE = "/path/to/clone"
TIMEOUT_S = 300
BAZEL_RUN = re.compile(r"\./bazelw run (?:-c opt )?//([^ ]*) --(?= |$)")


def parse_blocks(text):
    """[(line number, [(command, [expected lines])])] of the console blocks."""
    blocks = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        if lines[i].strip() != "```console":
            i += 1
            continue
        start = i + 1
        i += 1
        commands = []
        while i < len(lines) and lines[i].strip() != "```":
            line = lines[i]
            if line.startswith("$ "):
                command = line[2:]
                while command.endswith("\\") and i + 1 < len(lines):
                    i += 1
                    command = command + "\n" + lines[i]
                commands.append((command, []))
            elif commands:
                commands[-1][1].append(line.rstrip())
            elif line.strip():
                raise ValueError("README.md line %d: output before any "
                                 "command in a console block" % (i + 1))
            i += 1
        if i >= len(lines):
            raise ValueError("README.md line %d: unterminated block" % start)
        blocks.append((start, commands))
        i += 1
    return blocks


def line_matches(pattern, actual):
    if "…" not in pattern:
        return pattern == actual
    regex = ".*".join(re.escape(p) for p in pattern.split("…"))
    return re.fullmatch(regex, actual) is not None


def output_matches(expected, actual):
    """Whole-output match with "..." lines eliding any number of lines."""
    @functools.lru_cache(maxsize=None)
    def match(i, j):
        if i == len(expected):
            return j == len(actual)
        if expected[i] in ("...", "…"):
            return any(match(i + 1, k) for k in range(j, len(actual) + 1))
        return (j < len(actual) and line_matches(expected[i], actual[j])
                and match(i + 1, j + 1))
    return match(0, 0)


def to_binary(match, binaries):
    target = match.group(1)
    name = target.split(":")[-1] if ":" in target else target.split("/")[-1]
    if name not in binaries:
        raise ValueError("no binary for //%s (known: %s)" %
                         (target, ", ".join(sorted(binaries))))
    return name


def main():
    readme = sys.argv[1]
    binaries = dict(a.split("=", 1) for a in sys.argv[2:])
    with open(readme, encoding="utf-8") as f:
        blocks = parse_blocks(f.read())

    scratch = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
    root = os.path.join(scratch, "clone")
    os.mkdir(root)
    for d in ("configs", "testdata"):
        shutil.copytree(d, os.path.join(root, d), symlinks=False)
    real_root = os.path.realpath(root)
    bin_dir = os.path.join(scratch, "bin")
    os.mkdir(bin_dir)
    for name, path in binaries.items():
        os.symlink(os.path.abspath(path), os.path.join(bin_dir, name))
    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ["PATH"],
               LC_ALL="C.UTF-8")
    env.pop("BUILD_WORKING_DIRECTORY", None)

    failures = []
    commands_run = 0
    for start, commands in blocks:
        if not commands:
            failures.append("README.md line %d: console block without a "
                            "command" % start)
            continue
        cwd = root
        for command, expected in commands:
            shown = command.split("\n")[0]
            try:
                shell = BAZEL_RUN.sub(lambda m: to_binary(m, binaries),
                                      command)
            except ValueError as e:
                failures.append("README.md line %d: %s" % (start, e))
                continue
            if "bazelw" in shell or re.search(r"(^|\s)bazel\s", shell):
                failures.append("README.md line %d: cannot run Bazel in a "
                                "test: %s" % (start, shown))
                continue
            want_rc = 0
            if expected and re.fullmatch(r"\(exit status \d+\)", expected[-1]):
                want_rc = int(expected[-1][13:-1])
                expected = expected[:-1]
            while expected and not expected[-1]:
                expected = expected[:-1]
            cd = re.fullmatch(r"cd (\S+)", command.strip())
            if cd:
                cwd = os.path.normpath(os.path.join(cwd, cd.group(1)))
                rc, out = (0, "") if os.path.isdir(cwd) else (1, "no folder")
            else:
                p = subprocess.run(["bash", "-c", shell], cwd=cwd, env=env,
                                   stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT,
                                   timeout=TIMEOUT_S)
                rc, out = p.returncode, p.stdout.decode("utf-8", "replace")
            commands_run += 1
            out = out.replace(real_root, CLONE).replace(root, CLONE)
            actual = [l.rstrip() for l in out.split("\n")]
            while actual and not actual[-1]:
                actual.pop()
            if rc != want_rc or not output_matches(expected, actual):
                failures.append(
                    "README.md block at line %d: $ %s\n"
                    "exit status %d (README: %d)\n--- README\n%s\n"
                    "--- actual\n%s\n" %
                    (start, shown, rc, want_rc, "\n".join(expected),
                     "\n".join(actual)))
    for f in failures:
        print("FAIL " + f)
    print("%d console blocks, %d commands, %d failed" %
          (len(blocks), commands_run, len(failures)))
    # The README has had a dozen runnable blocks since issue 19; far fewer
    # means the parser stopped seeing them.
    if len(blocks) < 10:
        print("FAIL only %d console blocks found" % len(blocks))
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
