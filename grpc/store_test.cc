// Real SQLite in a fresh temporary directory per test.
#include "grpc/store.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace realm_measurements::service {
namespace {

// FIPS 180-2 Appendix B.1: SHA-256("abc").
const std::vector<uint8_t> kAbcSha256 = {
    0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
    0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
    0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
const std::vector<uint8_t> kAbc = {'a', 'b', 'c'};

std::string MakeTempDir() {
  const char* base = std::getenv("TEST_TMPDIR");
  std::string tmpl = absl::StrCat(base ? base : "/tmp", "/store-XXXXXX");
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  EXPECT_NE(mkdtemp(buf.data()), nullptr);
  return buf.data();
}

size_t CountFiles(const std::string& dir) {
  size_t n = 0;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return 0;
  while (struct dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") ++n;
  }
  closedir(d);
  return n;
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir();
    Reopen();
  }
  void Reopen(uint64_t max = kDefaultMaxPayloadBytes) {
    store_.reset();
    absl::StatusOr<std::unique_ptr<Store>> s = OpenSqliteStore(dir_, max);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
  }
  absl::StatusOr<PayloadRecord> Upload(const std::vector<uint8_t>& sha,
                                       const std::vector<uint8_t>& content,
                                       bool* present) {
    auto up = store_->BeginPayload(sha, content.size(), "test");
    if (!up.ok()) return up.status();
    if (absl::Status s = (*up)->Append(content); !s.ok()) return s;
    return (*up)->Commit(present);
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreTest, ReferenceSetLifecycle) {
  ReferenceSetRecord r;
  r.name = "realm-a";
  r.profile = 1;
  r.realm_count = 2;
  r.corim = kAbc;
  absl::StatusOr<ReferenceSetRecord> put = store_->PutReferenceSet(r, false);
  ASSERT_TRUE(put.ok()) << put.status();
  EXPECT_EQ(put->corim_sha256, kAbcSha256);

  absl::StatusOr<ReferenceSetRecord> again = store_->PutReferenceSet(r, false);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
  r.realm_count = 3;
  ASSERT_TRUE(store_->PutReferenceSet(r, true).ok());

  absl::StatusOr<ReferenceSetRecord> got = store_->GetReferenceSet("realm-a");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->realm_count, 3u);
  EXPECT_EQ(got->corim, kAbc);
  EXPECT_EQ(got->profile, 1);

  r.name = "a-first";
  ASSERT_TRUE(store_->PutReferenceSet(r, false).ok());
  absl::StatusOr<std::vector<ReferenceSetRecord>> list =
      store_->ListReferenceSets();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "a-first");
  EXPECT_EQ((*list)[1].name, "realm-a");
  EXPECT_TRUE((*list)[0].corim.empty());

  ASSERT_TRUE(store_->DeleteReferenceSet("realm-a").ok());
  EXPECT_EQ(store_->DeleteReferenceSet("realm-a").code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->GetReferenceSet("realm-a").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(StoreTest, BadNamesRejected) {
  for (std::string name :
       {std::string(), std::string(129, 'a'), std::string("a/b"),
        std::string("x y"), std::string("a\0b", 3)}) {
    ReferenceSetRecord r;
    r.name = name;
    absl::StatusOr<ReferenceSetRecord> s = store_->PutReferenceSet(r, false);
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument) << name;
  }
}

TEST_F(StoreTest, PayloadUploadAndDedup) {
  bool present = true;
  absl::StatusOr<PayloadRecord> r = Upload(kAbcSha256, kAbc, &present);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(present);
  EXPECT_EQ(r->size, 3u);
  EXPECT_EQ(
      r->path,
      dir_ +
          "/payloads/"
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::ifstream f(r->path, std::ios::binary);
  std::string content((std::istreambuf_iterator<char>(f)), {});
  EXPECT_EQ(content, "abc");

  r = Upload(kAbcSha256, kAbc, &present);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(present);
  EXPECT_EQ(CountFiles(dir_ + "/payloads"), 1u);
  EXPECT_EQ(CountFiles(dir_ + "/tmp"), 0u);

  absl::StatusOr<PayloadRecord> got = store_->GetPayload(kAbcSha256);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->name, "test");
  EXPECT_EQ(store_->ListPayloads()->size(), 1u);
}

TEST_F(StoreTest, WrongDigestLeavesNothing) {
  std::vector<uint8_t> wrong = kAbcSha256;
  wrong[31] ^= 1;
  bool present = false;
  absl::StatusOr<PayloadRecord> r = Upload(wrong, kAbc, &present);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(r.status().message(), "found ba7816bf8f01cfea"))
      << r.status();
  EXPECT_EQ(CountFiles(dir_ + "/payloads"), 0u);
  EXPECT_EQ(CountFiles(dir_ + "/tmp"), 0u);
  EXPECT_EQ(store_->GetPayload(wrong).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(store_->CheckConsistency().ok());
}

TEST_F(StoreTest, TruncatedAndOversizedUploads) {
  auto up = store_->BeginPayload(kAbcSha256, 4, "short");
  ASSERT_TRUE(up.ok());
  ASSERT_TRUE((*up)->Append(kAbc).ok());
  bool present;
  absl::StatusOr<PayloadRecord> r = (*up)->Commit(&present);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(r.status().message(), "truncated"));

  up = store_->BeginPayload(kAbcSha256, 2, "long");
  ASSERT_TRUE(up.ok());
  EXPECT_EQ((*up)->Append(kAbc).code(), absl::StatusCode::kResourceExhausted);

