#include "measure/realm_config.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "measure/engine.h"

namespace realm_measurements::measure {
namespace {

// Vectors: spec-core Appendix A traces (first 32 bytes of SHA-256 RIMs) and
// deviations.md C1 (REM chaining; values computed with Python's hashlib from
// the formula, independently of this code).

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
}

void WriteFile(const std::string& path, const std::string& data) {
  FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(std::fwrite(data.data(), 1, data.size(), f), data.size());
  std::fclose(f);
}

std::vector<uint8_t> Bytes(absl::string_view s) {
  return std::vector<uint8_t>(s.begin(), s.end());
}

Blob MakeBlob(std::string name, uint64_t start, Payload p) {
  Blob b{std::move(name), start, 0, std::move(p)};
  return b;
}

// 32-byte prefix of a SHA-256 measurement; the rest must be zero.
std::string Sha256Hex(const Measurement& m) {
  std::string hex = ToHex(m);
  EXPECT_EQ(hex.substr(64), std::string(64, '0'));
  return hex.substr(0, 64);
}

HostCaps Caps(uint8_t ipa, uint8_t bps, uint8_t wps) {
  HostCaps c;
  c.ipa_bits = ipa;
  c.num_bps = bps;
  c.num_wps = wps;
  return c;
}

// spec-core A.4 #1 (kvmtool, firmware "FW CONTENT" at the RAM base).
RealmConfig KvmtoolFirmwareConfig() {
  RealmConfig c(Caps(33, 6, 6));
  c.set_hash_algorithm(HashAlgorithm::kSha256);
  EXPECT_TRUE(c.AddRam(0x80000000, 512 << 20).ok());
  return c;
}

TEST(ComputeMeasurements, RealmCreateOnly) {
  RealmConfig c(Caps(33, 6, 6));
  c.set_hash_algorithm(HashAlgorithm::kSha256);
  absl::StatusOr<Measurements> m = ComputeMeasurements(c);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(Sha256Hex(m->rim),
            "9abbddd3cf68930801ba9475b12b0036bf43bd1399a161b178751d2f7b2880c3");
}

TEST(ComputeMeasurements, RipasThenFirmwareGranule) {
  RealmConfig c = KvmtoolFirmwareConfig();
  absl::StatusOr<Measurements> m = ComputeMeasurements(c);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(Sha256Hex(m->rim),
            "365183bedfd6b2b008421cd9987384ebad20438e6cb3a9a1b6dbdfef3ca1aec7");

  const std::string fw = TempPath("firmware");
  WriteFile(fw, "FW CONTENT");
  ASSERT_TRUE(
      c.AddRimBlob(MakeBlob("firmware", 0x80000000, Payload::FromFile(fw)))
          .ok());
  m = ComputeMeasurements(c);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(Sha256Hex(m->rim),
            "e7bb6d28bf8034d7764da637acace2409ce2fd9148c83679c307ac4c31e3fc9c");
  for (int i = 0; i < 4; ++i) EXPECT_EQ(m->rem[i], Measurement{});
}

// spec-core A.6 #4/#5: QEMU direct kernel boot, blobs in ascending address.
TEST(ComputeMeasurements, QemuKernelAndInitrdInAddressOrder) {
  RealmConfig c(Caps(41, 6, 6));
  c.set_hash_algorithm(HashAlgorithm::kSha256);
  ASSERT_TRUE(c.AddRam(0x40000000, 1 << 30).ok());
  // Registered out of order on purpose: the replay sorts by address.
  ASSERT_TRUE(c.AddRimBlob(MakeBlob("initrd", 0x48000000,
                                    Payload::FromBytes(
                                        "initrd", Bytes("INITRD CONTENT"))))
                  .ok());
  absl::StatusOr<Measurements> m = ComputeMeasurements(c);
  ASSERT_TRUE(m.ok());
  RealmConfig k(Caps(41, 6, 6));
  k.set_hash_algorithm(HashAlgorithm::kSha256);
  ASSERT_TRUE(k.AddRam(0x40000000, 1 << 30).ok());
  ASSERT_TRUE(k.AddRimBlob(MakeBlob("kernel", 0x40000000,
                                    Payload::FromFile(
                                        "testdata/vectors/reference-testdata/"
                                        "linux.bin")))
                  .ok());
  m = ComputeMeasurements(k);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(Sha256Hex(m->rim),
            "85ccbbf042aba1bcb90eff31e0464f51043db909b3917ff2fc70f3fc85cdd47e");
  ASSERT_TRUE(k.AddRimBlob(MakeBlob("initrd", 0x48000000,
                                    Payload::FromBytes(
                                        "initrd", Bytes("INITRD CONTENT"))))
                  .ok());
  m = ComputeMeasurements(k);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(Sha256Hex(m->rim),
            "438eebf59ccefc5d96d67ba8f6806741b0f7cc2ace30080bf489572e370c215f");
}

// spec-core §4.5: a blob at an unaligned address is the same as a blob at
// the aligned-down address prefixed with zeros. Crosses 1 MiB read chunks.
TEST(ComputeMeasurements, UnalignedBlobIsZeroFilledAcrossChunks) {
  std::string data;
  for (int i = 0; i < (3 << 20) + 17; ++i) {
    data.push_back(static_cast<char>((i * 131) >> 3));
  }
  const std::string path = TempPath("big-blob");
  WriteFile(path, data);
  auto rim = [&](uint64_t start, Payload p) {
    RealmConfig c(Caps(41, 6, 6));
    c.set_hash_algorithm(HashAlgorithm::kSha512);
    EXPECT_TRUE(c.AddRam(0x40000000, 1 << 30).ok());
    EXPECT_TRUE(c.AddRimBlob(MakeBlob("b", start, std::move(p))).ok());
    absl::StatusOr<Measurements> m = ComputeMeasurements(c);
    EXPECT_TRUE(m.ok()) << m.status();
    return m.ok() ? m->rim : Measurement{};
  };
  const Measurement unaligned = rim(0x40000123, Payload::FromFile(path));
  const Measurement padded =
      rim(0x40000000,
          Payload::FromBytes("p", Bytes(std::string(0x123, '\0') + data)));
  EXPECT_EQ(ToHex(unaligned), ToHex(padded));
  // Trailing zero fill: explicit zeros up to the granule end change nothing.
  const size_t tail = (0x1000 - (0x123 + data.size()) % 0x1000) % 0x1000;
  const Measurement padded_both =
      rim(0x40000000,
          Payload::FromBytes("p", Bytes(std::string(0x123, '\0') + data +
                                        std::string(tail, '\0'))));
  EXPECT_EQ(ToHex(unaligned), ToHex(padded_both));
}

TEST(ComputeMeasurements, EmptyBlobs) {
  RealmConfig base = KvmtoolFirmwareConfig();
  absl::StatusOr<Measurements> ripas_only = ComputeMeasurements(base);
  ASSERT_TRUE(ripas_only.ok());
  // Empty at an aligned address: nothing measured.
  RealmConfig a = KvmtoolFirmwareConfig();
  ASSERT_TRUE(
      a.AddRimBlob(MakeBlob("e", 0x80000000, Payload::FromBytes("e", {})))
          .ok());
  EXPECT_EQ(ComputeMeasurements(a)->rim, ripas_only->rim);
  // Empty at an unaligned address: one zero granule, like 4096 zero bytes.
  RealmConfig u = KvmtoolFirmwareConfig();
  ASSERT_TRUE(
      u.AddRimBlob(MakeBlob("e", 0x80000010, Payload::FromBytes("e", {})))
          .ok());
  RealmConfig z = KvmtoolFirmwareConfig();
  ASSERT_TRUE(z.AddRimBlob(MakeBlob("z", 0x80000000,
                                    Payload::FromBytes(
                                        "z", std::vector<uint8_t>(4096, 0))))
                  .ok());
  EXPECT_EQ(ComputeMeasurements(u)->rim, ComputeMeasurements(z)->rim);
  EXPECT_NE(ComputeMeasurements(u)->rim, ripas_only->rim);
}

// deviations.md C1: REM = H(REM_old[0:L] || H(blob)[0:L]), kernel then
// initrd. Expected values from Python hashlib.
TEST(ComputeMeasurements, RemBlobsChainAsTfRmm) {
  RealmConfig c(Caps(41, 6, 6));
  c.set_hash_algorithm(HashAlgorithm::kSha256);
  ASSERT_TRUE(c.AddRam(0x40000000, 1 << 30).ok());
  c.AddRemBlob(0, MakeBlob("kernel", 0,
                           Payload::FromFile("testdata/vectors/"
                                             "reference-testdata/linux.bin")));
  absl::StatusOr<Measurements> m = ComputeMeasurements(c);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(Sha256Hex(m->rem[0]),
            "c7f33e8bb0e50acac6ab7fa35a567f8a913ec37d245c73519cff128141b41ac1");
  c.AddRemBlob(0,
               MakeBlob("initrd", 0,
                        Payload::FromBytes("initrd", Bytes("INITRD CONTENT"))));
  m = ComputeMeasurements(c);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(Sha256Hex(m->rem[0]),
            "5d2864a37670901c5899b15e98f8f0e642db17075bd54edf9d9e1c35bac2b70c");
  EXPECT_EQ(m->rem[1], Measurement{});

  RealmConfig s(Caps(41, 6, 6));
  s.set_hash_algorithm(HashAlgorithm::kSha512);
  ASSERT_TRUE(s.AddRam(0x40000000, 1 << 30).ok());
  s.AddRemBlob(2, MakeBlob("kernel", 0,
                           Payload::FromFile("testdata/vectors/"
                                             "reference-testdata/linux.bin")));
  m = ComputeMeasurements(s);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(ToHex(m->rem[2]),
            "173b1b06b0625b4581a4eca1ac22e487455693ad03e0c5bba40f2f261f3f0890"
            "564f7e2e5d8a9d927c8107001f73667ff249a4df486277822b537611a3f4c481");
}

// MeasureOptions::cancel: polled every 256 granules of a RIM blob and per
// 1 MiB chunk of a REM blob; its status stops the run unchanged, and a hook
// that never stops changes nothing.
TEST(ComputeMeasurements, CancelHookStopsBetweenGranules) {
  const std::vector<uint8_t> data(8 << 20, 0x5a);  // 2048 granules
  auto config = [&](bool rem) {
    RealmConfig c(Caps(41, 6, 6));
    c.set_hash_algorithm(HashAlgorithm::kSha256);
    EXPECT_TRUE(c.AddRam(0x40000000, 1 << 30).ok());
    if (rem) {
      c.AddRemBlob(0, MakeBlob("initrd", 0, Payload::FromBytes("i", data)));
    } else {
      EXPECT_TRUE(
          c.AddRimBlob(MakeBlob("k", 0x40000000, Payload::FromBytes("k", data)))
              .ok());
    }
    return c;
  };
  for (bool rem : {false, true}) {
    SCOPED_TRACE(rem ? "REM blob" : "RIM blob");
    int polls = 0;
    MeasureOptions stop;
    stop.cancel = [&polls]() {
      return ++polls < 3 ? absl::OkStatus() : absl::CancelledError("gone");
    };
    EXPECT_EQ(ComputeMeasurements(config(rem), stop).status(),
              absl::CancelledError("gone"));
    EXPECT_EQ(polls, 3);

    polls = 0;
    MeasureOptions go;
    go.cancel = [&polls]() {
      ++polls;
      return absl::OkStatus();
    };
    absl::StatusOr<Measurements> with = ComputeMeasurements(config(rem), go);
    absl::StatusOr<Measurements> without = ComputeMeasurements(config(rem));
    ASSERT_TRUE(with.ok()) << with.status();
    ASSERT_TRUE(without.ok()) << without.status();
    EXPECT_EQ(with->rim, without->rim);
    EXPECT_EQ(with->rem[0], without->rem[0]);
    EXPECT_EQ(polls, 8);  // 2048 granules / 256, or 8 chunks of 1 MiB
  }
}

// spec-core A.2: a missing firmware file fails only when measured.
TEST(ComputeMeasurements, MissingFileIsAVmmError) {
  RealmConfig c = KvmtoolFirmwareConfig();
  ASSERT_TRUE(c.AddRimBlob(MakeBlob("firmware", 0x80000000,
                                    Payload::FromFile("nonexistent-file")))
                  .ok());
  EXPECT_TRUE(c.Validate().ok());  // unreadable: left to the measurement
  absl::StatusOr<Measurements> m = ComputeMeasurements(c);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().message(),
            "VMM: file nonexistent-file error: No such file or directory (os "
            "error 2)");
  RealmConfig r = KvmtoolFirmwareConfig();
  r.AddRemBlob(0, MakeBlob("kernel", 0, Payload::FromFile("nonexistent-file")));
  EXPECT_EQ(ComputeMeasurements(r).status().message(),
            "VMM: file nonexistent-file error: No such file or directory (os "
            "error 2)");
}

