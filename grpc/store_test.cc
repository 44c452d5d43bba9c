// Real SQLite in a fresh temporary directory per test.
#include "grpc/store.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
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

// One contract suite, one fixture per backend (grpc/store_contract.h has
// the PostgreSQL one). SQLite: a fresh data directory per test.
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

TEST_F(StoreTest, PayloadUploadAndDedup) {
  bool present = true;
  absl::StatusOr<PayloadRecord> r = Upload(kAbcSha256, kAbc, &present);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(present);
  EXPECT_EQ(
      r->path,
      dir_ +
          "/payloads/"
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  r = Upload(kAbcSha256, kAbc, &present);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(present);
  EXPECT_EQ(CountFiles(dir_ + "/payloads"), 1u);
  EXPECT_EQ(CountFiles(dir_ + "/tmp"), 0u);
}

TEST_F(StoreTest, WrongDigestLeavesNoFile) {
  std::vector<uint8_t> wrong = kAbcSha256;
  wrong[31] ^= 1;
  bool present = false;
  ASSERT_FALSE(Upload(wrong, kAbc, &present).ok());
  EXPECT_EQ(CountFiles(dir_ + "/payloads"), 0u);
  EXPECT_EQ(CountFiles(dir_ + "/tmp"), 0u);
}

TEST_F(StoreTest, AbandonedUploadRemovesItsFile) {
  auto up = store_->BeginPayload(kAbcSha256, 3, "abandoned");
  ASSERT_TRUE(up.ok());
  ASSERT_TRUE((*up)->Append({kAbc.data(), 1}).ok());
  EXPECT_EQ(CountFiles(dir_ + "/tmp"), 1u);
  up->reset();
  EXPECT_EQ(CountFiles(dir_ + "/tmp"), 0u);
  EXPECT_EQ(CountFiles(dir_ + "/payloads"), 0u);
}

// Issue 14: a kill during an upload leaves a temporary file (of a dead
// process) or, between the rename and the insert, an unrecorded payload
// file; the next startup removes both and keeps everything recorded. A live
// process's upload is never touched.
TEST_F(StoreTest, StartupReconcilesFilesWithTheDatabase) {
  bool present;
  ASSERT_TRUE(Upload(kAbcSha256, kAbc, &present).ok());
  store_.reset();
  // pid 2^22+1 is above Linux's pid_max limit: never alive.
  std::ofstream(dir_ + "/tmp/upload-4194305-crashed") << "partial";
  std::ofstream(dir_ + "/tmp/upload-old-format") << "partial";
  const std::string live = dir_ + "/tmp/upload-1-live";  // init is alive
  std::ofstream(live) << "in progress";
  const std::string orphan = dir_ + "/payloads/" + std::string(64, 'e');
  std::ofstream(orphan) << "complete but unrecorded";
  std::ofstream(dir_ + "/payloads/README") << "not ours";
  Reopen();
  EXPECT_EQ(CountFiles(dir_ + "/tmp"), 1u);
  EXPECT_EQ(access(live.c_str(), F_OK), 0);
  EXPECT_NE(access(orphan.c_str(), F_OK), 0);
  EXPECT_EQ(access((dir_ + "/payloads/README").c_str(), F_OK), 0);
  EXPECT_TRUE(store_->GetPayload(kAbcSha256).ok());
  EXPECT_TRUE(store_->CheckConsistency().ok());
}

// Issue 15: one server per data directory.
TEST_F(StoreTest, SecondServerOnTheSameDirectoryIsRefused) {
  absl::StatusOr<std::unique_ptr<Store>> second = OpenSqliteStore(dir_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(second.status().message(),
            absl::StrCat("data directory ", dir_,
                         " is in use by another server (pid ", getpid(), ")"));
  store_.reset();  // released with the store
  EXPECT_TRUE(OpenSqliteStore(dir_).ok());
}

// Issue 15: three servers started together on one empty directory: one
// runs, the others are refused, and the one EAR key is the runner's.
TEST(SqliteStoreRace, ThreeOpenTogetherOneWins) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    const std::string dir = MakeTempDir();
    std::vector<std::unique_ptr<Store>> opened(3);
    std::vector<absl::Status> status(3);
    std::vector<std::string> keys(3);
    std::vector<std::thread> threads;
    for (int i = 0; i < 3; ++i) {
      threads.emplace_back([&, i] {
        absl::StatusOr<std::unique_ptr<Store>> s = OpenSqliteStore(dir);
        status[i] = s.status();
        if (!s.ok()) return;
        absl::StatusOr<std::string> k =
            (*s)->EnsureEarKeyPem(absl::StrCat("key-", i));
        if (k.ok()) keys[i] = *k;
        opened[i] = std::move(*s);
      });
    }
    for (std::thread& t : threads) t.join();
    int winners = 0;
    for (int i = 0; i < 3; ++i) {
      if (status[i].ok()) {
        ++winners;
        EXPECT_EQ(keys[i], absl::StrCat("key-", i));
      } else {
        EXPECT_TRUE(absl::StrContains(status[i].message(),
                                      "is in use by another server"))
            << status[i];
      }
    }
    ASSERT_EQ(winners, 1) << "attempt " << attempt;
  }
}

// Issue 14: the store holds the EAR private key: 0700/0600 whatever the
// umask and whoever made the directory.
TEST(SqliteStorePermissions, PrivateWhateverTheUmask) {
  const std::string dir = MakeTempDir();
  ASSERT_EQ(chmod(dir.c_str(), 0755), 0);
  const mode_t old = umask(0);
  absl::StatusOr<std::unique_ptr<Store>> s = OpenSqliteStore(dir);
  ASSERT_TRUE(s.ok()) << s.status();
  auto up = (*s)->BeginPayload(kAbcSha256, 3, "x");
  ASSERT_TRUE(up.ok());
  ASSERT_TRUE((*up)->Append(kAbc).ok());
  bool present;
  ASSERT_TRUE((*up)->Commit(&present).ok());
  ASSERT_TRUE((*s)->EnsureEarKeyPem("PEM").ok());
  umask(old);
  auto mode = [](const std::string& p) {
    struct stat st;
    EXPECT_EQ(stat(p.c_str(), &st), 0) << p;
    return st.st_mode & 07777;
  };
  EXPECT_EQ(mode(dir), 0700u);
  EXPECT_EQ(mode(dir + "/payloads"), 0700u);
  EXPECT_EQ(mode(dir + "/tmp"), 0700u);
  for (const char* f : {"/store.sqlite3", "/store.sqlite3-wal",
                        "/store.sqlite3-shm", "/lock"}) {
    EXPECT_EQ(mode(dir + f), 0600u) << f;
  }
  EXPECT_EQ(mode(dir + "/payloads/" + HexOf(kAbcSha256)), 0600u);
}

// Errors reach clients: they name what failed, not the server's paths.
TEST_F(StoreTest, ErrorsDoNotShowServerPaths) {
  ASSERT_EQ(rmdir((dir_ + "/tmp").c_str()), 0);
  absl::StatusOr<std::unique_ptr<PayloadUpload>> up =
      store_->BeginPayload(kAbcSha256, 3, "x");
  ASSERT_FALSE(up.ok());
  EXPECT_EQ(up.status().message(),
            "cannot create the payload upload: No such file or directory (os "
            "error 2)");
  EXPECT_FALSE(absl::StrContains(up.status().message(), dir_));
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
  ExpectRefused(other, "schema version: expected 3, found 7");
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
