#!/usr/bin/env bash
# A short bounded run of the AppraiseToken load test: every call must
# succeed and affirm (the binary exits 1 otherwise, listing the status code
# and message of every failed call). Figures are printed, never asserted.
set -euo pipefail
"$1" --seconds=3 --connections=8 --vectors=testdata/vectors
