#!/usr/bin/env python3
"""Writes fw-sha512.bin: an EDK2-shaped CC event log (EV_EFI_ACTION on MR 3,
EV_SEPARATOR on MR 4, SHA-512 bank only), built byte by byte by
eventlog/cli_test.py's firmware_log() (TCG layout, spec-eventlog §B). Run from
the workspace root: python3 testdata/grpc/make_firmware_log.py"""

import os
import sys

sys.path.insert(0, "eventlog")
from cli_test import firmware_log  # noqa: E402

log, _, _ = firmware_log("sha512")
with open(os.path.join("testdata", "grpc", "fw-sha512.bin"), "wb") as f:
    f.write(log)