TEST(ResolveParams, MissingFieldsInSpecOrder) {
  RealmConfig c{HostCaps{}};
  EXPECT_EQ(c.ResolveParams().status().message(),
            "hash algorithm is not known: the VMM arguments select it (e.g. "
            "kvmtool --measurement-algo sha256)");
  c.set_hash_algorithm(HashAlgorithm::kSha512);
  EXPECT_EQ(c.ResolveParams().status().message(),
            "ipa_bits is not known: give the host's IPA width in bits with "
            "--ipa-bits N or `ipa_bits = N` in a -c config file (e.g. -c "
            "configs/fvp.conf)");
  c.caps().ipa_bits = 41;
  EXPECT_EQ(
      c.ResolveParams().status().message(),
      "num_wps is not known: give the host's watchpoint count with --num-wps N "
      "or `num_wps = N` in a -c config file (e.g. -c configs/fvp.conf)");
  c.caps().num_wps = 2;
  EXPECT_EQ(
      c.ResolveParams().status().message(),
      "num_bps is not known: give the host's breakpoint count with --num-bps N "
      "or `num_bps = N` in a -c config file (e.g. -c configs/fvp.conf)");
  c.caps().num_bps = 3;
  c.caps().pmu_num_ctrs = 7;  // ignored while the PMU is off
  absl::StatusOr<RealmCreateParams> p = c.ResolveParams();
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->pmu);
  EXPECT_EQ(p->pmu_num_ctrs, 0);
  EXPECT_EQ(p->sve_vl, 0);
  c.caps().pmu = true;
  c.caps().pmu_num_ctrs.reset();
  EXPECT_EQ(c.ResolveParams().status().message(),
            "pmu_num_ctrs is not known: give the host's PMU counter count (the "
            "PMU is on) with --pmu-num-ctrs N or `pmu_num_ctrs = N` in a -c "
            "config file (e.g. -c configs/fvp.conf)");
  c.caps().pmu_num_ctrs = 4;
  c.caps().sve_vl = 512;
  c.caps().lpa2 = true;
  p = c.ResolveParams();
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->hash_algorithm, HashAlgorithm::kSha512);
  EXPECT_EQ(p->ipa_bits, 41);
  EXPECT_EQ(p->num_bps, 3);
  EXPECT_EQ(p->num_wps, 2);
  EXPECT_TRUE(p->pmu);
  EXPECT_EQ(p->pmu_num_ctrs, 4);
  EXPECT_EQ(p->sve_vl, 512);
  EXPECT_TRUE(p->lpa2);
}

