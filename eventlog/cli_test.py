"""Runs the `eventlog` binary on logs built here byte by byte (TCG layout,
spec-eventlog §B) and checks its output. Expected REMs come from Python's
hashlib over the logged digests (TF-RMM formula H(REM || digest)), not from
our code."""

import hashlib
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import unittest

EVENTLOG = None
T2 = "testdata/eventlog/t2-qemu-sha256.bin"
SUMS = "testdata/eventlog/images/SHA256SUMS"

ALG = {"sha256": (0x0B, 32), "sha384": (0x0C, 48), "sha512": (0x0D, 64)}
EV_EFI_ACTION = 0x80000007
EV_SEPARATOR = 4


def spec_id(algs, signature=b"Spec ID Event03\0"):
    data = signature + struct.pack("<IBBBBI", 0, 0, 2, 0x6A, 2, len(algs))
    for name in algs:
        data += struct.pack("<HH", *ALG[name])
    data += b"\0"
    return struct.pack("<II", 0, 3) + bytes(20) + struct.pack("<I", len(data)) + data


def event2(pcr, typ, digests, data):
    out = struct.pack("<III", pcr, typ, len(digests))
    for name, value in digests:
        out += struct.pack("<H", ALG[name][0]) + value
    return out + struct.pack("<I", len(data)) + data


def firmware_log(alg="sha256"):
    """An EDK2-shaped CC event log: an EV_EFI_ACTION on MR 3 (REM2) and a
    separator on MR 4 (REM3), then the 0xFF tail of the log area."""
    h = getattr(hashlib, alg)
    action = b"Calling EFI Application from Boot Option"
    sep = bytes(4)
    log = spec_id([alg])
    log += event2(3, EV_EFI_ACTION, [(alg, h(action).digest())], action)
    log += event2(4, EV_SEPARATOR, [(alg, h(sep).digest())], sep)
    return log + b"\xff" * 32, h(action).digest(), h(sep).digest()


def extend(alg, old, digest):
    return getattr(hashlib, alg)(old + digest).hexdigest()


