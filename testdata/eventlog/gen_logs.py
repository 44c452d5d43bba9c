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
    print("ok")


if __name__ == "__main__":
    main()
