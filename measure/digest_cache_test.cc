#include "measure/digest_cache.h"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "measure/engine.h"
#include "measure/granule_hasher.h"
#include "measure/payload.h"
#include "measure/realm_config.h"

namespace realm_measurements::measure {
namespace {

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

std::shared_ptr<const GranuleDigests> Entry(size_t n, uint8_t fill) {
  return std::make_shared<const GranuleDigests>(n, fill);
}

TEST(PayloadIdentity, BytesAreKeyedByContentSha256) {
  absl::StatusOr<std::string> id =
      PayloadIdentity(Payload::FromBytes("x", {'a', 'b', 'c'}));
  ASSERT_TRUE(id.ok());
  // FIPS 180-2 B.1: SHA-256("abc").
  EXPECT_EQ(*id,
            "sha256:"
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // Same bytes under another name: same identity.
  EXPECT_EQ(*PayloadIdentity(Payload::FromBytes("y", {'a', 'b', 'c'})), *id);
}

TEST(PayloadIdentity, FilesAreKeyedByFileIdentity) {
  const std::string path = TempPath("dc-file");
  WriteFile(path, "one");
  absl::StatusOr<std::string> a = PayloadIdentity(Payload::FromFile(path));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->rfind("file:", 0), 0u);
  EXPECT_EQ(*PayloadIdentity(Payload::FromFile(path)), *a);
  WriteFile(path, "other");
  EXPECT_NE(*PayloadIdentity(Payload::FromFile(path)), *a);
  EXPECT_EQ(
      PayloadIdentity(Payload::FromFile(TempPath("none"))).status().code(),
      absl::StatusCode::kNotFound);
}

TEST(DigestCache, KeyHasAllThreeParts) {
  DigestCache cache(1000);
  DigestKey k{"id", 0, HashAlgorithm::kSha256};
  cache.Insert(k, Entry(64, 1));
  EXPECT_NE(cache.Find(k), nullptr);
  EXPECT_EQ(cache.Find(DigestKey{"id", 4, HashAlgorithm::kSha256}), nullptr);
  EXPECT_EQ(cache.Find(DigestKey{"id", 0, HashAlgorithm::kSha512}), nullptr);
  EXPECT_EQ(cache.Find(DigestKey{"id2", 0, HashAlgorithm::kSha256}), nullptr);
  EXPECT_EQ(cache.hits(), 1u);
  EXPECT_EQ(cache.misses(), 3u);
}

TEST(DigestCache, BoundedWithLruEviction) {
  DigestCache cache(300);
  DigestKey a{"a", 0, HashAlgorithm::kSha256};
  DigestKey b{"b", 0, HashAlgorithm::kSha256};
  DigestKey c{"c", 0, HashAlgorithm::kSha256};
  cache.Insert(a, Entry(100, 1));
  cache.Insert(b, Entry(100, 2));
  std::shared_ptr<const GranuleDigests> held = cache.Find(a);  // a is recent
  cache.Insert(c, Entry(150, 3));  // evicts b (least recent)
  EXPECT_LE(cache.bytes(), 300u);
  EXPECT_EQ(cache.entries(), 2u);
  EXPECT_NE(cache.Find(a), nullptr);
  EXPECT_EQ(cache.Find(b), nullptr);
  EXPECT_NE(cache.Find(c), nullptr);
  // Too large for the cache: not kept, nothing evicted.
  cache.Insert(DigestKey{"d", 0, HashAlgorithm::kSha256}, Entry(301, 4));
  EXPECT_EQ(cache.entries(), 2u);
  // Replacing an entry keeps the byte count right.
  cache.Insert(a, Entry(50, 5));
  EXPECT_EQ(cache.bytes(), 200u);
  EXPECT_EQ((*cache.Find(a))[0], 5);
  // An evicted entry stays valid for whoever holds it.
  cache.Insert(DigestKey{"e", 0, HashAlgorithm::kSha256}, Entry(300, 6));
  ASSERT_NE(held, nullptr);
  EXPECT_EQ(held->size(), 100u);
  EXPECT_EQ((*held)[99], 1);
}

HostCaps Caps(uint8_t ipa) {
  HostCaps c;
  c.ipa_bits = ipa;
  c.num_bps = 6;
  c.num_wps = 6;
  return c;
}

// spec-core A.6 #4 (QEMU direct boot, reference linux.bin at 0x4000_0000):
// the RIM is the same cold, from the cache, and with any thread count.
TEST(ComputeMeasurementsWithCache, SpecVectorColdAndWarm) {
  RealmConfig k(Caps(41));
  k.set_hash_algorithm(HashAlgorithm::kSha256);
  ASSERT_TRUE(k.AddRam(0x40000000, 1 << 30).ok());
  Blob kernel;
  kernel.name = "kernel";
  kernel.guest_start = 0x40000000;
  kernel.payload =
      Payload::FromFile("testdata/vectors/reference-testdata/linux.bin");
  ASSERT_TRUE(k.AddRimBlob(std::move(kernel)).ok());
  const std::string want =
      "85ccbbf042aba1bcb90eff31e0464f51043db909b3917ff2fc70f3fc85cdd47e";
  DigestCache cache;
  for (int threads : {1, 2, 3}) {
    GranuleHasher hasher(GranuleHasherOptions{threads, 1, 2});
    for (int round = 0; round < 2; ++round) {
      SCOPED_TRACE(absl::StrCat("threads ", threads, " round ", round));
      absl::StatusOr<Measurements> m =
          ComputeMeasurements(k, MeasureOptions{&hasher, &cache});
      ASSERT_TRUE(m.ok()) << m.status();
      EXPECT_EQ(ToHex(m->rim).substr(0, 64), want);
    }
  }
  // Same realm, same blob: the later runs reuse the whole chain segment.
  EXPECT_EQ(cache.misses(), 1u);
  EXPECT_EQ(cache.chain_hits(), 5u);
  EXPECT_EQ(cache.entries(), 1u);
}

// The offset inside the granule is part of the key: the same bytes at two
// leads give two entries, each matching the uncached result.
TEST(ComputeMeasurementsWithCache, SameBytesAtTwoOffsets) {
  std::vector<uint8_t> data(3 * 4096 + 100);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i);
  DigestCache cache;
  // The third realm has more RAM, so another RIM before the blob: no chain
  // segment to reuse, but the granule digests are.
  const std::pair<uint64_t, uint64_t> cases[] = {{0x40000000, 1ull << 30},
                                                 {0x40000004, 1ull << 30},
                                                 {0x40000000, 2ull << 30}};
  for (const auto& [start, ram] : cases) {
    RealmConfig c(Caps(41));
    c.set_hash_algorithm(HashAlgorithm::kSha512);
    ASSERT_TRUE(c.AddRam(0x40000000, ram).ok());
    Blob b;
    b.name = "initrd";
    b.guest_start = start;
    b.payload = Payload::FromBytes("initrd", data);
    ASSERT_TRUE(c.AddRimBlob(std::move(b)).ok());
    absl::StatusOr<Measurements> plain = ComputeMeasurements(c);
    absl::StatusOr<Measurements> cached =
        ComputeMeasurements(c, MeasureOptions{nullptr, &cache});
    ASSERT_TRUE(plain.ok() && cached.ok());
    EXPECT_EQ(plain->rim, cached->rim);
  }
  EXPECT_EQ(cache.entries(), 2u);
  EXPECT_EQ(cache.hits(), 1u);
  EXPECT_EQ(cache.chain_hits(), 0u);
}

// A file error through the cache path keeps the reference wording.
TEST(ComputeMeasurementsWithCache, MissingFileIsAVmmError) {
  RealmConfig c(Caps(33));
  c.set_hash_algorithm(HashAlgorithm::kSha256);
  ASSERT_TRUE(c.AddRam(0x80000000, 512 << 20).ok());
  Blob b;
  b.name = "firmware";
  b.guest_start = 0x80000000;
  b.payload = Payload::FromFile(TempPath("missing-fw"));
  ASSERT_TRUE(c.AddRimBlob(std::move(b)).ok());
  DigestCache cache;
  for (DigestCache* dc : {static_cast<DigestCache*>(nullptr), &cache}) {
    absl::StatusOr<Measurements> m =
        ComputeMeasurements(c, MeasureOptions{nullptr, dc});
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.status().message(),
              absl::StrCat("VMM: file ", TempPath("missing-fw"),
                           " error: No such file or directory (os error 2)"));
  }
}

