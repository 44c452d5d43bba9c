#!/bin/bash
# cca-token CLI: exit codes and key lines on the public vectors
# (testdata/vectors/README.md lists the expected outcomes).
set -u
BIN="$1"
V="$2"
fails=0
expect() {  # expect CODE NEEDLE -- ARGS...
  local code="$1" needle="$2"
  shift 3
  local out rc
  out="$("$BIN" "$@" 2>&1)"
  rc=$?
  if [[ $rc -ne $code ]]; then
    echo "FAIL: exit $rc (want $code): $*"; echo "$out"; fails=$((fails + 1))
  elif [[ -n "$needle" && "$out" != *"$needle"* ]]; then
    echo "FAIL: no '$needle' in output of: $*"; echo "$out"; fails=$((fails + 1))
  fi
}
TFM="$V/cpak-tfm-p384.jwk.json"
IAK="$V/ta-iak-p256.json"
RIM=311314ab73620350cf758834ae5c65d9e8c2dc7febe6e7d9654bbe864e300d49
REM3=32c6afc627e55585c03155359f331a0e225f6840db947dd96efab81be2671939

expect 0 "verification: OK" -- verify "$V/cca-token-draft-ffm-00.cbor" --cpak "$TFM" --strict
expect 0 "verification: OK" -- verify "$V/cca-token-cmw907.cbor" --cpak "$IAK"
expect 1 "binding: fail" -- verify "$V/cca-token-bug-33.cbor" --cpak "$TFM"
# The P-256 IAK as a bare JWK (the store has no entry for token 01's instance).
JWK256="${TEST_TMPDIR:-/tmp}/iak.jwk"
printf '{"kty":"EC","crv":"P-256","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"}' >"$JWK256"
expect 1 "ES384 needs a P-384 key, found a P-256" -- verify "$V/cca-token-01.cbor" --cpak "$JWK256"
expect 2 "expected an entry for instance-id 0107060504" -- verify "$V/cca-token-01.cbor" --cpak "$IAK"
expect 1 "L1 error" -- verify "$V/cca-token-02.cbor" --cpak "$IAK" --strict
expect 1 '"status": "fail"' -- verify "$V/cca-token-01.cbor" --cpak "$TFM" --nonce 00 --format json
expect 0 "appraisal: AFFIRMING" -- appraise "$V/cca-token-02.cbor" --cpak "$IAK" --reference-corim "$V/corim-cca-realm-2025.cbor"
expect 0 "executables 2" -- appraise "$V/cca-token-draft-ffm-00.cbor" --cpak "$TFM" --rim "$RIM" --rem3 "$REM3"
expect 1 "executables 33" -- appraise "$V/cca-token-draft-ffm-00.cbor" --cpak "$TFM" --rim "${RIM/3113/0000}"
expect 1 "executables 96" -- appraise "$V/cca-token-draft-ffm-00.cbor" --cpak "$TFM" --rim "$RIM" --rpv "$(printf '00%.0s' $(seq 64))"
expect 0 '"ear.status": "affirming"' -- appraise "$V/cca-token-draft-ffm-00.cbor" --cpak "$TFM" --rim "$RIM" --format json
# Usage and input errors: exit 2.
expect 2 "usage:" -- verify
expect 2 "expected decode, verify or appraise" -- frobnicate x --cpak "$TFM"
expect 2 "--cpak: expected a key file" -- verify "$V/cca-token-01.cbor"
expect 2 "expected --reference-corim or --rim" -- appraise "$V/cca-token-01.cbor" --cpak "$TFM"
expect 2 "--rim: expected 32, 48 or 64 bytes, found 1" -- appraise "$V/cca-token-01.cbor" --cpak "$TFM" --rim 11
expect 2 "--rem0: expected after a --rim" -- appraise "$V/cca-token-01.cbor" --cpak "$TFM" --rem0 11
expect 2 "expected hex digits" -- verify "$V/cca-token-01.cbor" --cpak "$TFM" --nonce zz
# Undecodable or unreadable tokens: exit 3.
expect 3 "top-level tag: expected 399 or 907" -- verify "$V/corim-cca-realm-2025.cbor" --cpak "$TFM"
expect 2 "COSE_Key: expected a map, found tag" -- verify "$V/cca-token-01.cbor" --cpak "$V/corim-cca-realm-2025.cbor"
expect 3 "file /nonexistent error: No such file or directory (os error 2)" -- verify /nonexistent --cpak "$TFM"
# Issue 14: a device was read until memory ran out; refused before reading.
expect 3 "file /dev/zero error: not a regular file (character device)" -- verify /dev/zero --cpak "$TFM"
expect 2 "file /dev/zero error: not a regular file (character device)" -- verify "$V/cca-token-01.cbor" --cpak /dev/zero
expect 3 "top-level tag" -- decode "$V/corim-cca-realm-2025.cbor"
expect 2 "file /nonexistent error: No such file or directory (os error 2)" -- verify "$V/cca-token-01.cbor" --cpak /nonexistent
: >"${TEST_TMPDIR:-/tmp}/empty-cpak"
expect 2 "empty-cpak: expected a PEM, JWK, trust-anchor store or COSE_Key, found an empty file" -- verify "$V/cca-token-01.cbor" --cpak "${TEST_TMPDIR:-/tmp}/empty-cpak"
expect 2 "TOKEN: expected a token file or --batch" -- decode --strict
expect 2 "--format: expected json with --batch" -- decode --batch --format text