TEST(Registration, DuplicatesAndRecErrors) {
  RealmConfig c{HostCaps{}};
  ASSERT_TRUE(c.AddRam(0x80000000, 1).ok());
  EXPECT_EQ(c.AddRam(0x80000000, 2).message(),
            "invalid VM configuration: duplicate RAM range at 2147483648");
  ASSERT_TRUE(
      c.AddRimBlob(MakeBlob("kernel", 0x80000000, Payload::FromBytes("k", {1})))
          .ok());
  EXPECT_EQ(c.AddRimBlob(
                 MakeBlob("firmware", 0x80000000, Payload::FromBytes("f", {1})))
                .message(),
            "invalid VM configuration: duplicate blob at 2147483648");
  ASSERT_TRUE(c.AddRec(RecParams{}).ok());
  EXPECT_EQ(c.AddRec(RecParams{}).message(),
            "invalid VM configuration: only one REC is supported");
}

TEST(PersonalizationValue, RawAndBase64) {
  RealmConfig c{HostCaps{}};
  ASSERT_TRUE(c.SetPersonalizationValue(Bytes("hello")).ok());
  EXPECT_EQ(ToHex(c.personalization_value()).substr(0, 12), "68656c6c6f00");
  EXPECT_EQ(c.SetPersonalizationValue(std::vector<uint8_t>(65, 1)).message(),
            "Realm Personalization Value is too large");
  ASSERT_TRUE(c.SetPersonalizationValueBase64("AQ==").ok());
  EXPECT_EQ(ToHex(c.personalization_value()), "01" + std::string(126, '0'));
  ASSERT_TRUE(c.SetPersonalizationValueBase64("Crw=").ok());
  EXPECT_EQ(ToHex(c.personalization_value()), "0abc" + std::string(124, '0'));
  ASSERT_TRUE(c.SetPersonalizationValueBase64("").ok());
  EXPECT_EQ(c.personalization_value(), Measurement{});
  EXPECT_EQ(c.SetPersonalizationValueBase64("&+").message(),
            "invalid Realm Personalization Value: Invalid symbol 38, offset "
            "0.");
  EXPECT_EQ(c.SetPersonalizationValueBase64("AQ").message(),
            "invalid Realm Personalization Value: Invalid padding");
  // 88 characters decoding to 65 bytes.
  const std::string b65 = absl::Base64Escape(std::string(65, 'x'));
  ASSERT_EQ(b65.size(), 88u);
  EXPECT_EQ(c.SetPersonalizationValueBase64(b65).message(),
            "Realm Personalization Value is too large");
}

