"""Acceptance of the REM policy through `cca-token appraise` (issue 16 item
5): the realm's logs are the §J.4 QEMU log (spec-eventlog, RIM 84855690...)
and an EDK2-shaped CC event log built here; tokens are minted with the RIM
and REMs those logs give (the §J.4 RIM and REM2, and Python hashlib for the
firmware events' extensions), never with values our code printed."""

import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile
import unittest

CCA_TOKEN = None
MINT = None
T2 = "testdata/eventlog/t2-qemu-sha256.bin"
SUMS = "testdata/eventlog/images/SHA256SUMS"
RIM = "84855690bb1a5bb0381cf10bb6f73f568f7dcaaec0aa81510285d81f85900244"
# §J.4 RIM after E7: a log for another realm would replay to it.
OTHER_RIM = "7e9f6612bb9bce7f424ff2d9e14c232662488764ba23558262563490a70f09f2"
REM2_T2 = "7ad38f26d2e711c8a073e4eaa3c2a82ef726d793d2c09d2f2bab65261efd5d1f"
KERNEL = "7e84159705320753b645ebad998561f93b4a80c94e1a8791e280894aebbb4ebb"
INITRD = "38a84cb302ef9d057b5e636a86fc15f7b260f54e0285f3c8313db4186d09a736"
ACTION = b"Calling EFI Application from Boot Option"


def sha256(b):
    return hashlib.sha256(b).digest()


def firmware_log():
    spec = (b"Spec ID Event03\0" + struct.pack("<IBBBBI", 0, 0, 2, 0x6A, 2, 1)
            + struct.pack("<HH", 0x0B, 32) + b"\0")
    log = struct.pack("<II", 0, 3) + bytes(20) + struct.pack("<I", len(spec))
    log += spec

    def event(pcr, typ, data):
        return (struct.pack("<IIIH", pcr, typ, 1, 0x0B) + sha256(data)
                + struct.pack("<I", len(data)) + data)

    log += event(3, 0x80000007, ACTION)  # MR 3 = REM2
    log += event(4, 4, bytes(4))         # MR 4 = REM3
    return log + b"\xff" * 32


# The REMs a realm with both logs reports (TF-RMM: H(REM || digest)).
REM2 = sha256(bytes.fromhex(REM2_T2) + sha256(ACTION)).hex()
REM3 = sha256(bytes(32) + sha256(bytes(4))).hex()
ZERO = "00" * 32


