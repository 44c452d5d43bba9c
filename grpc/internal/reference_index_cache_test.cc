// The reference-index cache over a real SQLite store. Two caches over one
// store stand for two replicas over one database: each must see the
// other's changes (the store's revision), and never serve a stale index.
#include "grpc/internal/reference_index_cache.h"

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "corim/comid.h"
#include "corim/reference_values.h"
#include "grpc/store.h"
#include "gtest/gtest.h"

namespace realm_measurements::service::internal {
namespace {

std::string MakeTempDir() {
  const char* base = std::getenv("TEST_TMPDIR");
  std::string tmpl = absl::StrCat(base ? base : "/tmp", "/cache-XXXXXX");
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  EXPECT_NE(mkdtemp(buf.data()), nullptr);
  return buf.data();
}

corim::RealmReferenceValue Value(uint32_t n) {
  corim::RealmReferenceValue v;
  v.rim.assign(32, 0x5a);
  for (int i = 0; i < 4; ++i) v.rim[i] = static_cast<uint8_t>(n >> (8 * i));
  v.rem[0] = std::vector<uint8_t>(32, 0x01);
  return v;
}

// An unsigned 2025-profile CoRIM of values first..first+count-1.
std::vector<uint8_t> Corim(uint32_t first, uint32_t count) {
  corim::ReferenceValues rv;
  rv.corim_id = std::string("test");
  corim::Comid c;
  c.tag_identity.id = std::string("tag");
  for (uint32_t i = 0; i < count; ++i) c.realms.push_back(Value(first + i));
  rv.comids.push_back(c);
  absl::StatusOr<corim::EncodedObject> e =
      corim::EncodeCorim(rv, corim::Profile::kCcaRealm2025);
  EXPECT_TRUE(e.ok()) << e.status();
  return e->bytes;
}

DecodedPart Part(uint32_t first, uint32_t count) {
  absl::StatusOr<DecodedPart> p = DecodePart(Corim(first, count));
  EXPECT_TRUE(p.ok()) << p.status();
  return *std::move(p);
}

class ReferenceIndexCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<Store>> s = OpenSqliteStore(MakeTempDir());
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
  }
  static ReferenceSetRecord Named(const std::string& name) {
    ReferenceSetRecord r;
    r.name = name;
    return r;
  }
  static size_t Size(ReferenceIndexCache& c, const std::string& name) {
    absl::StatusOr<ReferenceIndexCache::Snapshot> s = c.Get(name);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? s->index->size() : 0;
  }
  std::unique_ptr<Store> store_;
};

TEST_F(ReferenceIndexCacheTest, ProvisionAppendAndReplicasSeeEachOther) {
  ReferenceIndexCache a(store_.get(), kDefaultReferenceIndexBytes);
  ReferenceIndexCache b(store_.get(), kDefaultReferenceIndexBytes);
  absl::StatusOr<ReferenceSetRecord> put =
      a.Provision(Named("s"), Part(0, 3), false);
  ASSERT_TRUE(put.ok()) << put.status();
  EXPECT_EQ(put->realm_count, 3u);
  EXPECT_EQ(put->profile, 1);
  EXPECT_EQ(Size(a, "s"), 3u);
  absl::StatusOr<ReferenceSetRecord> app = a.Append("s", Part(3, 2), "CN=x");
  ASSERT_TRUE(app.ok()) << app.status();
  EXPECT_EQ(app->realm_count, 5u);
  EXPECT_EQ(Size(a, "s"), 5u);
  EXPECT_EQ(a.stats().loads,
            0u);  // built when provisioned, never decoded again

  // Peek never loads: the other replica has not decoded it yet.
  EXPECT_TRUE(a.Peek("s").has_value());
  EXPECT_FALSE(b.Peek("s").has_value());
  EXPECT_EQ(b.stats().loads, 0u);
  // The other replica decodes it once, then finds values by RIM.
  EXPECT_EQ(Size(b, "s"), 5u);
  EXPECT_TRUE(b.Peek("s").has_value());
  EXPECT_EQ(b.stats().loads, 1u);
  EXPECT_EQ(Size(b, "s"), 5u);
  EXPECT_EQ(b.stats().loads, 1u);
  absl::StatusOr<ReferenceIndexCache::Snapshot> snap = b.Get("s");
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->index->Lookup(Value(4).rim), std::vector<size_t>{4});

  // A changes the set: B reloads at its next use.
  ASSERT_TRUE(a.Append("s", Part(5, 2), "").ok());
  EXPECT_EQ(Size(b, "s"), 7u);
  EXPECT_EQ(b.stats().loads, 2u);
  snap = b.Get("s");
  EXPECT_EQ(snap->index->Lookup(Value(6).rim), std::vector<size_t>{6});

  // B appends on top of the state A does not hold yet: A's cached index is
  // stale and must not be extended (it reloads).
  ASSERT_TRUE(b.Append("s", Part(7, 1), "").ok());
  ASSERT_TRUE(a.Append("s", Part(8, 1), "").ok());
  EXPECT_EQ(Size(a, "s"), 9u);
  EXPECT_EQ(Size(b, "s"), 9u);
  snap = a.Get("s");
  for (uint32_t i = 0; i < 9; ++i) {
    EXPECT_EQ(snap->index->Lookup(Value(i).rim), std::vector<size_t>{i});
  }

  // Replace through B, delete through A.
  ASSERT_TRUE(b.Provision(Named("s"), Part(100, 1), true).ok());
  EXPECT_EQ(Size(a, "s"), 1u);
  ASSERT_TRUE(a.Delete("s").ok());
  EXPECT_EQ(b.Get("s").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(a.Delete("s").code(), absl::StatusCode::kNotFound);
}

