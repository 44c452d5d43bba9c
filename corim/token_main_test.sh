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
expect 2 "expected verify or appraise" -- frobnicate x --cpak "$TFM"
expect 2 "--cpak: expected a key file" -- verify "$V/cca-token-01.cbor"
expect 2 "expected --reference-corim or --rim" -- appraise "$V/cca-token-01.cbor" --cpak "$TFM"
expect 2 "--rim: expected 32, 48 or 64 bytes, found 1" -- appraise "$V/cca-token-01.cbor" --cpak "$TFM" --rim 11
expect 2 "--rem0: expected after a --rim" -- appraise "$V/cca-token-01.cbor" --cpak "$TFM" --rem0 11
expect 2 "expected hex digits" -- verify "$V/cca-token-01.cbor" --cpak "$TFM" --nonce zz
expect 2 "top-level tag: expected 399 or 907" -- verify "$V/corim-cca-realm-2025.cbor" --cpak "$TFM"
expect 2 "COSE_Key: expected a map, found tag" -- verify "$V/cca-token-01.cbor" --cpak "$V/corim-cca-realm-2025.cbor"
expect 2 "cannot open" -- verify /nonexistent --cpak "$TFM"
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