# decode: every claim in wire order, envelope, RAK, binder (§1.10 values).
expect 0 '"name": "cca-realm-initial-measurement"' -- decode "$V/cca-token-draft-ffm-00.cbor" --format json
expect 0 '"computed": "0d22e08a98469058486318283489bdb36f09dbefeb1864df433fa6e54ea2d711"' -- decode "$V/cca-token-draft-ffm-00.cbor" --format json
expect 0 '44238 cca-realm-initial-measurement: "311314ab' -- decode "$V/cca-token-draft-ffm-00.cbor"
expect 0 '"content-format": 263' -- decode "$V/cca-token-cmw907.cbor" --format json

# Lenient decoding accepts indefinite-length items, strict refuses them:
# the cmw907 vector with its collection map re-framed as map(*) ... break.
T="${TEST_TMPDIR:-/tmp}"
IND="$T/indefinite.cbor"
{ head -c 3 "$V/cca-token-cmw907.cbor"; printf '\xbf'; tail -c +5 "$V/cca-token-cmw907.cbor"; printf '\xff'; } >"$IND"
expect 0 "verification: OK" -- verify "$IND" --cpak "$IAK"
expect 3 "indefinite-length items and break are not accepted" -- verify "$IND" --cpak "$IAK" --strict

# Platform endorsements: Veraison's end-to-end flow (CPAK from the platform
# CoRIM's trust anchor, nonce = the realm challenge of cca.good.json).
VC="$V/veraison-cca"
NONCE="$(printf '%s' 'byTWuWNaLIu/WOkIuU4Ewb+zroDN6+gyQkV4SZ/jF2Hn9eHYvOASGET1Sr36UobaiPU6ZXsVM1yTlrQyklS8XA==' | base64 -d | od -An -v -tx1 | tr -d ' \n')"
E2E=(appraise "$VC/cca-good.cbor" --platform-corim "$VC/corim-cca-platform-valid.cbor" --reference-corim "$V/corim-cca-realm-2025.cbor" --nonce "$NONCE")
expect 0 "CCA_SSD_PLATFORM: affirming (instance-identity 2, configuration 2, executables 2, hardware 2, runtime-opaque 2, storage-opaque 2)" -- "${E2E[@]}"
expect 0 "CPAK: trust anchor 0" -- "${E2E[@]}"
expect 0 '"deciding-reference": 0' -- "${E2E[@]}" --format json
expect 0 "verification: OK" -- verify "$VC/cca-good.cbor" --platform-corim "$VC/corim-cca-platform-valid.cbor"
# Unknown platform (§4.1 step 3): the platform CoRIM has a CPAK for another
# token, but token 01 has another implementation-id and instance-id.
expect 1 "no trust anchor for evidence" -- appraise "$V/cca-token-01.cbor" --platform-corim "$VC/corim-cca-platform-valid.cbor" --reference-corim "$V/corim-cca-realm-2025.cbor"
expect 1 "no trust anchor for evidence" -- verify "$V/cca-token-01.cbor" --platform-corim "$VC/corim-cca-platform-valid.cbor"
expect 2 "environment.class: expected a class" -- appraise "$VC/cca-good.cbor" --platform-corim "$VC/corim-cca-platform-bad-no-class.cbor" --rim "$RIM"
# Integrity failures: Veraison 2026 (both submods 99) by default, the
# rust-ccatoken mapping behind --separate-integrity-failures.
expect 1 "CCA_SSD_PLATFORM: contraindicated (instance-identity 99" -- appraise "$V/cca-token-bug-33.cbor" --cpak "$TFM" --rim "$RIM"
expect 1 '"first-failure": "binding: ' -- appraise "$V/cca-token-bug-33.cbor" --cpak "$TFM" --rim "$RIM" --format json
expect 1 "CCA_SSD_PLATFORM: affirming (instance-identity 2" -- appraise "$V/cca-token-bug-33.cbor" --cpak "$TFM" --rim "$RIM" --separate-integrity-failures

