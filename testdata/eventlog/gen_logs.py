#!/usr/bin/env python3
"""Builds the event-log test files of spec-eventlog §J.3/§J.4 from their prose
description and checks each against the SHA-256 the spec gives for it.

Run from this directory: python3 gen_logs.py   (writes the files listed in
README.md; fails if any file hash differs from the spec).
"""
import hashlib
import struct
import sys

u16 = lambda v: struct.pack("<H", v)
u32 = lambda v: struct.pack("<I", v)
u64 = lambda v: struct.pack("<Q", v)


def spec_id(algs, vendor=b""):
    data = b"Spec ID Event03\0" + u32(0) + bytes([0, 2, 106, 2]) + u32(len(algs))
    for a, s in algs:
        data += u16(a) + u16(s)
    data += bytes([len(vendor)]) + vendor
    return u32(0) + u32(3) + bytes(20) + u32(len(data)) + data


def event2(pcr, typ, digests, data):
    out = u32(pcr) + u32(typ) + u32(len(digests))
    for a, d in digests:
        out += u16(a) + d
    return out + u32(len(data)) + data


def blob(desc, base, length):
    return bytes([len(desc)]) + desc + u64(base) + u64(length)


def tag(tid, payload):
    return u32(tid) + u32(len(payload)) + payload


def vm_version(name, version, ram, cpus):
    return (b"VM VERSION" + bytes(6) + name.ljust(32, b"\0") +
            version.ljust(40, b"\0") + u64(ram) + u32(cpus) + bytes(4) + u64(0))


FW = b"FW CONTENT"
DTB = b"\xd0\x0d\xfe\xed" + bytes(range(256)) * 8
INITRD = b"INITRD CONTENT" * 300
KERNEL = b"KERNEL CONTENT"


def t2(alg_id, size, hfn, hash_algo):
    h = lambda b: hfn(b).digest()
    A = alg_id
    log = spec_id([(A, size)])
    log += event2(0, 3, [(0, bytes(size))],
                  vm_version(b"QEMU", b"9.2.0", 0x40000000, 2))
    log += event2(0, 6, [], tag(1, u64(6) + bytes([41, 1, 5, 3, 6, hash_algo]) + bytes(2)))
    log += event2(0, 6, [], tag(2, u64(0x40000000) + u64(0x40000000)))
    log += event2(0, 0x8000000A, [(A, h(FW))], blob(b"FIRMWARE", 0, 10))
    log += event2(0, 0x13, [(A, h(DTB))], blob(b"DTB", 0x40000000, 2052))
    log += event2(0, 0x13, [(A, h(INITRD))], blob(b"INITRD", 0x48000FFC, 4200))
    log += event2(0, 6, [], tag(3, u64(1) + u64(0) + u64(0x40000000) + bytes(56)))
    log += event2(0, 0x13, [], blob(b"LOG", 0x48200000, 0x10000))
    log += event2(9, 0x13, [(A, h(KERNEL))], blob(b"KERNEL", 0x41000000, 14))
    log += event2(9, 0x13, [(A, h(INITRD))], blob(b"INITRD", 0x48000FFC, 4200))
    return log + bytes(64)


T1_HEX = """
0000000003000000000000000000000000000000000000000000000025000000
53706563204944204576656e743033000000000000026a02020000000b002000
0d004000000000000003000000010000000b0000000000000000000000000000
0000000000000000000000000000000000000074000000564d2056455253494f
4e0000000000006b766d746f6f6c000000000000000000000000000000000000
0000000000000000000000000000000000000000000000000000000000000000
0000000000000000000000000000000000200000000000000400000000000000
00004000000000800000000000000006000000010000000b0000000000000000
0000000000000000000000000000000000000000000000000016000000010000
000e0000000000000000000000300005030000
"""

EXPECTED = {
    "t1-synthetic.bin":
        "43dbfaa514baf94d97ab54d1ca57de85b7f670f94e356acce5fb034290c45f3c",
    "t2-qemu-sha256.bin":
        "fec294f292c8881df4cd11ddfc8a5d8aec6d6eb5a21c4fcfd58753194fa091fb",
    "t2-qemu-sha512.bin":
        "c6be29587dd43fb7d715ccaba14c45c298f593d7497c5235bab43f2eab6bac06",
}


