#!/usr/bin/env bash
# Issue 15: three real server processes started together on one empty data
# directory: exactly one serves, the others exit 1 with "data directory D is
# in use by another server (pid N)" naming the one that serves. Then the
# winner stops and a new server takes the directory, keeping the EAR key.
set -euo pipefail
server=$1
base=${TEST_TMPDIR:-/tmp}
for attempt in 1 2 3 4 5; do
  dir=$(mktemp -d "$base/lock-XXXXXX")/data
  pids=()
  for i in 0 1 2; do
    "$server" --data_dir="$dir" --listen=127.0.0.1:0 >"$dir.out$i" 2>&1 &
    pids+=($!)
  done
  # The losers exit at once; the winner prints "listening" and runs.
  for _ in $(seq 100); do
    n=$(cat "$dir".out* | grep -c "^listening on" || true)
    r=$(cat "$dir".out* | grep -c "is in use by another server (pid" || true)
    [[ $n -eq 1 && $r -eq 2 ]] && break
    sleep 0.1
  done
  n=$(cat "$dir".out* | grep -c "^listening on" || true)
  r=$(cat "$dir".out* | grep -c "is in use by another server (pid" || true)
  if [[ $n -ne 1 || $r -ne 2 ]]; then
    echo "attempt $attempt: expected 1 serving and 2 refused, found $n and $r" >&2
    cat "$dir".out* >&2
    kill "${pids[@]}" 2>/dev/null || true
    exit 1
  fi
  winner=""
  for i in 0 1 2; do
    if grep -q "^listening on" "$dir.out$i"; then winner=${pids[$i]}; fi
  done
  for i in 0 1 2; do
    if ! grep -q "^listening on" "$dir.out$i"; then
      grep -q "ERROR data directory $dir is in use by another server (pid $winner)" "$dir.out$i" || {
        echo "attempt $attempt: refusal does not name pid $winner:" >&2
        cat "$dir.out$i" >&2
        kill "$winner"
        exit 1
      }
      wait "${pids[$i]}" && { echo "a refused server exited 0" >&2; exit 1; }
    fi
  done
  mode=$(stat -c %a "$dir")
  [[ $mode == 700 ]] || { echo "data directory mode $mode, expected 700" >&2; exit 1; }
  for f in store.sqlite3 lock; do
    m=$(stat -c %a "$dir/$f")
    [[ $m == 600 ]] || { echo "$f mode $m, expected 600" >&2; exit 1; }
  done
  kill -TERM "$winner"
  wait "$winner"
  # The directory is free again.
  "$server" --data_dir="$dir" --listen=127.0.0.1:0 >"$dir.again" 2>&1 &
  again=$!
  for _ in $(seq 100); do
    grep -q "^listening on" "$dir.again" && break
    sleep 0.1
  done
  grep -q "^listening on" "$dir.again" || { cat "$dir.again" >&2; kill "$again"; exit 1; }
  kill -TERM "$again"
  wait "$again"
done
# Without an access policy a non-loopback address is refused (issue 15).
dir=$(mktemp -d "$base/open-XXXXXX")
if "$server" --data_dir="$dir/d" --listen=0.0.0.0:0 >"$dir/out" 2>&1; then
  echo "a non-loopback server without --access_policy started" >&2
  exit 1
fi
grep -q "ERROR --listen=0.0.0.0:0 is not a loopback address: give --access_policy=FILE" "$dir/out" || {
  cat "$dir/out" >&2
  exit 1
}
echo "PASS"
