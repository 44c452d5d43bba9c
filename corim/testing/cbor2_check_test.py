"""Independent check of our CBOR output with Debian's python3-cbor2.

Runs //corim/testing:write_samples, decodes every file with cbor2 (not our
decoder) and checks the CoRIM/CoMID structure field by field against the
profiles of spec-token-corim §3.3-§3.7, with values recomputed here from the
writer's documented pattern. Also checks deterministic encoding: cbor2's
canonical re-encoding of the decoded item gives back the same bytes.
"""
import datetime
import os
import subprocess
import sys
import tempfile
import unittest
import uuid

try:
    import cbor2
except ImportError:  # Bazel may pick a python3 without Debian's dist-packages.
    sys.path.append("/usr/lib/python3/dist-packages")
    import cbor2

PROFILE_2025 = "tag:arm.com,2025:cca_realm#1.0.0"
PROFILE_LEGACY = "http://arm.com/cca/realm/1"
ALGS = {"sha256": (1, 32), "sha384": (7, 48), "sha512": (8, 64)}


def pattern(seed, n):
    return bytes((seed * 31 + i * 7) & 0xFF for i in range(n))


def realm(alg, seed, rems, rpv):
    alg_id, size = ALGS[alg]
    return {
        "alg": alg_id,
        "rim": pattern(seed, size),
        "rem": [pattern(seed + 1 + i, size) if rems else None for i in range(4)],
        "rpv": pattern(seed + 10, 64) if rpv else None,
    }


def find_writer():
    runfiles = os.environ.get("RUNFILES_DIR") or os.path.join(
        os.environ.get("TEST_SRCDIR", "."))
    for base in (runfiles, "."):
        for cand in (os.path.join(base, "realm_measurements/corim/testing/write_samples"),
                     os.path.join(base, "corim/testing/write_samples")):
            if os.path.exists(cand):
                return cand
    raise FileNotFoundError("write_samples not found in runfiles")


