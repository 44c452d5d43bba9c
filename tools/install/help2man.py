#!/usr/bin/env python3
"""Writes a man page (roff, section 1) from a program's --help output.

Usage: help2man.py NAME PROGRAM [PREFIX_ARGS...]

Runs `PROGRAM PREFIX_ARGS... --help` and turns its output into NAME(1): the
NAME line from the first sentence of the description, the usage lines as
SYNOPSIS, the rest verbatim (no fill) as DESCRIPTION. Fails if the program
prints nothing on stdout. Exit status: 0 ok, 1 failure.
"""
import subprocess
import sys

PACKAGE = "realm-measurements"


def roff_escape(line):
    line = line.replace("\\", "\\e")
    # A line starting with '.' or '\'' would be read as a request.
    if line.startswith((".", "'")):
        line = "\\&" + line
    return line


def to_man(name, help_text):
    lines = help_text.rstrip("\n").split("\n")
    usage, rest = [], []
    in_usage = False
    for line in lines:
        low = line.lower()
        if low.startswith("usage:"):
            in_usage = True
            usage.append(line.split(":", 1)[1].strip())
            continue
        if in_usage and line.startswith(" ") and line.strip():
            usage.append(line.strip())
            continue
        in_usage = False
        rest.append(line)
    while rest and not rest[0].strip():
        rest.pop(0)
    # The first sentence of the description (the usage excluded), which may
    # run over several lines of its paragraph.
    paragraph = []
    for line in rest:
        if line.strip():
            paragraph.append(line.strip())
        elif paragraph:
            break
    summary = " ".join(paragraph).split(". ")[0].rstrip(".")
    out = [
        '.TH "%s" "1" "" "%s" "User Commands"' % (name.upper(), PACKAGE),
        ".SH NAME",
        "%s \\- %s" % (name, roff_escape(summary or "see DESCRIPTION")),
    ]
    if usage:
        out.append(".SH SYNOPSIS")
        out.append(".nf")
        out.extend(roff_escape(u) for u in usage)
        out.append(".fi")
    out.append(".SH DESCRIPTION")
    out.append(".nf")
    out.extend(roff_escape(l) for l in rest)
    out.append(".fi")
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 1
    name, program = sys.argv[1], sys.argv[2]
    p = subprocess.run([program] + sys.argv[3:] + ["--help"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    text = p.stdout.decode("utf-8", "replace")
    if not text.strip():
        print("help2man: %s --help printed nothing on stdout (exit status "
              "%d): %s" % (program, p.returncode,
                           p.stderr.decode("utf-8", "replace").strip()),
              file=sys.stderr)
        return 1
    sys.stdout.write(to_man(name, text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