# CoRIM validity (spec-token-corim §3.10): the vectors with key 4 =
# {0: 1(2021-12-31), 1: 1(2025-12-31)} (the window of Veraison's legacy
# vectors) appended to their top map (map(4) -> map(5)).
with_validity() {  # with_validity IN OUT
  if [[ "$(head -c 4 "$1" | od -An -tx1 | tr -d ' \n')" != d901f5a4 ]]; then
    echo "FAIL: $1 does not start with 501({4 entries})"; fails=$((fails + 1))
  fi
  { printf '\xd9\x01\xf5\xa5'; tail -c +5 "$1"
    printf '\x04\xa2\x00\xc1\x1a\x61\xce\x48\x00\x01\xc1\x1a\x69\x54\x67\x80'; } >"$2"
}
OLD_REALM="${TEST_TMPDIR:-/tmp}/realm-expired.cbor"
OLD_PLATFORM="${TEST_TMPDIR:-/tmp}/platform-expired.cbor"
with_validity "$V/corim-cca-realm-2025.cbor" "$OLD_REALM"
with_validity "$VC/corim-cca-platform-valid.cbor" "$OLD_PLATFORM"
OLD_E2E=(appraise "$VC/cca-good.cbor" --platform-corim "$OLD_PLATFORM" --reference-corim "$V/corim-cca-realm-2025.cbor" --nonce "$NONCE")
expect 1 "1 reference value(s) with this RIM not used: outside their CoRIM validity at " -- appraise "$V/cca-token-02.cbor" --cpak "$IAK" --reference-corim "$OLD_REALM"
expect 1 "realm-expired.cbor: CoRIM validity (not-before 2021-12-31T00:00:00Z, not-after 2025-12-31T00:00:00Z) does not contain" -- appraise "$V/cca-token-02.cbor" --cpak "$IAK" --reference-corim "$OLD_REALM"
expect 1 '"excluded-realm-values": 1' -- appraise "$V/cca-token-02.cbor" --cpak "$IAK" --reference-corim "$OLD_REALM" --format json
expect 0 "appraisal: AFFIRMING" -- appraise "$V/cca-token-02.cbor" --cpak "$IAK" --reference-corim "$OLD_REALM" --at 2025-06-01T00:00:00Z
expect 0 "appraisal: AFFIRMING" -- appraise "$V/cca-token-02.cbor" --cpak "$IAK" --reference-corim "$OLD_REALM" --at 1767139200
expect 1 "CoRIM validity at 2025-12-31T00:00:01Z: left out 1 realm value(s) with the token's RIM, 0 platform" -- appraise "$V/cca-token-02.cbor" --cpak "$IAK" --reference-corim "$OLD_REALM" --at 1767139201
expect 1 "; 1 outside their CoRIM validity at " -- "${OLD_E2E[@]}"
expect 0 "CCA_SSD_PLATFORM: affirming" -- "${OLD_E2E[@]}" --at 2024-02-29T12:00:00+01:00
expect 1 "outside their CoRIM validity" -- verify "$VC/cca-good.cbor" --platform-corim "$OLD_PLATFORM"
expect 0 "verification: OK" -- verify "$VC/cca-good.cbor" --platform-corim "$OLD_PLATFORM" --at 2022-01-01T00:00:00Z
expect 2 '--at: expected with verify or appraise' -- decode "$VC/cca-good.cbor" --at 0
expect 2 '--at: expected an RFC 3339 time (2026-01-31T00:00:00Z) or Unix seconds, found "yesterday"' -- verify "$VC/cca-good.cbor" --platform-corim "$OLD_PLATFORM" --at yesterday

