#!/usr/bin/env python3
"""Writes request_corpus/: seed inputs of //grpc:request_fuzz.

Each file is one byte choosing the method (the order of the switch in
grpc/request_fuzz.cc) followed by the request message, hand-encoded in the
protobuf wire format from proto/realm_measurements/v1/service.proto field
numbers. Token, key, CoRIM and event log are the test vectors of this
repository. Run from the repository root.
"""


def varint(v):
    out = b""
    while True:
        c, v = v & 0x7F, v >> 7
        if v:
            out += bytes([c | 0x80])
        else:
            return out + bytes([c])


def s(n, b):  # length-delimited field n
    return varint(n << 3 | 2) + varint(len(b)) + b


def v(n, x):  # varint field n
    return varint(n << 3) + varint(x & ((1 << 64) - 1))


def main():
    d = "testdata/grpc/request_corpus/"
    token = open("testdata/vectors/cca-token-02.cbor", "rb").read()
    cpak = open("testdata/vectors/ta-iak-p256.json", "rb").read()
    corim = open("testdata/vectors/corim-cca-realm-2025.cbor", "rb").read()
    evlog = open("testdata/grpc/t2-qemu-sha256.bin", "rb").read()
    kvm = [b"--realm", b"-c", b"2", b"-m", b"256M"]
    qemu = [b"-M", b"virt,confidential-guest-support=rme0", b"-smp", b"2",
            b"-m", b"512M", b"-object",
            b"rme-guest,id=rme0,measurement-algorithm=sha512"]
    overrides = s(4, v(2, 6) + v(3, 6))
    seeds = {
        "info.bin": b"\x00",
        "compute-kvmtool.bin":
            b"\x01" + v(1, 1) + b"".join(s(2, a) for a in kvm) + overrides,
        "compute-qemu.bin": b"\x01" + v(1, 2) + b"".join(s(2, a) for a in qemu),
        "compute-unknown-vmm.bin": b"\x01" + v(1, 99),
        "compute-compare-log.bin":
            b"\x01" + v(1, 1) + b"".join(s(2, a) for a in kvm) + overrides
            + s(11, evlog),
        # spec-core A.5 #8 (QEMU -cpu pmu=on, 6 counters) searching for
        # A.5 #10's RIM (2 counters): a search that runs and finds one.
        "compute-find-rim.bin":
            b"\x01" + v(1, 2) + s(2, b"-cpu") + s(2, b"pmu=on")
            + s(4, v(1, 52) + v(2, 6) + v(3, 6) + v(5, 6))
            + s(12, bytes.fromhex(
                "ef4e6f78ea9630f66146b33a405a07b669ef94dd9aca6935d4fd23fe"
                "a32f98f964241a2f9a9c20c9fcd74e20031c51c4beb8e577873e0348"
                "e891ee2d727e2807")),
        "replay-t2.bin": b"\x02" + s(1, evlog) + v(3, 1),
        "replay-source-99.bin": b"\x02" + v(3, 99),
        "export-inline.bin":
            b"\x03" + s(1, s(1, b"set") + s(2, v(1, 1) + s(2, b"\x11" * 32)))
            + v(3, 2),
        "provision-corim.bin": b"\x04" + s(1, b"veraison") + s(2, corim),
        "verify-token.bin": b"\x07" + s(1, token) + s(3, cpak) + v(4, 1),
        "appraise-corim.bin": b"\x08" + s(1, token) + s(3, cpak) + s(6, corim),
        "sweep-axes.bin":
            b"\x09" + s(1, v(1, 1) + b"".join(
                s(2, a) for a in [b"--realm", b"-c", b"{cpus}", b"-m", b"256M"])
                + overrides) + s(2, s(1, b"cpus") + s(2, b"1") + s(2, b"2")),
        "cache-stats.bin": b"\x0a",
    }
    for name, data in seeds.items():
        with open(d + name, "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
