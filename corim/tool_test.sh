#!/usr/bin/env bash
# Exercises //corim:corim on the public vectors: exit codes and key output.
set -u
tool="$1"; vectors="$2"; write_samples="$3"
fail() { echo "FAIL: $*" >&2; exit 1; }

out=$("$tool" decode "$vectors/corim-cca-realm-2025.cbor") || fail "decode 2025 exit $?"
grep -q '"profile": "tag:arm.com,2025:cca_realm#1.0.0"' <<<"$out" || fail "2025 profile: $out"
grep -q '"hash-algorithm": "sha-512"' <<<"$out" || fail "2025 algorithm"
grep -q "\"rim\": \"$(printf '43%.0s' $(seq 64))\"" <<<"$out" || fail "2025 rim"

out=$("$tool" decode "$vectors/corim-cca-realm-legacy.cbor") || fail "decode legacy exit $?"
grep -q '"not-after": "2025-12-31T00:00:00Z"' <<<"$out" || fail "legacy validity"

out=$("$tool" decode --diag "$vectors/corim-cca-realm-2025.cbor") || fail "diag exit $?"
grep -q '^501({0: "00000000-0000-0000-cca4-0000000000001", 1: \[506(<< {1: {0: h' <<<"$out" || fail "diag: $out"
grep -q '32("tag:arm.com,2025:cca_realm#1.0.0")' <<<"$out" || fail "diag profile"

err=$("$tool" decode "$vectors/cca-token-01.cbor" 2>&1 >/dev/null); rc=$?
[[ $rc -eq 1 ]] || fail "token as CoRIM: exit $rc"
grep -q 'expected tag 501 (unsigned CoRIM), found tag 399' <<<"$err" || fail "token error: $err"

# Platform CoRIMs (testdata/vectors/veraison-cca/README.md).
out=$("$tool" decode "$vectors/veraison-cca/corim-cca-platform-valid.cbor") || fail "platform exit $?"
grep -q '"profile": "tag:arm.com,2025:cca_platform#1.0.0"' <<<"$out" || fail "platform profile: $out"
grep -q '"instance-id": "010202020202020202020202020202020202020202020202020202020202020202"' <<<"$out" || fail "platform TA: $out"
err=$("$tool" decode "$vectors/veraison-cca/corim-cca-platform-bad-ta-cert.cbor" 2>&1 >/dev/null); rc=$?
[[ $rc -eq 1 ]] || fail "bad platform CoRIM: exit $rc"
grep -q "type 'pkix-base64-key'), found tag 555" <<<"$err" || fail "bad platform error: $err"

# Issue 14: a device was read until memory ran out; refused before reading.
err=$("$tool" decode /dev/zero 2>&1 >/dev/null); rc=$?
[[ $rc -eq 1 ]] || fail "/dev/zero: exit $rc"
grep -q 'corim: file /dev/zero error: not a regular file (character device)' <<<"$err" || fail "/dev/zero: $err"

"$tool" >/dev/null 2>&1; [[ $? -eq 2 ]] || fail "usage exit"
for args in "--help" "decode --help" "verify -h"; do
  read -r -a words <<< "$args"
  out=$("$tool" "${words[@]}" 2>/dev/null) || fail "$args: exit $?"
  [[ $out == "usage: corim decode"* ]] || fail "$args: $out"
  [[ -z $("$tool" "${words[@]}" 2>&1 >/dev/null) ]] || fail "$args: stderr"
done
"$tool" verify "$vectors/corim-cca-realm-2025.cbor" >/dev/null 2>&1; [[ $? -eq 2 ]] || fail "verify without anchor"

# verify --at (docs/validity.md): write_samples signs with certificates valid
# from an hour ago for a day; its "-window" CoRIM's validity ended a minute ago.
samples="${TEST_TMPDIR:-/tmp}/samples"; mkdir -p "$samples"
before=$(date +%s)
"$write_samples" "$samples" || fail "write_samples"
anchor="$samples/signed-corim-2025-es384.inter.pem"
signed="$samples/signed-corim-2025-es384.cbor"
window="$samples/signed-corim-2025-es384-window.cbor"
now=$(date +%s)
rfc() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
out=$("$tool" verify --trust-anchor "$anchor" "$signed" 2>"$samples/err") || fail "verify now: exit $? $(cat "$samples/err")"
grep -q '"corim-id": "signed-es384"' <<<"$out" || fail "verify output: $out"
grep -q '^corim: signature OK at .* (CN=Sample Leaf, signer "Sample")$' "$samples/err" || fail "verify note: $(cat "$samples/err")"
t=$((now - 1200))
"$tool" verify --at "$t" --trust-anchor "$anchor" "$signed" >/dev/null 2>"$samples/err" || fail "--at $t: exit $?"
grep -q "^corim: signature OK at $(rfc $t) " "$samples/err" || fail "--at seconds: $(cat "$samples/err")"
for t in $((now + 2 * 86400)) $((now - 2 * 3600)); do
  err=$("$tool" verify --at "$(rfc $t)" --trust-anchor "$anchor" "$signed" 2>&1 >/dev/null); rc=$?
  [[ $rc -eq 1 ]] || fail "--at $(rfc $t): exit $rc"
  grep -q "^corim: x5chain: .*certificate .*\\(expired\\|not yet valid\\).* (verified at $(rfc $t))$" <<<"$err" || fail "--at $(rfc $t): $err"
done
err=$("$tool" verify --trust-anchor "$anchor" "$window" 2>&1 >/dev/null) || fail "window now: exit $?"
# write_samples reads the clock itself, somewhere between $before and $now.
note=$(grep '^corim: note: CoRIM validity' <<<"$err")
[[ $note =~ ^corim:\ note:\ CoRIM\ validity\ \(not-before\ ([^,]+),\ not-after\ ([^\)]+)\)\ does\ not\ contain\  ]] || fail "window note: $err"
nb=$(date -u -d "${BASH_REMATCH[1]}" +%s) na=$(date -u -d "${BASH_REMATCH[2]}" +%s) || fail "window times: $err"
((nb >= before - 1800 && nb <= now - 1800 && na - nb == 1740)) || fail "window bounds ($before..$now): $err"
err=$("$tool" verify --at "$((now - 600))" --trust-anchor "$anchor" "$window" 2>&1 >/dev/null) || fail "window inside: exit $?"
! grep -q "note:" <<<"$err" || fail "window inside: $err"
err=$("$tool" verify --at yesterday --trust-anchor "$anchor" "$signed" 2>&1 >/dev/null); rc=$?
[[ $rc -eq 2 ]] || fail "--at yesterday: exit $rc"
grep -q '^corim: --at: expected an RFC 3339 time' <<<"$err" || fail "--at yesterday: $err"
"$tool" decode --at "$now" "$signed" >/dev/null 2>&1; [[ $? -eq 2 ]] || fail "decode --at"
echo PASS
