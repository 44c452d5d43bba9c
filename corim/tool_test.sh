#!/usr/bin/env bash
# Exercises //corim:corim on the public vectors: exit codes and key output.
set -u
tool="$1"; vectors="$2"
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
echo PASS