// Chain segments: a blob measured from the same RIM is reused whole; a
// different RIM before it (other RAM size) or other bytes never hit.
TEST(ComputeMeasurementsWithCache, ChainSegmentsReusedOnlyForSamePrefix) {
  std::vector<uint8_t> first(5 * 4096 + 3), second(4096 + 1);
  for (size_t i = 0; i < first.size(); ++i) first[i] = static_cast<uint8_t>(i);
  auto config = [&](uint64_t ram, uint8_t tag) {
    RealmConfig c(Caps(41));
    c.set_hash_algorithm(HashAlgorithm::kSha256);
    EXPECT_TRUE(c.AddRam(0x40000000, ram).ok());
    Blob a;
    a.name = "kernel";
    a.guest_start = 0x40000000;
    a.payload = Payload::FromBytes("kernel", first);
    EXPECT_TRUE(c.AddRimBlob(std::move(a)).ok());
    Blob b;
    b.name = "dtb";
    b.guest_start = 0x48000000;
    std::vector<uint8_t> v = second;
    v[0] = tag;
    b.payload = Payload::FromBytes("DTB", v);
    EXPECT_TRUE(c.AddRimBlob(std::move(b)).ok());
    return c;
  };
  DigestCache cache;
  struct Shape {
    uint64_t ram;
    uint8_t tag;
    uint64_t chain_hits_after;
  };
  const Shape shapes[] = {
      {1 << 30, 1, 0},   // cold
      {1 << 30, 2, 1},   // same prefix: the kernel segment is reused
      {1 << 30, 1, 3},   // identical shape: both segments reused
      {2u << 30, 1, 3},  // other RAM: other RIM before the kernel
  };
  for (const Shape& sh : shapes) {
    RealmConfig c = config(sh.ram, sh.tag);
    absl::StatusOr<Measurements> plain = ComputeMeasurements(c);
    absl::StatusOr<Measurements> cached =
        ComputeMeasurements(c, MeasureOptions{nullptr, &cache});
    ASSERT_TRUE(plain.ok() && cached.ok());
    EXPECT_EQ(ToHex(plain->rim), ToHex(cached->rim));
    EXPECT_EQ(cache.chain_hits(), sh.chain_hits_after);
  }
  EXPECT_EQ(cache.chain_entries(), 5u);
}

}  // namespace
}  // namespace realm_measurements::measure
