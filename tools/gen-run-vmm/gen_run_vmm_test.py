"""End-to-end test of gen-run-vmm (issue 10).

For every VMM mode: generate the scripts from testdata/gen_run_vmm, run
run-<vmm>.sh with a fake VMM that records its argv, feed that argv back to
realm-measurements (same RIM lines, same DTB bytes), run measure-<vmm>.sh
(same RIM lines), decode the CoRIM with python3-cbor2 (not our decoder) to
the same RIM, and shellcheck the scripts. Two configurations are the
reference script's default calls, checked against the golden values of
spec-vmm §12 (G11 QEMU, G12 kvmtool). Errors: missing files and options.

Usage: gen_run_vmm_test.py GEN_RUN_VMM REALM_MEASUREMENTS
"""
import datetime
import hashlib
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest

try:
    import cbor2
except ImportError:  # Bazel may pick a python3 without Debian's dist-packages.
    sys.path.append("/usr/lib/python3/dist-packages")
    import cbor2

GEN = os.path.abspath(sys.argv.pop(1))
RM = os.path.abspath(sys.argv.pop(1))
TD = os.path.abspath("testdata/gen_run_vmm")
KERNEL = os.path.abspath("testdata/vectors/reference-testdata/linux.bin")
CONFIGS = [os.path.abspath("configs/qemu-max-8.2.conf"),
           os.path.abspath("configs/kvm.conf")]
PROFILE_2025 = "tag:arm.com,2025:cca_realm#1.0.0"
PROFILE_LEGACY = "http://arm.com/cca/realm/1"

# spec-vmm §12 (recorded with the reference tool).
G12_RIM = "616d14d1cc8ee48647a9d599a4a723ab064b6a06f942fac9403c4eac2c98ce3b"
G12_DTB = "ffb509a9d6955254e762559ad44e2f3a13232502298a00700de7f68d116f7d51"
G11_RIM = ("f236fd60bed8a4e5da1f7b142cc6a869c564946191776215b05a512e3db522a8"
           "7888f46ddff00182ca5a33cdcf3b004da60ef4464598a9c477e91200deec97c3")
G11_DTB = "00894f09d1298f9bd051c76f5ffbd7294019908c3f2b7fc635e830f175d211c2"

FAKE_VMM = """#!/bin/sh
# Records its arguments, NUL-terminated, for the test.
for a in "$@"; do printf '%s\\0' "$a"; done > "$ARGV_OUT"
"""


def config_text(hash_algorithm="sha256", extra_kvmtool=None, pmu=True,
                rmm_version=None):
    extra = extra_kvmtool or []
    return "\n".join([
        'kernel = "%s"' % KERNEL,
        'initrd = "%s"' % os.path.join(TD, "initrd"),
        "host_configs = [%s]" % ", ".join('"%s"' % c for c in CONFIGS),
        'output_dir = "out"',
        "[firmware]",
        'kvmtool = "%s"' % os.path.join(TD, "KVMTOOL_EFI.fd"),
        'qemu = "%s"' % os.path.join(TD, "QEMU_EFI.fd"),
        "[vm]",
        "cpus = 2",
        'memory = "1G"',
        'cmdline = "console=hvc0"',
        'hash_algorithm = "%s"' % hash_algorithm,
        "pmu = %s" % ("true" if pmu else "false"),
    ] + (['rmm_version = "%s"' % rmm_version] if rmm_version else []) + [
        "[extra_args]",
        "kvmtool = [%s]" % ", ".join('"%s"' % a for a in extra),
        "",
    ])


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


KVMTOOL_FIRMWARE_WARNING = (
    "WARN kvmtool --firmware: the REMs the firmware extends as it boots are "
    "not modelled; REM0-REM3 are their values before it runs (zero): take "
    "them from the realm's event log (eventlog replay)\n")


class GenRunVmmTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        self.fake = os.path.join(self.dir, "fake-vmm")
        with open(self.fake, "w") as f:
            f.write(FAKE_VMM)
        os.chmod(self.fake, 0o755)

    def write_config(self, text, name="gen-run-vmm.toml"):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def gen(self, *args, cwd=None, check=True):
        p = subprocess.run([GEN] + list(args), cwd=cwd or self.dir,
                           capture_output=True, text=True,
                           env=dict(os.environ, PWD=cwd or self.dir))
        if check:
            self.assertEqual(p.returncode, 0, p.stderr)
        return p

    def vmm_argv(self, script):
        out = os.path.join(self.dir, "argv")
        if os.path.exists(out):
            os.unlink(out)
        p = subprocess.run([script], capture_output=True, text=True,
                           env=dict(os.environ, VMM=self.fake, ARGV_OUT=out))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        with open(out, "rb") as f:
            data = f.read()
        self.assertTrue(data.endswith(b"\0"))
        return [a.decode() for a in data[:-1].split(b"\0")]

    def check_mode(self, vmm, firmware, hash_algorithm="sha256",
                   extra_kvmtool=None, golden=None, profile=None,
                   rmm_version=None, pmu=True):
        cfg = self.write_config(config_text(hash_algorithm, extra_kvmtool,
                                            pmu=pmu, rmm_version=rmm_version))
        corim = os.path.join(self.dir, "realm-%s.corim" % vmm)
        args = ["--config", cfg, "--" + vmm, "--corim-output", corim]
        if profile:
            args += ["--corim-profile", profile]
        if firmware:
            args.append("--firmware")
        p = self.gen(*args)
        # No warning for the arguments we write, but the one that kvmtool
        # firmware boot's REMs are not modelled (docs/vmm-kvmtool.md).
        warning = (KVMTOOL_FIRMWARE_WARNING
                   if vmm == "kvmtool" and firmware else "")
        self.assertEqual(p.stderr, warning)
        lines = p.stdout.splitlines()
        measured = lines[:5]
        self.assertTrue(measured[0].startswith("RIM: "), p.stdout)
        out = os.path.join(self.dir, "out")
        run = os.path.join(out, "run-%s.sh" % vmm)
        measure = os.path.join(out, "measure-%s.sh" % vmm)
        dtb = os.path.join(out, "%s.dtb" % vmm)
        for f in (run, measure):
            self.assertTrue(os.stat(f).st_mode & stat.S_IXUSR)
        # Debian shellcheck (installed by ./bazelw).
        sc = subprocess.run(["shellcheck", run, measure],
                            capture_output=True, text=True)
        self.assertEqual(sc.returncode, 0, sc.stdout)

        # The VMM's own argv, fed back to realm-measurements.
        argv = self.vmm_argv(run)
        if vmm == "kvmtool":
            self.assertEqual(argv[0], "run")
            argv = argv[1:]
        self.assertIn(dtb, argv)  # the VMM loads the measured DTB
        global_args = []
        for c in CONFIGS:
            global_args += ["-c", c]
        if rmm_version:
            global_args += ["--rmm-version", rmm_version]
        if firmware:
            global_args += ["-f", os.path.join(
                TD, "KVMTOOL_EFI.fd" if vmm == "kvmtool" else "QEMU_EFI.fd")]
        if not (firmware and vmm == "kvmtool"):
            global_args += ["-k", KERNEL, "-i", os.path.join(TD, "initrd")]
        again = os.path.join(self.dir, "again.dtb")
        command = {"kvmtool": "kvmtool", "qemu": "qemu",
                   "cloudhv": "cloud-hv"}[vmm]
        r = subprocess.run([RM, "--output-dtb", again] + global_args +
                           [command] + argv, capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, warning)
        self.assertEqual(r.stdout.splitlines(), measured)
        with open(dtb, "rb") as a, open(again, "rb") as b:
            self.assertEqual(a.read(), b.read())

        # measure-<vmm>.sh gives the same values.
        m = subprocess.run([measure], capture_output=True, text=True,
                           env=dict(os.environ, REALM_MEASUREMENTS=RM))
        self.assertEqual(m.returncode, 0, m.stderr)
        self.assertEqual(m.stdout.splitlines(), measured)

        # The CoRIM, decoded by cbor2.
        # Named-information ids (RFC 6920): 1 sha-256, 7 sha-384, 8 sha-512.
        size = {"sha256": 32, "sha384": 48, "sha512": 64}[hash_algorithm]
        alg = {"sha256": 1, "sha384": 7, "sha512": 8}[hash_algorithm]
        rim = bytes.fromhex(measured[0][5:5 + 2 * size])
        rems = [bytes.fromhex(l.split(": ")[1][:2 * size]) for l in measured[1:]]
        with open(corim, "rb") as f:
            doc = cbor2.loads(f.read())
        self.assertEqual(doc.tag, 501)
        body = doc.value
        self.assertEqual(len(body[1]), 1)
        self.assertEqual(body[1][0].tag, 506)
        comid = cbor2.loads(body[1][0].value)
        triple = comid[4][0][0]
        env, meas = triple
        if profile == "cca-realm-legacy":
            self.assertEqual(body[3], PROFILE_LEGACY)
            self.assertEqual(env[1].tag, 560)
            self.assertEqual(env[1].value, rim)
            regs = meas[0][1][14]
            self.assertEqual(regs["rim"], [[alg, rim]])
            for i in range(4):
                self.assertEqual(regs["rem%d" % i], [[alg, rems[i]]])
        else:
            self.assertEqual(body[3].tag, 32)
            self.assertEqual(body[3].value, PROFILE_2025)
            self.assertEqual(env, {0: {0: cbor2.CBORTag(560, rim)}})
            by_key = {m[0]: m[1] for m in meas}
            self.assertEqual(by_key["cca.rim"], {2: [[alg, rim]]})
            for i in range(4):
                self.assertEqual(by_key["cca.rem%d" % i], {2: [[alg, rems[i]]]})
            self.assertNotIn("cca.rpv", by_key)  # no RPV given
        if golden:
            self.assertEqual(rim.hex(), golden[0])
            self.assertEqual(sha256(dtb), golden[1])
        return run, dtb

    # --- every VMM mode ---------------------------------------------------

    def test_kvmtool_is_the_reference_default_g12(self):
        self.check_mode("kvmtool", False,
                        extra_kvmtool=["--sve-max-vl=512", "--debug"],
                        golden=(G12_RIM, G12_DTB))

    def test_kvmtool_firmware(self):
        self.check_mode("kvmtool", True, profile="cca-realm-legacy")

    def test_qemu_is_the_reference_default_g11(self):
        self.check_mode("qemu", False, hash_algorithm="sha512",
                        golden=(G11_RIM, G11_DTB))

    def test_qemu_firmware(self):
        self.check_mode("qemu", True)

    def test_cloudhv(self):
        self.check_mode("cloudhv", False, hash_algorithm="sha512")

    # --- RMM 2.0 (spec-rmm2 §2): rmm_version reaches every invocation ----

    def test_qemu_rmm2_sha384(self):
        # No PMU: TF-RMM 2.0 refuses PMU realms (a warning would be printed).
        run, _ = self.check_mode("qemu", False, hash_algorithm="sha384",
                                 rmm_version="2.0", pmu=False)
        with open(run.replace("run-qemu.sh", "measure-qemu.sh")) as f:
            self.assertIn("--rmm-version 2.0", f.read())

    def test_sha384_without_rmm2_is_refused_naming_the_version(self):
        cfg = self.write_config(config_text("sha384", pmu=False))
        p = self.gen("--config", cfg, "--kvmtool", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("hash algorithm sha384 is not available in RMM 1.0",
                      p.stderr)
        bad = self.write_config(config_text(rmm_version="3.0"), "bad.toml")
        p = self.gen("--config", bad, "--kvmtool", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("vm.rmm_version: expected 1.0 or 2.0, found 3.0",
                      p.stderr)

    def test_sample_config_in_testdata(self):
        # The README example: the config checked in, relative paths.
        cfg = os.path.join(TD, "gen-run-vmm.toml")
        p = self.gen("--config", cfg, "--kvmtool", "--output-dir",
                     os.path.join(self.dir, "sample"))
        self.assertEqual(p.stdout.splitlines()[0][5:69], G12_RIM)

    # --- the run script refuses changed payloads -------------------------

    def test_changed_payload_stops_the_run_script(self):
        initrd = os.path.join(self.dir, "initrd")
        shutil.copy(os.path.join(TD, "initrd"), initrd)
        text = config_text().replace(os.path.join(TD, "initrd"), initrd)
        cfg = self.write_config(text)
        self.gen("--config", cfg, "--qemu")
        with open(initrd, "ab") as f:
            f.write(b"!")
        out = os.path.join(self.dir, "argv")
        p = subprocess.run([os.path.join(self.dir, "out", "run-qemu.sh")],
                           capture_output=True, text=True,
                           env=dict(os.environ, VMM=self.fake, ARGV_OUT=out))
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("FAILED", p.stdout + p.stderr)
        self.assertFalse(os.path.exists(out))  # the VMM never started

    # --- errors -----------------------------------------------------------

    def test_paths_with_spaces_quotes_and_dollars(self):
        # Payloads, output folder and the VMM binary in folders whose names
        # a shell would split or expand; the scripts must pass them intact.
        odd = os.path.join(self.dir, "my tools", "it's $HOME `x` \\ dir")
        os.makedirs(odd)
        kernel = os.path.join(odd, "lin ux.bin")
        initrd = os.path.join(odd, "init'rd $1")
        shutil.copy(KERNEL, kernel)
        shutil.copy(os.path.join(TD, "initrd"), initrd)
        vmm = os.path.join(odd, "l kvm \"$PATH\"")
        shutil.copy(self.fake, vmm)
        os.chmod(vmm, 0o755)
        out = os.path.join(odd, "out $USER")

        def toml_str(v):
            return '"%s"' % v.replace("\\", "\\\\").replace('"', '\\"')
        cfg = self.write_config("\n".join([
            "kernel = %s" % toml_str(kernel),
            "initrd = %s" % toml_str(initrd),
            "host_configs = [%s]" % ", ".join(toml_str(c) for c in CONFIGS),
            "output_dir = %s" % toml_str(out),
            "[vm]",
            'cmdline = "console=hvc0 x=\'y\' $z"',
            "[vmm]",
            "kvmtool = %s" % toml_str(vmm),
            "",
        ]))
        p = self.gen("--config", cfg, "--kvmtool")
        measured = p.stdout.splitlines()[:5]
        run = os.path.join(out, "run-kvmtool.sh")
        measure = os.path.join(out, "measure-kvmtool.sh")
        sc = subprocess.run(["shellcheck", run, measure],
                            capture_output=True, text=True)
        self.assertEqual(sc.returncode, 0, sc.stdout)
        # No VMM override: the configured binary itself runs.
        argv_out = os.path.join(self.dir, "argv")
        env = {k: v for k, v in os.environ.items() if k != "VMM"}
        env["ARGV_OUT"] = argv_out
        r = subprocess.run([run], capture_output=True, text=True, env=env)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(argv_out, "rb") as f:
            argv = [a.decode() for a in f.read()[:-1].split(b"\0")]
        self.assertEqual(argv[0], "run")
        self.assertEqual(argv[argv.index("-k") + 1], kernel)
        self.assertEqual(argv[argv.index("-i") + 1], initrd)
        self.assertEqual(argv[argv.index("--dtb") + 1],
                         os.path.join(out, "kvmtool.dtb"))
        self.assertEqual(argv[argv.index("-p") + 1], "console=hvc0 x='y' $z")
        # The checksum list finds the payloads (a changed one stops it).
        with open(initrd, "ab") as f:
            f.write(b"!")
        r = subprocess.run([run], capture_output=True, text=True, env=env)
        self.assertNotEqual(r.returncode, 0)
        with open(initrd, "wb") as f:
            with open(os.path.join(TD, "initrd"), "rb") as g:
                f.write(g.read())
        m = subprocess.run([measure], capture_output=True, text=True,
                           env=dict(os.environ, REALM_MEASUREMENTS=RM))
        self.assertEqual(m.returncode, 0, m.stderr)
        self.assertEqual(m.stdout.splitlines(), measured)

    def test_help(self):
        p = self.gen("--help")
        for word in ("--kvmtool", "--qemu", "--cloudhv", "--firmware",
                     "--corim-output", "host_configs", "[extra_args]"):
            self.assertIn(word, p.stdout)

    def test_missing_vmm_option(self):
        p = self.gen("--config", self.write_config(config_text()), check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("one of --kvmtool, --qemu or --cloudhv is required",
                      p.stderr)

    def test_two_vmm_options(self):
        p = self.gen("--kvmtool", "--qemu", check=False)
        self.assertEqual(p.returncode, 2)

    def test_unknown_option(self):
        p = self.gen("--kvmtool", "--restricted-mem", check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("unexpected argument '--restricted-mem'", p.stderr)

    def test_missing_config(self):
        p = self.gen("--kvmtool", check=False)  # no ./gen-run-vmm.toml
        self.assertEqual(p.returncode, 1)
        self.assertIn("--config: cannot read %s/gen-run-vmm.toml" % self.dir,
                      p.stderr)

    def test_missing_kernel_file(self):
        text = config_text().replace(KERNEL, "/nonexistent/Image")
        p = self.gen("--config", self.write_config(text), "--qemu",
                     check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("kernel: cannot read /nonexistent/Image", p.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "out")))

    def test_missing_kernel_key(self):
        text = "\n".join(l for l in config_text().splitlines()
                         if not l.startswith(("kernel", "initrd")))
        p = self.gen("--config", self.write_config(text), "--cloudhv",
                     check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("needs kernel", p.stderr)

    def test_unknown_config_key(self):
        p = self.gen("--config", self.write_config(config_text() +
                                                   "[vm2]\n"),
                     "--kvmtool", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("vm2: unknown key", p.stderr)

    def test_bad_config_value(self):
        text = config_text().replace("cpus = 2", 'cpus = "two"')
        p = self.gen("--config", self.write_config(text), "--kvmtool",
                     check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("vm.cpus: expected an integer in 1..512", p.stderr)

    def test_cloudhv_firmware_is_refused(self):
        p = self.gen("--config", self.write_config(config_text()),
                     "--cloudhv", "--firmware", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("not modelled", p.stderr)

    def test_model_rejection_writes_no_script(self):
        # The reference's breakage: --restricted-mem is not a kvmtool option.
        cfg = self.write_config(config_text(extra_kvmtool=["--restricted-mem"]))
        p = self.gen("--config", cfg, "--kvmtool", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("--restricted-mem", p.stderr)
        self.assertFalse(os.path.exists(
            os.path.join(self.dir, "out", "run-kvmtool.sh")))

    # --- Issue 14: nothing lost or destroyed, no crash on deep configs ---

    def test_deeply_nested_config_is_refused_not_crashed(self):
        for text in ["a" + ".a" * 40000 + " = 1\n",
                     "[a" + ".a" * 3000 + "]\n",
                     "a = {b" + ".b" * 3000 + " = 1}\n",
                     "a = " + "[" * 5000 + "\n"]:
            p = self.gen("--config", self.write_config(text), "--kvmtool",
                         check=False)
            self.assertEqual(p.returncode, 1, p.stderr)
            self.assertRegex(p.stderr, r"gen-run-vmm: error: (file .* is "
                             r"larger than the limit of 65536 bytes|config "
                             r".*: nesting depth exceeds the limit of 4 at "
                             r"line 1 )")

    def test_corim_validity_is_passed_on(self):
        # CoRIM key 4, read back by cbor2: {0: 1(not-before), 1: 1(not-after)}.
        corim = os.path.join(self.dir, "v.corim")
        self.gen("--config", self.write_config(config_text()), "--kvmtool",
                 "--corim-output", corim,
                 "--corim-not-before", "2026-12-01T00:00:00Z",
                 "--corim-not-after", "2027-12-01T00:00:00Z")
        with open(corim, "rb") as f:
            body = cbor2.loads(f.read()).value
        utc = datetime.timezone.utc
        self.assertEqual(body[4], {0: datetime.datetime(2026, 12, 1, tzinfo=utc),
                                   1: datetime.datetime(2027, 12, 1, tzinfo=utc)})

    def test_corim_rems_is_passed_on(self):
        # kvmtool firmware boot with --corim-rems none: the CoRIM (cbor2)
        # holds the RIM and no REM, still the one warning on stderr.
        corim = os.path.join(self.dir, "r.corim")
        p = self.gen("--config", self.write_config(config_text()),
                     "--kvmtool", "--firmware", "--corim-output", corim,
                     "--corim-rems", "none")
        self.assertEqual(p.stderr, KVMTOOL_FIRMWARE_WARNING)
        rim = bytes.fromhex(p.stdout.splitlines()[0][5:5 + 64])
        with open(corim, "rb") as f:
            body = cbor2.loads(f.read()).value
        comid = cbor2.loads(body[1][0].value)
        env, meas = comid[4][0][0]
        by_key = {m[0]: m[1] for m in meas}
        self.assertEqual(by_key["cca.rim"], {2: [[1, rim]]})
        self.assertEqual(sorted(by_key), ["cca.rim"])

    def test_failed_run_changes_no_earlier_output(self):
        out = os.path.join(self.dir, "out")
        self.gen("--config", self.write_config(config_text()), "--kvmtool")
        names = ["kvmtool.dtb", "run-kvmtool.sh", "measure-kvmtool.sh"]
        before = {}
        for n in names:
            with open(os.path.join(out, n), "rb") as f:
                before[n] = f.read()
        # A different VM (another DTB) whose CoRIM cannot be signed: the
        # measurement fails after the model is built.
        key = os.path.join(self.dir, "key.pem")
        with open(key, "w") as f:
            f.write("not a key\n")
        text = config_text().replace("cpus = 2", "cpus = 4")
        p = self.gen("--config", self.write_config(text), "--kvmtool",
                     "--corim-output", os.path.join(self.dir, "r.corim"),
                     "--corim-sign-key", key, "--corim-sign-chain", key,
                     check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("no script written", p.stderr)
        for n in names:
            with open(os.path.join(out, n), "rb") as f:
                self.assertEqual(f.read(), before[n], n)
        self.assertEqual(sorted(os.listdir(out)), sorted(names))
        self.assertFalse(os.path.exists(os.path.join(self.dir, "r.corim")))

    def test_output_naming_an_input_is_refused(self):
        out = os.path.join(self.dir, "out")
        os.mkdir(out)
        kernel = os.path.join(out, "kvmtool.dtb")
        shutil.copy(KERNEL, kernel)
        text = config_text().replace('kernel = "%s"' % KERNEL,
                                     'kernel = "%s"' % kernel)
        p = self.gen("--config", self.write_config(text), "--kvmtool",
                     check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("cannot write output DTB %s: the same file as the "
                      "input kernel %s" %
                      (kernel, kernel), p.stderr)
        self.assertEqual(sha256(kernel), sha256(KERNEL))
        self.assertEqual(os.listdir(out), ["kvmtool.dtb"])

    def test_outputs_replace_only_regular_files(self):
        out = os.path.join(self.dir, "out")
        os.mkdir(out)
        target = os.path.join(self.dir, "target")
        with open(target, "w") as f:
            f.write("KEEP")
        os.symlink(target, os.path.join(out, "run-kvmtool.sh"))
        p = self.gen("--config", self.write_config(config_text()),
                     "--kvmtool", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("run-kvmtool.sh: is a symbolic link", p.stderr)
        with open(target) as f:
            self.assertEqual(f.read(), "KEEP")
        self.assertEqual(os.listdir(out), ["run-kvmtool.sh"])


if __name__ == "__main__":
    unittest.main()