class RemPolicyCli(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        self.fw = self.path("fw.bin")
        with open(self.fw, "wb") as f:
            f.write(firmware_log())

    def path(self, name):
        return os.path.join(self.dir, name)

    def mint(self, rim, rems):
        token, jwk = self.path("token.cbor"), self.path("cpak.jwk")
        subprocess.run([MINT, token, jwk, "sha-256", rim, *rems], check=True)
        return token, jwk

    def catalogue(self, digests):
        path = self.path("allow.json")
        with open(path, "w") as f:
            json.dump([{"digest": "sha256:" + d, "description": "entry %d" % i}
                       for i, d in enumerate(digests)], f)
        return path

    def appraise(self, token, jwk, catalogue, *extra):
        p = subprocess.run(
            [CCA_TOKEN, "appraise", token, "--cpak", jwk, "--rim", RIM,
             "--event-log", T2, "--event-log-images", SUMS, "--firmware-log",
             self.fw, "--event-catalogue", catalogue, "--format", "json",
             *extra], capture_output=True, text=True)
        return p.returncode, p.stdout, p.stderr

    def all_digests(self):
        return [KERNEL, INITRD, sha256(ACTION).hex(), sha256(bytes(4)).hex()]

    def test_all_events_catalogued_affirm_with_executables_2(self):
        # The token's REMs differ from nothing provisioned: only --rim.
        token, jwk = self.mint(RIM, [ZERO, ZERO, REM2, REM3])
        rc, out, err = self.appraise(token, jwk,
                                     self.catalogue(self.all_digests()))
        self.assertEqual(rc, 0, err + out)
        j = json.loads(out)
        self.assertEqual(j["rem-policy"]["outcome"], "approved-runtime")
        self.assertEqual(j["rem-policy"]["unknown-events"], [])
        realm = j["ear"]["submods"]["CCA_REALM"]
        self.assertEqual(realm["ear.trustworthiness-vector"]["executables"], 2)
        self.assertEqual(realm["ear.status"], "affirming")
        self.assertEqual(realm["ear.appraisal-policy-id"],
                         "policy:ARM_CCA/rem-event-log")

    def test_one_unknown_event_gives_3_and_is_named(self):
        token, jwk = self.mint(RIM, [ZERO, ZERO, REM2, REM3])
        digests = self.all_digests()
        del digests[2]  # the EFI action
        rc, out, err = self.appraise(token, jwk, self.catalogue(digests))
        self.assertEqual(rc, 0, err + out)  # 3 is still an affirming tier
        j = json.loads(out)
        p = j["rem-policy"]
        self.assertEqual(p["outcome"], "unknown-events")
        self.assertEqual(p["unknown-events"], [{
            "log": 1, "event": 0, "offset": 65, "rem": 2,
            "type": "EV_EFI_ACTION", "description": ACTION.decode(),
            "digest": sha256(ACTION).hex()}])
        realm = j["ear"]["submods"]["CCA_REALM"]
        self.assertEqual(realm["ear.trustworthiness-vector"]["executables"], 3)
        self.assertIn("not in the catalogue",
                      realm["ear.veraison.policy-claims"]["problem"])
        # Text output names it too.
        rc, out, _ = self.appraise(token, jwk, self.catalogue(digests),
                                   "--format", "text")
        self.assertIn('unknown event: log 1 event 0 at offset 65 EV_EFI_ACTION '
                      '"Calling EFI Application from Boot Option" REM2 '
                      + sha256(ACTION).hex(), out)

    def test_log_that_does_not_replay_to_the_tokens_rim_fails(self):
        token, jwk = self.mint(OTHER_RIM, [ZERO, ZERO, REM2, REM3])
        p = subprocess.run(
            [CCA_TOKEN, "appraise", token, "--cpak", jwk, "--rim", OTHER_RIM,
             "--event-log", T2, "--event-log-images", SUMS, "--firmware-log",
             self.fw, "--event-catalogue",
             self.catalogue(self.all_digests()), "--format", "json"],
            capture_output=True, text=True)
        self.assertEqual(p.returncode, 1, p.stderr + p.stdout)
        j = json.loads(p.stdout)
        self.assertEqual(j["rem-policy"]["outcome"], "rim-not-replayed")
        realm = j["ear"]["submods"]["CCA_REALM"]
        self.assertEqual(realm["ear.trustworthiness-vector"]["executables"], 96)
        self.assertEqual(realm["ear.status"], "contraindicated")

    def test_rems_that_do_not_replay_fail(self):
        token, jwk = self.mint(RIM, [ZERO, ZERO, REM2, ZERO])
        rc, out, _ = self.appraise(token, jwk,
                                   self.catalogue(self.all_digests()))
        self.assertEqual(rc, 1)
        self.assertEqual(json.loads(out)["rem-policy"]["outcome"],
                         "rems-not-replayed")

    def batch(self, jwk, lines, *options):
        p = subprocess.run(
            [CCA_TOKEN, "appraise", "--batch", "--cpak", jwk, "--rim", RIM,
             *options],
            input="".join(json.dumps(l) + "\n" for l in lines),
            capture_output=True, text=True)
        return p.returncode, [json.loads(l) for l in p.stdout.splitlines()], \
            p.stderr

    def test_batch_lines_carry_their_realms_logs(self):
        token, jwk = self.mint(RIM, [ZERO, ZERO, REM2, REM3])
        catalogue = self.catalogue(self.all_digests())
        rc, out, err = self.batch(jwk, [
            {"token": token, "event_log": T2, "firmware_logs": [self.fw]},
            # Without the firmware log REM2/REM3 do not replay.
            {"token": token, "event_log": T2},
            {"token": token, "event_log": T2, "firmware_logs": self.fw},
            {"token": token, "event_log": T2,
             "firmware_logs": [self.path("missing.bin")]},
            {"token": token},
        ], "--event-catalogue", catalogue, "--event-log-images", SUMS)
        self.assertEqual(rc, 2, err)
        self.assertEqual(len(out), 5, out)
        self.assertEqual(out[0]["exit"], 0, out[0])
        self.assertEqual(out[0]["rem-policy"]["outcome"], "approved-runtime")
        realm = out[0]["ear"]["submods"]["CCA_REALM"]
        self.assertEqual(realm["ear.trustworthiness-vector"]["executables"], 2)
        self.assertEqual(out[1]["exit"], 1, out[1])
        self.assertEqual(out[1]["rem-policy"]["outcome"], "rems-not-replayed")
        self.assertEqual(out[2], {
            "line": 3, "exit": 2,
            "error": "line 3: firmware_logs: expected an array of at most 16 "
                     "file paths, found string"})
        # Each wrong shape is named.
        for fields, error in [
                ({"event_log": ""}, "event_log: expected a file path, found "
                                    "an empty string"),
                ({"event_log": 5}, "event_log: expected a file path, found "
                                   "number"),
                ({"firmware_logs": [self.fw] * 17},
                 "found 17 values"),
                ({"firmware_logs": [self.fw, 1]},
                 "found number at index 1"),
                ({"firmware_logs": [""]},
                 "found an empty string at index 0")]:
            rc, bad, _ = self.batch(jwk, [dict(token=token, **fields)],
                                    "--event-catalogue", catalogue)
            self.assertEqual(rc, 2, fields)
            self.assertIn(error, bad[0]["error"])
        self.assertEqual(out[3]["exit"], 2)
        self.assertIn("missing.bin", out[3]["error"])
        self.assertEqual(out[4]["exit"], 2)
        self.assertIn("expected an event log", out[4]["error"])
        # A log over the parser's 1 MiB is refused before it is read.
        big = self.path("big.bin")
        with open(big, "wb") as f:
            f.truncate((1 << 20) + 1)
        rc, out, _ = self.batch(jwk, [{"token": token, "firmware_logs": [big]}],
                                "--event-catalogue", catalogue)
        self.assertEqual(rc, 2)
        self.assertIn("1048577 bytes, more than the limit of 1048576 bytes",
                      out[0]["error"])
        # Logs without a catalogue, and logs on the command line of a batch.
        rc, out, _ = self.batch(jwk, [{"token": token, "event_log": T2}])
        self.assertEqual(rc, 2)
        self.assertIn("expected --event-catalogue", out[0]["error"])
        p = subprocess.run(
            [CCA_TOKEN, "appraise", "--batch", "--cpak", jwk, "--rim", RIM,
             "--event-log", T2, "--event-catalogue", catalogue],
            input="", capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)
        self.assertIn("expected in each --batch line", p.stderr)

    def test_usage(self):
        token, jwk = self.mint(RIM, [ZERO, ZERO, REM2, REM3])
        p = subprocess.run([CCA_TOKEN, "appraise", token, "--cpak", jwk,
                            "--rim", RIM, "--firmware-log", self.fw],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--event-catalogue together", p.stderr)
        bad = self.path("bad.json")
        with open(bad, "w") as f:
            f.write('[{"digest": "abc", "description": "x"}]')
        p = subprocess.run([CCA_TOKEN, "appraise", token, "--cpak", jwk,
                            "--rim", RIM, "--firmware-log", self.fw,
                            "--event-catalogue", bad],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)
        self.assertIn("event digest catalogue: entry 0: digest", p.stderr)


if __name__ == "__main__":
    CCA_TOKEN = sys.argv.pop(1)
    MINT = sys.argv.pop(1)
    unittest.main()