class Cbor2CheckTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        subprocess.run([find_writer(), cls.dir], check=True)

    def load(self, name):
        with open(os.path.join(self.dir, name), "rb") as f:
            data = f.read()
        with open(os.path.join(self.dir, name + ".media-type")) as f:
            media_type = f.read()
        item = cbor2.loads(data)
        again = cbor2.dumps(item, canonical=True, datetime_as_timestamp=True)
        self.assertEqual(again.hex(), data.hex(), name + ": not deterministic")
        return item, media_type

    # -- field checks --------------------------------------------------

    def check_digests(self, digests, alg, value):
        self.assertEqual(digests, [[alg, value]])
        self.assertIsInstance(digests[0][0], int)

    def check_triple_2025(self, triple, r):
        self.assertIsInstance(triple, list)
        self.assertEqual(len(triple), 2)
        env, ms = triple
        self.assertEqual(env, {0: {0: cbor2.CBORTag(560, r["rim"])}})
        expected = [("cca.rim", r["rim"])]
        expected += [("cca.rem%d" % i, v) for i, v in enumerate(r["rem"]) if v is not None]
        got = []
        for m in ms:
            self.assertEqual(set(m.keys()), {0, 1})
            key, mval = m[0], m[1]
            if key == "cca.rpv":
                self.assertEqual(mval, {4: cbor2.CBORTag(560, r["rpv"])})
                got.append((key, None))
                continue
            self.assertEqual(set(mval.keys()), {2})
            self.check_digests(mval[2], r["alg"], dict(expected)[key])
            got.append((key, mval[2][0][1]))
        want = list(expected) + ([("cca.rpv", None)] if r["rpv"] is not None else [])
        self.assertEqual(got, want)

    def check_triple_legacy(self, triple, r, cls):
        env, ms = triple
        want_env = {1: cbor2.CBORTag(560, r["rim"])}
        if cls is not None:
            want_env[0] = cls
        self.assertEqual(env, want_env)
        self.assertEqual(len(ms), 1)
        self.assertEqual(set(ms[0].keys()), {1})
        mval = ms[0][1]
        regs = mval[14]
        want_regs = {"rim": [[r["alg"], r["rim"]]]}
        for i, v in enumerate(r["rem"]):
            if v is not None:
                want_regs["rem%d" % i] = [[r["alg"], v]]
        self.assertEqual(regs, want_regs)
        self.assertEqual(list(regs.keys())[0], "rim")  # "rim" sorts first (§7.1)
        if r["rpv"] is not None:
            self.assertEqual(mval[4], cbor2.CBORTag(560, r["rpv"]))
            self.assertEqual(set(mval.keys()), {4, 14})
        else:
            self.assertEqual(set(mval.keys()), {14})

    def check_corim(self, item, profile, corim_id, comids, validity=None, entities=None):
        self.assertIsInstance(item, cbor2.CBORTag)
        self.assertEqual(item.tag, 501)
        m = item.value
        keys = {0, 1, 3}
        if validity:
            keys.add(4)
        if entities:
            keys.add(5)
        self.assertEqual(set(m.keys()), keys)
        self.assertEqual(m[0], corim_id)
        if profile == PROFILE_2025:
            self.assertEqual(m[3], cbor2.CBORTag(32, PROFILE_2025))
        else:
            self.assertEqual(m[3], PROFILE_LEGACY)  # untagged text (§3.7)
        if validity:
            self.assertEqual(m[4], {
                0: datetime.datetime.fromtimestamp(validity[0], datetime.timezone.utc),
                1: datetime.datetime.fromtimestamp(validity[1], datetime.timezone.utc)})
        if entities:
            self.assertEqual(m[5], entities)
        self.assertEqual(len(m[1]), len(comids))
        decoded = []
        for tag in m[1]:
            self.assertIsInstance(tag, cbor2.CBORTag)
            self.assertEqual(tag.tag, 506)
            self.assertIsInstance(tag.value, bytes)
            inner = cbor2.loads(tag.value)
            self.assertEqual(cbor2.dumps(inner, canonical=True), tag.value)
            decoded.append(inner)
        for got, (tag_identity, realms, cls, extra) in zip(decoded, comids):
            self.check_comid(got, profile, tag_identity, realms, cls, extra)

    def check_comid(self, comid, profile, tag_identity, realms, cls, extra):
        want_keys = {1, 4} | set(extra.keys())
        self.assertEqual(set(comid.keys()), want_keys)
        for k, v in extra.items():
            self.assertEqual(comid[k], v)
        self.assertEqual(comid[1], tag_identity)
        self.assertEqual(set(comid[4].keys()), {0})
        triples = comid[4][0]
        self.assertEqual(len(triples), len(realms))
        for t, r in zip(triples, realms):
            if profile == PROFILE_2025:
                self.check_triple_2025(t, r)
            else:
                self.check_triple_legacy(t, r, cls)

    # -- tests ---------------------------------------------------------

    def test_single_realm_corims_of_every_algorithm(self):
        tag1 = {0: pattern(1, 16)}
        for alg in ALGS:
            with self.subTest(alg=alg):
                r = realm(alg, 3, True, True)
                item, mt = self.load("corim-2025-%s.cbor" % alg)
                self.assertEqual(mt, 'application/rim+cbor; profile="%s"' % PROFILE_2025)
                self.check_corim(item, PROFILE_2025, "sample-" + alg, [(tag1, [r], None, {})])
                item, mt = self.load("corim-legacy-%s.cbor" % alg)
                self.assertEqual(
                    mt, 'application/corim-unsigned+cbor; profile="%s"' % PROFILE_LEGACY)
                cls = {0: uuid.UUID(bytes=pattern(2, 16)), 1: "Sample Vendor"}
                self.check_corim(
                    item, PROFILE_LEGACY, "sample-" + alg, [(tag1, [r], cls, {})],
                    validity=(1700000000, 1900000000),
                    entities=[{0: "Sample Ltd.", 1: cbor2.CBORTag(32, "https://sample.example"),
                               2: [1, 2]}])

    def multi_comids(self):
        partial = realm("sha512", 30, False, True)
        partial["rem"][1] = pattern(31, 64)
        c1 = ({0: "realm-tag-1", 1: 3},
              [realm("sha256", 20, False, False), partial], None,
              {0: "en-GB", 2: [{0: "Realm Owner", 2: [0, 1]}]})
        c2 = ({0: pattern(4, 16)}, [realm("sha384", 40, True, False)], None, {})
        return c1, c2

    def test_multi_comid_corims(self):
        c1, c2 = self.multi_comids()
        for profile, name in ((PROFILE_2025, "corim-2025-multi.cbor"),
                              (PROFILE_LEGACY, "corim-legacy-multi.cbor")):
            with self.subTest(profile=profile):
                item, _ = self.load(name)
                self.check_corim(item, profile, pattern(9, 16), [c1, c2])

    def test_bare_comids(self):
        c1, _ = self.multi_comids()
        for profile, name in ((PROFILE_2025, "comid-2025.cbor"),
                              (PROFILE_LEGACY, "comid-legacy.cbor")):
            with self.subTest(profile=profile):
                item, mt = self.load(name)
                self.assertEqual(mt, "application/cbor")
                self.check_comid(item, profile, *c1)

    def test_signed_corims(self):
        for name, alg, sig_len, chain_len in (("es256", -7, 64, 1),
                                              ("es384", -35, 96, 2),
                                              ("es512", -36, 132, 2)):
            with self.subTest(alg=name):
                base = "signed-corim-2025-%s" % name
                item, mt = self.load(base + ".cbor")
                self.assertEqual(mt, 'application/rim+cose; profile="%s"' % PROFILE_2025)
                self.assertIsInstance(item, cbor2.CBORTag)
                self.assertEqual(item.tag, 18)
                self.assertEqual(len(item.value), 4)
                prot, unprot, payload, sig = item.value
                self.assertEqual(unprot, {})
                self.assertEqual(len(sig), sig_len)
                hdr = cbor2.loads(prot)
                self.assertEqual(cbor2.dumps(hdr, canonical=True), prot)
                self.assertEqual(set(hdr.keys()), {1, 3, 8, 33})
                self.assertEqual(hdr[1], alg)
                self.assertEqual(hdr[3], "application/rim+cbor")
                self.assertEqual(cbor2.loads(hdr[8]), {0: {0: "Sample"}})
                with open(os.path.join(self.dir, base + ".leaf.der"), "rb") as f:
                    leaf = f.read()
                with open(os.path.join(self.dir, base + ".inter.der"), "rb") as f:
                    inter = f.read()
                # RFC 9360: one certificate as a bstr, several as an array.
                self.assertEqual(hdr[33], leaf if chain_len == 1 else [leaf, inter])
                r = realm("sha256", 3, True, True)
                self.check_corim(cbor2.loads(payload), PROFILE_2025, "signed-" + name,
                                 [({0: pattern(1, 16)}, [r], None, {})])


if __name__ == "__main__":
    unittest.main()