  // Abandoned upload: the temporary file goes with the object.
  up = store_->BeginPayload(kAbcSha256, 3, "abandoned");
  ASSERT_TRUE(up.ok());
  ASSERT_TRUE((*up)->Append({kAbc.data(), 1}).ok());
  EXPECT_EQ(CountFiles(dir_ + "/tmp"), 1u);  // the earlier ones are gone
  up->reset();
  EXPECT_EQ(CountFiles(dir_ + "/tmp"), 0u);
  EXPECT_EQ(CountFiles(dir_ + "/payloads"), 0u);

  Reopen(/*max=*/2);
  EXPECT_EQ(store_->BeginPayload(kAbcSha256, 3, "x").status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(store_->BeginPayload(kAbc, 3, "x").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(StoreTest, ReopenKeepsEverythingAndCleansTmp) {
  ReferenceSetRecord r;
  r.name = "kept";
  r.corim = kAbc;
  ASSERT_TRUE(store_->PutReferenceSet(r, false).ok());
  bool present;
  ASSERT_TRUE(Upload(kAbcSha256, kAbc, &present).ok());
  ASSERT_TRUE(store_->PutEarKeyPem("PEM").ok());
  // A crash mid-upload leaves a temporary file behind.
  std::ofstream(dir_ + "/tmp/upload-crashed") << "partial";
  Reopen();
  EXPECT_EQ(CountFiles(dir_ + "/tmp"), 0u);
  EXPECT_TRUE(store_->GetReferenceSet("kept").ok());
  EXPECT_TRUE(store_->GetPayload(kAbcSha256).ok());
  absl::StatusOr<std::optional<std::string>> key = store_->GetEarKeyPem();
  ASSERT_TRUE(key.ok());
  ASSERT_TRUE(key->has_value());
  EXPECT_EQ(**key, "PEM");
}

TEST_F(StoreTest, EarKeyAbsentThenReplaced) {
  absl::StatusOr<std::optional<std::string>> key = store_->GetEarKeyPem();
  ASSERT_TRUE(key.ok());
  EXPECT_FALSE(key->has_value());
  ASSERT_TRUE(store_->PutEarKeyPem("one").ok());
  ASSERT_TRUE(store_->PutEarKeyPem("two").ok());
  EXPECT_EQ(**store_->GetEarKeyPem(), "two");
}

void ExpectRefused(const std::string& dir, absl::string_view why) {
  absl::StatusOr<std::unique_ptr<Store>> s = OpenSqliteStore(dir);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kDataLoss) << s.status();
  EXPECT_TRUE(absl::StrContains(s.status().message(), "is corrupt"))
      << s.status();
  EXPECT_TRUE(absl::StrContains(s.status().message(), why)) << s.status();
}

TEST_F(StoreTest, RefusesNonSqliteFile) {
  store_.reset();
  std::ofstream(dir_ + "/store.sqlite3", std::ios::trunc)
      << std::string(8192, 'x');
  ExpectRefused(dir_, "store.sqlite3");
}

TEST_F(StoreTest, RefusesUnknownSchemaVersion) {
  store_.reset();
  // A database from a future version of the server.
  std::string other = MakeTempDir();
  {
    absl::StatusOr<std::unique_ptr<Store>> s = OpenSqliteStore(other);
    ASSERT_TRUE(s.ok());
  }
  // Patch user_version (offset 60, big-endian, SQLite file format §1.3).
  FILE* f = std::fopen((other + "/store.sqlite3").c_str(), "r+b");
  ASSERT_NE(f, nullptr);
  std::fseek(f, 60, SEEK_SET);
  const unsigned char v[4] = {0, 0, 0, 7};
  std::fwrite(v, 1, 4, f);
  std::fclose(f);
  ExpectRefused(other, "schema version: expected 1, found 7");
}

TEST_F(StoreTest, RefusesDamagedPages) {
  ReferenceSetRecord r;
  r.corim.assign(3000, 0x5a);
  for (int i = 0; i < 40; ++i) {
    r.name = absl::StrCat("set-", i);
    ASSERT_TRUE(store_->PutReferenceSet(r, false).ok());
  }
  store_.reset();  // checkpoints the WAL into the main file
  FILE* f = std::fopen((dir_ + "/store.sqlite3").c_str(), "r+b");
  ASSERT_NE(f, nullptr);
  std::fseek(f, 0, SEEK_END);
  long size = std::ftell(f);
  ASSERT_GT(size, 8 * 4096);
  // Overwrite the b-tree pages after the schema page with garbage.
  std::string junk(size - 4096 * 2, '\xee');
  std::fseek(f, 4096 * 2, SEEK_SET);
  std::fwrite(junk.data(), 1, junk.size(), f);
  std::fclose(f);
  ExpectRefused(dir_, "");
}

TEST_F(StoreTest, RefusesMissingOrResizedPayloadFile) {
  bool present;
  absl::StatusOr<PayloadRecord> r = Upload(kAbcSha256, kAbc, &present);
  ASSERT_TRUE(r.ok());
  store_.reset();
  std::ofstream(r->path, std::ios::trunc) << "ab";
  ExpectRefused(dir_, "expected 3 bytes, found 2");
  ASSERT_EQ(unlink(r->path.c_str()), 0);
  ExpectRefused(dir_, "is missing");
}

TEST(OpenSqliteStore, DataPathIsAFile) {
  std::string dir = MakeTempDir();
  std::ofstream(dir + "/file") << "x";
  absl::StatusOr<std::unique_ptr<Store>> s = OpenSqliteStore(dir + "/file");
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(OpenSqliteStore("").ok());
}

}  // namespace
}  // namespace realm_measurements::service
