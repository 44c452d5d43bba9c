#!/usr/bin/env bash
# The server's --help prints the usage text and this binary's flags on
# stdout and exits 0; an unknown flag still fails (non-zero, named).
set -uo pipefail
server=$1
out=$("$server" --help 2>&1)
rc=$?
if [[ $rc -ne 0 ]]; then
  echo "--help: expected exit 0, found $rc" >&2
  exit 1
fi
for want in "gRPC service computing and appraising Arm CCA realm reference values" \
            "--data_dir" "--listen" "--max_message_bytes"; do
  if ! grep -qF -- "$want" <<<"$out"; then
    echo "--help: expected '$want' in the output, found:" >&2
    echo "$out" >&2
    exit 1
  fi
done
out=$("$server" --no_such_flag 2>&1)
rc=$?
if [[ $rc -eq 0 ]]; then
  echo "--no_such_flag: expected a non-zero exit, found 0" >&2
  exit 1
fi
if ! grep -qF "no_such_flag" <<<"$out"; then
  echo "--no_such_flag: expected the flag named, found: $out" >&2
  exit 1
fi
# The server allocates with jemalloc (grpc/BUILD.bazel, issue 18): with
# MALLOC_CONF=stats_print:true jemalloc prints its statistics at exit.
out=$(MALLOC_CONF=stats_print:true "$server" --help 2>&1)
if ! grep -qF "Begin jemalloc statistics" <<<"$out"; then
  echo "allocator: expected jemalloc's statistics at exit, found none" >&2
  exit 1
fi
# Its own input files are regular files only: /dev/zero as the EAR key was
# read until memory ran out; now one line names it and the server exits.
data="${TEST_TMPDIR:-/tmp}/server-help-data"
mkdir -p "$data"
out=$(timeout 20 "$server" --data_dir="$data" --listen=127.0.0.1:0 \
      --ear_key=/dev/zero 2>&1)
rc=$?
if [[ $rc -eq 0 || $rc -eq 124 ]]; then
  echo "--ear_key=/dev/zero: expected a refusal, found exit $rc: $out" >&2
  exit 1
fi
if ! grep -qF "file /dev/zero error: not a regular file (character device)" <<<"$out"; then
  echo "--ear_key=/dev/zero: expected the file named, found: $out" >&2
  exit 1
fi
echo "PASS"