# --batch: one JSON line per input line, exit = the largest line code.
batch() {  # batch CODE NEEDLE INPUT -- ARGS...
  local code="$1" needle="$2" input="$3"
  shift 4
  local out rc
  out="$(printf '%b' "$input" | "$BIN" "$@" 2>&1)"
  rc=$?
  if [[ $rc -ne $code ]]; then
    echo "FAIL: batch exit $rc (want $code): $*"; echo "$out"; fails=$((fails + 1))
  elif [[ "$out" != *"$needle"* ]]; then
    echo "FAIL: no '$needle' in batch output of: $*"; echo "$out"; fails=$((fails + 1))
  fi
  LAST="$out"
}
B1="{\"token\": \"$V/cca-token-02.cbor\"}\n"
B2="{\"token\": \"$V/cca-token-02.cbor\", \"nonce\": \"00\"}\n"
B3="{\"token\": \"$V/corim-cca-realm-2025.cbor\"}\nnot json\n"
batch 0 '"exit":0' "$B1$B1" -- appraise --batch --cpak "$IAK" --reference-corim "$V/corim-cca-realm-2025.cbor"
if [[ "$(printf '%s\n' "$LAST" | wc -l)" -ne 2 ]]; then echo "FAIL: batch: want 2 lines"; fails=$((fails + 1)); fi
batch 1 '"first-failure":"freshness: ' "$B1$B2" -- appraise --batch --cpak "$IAK" --reference-corim "$V/corim-cca-realm-2025.cbor"
batch 3 '"exit":3' "$B1$B3" -- verify --batch --cpak "$IAK"
batch 3 '"line":3' "$B1$B3" -- verify --batch --cpak "$IAK"
batch 0 '"form":"eat-collection-399"' "$B1" -- decode --batch
# A line nested deeper than an object of arrays never reaches the JSON parser.
BD="{\"token\": [[[[\"$V/cca-token-02.cbor\"]]]]}\n"
batch 2 'found nesting deeper than 2 levels at byte 11' "$B1$BD" -- verify --batch --cpak "$IAK"
# "at" per line: each token appraised at its own time (CoRIM validity).
BA1="{\"token\": \"$V/cca-token-02.cbor\", \"at\": \"2025-06-01T00:00:00Z\"}\n"
BA2="{\"token\": \"$V/cca-token-02.cbor\", \"at\": 1767139201}\n"
BA3="{\"token\": \"$V/cca-token-02.cbor\", \"at\": true}\n"
batch 2 '"line":3' "$BA1$BA2$BA3" -- appraise --batch --cpak "$IAK" --reference-corim "$OLD_REALM"
results="$(printf '%s\n' "$LAST" | grep -v '^cca-token: note')"
want=('"deciding-reference":0' '"excluded-realm-values":1' 'at: expected an RFC 3339 time or Unix seconds, found boolean')
for i in 0 1 2; do
  got="$(printf '%s\n' "$results" | sed -n "$((i + 1))p")"
  if [[ "$got" != *"${want[$i]}"* ]]; then echo "FAIL: batch at line $((i + 1)): $got"; fails=$((fails + 1)); fi
done
if [[ "$(printf '%s\n' "$LAST" | grep -c '^cca-token: note: .*does not contain 2025-12-31T00:00:01Z')" -ne 1 ]]; then
  echo "FAIL: batch at: want one note for the expired CoRIM"; fails=$((fails + 1))
fi
batch 2 'at: expected with verify or appraise' "$BA1" -- decode --batch
batch 2 'at: expected Unix seconds from 0 to 253402300799 (9999-12-31T23:59:59Z), found -1' "{\"token\": \"$V/cca-token-02.cbor\", \"at\": -1}\n" -- appraise --batch --cpak "$IAK" --reference-corim "$OLD_REALM"
# An over-long line is refused (not buffered) and the next line still runs.
LONG="$(head -c 70000 /dev/zero | tr '\0' 'a')"
batch 2 'of at most 65536 bytes), found a longer line' "$LONG\n$B1" -- decode --batch
if [[ "$LAST" != *'"exit":0'* ]]; then echo "FAIL: batch after a long line"; fails=$((fails + 1)); fi
batch 2 'nonce: expected hex digits' '{"token": "x", "nonce": "zz"}\n' -- decode --batch
# --help wins over every argument check (issue 19): usage on stdout, exit 0.
for args in "--help" "verify --help" "appraise x.cbor --help" "verify -h"; do
  read -r -a words <<< "$args"
  out="$("$BIN" "${words[@]}" 2>/dev/null)"; rc=$?
  err="$("$BIN" "${words[@]}" 2>&1 >/dev/null)"
  if [[ $rc -ne 0 || "$out" != "usage: cca-token verify"* || -n "$err" ]]; then
    echo "FAIL: $args: exit $rc, stderr '$err'"; fails=$((fails + 1))
  fi
done

if [[ $fails -ne 0 ]]; then echo "$fails failure(s)"; exit 1; fi
echo "all passed"