def main():
    files = {
        "t1-synthetic.bin": bytes.fromhex("".join(T1_HEX.split())),
        "t2-qemu-sha256.bin": t2(0x0B, 32, hashlib.sha256, 0),
        "t2-qemu-sha512.bin": t2(0x0D, 64, hashlib.sha512, 1),
        "images/fw.bin": FW,
        "images/dtb.bin": DTB,
        "images/initrd.bin": INITRD,
        "images/kernel.bin": KERNEL,
    }
    bad = 0
    for name, want in EXPECTED.items():
        got = hashlib.sha256(files[name]).hexdigest()
        if got != want:
            print(f"{name}: sha256 {got}, spec says {want}", file=sys.stderr)
            bad += 1
    if len(files["t2-qemu-sha256.bin"]) != 875 or len(files["t2-qemu-sha512.bin"]) != 1067:
        print("T2 sizes differ from the spec", file=sys.stderr)
        bad += 1
    if bad:
        sys.exit(1)
    import os
    os.makedirs("images", exist_ok=True)
    for name, data in files.items():
        with open(name, "wb") as f:
            f.write(data)
    imgs = [("fw.bin", FW), ("dtb.bin", DTB), ("initrd.bin", INITRD), ("kernel.bin", KERNEL)]
    for fn, ext in ((hashlib.sha256, "SHA256SUMS"), (hashlib.sha512, "SHA512SUMS")):
        with open("images/" + ext, "w") as f:
            for n, d in imgs:
                f.write(f"{fn(d).hexdigest()}  {n}\n")
    write_corpus(files)
    print("ok")


def write_corpus(files):
    """Fuzz seeds: the spec logs plus small logs covering other paths."""
    import os
    os.makedirs("corpus", exist_ok=True)
    sha = lambda b: hashlib.sha256(b).digest()
    seeds = {
        "t1": files["t1-synthetic.bin"],
        "t2-sha256": files["t2-qemu-sha256.bin"],
        "t2-sha512": files["t2-qemu-sha512.bin"],
        "realm-bootlog": open("realm-bootlog.bin", "rb").read(),
    }
    # EDK2-style CC event log: MR indices, EFI events, 0xFF-filled tail.
    action = b"Calling EFI Application from Boot Option"
    var = bytes(16) + u64(2) + u64(1) + "SB".encode("utf-16-le") + b"\x01"
    image = u64(0x1000) + u64(0x2000) + u64(0) + u64(4) + u32(0x7FFF0004)
    crtm = "v1".encode("utf-16-le") + bytes(2)
    seeds["edk2-ccel"] = (
        spec_id([(0x0B, 32)]) +
        event2(1, 0x8, [(0x0B, sha(crtm))], crtm) +
        event2(1, 0x80000001, [(0x0B, sha(var))], var) +
        event2(1, 0x4, [(0x0B, sha(bytes(4)))], bytes(4)) +
        event2(2, 0x80000007, [(0x0B, sha(action))], action) +
        event2(2, 0x80000003, [(0x0B, bytes(32))], image) +
        event2(3, 0x6, [(0x0B, sha(b"x"))], tag(0x8F3B22EC, b"Linux initrd\0")) +
        event2(4, 0x6, [(0x0B, sha(b"y"))],
               tag(0x8F3B22ED, b"LOADED_IMAGE::LoadOptions\0")) +
        b"\xff" * 64)
    # Legacy SHA-1 log.
    leg = lambda pcr, t, d, data: u32(pcr) + u32(t) + d + u32(len(data)) + data
    seeds["legacy-sha1"] = (
        leg(0, 0x6, bytes(20), tag(1, u64(0) + bytes([40, 0, 5, 3, 0, 0]) + bytes(2))) +
        leg(0, 0x13, bytes(range(20)), blob(b"KERNEL", 0x80000000, 14)) + bytes(32))
    # Two algorithms, SHA-256 + SHA-512, kvmtool shape with 64 KiB alignment.
    a2 = [(0x0B, 32), (0x0D, 64)]
    both = lambda b: [(0x0B, hashlib.sha256(b).digest()), (0x0D, hashlib.sha512(b).digest())]
    seeds["kvmtool-two-algs"] = (
        spec_id(a2) +
        event2(0, 3, [(0, bytes(32)), (0, bytes(64))],
               vm_version(b"kvmtool", b"3.18.0", 0x20000000, 4)) +
        event2(0, 6, [], tag(1, u64(7) + bytes([52, 3, 5, 3, 6, 1]) + bytes(2))) +
        event2(0, 6, [], tag(2, u64(0x80000000) + u64(0x20000000))) +
        event2(0, 0x13, both(KERNEL), blob(b"KERNEL", 0x80000000, 14)) +
        event2(0, 0x13, both(INITRD), blob(b"INITRD", 0x8FE00000 - 4200, 4200)) +
        event2(0, 0x13, both(DTB), blob(b"DTB", 0x8FE00000, 2052)) +
        event2(0, 6, [], tag(3, u64(1) + u64(0x80000000) + u64(0x8FE00000) + bytes(56))) +
        event2(0, 0x13, [], blob(b"LOG", 0x8FF00000, 0x10000)) +
        bytes(16))
    for name, data in seeds.items():
        with open(f"corpus/{name}.bin", "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
