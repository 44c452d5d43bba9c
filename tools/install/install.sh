#!/usr/bin/env bash
# Installs the release binaries and their man pages (issue 19):
#   ./bazelw run //:install -- --prefix DIR
# copies realm-measurements, cca-token, eventlog, corim, gen-run-vmm and
# realm-measurements-server into DIR/bin and writes DIR/share/man/man1/<name>.1
# generated from each installed binary's --help. A relative DIR is taken from
# the folder `bazel run` was started in.
#
# Arguments given by the BUILD rule come first: HELP2MAN NAME=PATH... then the
# user's --prefix DIR.
set -euo pipefail

help2man=$1
shift
binaries=()
while (($#)) && [[ $1 == *=* ]]; do
  binaries+=("$1")
  shift
done

prefix=
while (($#)); do
  case $1 in
    --prefix) prefix=${2-}; shift 2 || { echo "install: --prefix needs a folder" >&2; exit 2; } ;;
    --prefix=*) prefix=${1#--prefix=}; shift ;;
    -h|--help)
      echo "usage: ./bazelw run //:install -- --prefix DIR"
      echo "Installs ${binaries[*]%%=*} into DIR/bin and their man pages into DIR/share/man/man1."
      exit 0 ;;
    *) echo "install: unexpected argument '$1' (usage: --prefix DIR)" >&2; exit 2 ;;
  esac
done
if [[ -z $prefix ]]; then
  echo "install: --prefix DIR is required (e.g. --prefix ~/.local)" >&2
  exit 2
fi
if [[ $prefix != /* && -n ${BUILD_WORKING_DIRECTORY-} ]]; then
  prefix=$BUILD_WORKING_DIRECTORY/$prefix
fi

mkdir -p "$prefix/bin" "$prefix/share/man/man1"
for entry in "${binaries[@]}"; do
  name=${entry%%=*}
  src=${entry#*=}
  # Through a temporary name and a rename: a running copy is never
  # overwritten in place and no half-written binary is left behind.
  tmp=$(mktemp "$prefix/bin/.$name.XXXXXX")
  cp -L "$src" "$tmp"
  chmod 0755 "$tmp"
  mv -f "$tmp" "$prefix/bin/$name"
  man=$prefix/share/man/man1/$name.1
  python3 "$help2man" "$name" "$prefix/bin/$name" > "$man.tmp"
  mv -f "$man.tmp" "$man"
  echo "installed $prefix/bin/$name and $man"
done