RealmConfig ValidBase() {
  RealmConfig c(Caps(41, 6, 6));
  c.set_hash_algorithm(HashAlgorithm::kSha512);
  EXPECT_TRUE(c.AddRam(0x40000000, 128 << 20).ok());
  return c;
}

TEST(Validate, AcceptsBlobsInsideRam) {
  RealmConfig c = ValidBase();
  ASSERT_TRUE(c.AddRimBlob(MakeBlob("kernel", 0x40000000,
                                    Payload::FromBytes(
                                        "k", std::vector<uint8_t>(5000, 1))))
                  .ok());
  // Next granule after the kernel's last (partial) one.
  ASSERT_TRUE(
      c.AddRimBlob(MakeBlob("dtb", 0x40002000, Payload::FromBytes("d", {1, 2})))
          .ok());
  c.AddRimUnmeasured(0x40100000, 0x10000);
  EXPECT_TRUE(c.Validate().ok()) << c.Validate();
}

TEST(Validate, RejectsBlobOutsideRam) {
  RealmConfig c = ValidBase();
  ASSERT_TRUE(c.AddRimBlob(MakeBlob("initrd", 0x47fff000,
                                    Payload::FromBytes(
                                        "i", std::vector<uint8_t>(4097, 1))))
                  .ok());
  EXPECT_EQ(c.Validate().message(),
            "invalid VM configuration: initrd [0x47fff000, 0x48000001) lies "
            "outside guest RAM");
}