TEST_F(ReferenceIndexCacheTest, MemoryBoundRefusesAndEvicts) {
  DecodedPart p = Part(0, 1000);
  const size_t one = p.segment->memory_bytes();
  ReferenceIndexCache small(store_.get(), one + one / 2);
  ASSERT_TRUE(small.Provision(Named("a"), std::move(p), false).ok());
  // Appending 1000 more would need twice the budget: refused, nothing
  // stored.
  absl::StatusOr<ReferenceSetRecord> r =
      small.Append("a", Part(1000, 1000), "");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(r.status().message().find("--reference_index_bytes"),
            std::string::npos)
      << r.status();
  EXPECT_EQ(store_->GetReferenceSet("a")->realm_count, 1000u);
  // A second set evicts the first (least recently used); it is reloaded
  // when used.
  ASSERT_TRUE(small.Provision(Named("b"), Part(5000, 1000), false).ok());
  EXPECT_EQ(small.stats().sets, 1u);
  EXPECT_LE(small.stats().bytes, small.max_bytes());
  EXPECT_EQ(Size(small, "a"), 1000u);
  EXPECT_EQ(small.stats().loads, 1u);
  EXPECT_EQ(small.stats().sets, 1u);
}

TEST_F(ReferenceIndexCacheTest, StoredDataThatNoLongerDecodesIsDataLoss) {
  ReferenceSetRecord r = Named("bad");
  r.corim = {0xd9, 0x01, 0xf5, 0xa0};  // 501({}): no tags
  ASSERT_TRUE(store_->PutReferenceSet(r, false).ok());
  ReferenceIndexCache c(store_.get(), kDefaultReferenceIndexBytes);
  absl::StatusOr<ReferenceIndexCache::Snapshot> s = c.Get("bad");
  EXPECT_EQ(s.status().code(), absl::StatusCode::kDataLoss) << s.status();
  EXPECT_NE(s.status().message().find("reference-value set 'bad' part 0: "),
            std::string::npos)
      << s.status();
  EXPECT_EQ(c.LoadAll().code(), absl::StatusCode::kDataLoss);
}

// A CoRIM stored before the decoders refused negative validity windows
// loads, its values never valid; a new one is still refused.
TEST_F(ReferenceIndexCacheTest, StoredNegativeValidityLoadsAsNeverValid) {
  corim::ReferenceValues rv;
  rv.corim_id = std::string("test");
  rv.validity = corim::Validity{1000000000, 2000000000};
  corim::Comid c;
  c.tag_identity.id = std::string("tag");
  c.realms = {Value(1), Value(2)};
  rv.comids.push_back(c);
  absl::StatusOr<corim::EncodedObject> e =
      corim::EncodeCorim(rv, corim::Profile::kCcaRealm2025);
  ASSERT_TRUE(e.ok()) << e.status();
  // Swap the two times: 1(1000000000) and 1(2000000000).
  std::string bytes(e->bytes.begin(), e->bytes.end());
  const std::string before("\xc1\x1a\x3b\x9a\xca\x00", 6);
  const std::string after("\xc1\x1a\x77\x35\x94\x00", 6);
  const size_t b = bytes.find(before), a = bytes.find(after);
  ASSERT_NE(b, std::string::npos);
  ASSERT_NE(a, std::string::npos);
  bytes.replace(b, 6, after);
  bytes.replace(a, 6, before);
  const std::vector<uint8_t> negative(bytes.begin(), bytes.end());
  absl::StatusOr<DecodedPart> strict = DecodePart(negative);
  ASSERT_FALSE(strict.ok());
  EXPECT_NE(strict.status().message().find("expected not-before <= not-after"),
            std::string::npos)
      << strict.status();

  ReferenceSetRecord r = Named("old");
  r.corim = negative;
  ASSERT_TRUE(store_->PutReferenceSet(r, false).ok());
  ReferenceIndexCache cache(store_.get(), kDefaultReferenceIndexBytes);
  absl::StatusOr<ReferenceIndexCache::Snapshot> s = cache.Get("old");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->index->size(), 2u);
  ASSERT_EQ(s->index->segment_count(), 1u);
  EXPECT_EQ(s->index->segment_validity(0),
            (corim::Validity{2000000000, 1000000000}));
  for (int64_t t : {int64_t{0}, int64_t{1000000000}, int64_t{1500000000},
                    int64_t{2000000000}, int64_t{4000000000}}) {
    size_t excluded = 0;
    EXPECT_TRUE(s->index->Lookup(Value(1).rim, t, &excluded).empty()) << t;
    EXPECT_EQ(excluded, 1u) << t;
  }
  EXPECT_TRUE(cache.LoadAll().ok());
}

TEST_F(ReferenceIndexCacheTest, AppendOfAnotherProfileIsRefused) {
  ReferenceIndexCache c(store_.get(), kDefaultReferenceIndexBytes);
  ASSERT_TRUE(c.Provision(Named("p"), Part(0, 2), false).ok());
  corim::ReferenceValues rv;
  rv.corim_id = std::string("legacy");
  corim::Comid comid;
  comid.tag_identity.id = std::string("t");
  comid.realms.push_back(Value(9));
  rv.comids.push_back(comid);
  absl::StatusOr<corim::EncodedObject> e =
      corim::EncodeCorim(rv, corim::Profile::kCcaRealmLegacy);
  ASSERT_TRUE(e.ok()) << e.status();
  absl::StatusOr<DecodedPart> legacy = DecodePart(e->bytes);
  ASSERT_TRUE(legacy.ok()) << legacy.status();
  EXPECT_EQ(legacy->profile, 2);
  EXPECT_EQ(c.Append("p", *std::move(legacy), "").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Size(c, "p"), 2u);
}

}  // namespace
}  // namespace realm_measurements::service::internal
