#include "measure/granule_hasher.h"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/crypto.h"
#include "gtest/gtest.h"
#include "measure/engine.h"
#include "measure/payload.h"

namespace realm_measurements::measure {
namespace {

std::vector<uint8_t> Pattern(size_t n, uint32_t seed) {
  std::vector<uint8_t> v(n);
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    v[i] = static_cast<uint8_t>(x);
  }
  return v;
}

// Independent reference: lay the content out at `lead` in zero-filled whole
// granules and hash each one with the one-shot API.
std::vector<Measurement> Reference(const std::vector<uint8_t>& data,
                                   size_t lead, HashAlgorithm a) {
  const size_t total = lead + data.size();
  const size_t granules = (total + kGranuleSize - 1) / kGranuleSize;
  std::vector<uint8_t> image(granules * kGranuleSize, 0);
  std::copy(data.begin(), data.end(), image.begin() + lead);
  std::vector<Measurement> out;
  for (size_t g = 0; g < granules; ++g) {
    absl::StatusOr<std::vector<uint8_t>> h = crypto::HashOnce(
        ToDigestAlgorithm(a),
        absl::MakeConstSpan(image.data() + g * kGranuleSize, kGranuleSize));
    EXPECT_TRUE(h.ok());
    Measurement m = {};
    std::copy(h->begin(), h->end(), m.begin());
    out.push_back(m);
  }
  return out;
}

std::vector<Measurement> Collect(GranuleHasher& hasher, const Payload& p,
                                 size_t lead, HashAlgorithm a,
                                 absl::Status* status) {
  std::vector<Measurement> out;
  *status = hasher.Run(p, lead, a, [&](uint64_t i, const Measurement& m) {
    EXPECT_EQ(i, out.size()) << "out of order";
    out.push_back(m);
    return absl::OkStatus();
  });
  return out;
}

std::string TempFile(const std::string& name, const std::vector<uint8_t>& d) {
  const char* dir = std::getenv("TEST_TMPDIR");
  std::string path = std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
  FILE* f = std::fopen(path.c_str(), "wb");
  EXPECT_NE(f, nullptr);
  if (!d.empty()) {
    EXPECT_EQ(std::fwrite(d.data(), 1, d.size(), f), d.size());
  }
  std::fclose(f);
  return path;
}

TEST(GranuleHasher, MatchesReferenceForSizesLeadsThreadsAlgorithms) {
  const size_t sizes[] = {0,     1,        4095, 4096, 4097, 3 * 4096 + 5,
                          40000, 70 * 4096};
  const size_t leads[] = {0, 1, 4, 4092, 4095};
  for (int threads : {1, 2, 4}) {
    // Small chunks and few slots so that many chunks cycle through the ring.
    GranuleHasherOptions o;
    o.threads = threads;
    o.chunk_granules = 3;
    o.max_chunks_in_flight = 2 + threads;
    GranuleHasher hasher(o);
    EXPECT_EQ(hasher.threads(), threads);
    for (HashAlgorithm a : {HashAlgorithm::kSha256, HashAlgorithm::kSha512}) {
      for (size_t size : sizes) {
        std::vector<uint8_t> data = Pattern(size, static_cast<uint32_t>(size));
        for (size_t lead : leads) {
          SCOPED_TRACE(absl::StrCat("threads ", threads, " algo ",
                                    HashAlgorithmName(a), " size ", size,
                                    " lead ", lead));
          absl::Status s;
          std::vector<Measurement> got =
              Collect(hasher, Payload::FromBytes("b", data), lead, a, &s);
          ASSERT_TRUE(s.ok()) << s;
          EXPECT_EQ(got, Reference(data, lead, a));
        }
      }
    }
  }
}

TEST(GranuleHasher, FileMatchesReference) {
  std::vector<uint8_t> data = Pattern(5 * 1024 * 1024 + 123, 7);
  const std::string path = TempFile("gh-file", data);
  GranuleHasher hasher(GranuleHasherOptions{2, 16, 4});
  absl::Status s;
  std::vector<Measurement> got = Collect(hasher, Payload::FromFile(path), 4092,
                                         HashAlgorithm::kSha256, &s);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(got, Reference(data, 4092, HashAlgorithm::kSha256));
  // In-flight memory is the ring and one buffer per thread, not the 5 MiB
  // payload.
  EXPECT_EQ(hasher.buffer_bytes(), (4u + 2) * 16 * kGranuleSize);
}

// Files are read by the hashing threads (positional reads); every lead and
// a size that ends inside a granule, on 1 to 4 threads.
TEST(GranuleHasher, FileMatchesReferenceForLeadsAndThreads) {
  std::vector<uint8_t> data = Pattern(37 * 4096 + 777, 8);
  const std::string path = TempFile("gh-file-leads", data);
  for (int threads : {1, 2, 4}) {
    GranuleHasher hasher(GranuleHasherOptions{threads, 5, 3});
    for (size_t lead : {0, 1, 3319, 4095}) {
      SCOPED_TRACE(absl::StrCat("threads ", threads, " lead ", lead));
      absl::Status s;
      std::vector<Measurement> got = Collect(hasher, Payload::FromFile(path),
                                             lead, HashAlgorithm::kSha512, &s);
      ASSERT_TRUE(s.ok()) << s;
      EXPECT_EQ(got, Reference(data, lead, HashAlgorithm::kSha512));
    }
  }
}

// A stream (a gzip kernel) is read sequentially by the caller into the ring.
class VectorStream : public Payload::Stream {
 public:
  explicit VectorStream(const std::vector<uint8_t>* data) : data_(data) {}
  absl::StatusOr<size_t> Read(absl::Span<uint8_t> out) override {
    // Fills `out` unless the content ends first (the Stream contract).
    const size_t n = std::min<size_t>(out.size(), data_->size() - pos_);
    std::copy(data_->begin() + pos_, data_->begin() + pos_ + n, out.begin());
    pos_ += n;
    return n;
  }
  std::string identity() const override { return "test"; }