class Cli(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))

    def write(self, name, data):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def run_cli(self, *args):
        p = subprocess.run([EVENTLOG, *args], capture_output=True, text=True,
                           errors="replace")
        return p.returncode, p.stdout, p.stderr

    def test_firmware_log_on_its_own(self):
        for alg, rmm in (("sha256", "1.0"), ("sha512", "1.0"), ("sha384", "2.0")):
            with self.subTest(alg=alg):
                log, d_action, d_sep = firmware_log(alg)
                fw = self.write("fw-%s.bin" % alg, log)
                rc, out, err = self.run_cli(
                    "replay", "--firmware-log", fw, "--hash-algo", alg,
                    "--rmm-version", rmm, "--format", "json")
                self.assertEqual(rc, 0, err)
                j = json.loads(out)
                zero = bytes(ALG[alg][1])
                self.assertEqual(j["REM2"], extend(alg, zero, d_action))
                self.assertEqual(j["REM3"], extend(alg, zero, d_sep))
                self.assertEqual(j["REM0"], zero.hex())
                self.assertIsNone(j["RIM"])
                self.assertEqual(j["hash_algorithm"], alg)
                self.assertEqual(j["logs"], [{"log": 0, "path": fw,
                                              "source": "firmware",
                                              "index": "mr"}])
        rc, out, _ = self.run_cli("replay", "--firmware-log", fw,
                                  "--hash-algo", "sha384", "--rmm-version",
                                  "2.0")
        self.assertEqual(rc, 0)
        self.assertIn("RIM: unknown (no VMM log replayed)", out)

    def test_firmware_log_alone_needs_the_algorithm(self):
        fw = self.write("fw.bin", firmware_log()[0])
        rc, _, err = self.run_cli("replay", "--firmware-log", fw)
        self.assertEqual(rc, 2)
        self.assertIn("needs --hash-algo", err)
        rc, _, err = self.run_cli("replay", "--firmware-log", fw,
                                  "--hash-algo", "sha1")
        self.assertEqual(rc, 2)
        self.assertIn("--hash-algo takes sha256, sha384 or sha512", err)
        # SHA-384 realms need RMM 2.0 (K10): refused before replay.
        rc, out, err = self.run_cli("replay", "--firmware-log", fw,
                                    "--hash-algo", "sha384", "--format",
                                    "json")
        self.assertEqual(rc, 1)
        e = json.loads(out)["error"]
        self.assertEqual((e["log"], e["event"], e["entry_offset"],
                          e["class"]), (0, None, None, "unsupported"))
        # A log without digests of the given algorithm.
        rc, _, err = self.run_cli("replay", "--firmware-log", fw,
                                  "--hash-algo", "sha512")
        self.assertEqual(rc, 1)
        self.assertIn("event 0 (EV_EFI_ACTION) at offset 65: no sha512 digest",
                      err)

    def test_index_semantics_per_log(self):
        log, d_action, d_sep = firmware_log()
        fw = self.write("fw.bin", log)
        # After the VMM log; --index applies to the log named before it.
        rc, out, err = self.run_cli("replay", T2, "--catalogue", SUMS,
                                    "--firmware-log", fw, "--index", "pcr",
                                    "--format", "json")
        self.assertEqual(rc, 0, err)
        j = json.loads(out)
        self.assertEqual([(l["source"], l["index"]) for l in j["logs"]],
                         [("vmm", "pcr"), ("firmware", "pcr")])
        # PCR 3 and 4 both map to REM1 (§D.1).
        fw_events = [e for e in j["report"] if e["log"] == 1]
        self.assertEqual([e["register"] for e in fw_events], ["REM1", "REM1"])
        rem1 = extend("sha256",
                      bytes.fromhex(extend("sha256", bytes(32), d_action)),
                      d_sep)
        self.assertEqual(j["REM1"], rem1)
        # §J.4 RIM unchanged: the VMM log kept PCR semantics.
        self.assertEqual(
            j["RIM"],
            "84855690bb1a5bb0381cf10bb6f73f568f7dcaaec0aa81510285d81f85900244")
        # Default for the firmware log is MR.
        rc, out, _ = self.run_cli("replay", T2, "--catalogue", SUMS,
                                  "--index", "pcr", "--firmware-log", fw,
                                  "--format", "json")
        self.assertEqual(rc, 0)
        j = json.loads(out)
        self.assertEqual([l["index"] for l in j["logs"]], ["pcr", "mr"])
        # REM2 after T2 is the §J.4 TF-RMM value; the action extends it.
        rem2_t2 = bytes.fromhex(
            "7ad38f26d2e711c8a073e4eaa3c2a82ef726d793d2c09d2f2bab65261efd5d1f")
        self.assertEqual(j["REM2"], extend("sha256", rem2_t2, d_action))
        # Misplaced or repeated --index.
        rc, _, err = self.run_cli("replay", "--index", "mr", "--firmware-log",
                                  fw, "--hash-algo", "sha256")
        self.assertEqual(rc, 2)
        self.assertIn("--index must follow the log it is for", err)
        rc, _, err = self.run_cli("replay", T2, "--index", "mr", "--index",
                                  "pcr")
        self.assertEqual(rc, 2)
        self.assertIn("--index given twice", err)

    def test_only_regular_files_are_read(self):
        # A FIFO blocked the read forever; a directory read as an empty log
        # replayed to all-zero values with exit 0.
        fifo = os.path.join(self.dir, "fifo")
        os.mkfifo(fifo)
        for args, what in ((("parse", fifo), "not a regular file (FIFO)"),
                           (("replay", self.dir), "Is a directory"),
                           (("replay", "--firmware-log", "/dev/zero",
                             "--hash-algo", "sha256"),
                            "not a regular file (character device)")):
            with self.subTest(args=args):
                rc, out, err = self.run_cli(*args)
                self.assertEqual(rc, 1, err)
                self.assertEqual(out, "")
                self.assertIn(what, err)
                self.assertEqual(err.count("\n"), 1, err)
        sums = self.write("sums", ("0" * 64 + "  fifo\n").encode())
        rc, _, err = self.run_cli("replay", T2, "--catalogue", sums)
        self.assertEqual(rc, 1, err)
        self.assertIn("line 1: file " + fifo + " error: not a regular file "
                      "(FIFO)", err)

    def test_json_error_with_non_utf8_path(self):
        # File names are bytes: an invalid byte is written as U+FFFD
        # (the JSON writer used to throw, and the process aborted).
        path = os.path.join(os.fsencode(self.dir), b"no\xffne.bin")
        rc, out, _ = self.run_cli("parse", path, "--format", "json")
        self.assertEqual(rc, 1)
        e = json.loads(out)["error"]
        self.assertEqual(e["class"], "io")
        self.assertTrue(e["path"].endswith("no\ufffdne.bin"), e["path"])

    def test_parse_errors_in_json(self):
        with open(T2, "rb") as f:
            t2 = f.read()
        # Cut inside event 3 (entry 0x133..0x17D, §J.4).
        cut = self.write("cut.bin", t2[:0x140])
        rc, out, err = self.run_cli("parse", cut, "--format", "json")
        self.assertEqual(rc, 1)
        e = json.loads(out)["error"]
        self.assertEqual((e["log"], e["event"], e["entry_offset"], e["class"]),
                         (0, 3, 0x133, "truncated"))
        self.assertEqual(e["path"], cut)
        self.assertIn("event 3 (EV_EFI_PLATFORM_FIRMWARE_BLOB2) at offset 307:",
                      e["message"])
        self.assertEqual(err.count("\n"), 1)
        self.assertIn("event 3 (EV_EFI_PLATFORM_FIRMWARE_BLOB2) at offset 307:",
                      err)
        # The Spec ID header: no event index, entry at 0, field offsets from
        # the start of the file (the signature is at 32).
        bad = self.write("sig.bin", spec_id(["sha256"], b"Spec ID Event02\0"))
        rc, out, err = self.run_cli("parse", bad, "--format", "json")
        self.assertEqual(rc, 1)
        e = json.loads(out)["error"]
        self.assertEqual((e["event"], e["entry_offset"], e["class"]),
                         (None, 0, "malformed"))
        self.assertIn("Spec ID header (entry at offset 0): signature is", err)
        self.assertIn("at offset 32", err)
        # Unsupported algorithm in an event.
        log = spec_id(["sha256"]) + struct.pack("<IIIH", 1, 4, 1, 0x12)
        log += bytes(32) + struct.pack("<I", 4) + bytes(4)
        rc, out, _ = self.run_cli("parse", self.write("sm3.bin", log),
                                  "--format", "json")
        e = json.loads(out)["error"]
        self.assertEqual((e["event"], e["entry_offset"], e["class"],
                          e["code"]), (0, 65, "unsupported", "UNIMPLEMENTED"))
        # A file that cannot be read.
        rc, out, _ = self.run_cli("parse", os.path.join(self.dir, "none"),
                                  "--format", "json")
        self.assertEqual(rc, 1)
        self.assertEqual(json.loads(out)["error"]["class"], "io")

    def test_errors_before_replay_in_json(self):
        fw_ok = self.write("fw.bin", firmware_log()[0])
        fw_bad = self.write("fwbad.bin", firmware_log()[0][:100])
        # The second firmware log is cut: reported before anything replays.
        rc, out, err = self.run_cli("replay", "--firmware-log", fw_ok,
                                    "--firmware-log", fw_bad, "--hash-algo",
                                    "sha256", "--format", "json")
        self.assertEqual(rc, 1)
        j = json.loads(out)
        self.assertEqual(list(j), ["error"])
        e = j["error"]
        self.assertEqual((e["log"], e["path"], e["event"], e["entry_offset"],
                          e["class"]), (1, fw_bad, 0, 65, "truncated"))
        self.assertIn("log 1 (%s): event log: event 0" % fw_bad, err)
        # A catalogue that does not check out.
        sums = self.write("SUMS", b"00" * 32 + b"  missing.bin\n")
        rc, out, _ = self.run_cli("replay", T2, "--catalogue", sums,
                                  "--format", "json")
        self.assertEqual(rc, 1)
        e = json.loads(out)["error"]
        self.assertEqual((e["log"], e["path"], e["class"]),
                         (None, sums, "catalogue"))
        # A replay error: no catalogue, so FIRMWARE (event 3 at 0x133) is
        # unknown; the report so far and the error object are printed.
        rc, out, err = self.run_cli("replay", T2, "--format", "json")
        self.assertEqual(rc, 1)
        j = json.loads(out)
        self.assertEqual(len(j["report"]), 4)
        e = j["error"]
        self.assertEqual((e["log"], e["event"], e["entry_offset"], e["class"],
                          e["code"]), (0, 3, 0x133, "replay", "NOT_FOUND"))
        self.assertIn("replay: event 3 (EV_EFI_PLATFORM_FIRMWARE_BLOB2) at "
                      "offset 307: no image in the catalogue", err)

    def test_qemu_dtb_options_reach_the_synthesis(self):
        # T2 is a QEMU log (2 vCPUs, 1 GiB); without a catalogue its DTB is
        # unknown, so --synthesize-dtb rebuilds it with the options given.
        def replay(*options):
            return self.run_cli("replay", T2, "--synthesize-dtb", *options)
        for options, message in [
                (("--dtb-qemu-smp", "4,sockets=2"),
                 "the -smp topology given has 4 vCPUs, the log's VM VERSION "
                 "says 2"),
                (("--dtb-qemu-m", "2G"),
                 "the -m size given is 2147483648 bytes, the log's VM "
                 "VERSION says 1073741824"),
                (("--dtb-qemu-m", "1G,maxmem=512M"),
                 "maxmem (536870912) is smaller than the RAM size "
                 "(1073741824)")]:
            rc, _, err = replay(*options)
            self.assertEqual(rc, 1, err)
            self.assertIn("event 4 (EV_POST_CODE2) at offset 382: DTB "
                          "synthesis", err)
            self.assertIn(message, err)
        # Values QEMU would refuse are usage errors, named.
        for options, message in [
                (("--dtb-qemu-m", "1G,share=on"),
                 "--dtb-qemu-m: unsupported -m parameter share"),
                (("--dtb-qemu-smp", "2,dies=1"),
                 "--dtb-qemu-smp: unsupported -smp parameter dies"),
                (("--dtb-qemu-smp", "cpus=2,maxcpus=4"),
                 "--dtb-qemu-smp: -smp: expecting cpus == maxcpus"),
                (("--dtb-qemu-smp",), "--dtb-qemu-smp needs a QEMU -smp value")]:
            rc, _, err = replay(*options)
            self.assertEqual(rc, 2, err)
            self.assertIn(message, err)
        rc, _, err = self.run_cli("replay", T2, "--dtb-qemu-smp", "2")
        self.assertEqual(rc, 2)
        self.assertIn("--dtb-* options need --synthesize-dtb", err)

    def test_dtb_options_change_the_synthesised_dtb(self):
        # The refusal names the synthesised DTB's size and SHA-256, so each
        # option's effect on the bytes shows. A bootargs property adds its
        # FDT_PROP header (12 bytes), the value with its NUL padded to 4,
        # and "bootargs\0" to the strings block (DTSpec 5.4.1, 5.5).
        def synthesised(*options):
            rc, _, err = self.run_cli("replay", T2, "--synthesize-dtb",
                                      *options)
            self.assertEqual(rc, 1, err)
            m = re.search(r"; (\d+) bytes\) has sha256 ([0-9a-f]{64}), the "
                          r"log says", err)
            self.assertIsNotNone(m, err)
            return int(m.group(1)), m.group(2)
        size, digest = synthesised()
        value = "console=ttyAMA0"
        with_args = synthesised("--dtb-bootargs", value)
        self.assertEqual(with_args[0],
                         size + 12 + (len(value) + 1 + 3) // 4 * 4 + 9)
        no_its = synthesised("--dtb-no-its")
        self.assertLess(no_its[0], size)
        self.assertEqual(len({digest, with_args[1], no_its[1]}), 3)
        # QEMU has no bootargs and no virtio-mmio nodes by default.
        self.assertEqual(synthesised("--dtb-no-bootargs"), (size, digest))
        # Template lists: errors name the list and the line (exit 1, an
        # input rejected, as for catalogues).
        lst = self.write("list.txt", b"QEMU\t9.2.0\n")
        rc, _, err = self.run_cli("replay", T2, "--synthesize-dtb",
                                  "--dtb-templates", lst)
        self.assertEqual(rc, 1, err)
        self.assertIn("list.txt line 1: expected NAME<TAB>VERSION<TAB>PATH, "
                      "found 2 tab-separated fields", err)
        rc, _, err = self.run_cli("replay", T2, "--synthesize-dtb",
                                  "--dtb-templates",
                                  os.path.join(self.dir, "none.txt"))
        self.assertEqual(rc, 1, err)
        self.assertIn("none.txt error: No such file or directory", err)

    def test_help_names_the_new_options(self):
        rc, out, _ = self.run_cli("--help")
        self.assertEqual(rc, 0)
        for option in ("--hash-algo", "--firmware-log LOG [--index pcr|mr]",
                       "entry_offset", "--dtb-qemu-m VALUE",
                       "--dtb-qemu-smp VALUE"):
            self.assertIn(option, out)


if __name__ == "__main__":
    EVENTLOG = sys.argv.pop(1)
    unittest.main()