TEST(Validate, FlashFirmwareAllowedBelowFlashLimitOnly) {
  RealmConfig c = ValidBase();
  Blob fw = MakeBlob("firmware", 0, Payload::FromBytes("f", {1, 2, 3}));
  ASSERT_TRUE(c.AddRimBlob(fw).ok());
  EXPECT_FALSE(c.Validate().ok());  // not marked: outside RAM
  RealmConfig f = ValidBase();
  fw.in_flash = true;
  ASSERT_TRUE(f.AddRimBlob(fw).ok());
  EXPECT_TRUE(f.Validate().ok()) << f.Validate();
  RealmConfig big = ValidBase();
  Blob huge = MakeBlob("firmware", 0x07fff000,
                       Payload::FromBytes("f", std::vector<uint8_t>(4097, 0)));
  huge.in_flash = true;
  ASSERT_TRUE(big.AddRimBlob(huge).ok());
  EXPECT_EQ(big.Validate().message(),
            "invalid VM configuration: firmware [0x7fff000, 0x8000001) does "
            "not fit in the flash area, which ends at 0x8000000");
}

TEST(Validate, RejectsGranuleOverlap) {
  RealmConfig c = ValidBase();
  ASSERT_TRUE(c.AddRimBlob(MakeBlob("kernel", 0x40000000,
                                    Payload::FromBytes(
                                        "k", std::vector<uint8_t>(4097, 1))))
                  .ok());
  // Starts in the kernel's second granule (bytes do not overlap).
  ASSERT_TRUE(
      c.AddRimBlob(MakeBlob("initrd", 0x40001800, Payload::FromBytes("i", {1})))
          .ok());
  EXPECT_EQ(c.Validate().message(),
            "invalid VM configuration: initrd [0x40001800, 0x40001801) "
            "overlaps kernel [0x40000000, 0x40001001) (granule granularity)");
  RealmConfig u = ValidBase();
  ASSERT_TRUE(
      u.AddRimBlob(MakeBlob("dtb", 0x40100000, Payload::FromBytes("d", {1})))
          .ok());
  u.AddRimUnmeasured(0x400ff000, 0x2000);
  EXPECT_FALSE(u.Validate().ok());
}