 private:
  const std::vector<uint8_t>* data_;
  size_t pos_ = 0;
};

TEST(GranuleHasher, StreamMatchesReference) {
  for (size_t size : {0, 4095, 4096, 11 * 4096 + 1}) {
    std::vector<uint8_t> data = Pattern(size, 9);
    Payload p = Payload::FromStream(
        "s", size,
        [&data]() -> absl::StatusOr<std::unique_ptr<Payload::Stream>> {
          return std::make_unique<VectorStream>(&data);
        });
    for (int threads : {1, 3}) {
      GranuleHasher hasher(GranuleHasherOptions{threads, 2, 3});
      for (size_t lead : {0, 7, 4095}) {
        SCOPED_TRACE(
            absl::StrCat("size ", size, " threads ", threads, " lead ", lead));
        absl::Status s;
        std::vector<Measurement> got =
            Collect(hasher, p, lead, HashAlgorithm::kSha256, &s);
        ASSERT_TRUE(s.ok()) << s;
        EXPECT_EQ(got, Reference(data, lead, HashAlgorithm::kSha256));
      }
    }
  }
}

// A file that shrinks after it was opened: the granules before the missing
// bytes are delivered, then the error names the file and both sizes.
TEST(GranuleHasher, FileThatShrinksFails) {
  std::vector<uint8_t> data = Pattern(40 * 4096, 10);
  const std::string path = TempFile("gh-shrink", data);
  absl::StatusOr<Payload::Reader> reader = Payload::FromFile(path).Open();
  ASSERT_TRUE(reader.ok()) << reader.status();
  ASSERT_EQ(truncate(path.c_str(), 10 * 4096 + 100), 0);
  GranuleHasher hasher(GranuleHasherOptions{2, 4, 3});
  std::vector<Measurement> got;
  absl::Status s = hasher.Run(*reader, 0, HashAlgorithm::kSha256,
                              [&](uint64_t, const Measurement& m) {
                                got.push_back(m);
                                return absl::OkStatus();
                              });
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            absl::StrCat("file ", path,
                         " error: content ended after 41060 bytes, expected "
                         "163840 (changed while it was read)"));
  // Chunks of 4 granules: the first two (8 granules) are whole.
  ASSERT_EQ(got.size(), 8u);
  std::vector<Measurement> want = Reference(data, 0, HashAlgorithm::kSha256);
  EXPECT_TRUE(std::equal(got.begin(), got.end(), want.begin()));
}

// The default pool has one hashing thread per CPU this process may use: on
// a thread restricted to one CPU (as `taskset -c N` would), one thread.
TEST(GranuleHasher, DefaultThreadsFollowCpuAffinity) {
  cpu_set_t all;
  CPU_ZERO(&all);
  ASSERT_EQ(sched_getaffinity(0, sizeof(all), &all), 0);
  int first = 0;
  while (!CPU_ISSET(first, &all)) ++first;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(first, &one);
  ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
  const int restricted = UsableCores();
  const int pool = GranuleHasher().threads();
  ASSERT_EQ(sched_setaffinity(0, sizeof(all), &all), 0);
  EXPECT_EQ(restricted, 1);
  EXPECT_EQ(pool, 1);
  EXPECT_EQ(GranuleHasher().threads(), std::min(CPU_COUNT(&all), 64));
}

TEST(GranuleHasher, KnownDigestOfZeroGranule) {
  // An empty payload at an unaligned start still measures one zero-filled
  // granule (spec-core §4.5); SHA-256 of 4096 zero bytes (FIPS 180-4 value
  // computed by sha256sum on /dev/zero 4096 bytes).
  GranuleHasher hasher;
  absl::Status s;
  std::vector<Measurement> got = Collect(hasher, Payload::FromBytes("e", {}),
                                         100, HashAlgorithm::kSha256, &s);
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(ToHex(got[0]).substr(0, 64),
            "ad7facb2586fc6e966c004d7d1d16b024f5805ff7cb47c7a85dabd8b48892ca7");
  // Aligned and empty: nothing.
  got = Collect(hasher, Payload::FromBytes("e", {}), 0, HashAlgorithm::kSha256,
                &s);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(got.empty());
}

TEST(GranuleHasher, SinkErrorStopsAndPoolIsReusable) {
  GranuleHasher hasher(GranuleHasherOptions{3, 2, 5});
  std::vector<uint8_t> data = Pattern(200 * 4096, 3);
  Payload p = Payload::FromBytes("b", data);
  uint64_t calls = 0;
  absl::Status s = hasher.Run(
      p, 0, HashAlgorithm::kSha512, [&](uint64_t i, const Measurement&) {
        ++calls;
        return i == 17 ? absl::CancelledError("stop") : absl::OkStatus();
      });
  EXPECT_EQ(s.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(calls, 18u);
  // The next run starts clean.
  std::vector<Measurement> got =
      Collect(hasher, p, 0, HashAlgorithm::kSha512, &s);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(got, Reference(data, 0, HashAlgorithm::kSha512));
}

TEST(GranuleHasher, FileErrorsAreReturned) {
  GranuleHasher hasher;
  bool called = false;
  auto sink = [&](uint64_t, const Measurement&) {
    called = true;
    return absl::OkStatus();
  };
  const char* dir = std::getenv("TEST_TMPDIR");
  absl::Status s = hasher.Run(Payload::FromFile(dir != nullptr ? dir : "/tmp"),
                              0, HashAlgorithm::kSha256, sink);
  EXPECT_NE(s.message().find("Is a directory (os error 21)"), std::string::npos)
      << s;
  s = hasher.Run(Payload::FromFile("/nonexistent/x"), 0, HashAlgorithm::kSha256,
                 sink);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(called);
  s = hasher.Run(Payload::FromBytes("b", {1}), 4096, HashAlgorithm::kSha256,
                 sink);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
}

TEST(GranuleHasher, ConcurrentRunsAreSerialized) {
  GranuleHasher hasher(GranuleHasherOptions{2, 4, 3});
  std::vector<uint8_t> a = Pattern(300 * 1024, 11), b = Pattern(123457, 12);
  std::vector<Measurement> ra, rb;
  absl::Status sa, sb;
  std::thread t1([&] {
    ra = Collect(hasher, Payload::FromBytes("a", a), 5, HashAlgorithm::kSha256,
                 &sa);
  });
  std::thread t2([&] {
    rb = Collect(hasher, Payload::FromBytes("b", b), 0, HashAlgorithm::kSha512,
                 &sb);
  });
  t1.join();
  t2.join();
  ASSERT_TRUE(sa.ok() && sb.ok());
  EXPECT_EQ(ra, Reference(a, 5, HashAlgorithm::kSha256));
  EXPECT_EQ(rb, Reference(b, 0, HashAlgorithm::kSha512));
}

}  // namespace
}  // namespace realm_measurements::measure