TEST(Validate, RejectsEmptyAndZeroRam) {
  RealmConfig none(Caps(41, 6, 6));
  EXPECT_EQ(none.Validate().message(),
            "invalid VM configuration: the VM has no RAM");
  RealmConfig zero(Caps(41, 6, 6));
  ASSERT_TRUE(zero.AddRam(0x80000000, 0).ok());
  EXPECT_EQ(zero.Validate().message(),
            "invalid VM configuration: RAM range at 0x80000000 has size 0");
}

TEST(Validate, IpaWidth) {
  // The VMM's requirement (QEMU: 41) against a host restricted to 40.
  RealmConfig q(Caps(40, 6, 6));
  ASSERT_TRUE(q.AddRam(0x40000000, 1025u << 20).ok());
  EXPECT_TRUE(q.Validate().ok());
  q.RequireIpaBits(41);
  EXPECT_EQ(q.Validate().message(),
            "invalid VM configuration: IPA width 40 bits (after host "
            "capabilities) is too small: the VMM memory map needs 41 bits");
  // RAM must fit in the protected half: 33 bits cover up to 4 GiB.
  RealmConfig k(Caps(33, 6, 6));
  ASSERT_TRUE(k.AddRam(0x80000000, 0x80000000).ok());
  EXPECT_TRUE(k.Validate().ok());
  RealmConfig k2(Caps(33, 6, 6));
  ASSERT_TRUE(k2.AddRam(0x80000000, 0x80001000).ok());
  EXPECT_EQ(k2.Validate().message(),
            "invalid VM configuration: IPA width 33 bits is too small: guest "
            "memory ends at 0x100001000, above the protected IPA limit "
            "0x100000000");
  // Unknown IPA width: left to ResolveParams ("ipa_bits is not known").
  RealmConfig u{HostCaps{}};
  ASSERT_TRUE(u.AddRam(0x80000000, 1 << 20).ok());
  EXPECT_TRUE(u.Validate().ok());
}

}  // namespace
}  // namespace realm_measurements::measure
