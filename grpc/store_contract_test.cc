// The Store contract (grpc/store.h), one suite run against every backend:
// real SQLite in a fresh data directory, real PostgreSQL (started by the
// test in a temporary directory, grpc/internal/pg_test_server.h) in a fresh
// database.
#include <postgresql/libpq-fe.h>
#include <sqlite3.h>

#include <fstream>
#include <iterator>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpc/internal/pg_test_server.h"
#include "grpc/postgres_store.h"
#include "grpc/store.h"
#include "gtest/gtest.h"

namespace realm_measurements::service {
namespace {

// FIPS 180-2 Appendix B.1: SHA-256("abc").
const std::vector<uint8_t> kAbcSha256 = {
    0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
    0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
    0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
const std::vector<uint8_t> kAbc = {'a', 'b', 'c'};
// FIPS 180-2 Appendix B.3: SHA-256 of one million 'a'.
const std::vector<uint8_t> kMillionASha256 = {
    0xcd, 0xc7, 0x6e, 0x5c, 0x99, 0x14, 0xfb, 0x92, 0x81, 0xa1, 0xc7,
    0xe2, 0x84, 0xd7, 0x3e, 0x67, 0xf1, 0x80, 0x9a, 0x48, 0xa4, 0x97,
    0x20, 0x0e, 0x04, 0x6d, 0x39, 0xcc, 0xc7, 0x11, 0x2c, 0xd0};

// A backend's state: opening it again gives a store over the same data
// (another replica for PostgreSQL, a restart for SQLite).
class Backend {
 public:
  virtual ~Backend() = default;
  virtual absl::StatusOr<std::unique_ptr<Store>> Open(StoreOptions o) = 0;
  // Stores that may be open on the same state at once (SQLite: one server
  // per data directory).
  virtual int max_open() const = 0;
  // Removes the stored EAR key behind the stores' backs (false: not
  // supported, use a fresh backend).
  virtual bool ResetEarKey() { return false; }
  // Runs SQL on the backend's database with no store open (what an older
  // server would do to it).
  virtual absl::Status RunSql(const std::string& sql) = 0;
};

class SqliteBackend final : public Backend {
 public:
  SqliteBackend() : dir_(testing::NewTempDir()) {}
  absl::StatusOr<std::unique_ptr<Store>> Open(StoreOptions o) override {
    return OpenSqliteStore(dir_, o);
  }
  int max_open() const override { return 1; }
  absl::Status RunSql(const std::string& sql) override {
    sqlite3* db = nullptr;
    if (sqlite3_open((dir_ + "/store.sqlite3").c_str(), &db) != SQLITE_OK) {
      sqlite3_close(db);
      return absl::InternalError("sqlite3_open failed");
    }
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    const std::string message = err != nullptr ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    return rc == SQLITE_OK ? absl::OkStatus() : absl::InternalError(message);
  }

 private:
  std::string dir_;
};

class PostgresBackend final : public Backend {
 public:
  PostgresBackend()
      : conninfo_(testing::PgTestServer::Get().NewDatabase()),
        cache_(testing::NewTempDir()) {}
  absl::StatusOr<std::unique_ptr<Store>> Open(StoreOptions o) override {
    PostgresStoreOptions p;
    p.conninfo = conninfo_;
    p.cache_dir = absl::StrCat(cache_, "/replica-", opened_++);
    p.store = o;
    return OpenPostgresStore(p);
  }
  int max_open() const override { return 3; }
  bool ResetEarKey() override { return RunSql("DELETE FROM ear_key").ok(); }
  absl::Status RunSql(const std::string& sql) override {
    PGconn* c = PQconnectdb(conninfo_.c_str());
    PGresult* r = PQexec(c, sql.c_str());
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    const std::string message = PQresultErrorMessage(r);
    PQclear(r);
    PQfinish(c);
    return ok ? absl::OkStatus() : absl::InternalError(message);
  }

 private:
  std::string conninfo_;
  std::string cache_;
  int opened_ = 0;
};

std::unique_ptr<Backend> NewBackend(const std::string& name) {
  if (name == "sqlite") return std::make_unique<SqliteBackend>();
  return std::make_unique<PostgresBackend>();
}

class StoreContract : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    backend_ = NewBackend(GetParam());
    Reopen();
  }
  void Reopen(StoreOptions o = {}) {
    store_.reset();
    absl::StatusOr<std::unique_ptr<Store>> s = backend_->Open(o);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
  }
  static absl::StatusOr<PayloadRecord> Upload(
      Store& store, const std::vector<uint8_t>& sha,
      const std::vector<uint8_t>& content, bool* present,
      size_t chunk = 1 << 16) {
    auto up = store.BeginPayload(sha, content.size(), "test");
    if (!up.ok()) return up.status();
    for (size_t off = 0; off < content.size(); off += chunk) {
      const size_t n = std::min(chunk, content.size() - off);
      if (absl::Status s = (*up)->Append({content.data() + off, n}); !s.ok()) {
        return s;
      }
    }
    return (*up)->Commit(present);
  }
  static std::string FileContent(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(f)), {});
  }

  std::unique_ptr<Backend> backend_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreContract, ReferenceSetLifecycle) {
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
  EXPECT_EQ(got->corim_sha256, kAbcSha256);
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

// Issue 16: sets in parts (append), revisions for caches, signers.
TEST_P(StoreContract, AppendPartsRevisionsAndSigners) {
  ReferenceSetRecord r;
  r.name = "big";
  r.profile = 1;
  r.realm_count = 10;
  r.corim = kAbc;
  r.signer = "CN=first";
  absl::StatusOr<ReferenceSetRecord> put = store_->PutReferenceSet(r, false);
  ASSERT_TRUE(put.ok()) << put.status();
  EXPECT_EQ(put->part_count, 1u);
  const int64_t rev0 = put->revision;
  absl::StatusOr<int64_t> rev = store_->GetReferenceSetRevision("big");
  ASSERT_TRUE(rev.ok()) << rev.status();
  EXPECT_EQ(*rev, rev0);

  ReferenceSetPart p;
  p.corim = {1, 2, 3, 4};
  p.realm_count = 20;
  p.signer = "CN=second";
  absl::StatusOr<ReferenceSetRecord> a =
      store_->AppendReferenceSetPart("big", 1, p, 40);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->realm_count, 30u);
  EXPECT_EQ(a->part_count, 2u);
  EXPECT_GT(a->revision, rev0);
  EXPECT_EQ(a->previous_revision, rev0);
  EXPECT_EQ(a->more_signers, std::vector<std::string>{"CN=second"});
  EXPECT_EQ(*store_->GetReferenceSetRevision("big"), a->revision);

  // Over the per-set limit, another profile, an unknown set: refused,
  // nothing changed.
  p.realm_count = 11;
  absl::StatusOr<ReferenceSetRecord> over =
      store_->AppendReferenceSetPart("big", 1, p, 40);
  EXPECT_EQ(over.status().code(), absl::StatusCode::kResourceExhausted)
      << over.status();
  EXPECT_TRUE(absl::StrContains(over.status().message(),
                                "expected at most 40 values per set, found "
                                "30 stored + 11 appended"))
      << over.status();
  EXPECT_EQ(store_->AppendReferenceSetPart("big", 2, p, 40).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->AppendReferenceSetPart("nope", 1, p, 40).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(*store_->GetReferenceSetRevision("big"), a->revision);

  p.realm_count = 10;
  p.corim = {5};
  p.signer = "";
  ASSERT_TRUE(store_->AppendReferenceSetPart("big", 1, p, 40).ok());

  // Another replica (PostgreSQL) or a restart (SQLite) reads the same parts.
  Reopen();
  absl::StatusOr<ReferenceSetRecord> got = store_->GetReferenceSet("big");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->realm_count, 40u);
  EXPECT_EQ(got->part_count, 3u);
  EXPECT_EQ(got->corim, kAbc);
  EXPECT_EQ(got->signer, "CN=first");
  ASSERT_EQ(got->more_parts.size(), 2u);
  EXPECT_EQ(got->more_parts[0].corim, (std::vector<uint8_t>{1, 2, 3, 4}));
  EXPECT_EQ(got->more_parts[0].realm_count, 20u);
  EXPECT_EQ(got->more_parts[0].signer, "CN=second");
  EXPECT_EQ(got->more_parts[1].corim, std::vector<uint8_t>{5});
  EXPECT_EQ(got->more_signers, (std::vector<std::string>{"CN=second", ""}));
  absl::StatusOr<std::vector<ReferenceSetRecord>> list =
      store_->ListReferenceSets();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].part_count, 3u);
  EXPECT_EQ((*list)[0].more_signers, got->more_signers);
  EXPECT_TRUE((*list)[0].more_parts.empty());

  // Replacing drops the parts and moves the revision on; so does a
  // delete followed by a new set of the same name.
  const int64_t before = got->revision;
  absl::StatusOr<ReferenceSetRecord> rep = store_->PutReferenceSet(r, true);
  ASSERT_TRUE(rep.ok()) << rep.status();
  EXPECT_GT(rep->revision, before);
  got = store_->GetReferenceSet("big");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->part_count, 1u);
  EXPECT_TRUE(got->more_parts.empty());
  EXPECT_EQ(got->realm_count, 10u);
  ASSERT_TRUE(store_->AppendReferenceSetPart("big", 1, p, 40).ok());
  ASSERT_TRUE(store_->DeleteReferenceSet("big").ok());
  EXPECT_EQ(store_->GetReferenceSetRevision("big").status().code(),
            absl::StatusCode::kNotFound);
  absl::StatusOr<ReferenceSetRecord> again = store_->PutReferenceSet(r, false);
  ASSERT_TRUE(again.ok());
  EXPECT_GT(again->revision, rep->revision);
  got = store_->GetReferenceSet("big");
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->more_parts.empty());
}

// Concurrent appends (two replicas for PostgreSQL) each land exactly once
// and the per-set limit holds.
TEST_P(StoreContract, ConcurrentAppendsKeepTheLimit) {
  ReferenceSetRecord r;
  r.name = "grow";
  r.profile = 1;
  r.realm_count = 1;
  r.corim = kAbc;
  ASSERT_TRUE(store_->PutReferenceSet(r, false).ok());
  std::vector<std::unique_ptr<Store>> stores;
  stores.push_back(std::move(store_));
  for (int i = 1; i < std::min(2, backend_->max_open()); ++i) {
    absl::StatusOr<std::unique_ptr<Store>> s = backend_->Open({});
    ASSERT_TRUE(s.ok()) << s.status();
    stores.push_back(std::move(*s));
  }
  std::vector<absl::Status> st(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      ReferenceSetPart p;
      p.corim = {static_cast<uint8_t>(i)};
      p.realm_count = 2;
      st[i] = stores[i % stores.size()]
                  ->AppendReferenceSetPart("grow", 1, p, 11)
                  .status();
    });
  }
  for (std::thread& t : threads) t.join();
  int ok = 0;
  for (const absl::Status& s : st) {
    if (s.ok()) {
      ++ok;
    } else {
      EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
    }
  }
  EXPECT_EQ(ok, 5);
  absl::StatusOr<ReferenceSetRecord> got = stores[0]->GetReferenceSet("grow");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->realm_count, 11u);
  EXPECT_EQ(got->part_count, 6u);
  EXPECT_EQ(got->more_parts.size(), 5u);
}

TEST_P(StoreContract, BadNamesRejected) {
  for (std::string name :
       {std::string(), std::string(129, 'a'), std::string("a/b"),
        std::string("x y"), std::string("a\0b", 3)}) {
    ReferenceSetRecord r;
    r.name = name;
    absl::StatusOr<ReferenceSetRecord> s = store_->PutReferenceSet(r, false);
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument) << name;
  }
}

TEST_P(StoreContract, PayloadUploadDedupAndRead) {
  bool present = true;
  absl::StatusOr<PayloadRecord> r = Upload(*store_, kAbcSha256, kAbc, &present);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(present);
  EXPECT_EQ(r->size, 3u);
  r = Upload(*store_, kAbcSha256, kAbc, &present);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(present);

  absl::StatusOr<PayloadRecord> got = store_->GetPayload(kAbcSha256);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->name, "test");
  EXPECT_EQ(got->size, 3u);
  EXPECT_EQ(FileContent(got->path), "abc");
  EXPECT_EQ(store_->ListPayloads()->size(), 1u);
}

// Many chunks both ways (PostgreSQL stores and reads them one by one).
TEST_P(StoreContract, LargePayloadStreamsInChunks) {
  const std::vector<uint8_t> million(1000000, 'a');
  bool present = true;
  absl::StatusOr<PayloadRecord> r =
      Upload(*store_, kMillionASha256, million, &present, /*chunk=*/4093);
  ASSERT_TRUE(r.ok()) << r.status();
  Reopen();
  absl::StatusOr<PayloadRecord> got = store_->GetPayload(kMillionASha256);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(FileContent(got->path), std::string(1000000, 'a'));
}

TEST_P(StoreContract, WrongDigestStoresNothing) {
  std::vector<uint8_t> wrong = kAbcSha256;
  wrong[31] ^= 1;
  bool present = false;
  absl::StatusOr<PayloadRecord> r = Upload(*store_, wrong, kAbc, &present);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(r.status().message(), "found ba7816bf8f01cfea"))
      << r.status();
  EXPECT_EQ(store_->GetPayload(wrong).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(store_->ListPayloads()->empty());
  EXPECT_TRUE(store_->CheckConsistency().ok());
}

TEST_P(StoreContract, TruncatedOversizedAndAbandonedUploads) {
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

  up = store_->BeginPayload(kAbcSha256, 3, "abandoned");
  ASSERT_TRUE(up.ok());
  ASSERT_TRUE((*up)->Append({kAbc.data(), 1}).ok());
  up->reset();
  EXPECT_TRUE(store_->ListPayloads()->empty());

  StoreOptions small;
  small.max_payload_bytes = 2;
  Reopen(small);
  EXPECT_EQ(store_->BeginPayload(kAbcSha256, 3, "x").status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(store_->BeginPayload(kAbc, 3, "x").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_P(StoreContract, ReopenKeepsEverything) {
  ReferenceSetRecord r;
  r.name = "kept";
  r.corim = kAbc;
  ASSERT_TRUE(store_->PutReferenceSet(r, false).ok());
  bool present;
  ASSERT_TRUE(Upload(*store_, kAbcSha256, kAbc, &present).ok());
  ASSERT_EQ(*store_->EnsureEarKeyPem("PEM"), "PEM");
  Reopen();
  EXPECT_TRUE(store_->GetReferenceSet("kept").ok());
  EXPECT_TRUE(store_->GetPayload(kAbcSha256).ok());
  absl::StatusOr<std::optional<std::string>> key = store_->GetEarKeyPem();
  ASSERT_TRUE(key.ok());
  ASSERT_TRUE(key->has_value());
  EXPECT_EQ(**key, "PEM");
  EXPECT_TRUE(store_->CheckConsistency().ok());
}

// Issue 15: key creation is insert-if-absent; a second candidate never
// replaces the published key.
TEST_P(StoreContract, EarKeyIsInsertedOnce) {
  absl::StatusOr<std::optional<std::string>> key = store_->GetEarKeyPem();
  ASSERT_TRUE(key.ok());
  EXPECT_FALSE(key->has_value());
  EXPECT_EQ(*store_->EnsureEarKeyPem("one"), "one");
  EXPECT_EQ(*store_->EnsureEarKeyPem("two"), "one");
  Reopen();
  EXPECT_EQ(*store_->EnsureEarKeyPem("three"), "one");
  EXPECT_EQ(**store_->GetEarKeyPem(), "one");
}

// Issue 15: servers started together on one empty store publish one key
// (100 tries). Each thread is a server: its own store where the backend
// allows several (PostgreSQL replicas), else the one store.
TEST_P(StoreContract, ThreeServersStartedTogetherPublishOneKey) {
  store_.reset();
  std::unique_ptr<Backend> fresh;
  std::vector<std::unique_ptr<Store>> stores;
  for (int attempt = 0; attempt < 100; ++attempt) {
    if (fresh == nullptr || !fresh->ResetEarKey()) {
      stores.clear();
      fresh = NewBackend(GetParam());
      for (int i = 0; i < fresh->max_open(); ++i) {
        absl::StatusOr<std::unique_ptr<Store>> s = fresh->Open({});
        ASSERT_TRUE(s.ok()) << s.status();
        stores.push_back(std::move(*s));
      }
    }
    std::vector<std::string> keys(3);
    std::vector<std::thread> threads;
    for (int i = 0; i < 3; ++i) {
      threads.emplace_back([&, i] {
        Store& s = *stores[i % stores.size()];
        absl::StatusOr<std::optional<std::string>> k = s.GetEarKeyPem();
        if (k.ok() && k->has_value()) {
          keys[i] = **k;
          return;
        }
        absl::StatusOr<std::string> e =
            s.EnsureEarKeyPem(absl::StrCat("key-", i));
        keys[i] = e.ok() ? *e : e.status().ToString();
      });
    }
    for (std::thread& t : threads) t.join();
    EXPECT_EQ(keys[0], keys[1]) << "attempt " << attempt;
    EXPECT_EQ(keys[1], keys[2]) << "attempt " << attempt;
    EXPECT_TRUE(absl::StartsWith(keys[0], "key-")) << keys[0];
    ASSERT_EQ(**stores[0]->GetEarKeyPem(), keys[0]);
  }
}

// Issue 15: the same name provisioned at once from two replicas: one
// winner, one ALREADY_EXISTS.
TEST_P(StoreContract, ConcurrentProvisionOneWinner) {
  std::vector<std::unique_ptr<Store>> stores;
  stores.push_back(std::move(store_));
  for (int i = 1; i < std::min(2, backend_->max_open()); ++i) {
    absl::StatusOr<std::unique_ptr<Store>> s = backend_->Open({});
    ASSERT_TRUE(s.ok()) << s.status();
    stores.push_back(std::move(*s));
  }
  for (int attempt = 0; attempt < 20; ++attempt) {
    std::vector<absl::Status> st(2);
    std::vector<std::thread> threads;
    for (int i = 0; i < 2; ++i) {
      threads.emplace_back([&, i] {
        ReferenceSetRecord r;
        r.name = absl::StrCat("same-", attempt);
        r.corim = {static_cast<uint8_t>(i)};
        st[i] = stores[i % stores.size()]->PutReferenceSet(r, false).status();
      });
    }
    for (std::thread& t : threads) t.join();
    EXPECT_EQ(st[0].ok() + st[1].ok(), 1) << st[0] << " / " << st[1];
    for (const absl::Status& s : st) {
      if (!s.ok()) {
        EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists) << s;
      }
    }
  }
}

// Issue 14: unreferenced payloads can be deleted.
TEST_P(StoreContract, DeletePayload) {
  bool present;
  ASSERT_TRUE(Upload(*store_, kAbcSha256, kAbc, &present).ok());
  ASSERT_TRUE(store_->DeletePayload(kAbcSha256).ok());
  EXPECT_EQ(store_->GetPayload(kAbcSha256).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->DeletePayload(kAbcSha256).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->DeletePayload(kAbc).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(store_->ListPayloads()->empty());
  EXPECT_TRUE(store_->CheckConsistency().ok());
  // And can be uploaded again.
  ASSERT_TRUE(Upload(*store_, kAbcSha256, kAbc, &present).ok());
  EXPECT_FALSE(present);
  EXPECT_EQ(FileContent(store_->GetPayload(kAbcSha256)->path), "abc");
}

// Issue 14: a per-store size quota, RESOURCE_EXHAUSTED when full.
TEST_P(StoreContract, QuotaRefusesWhenFull) {
  StoreOptions o;
  o.max_store_bytes = 1000003;
  Reopen(o);
  bool present;
  ASSERT_TRUE(Upload(*store_, kAbcSha256, kAbc, &present).ok());
  const std::vector<uint8_t> million(1000000, 'a');
  ASSERT_TRUE(Upload(*store_, kMillionASha256, million, &present).ok());
  ASSERT_TRUE(store_->DeletePayload(kMillionASha256).ok());
  o.max_store_bytes = 1000002;
  Reopen(o);
  absl::StatusOr<PayloadRecord> r =
      Upload(*store_, kMillionASha256, million, &present);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted)
      << r.status();
  EXPECT_TRUE(absl::StrContains(r.status().message(), "store quota"))
      << r.status();
  ASSERT_TRUE(store_->DeletePayload(kAbcSha256).ok());
  EXPECT_TRUE(Upload(*store_, kMillionASha256, million, &present).ok());
}

TEST_P(StoreContract, AuditLog) {
  AuditEvent e;
  e.principal = "CN=provisioner";
  e.method = "/realm_measurements.v1.RealmMeasurementsService/X";
  e.target = "set-a";
  e.outcome = "OK";
  e.detail = std::string(2000, 'd');
  e.request_id = "req-1";
  ASSERT_TRUE(store_->AppendAuditEvent(e).ok());
  e.outcome = "ALREADY_EXISTS";
  e.time_unix_ms = 42;
  ASSERT_TRUE(store_->AppendAuditEvent(e).ok());
  Reopen();
  absl::StatusOr<std::vector<AuditEvent>> all = store_->ListAuditEvents(0, 10);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].principal, "CN=provisioner");
  EXPECT_EQ((*all)[0].target, "set-a");
  EXPECT_EQ((*all)[0].outcome, "OK");
  EXPECT_GT((*all)[0].time_unix_ms, 1600000000000);
  EXPECT_EQ((*all)[0].detail.size(), kMaxAuditDetail);
  EXPECT_EQ((*all)[0].request_id, "req-1");
  EXPECT_EQ((*all)[1].outcome, "ALREADY_EXISTS");
  EXPECT_EQ((*all)[1].time_unix_ms, 42);
  EXPECT_LT((*all)[0].id, (*all)[1].id);
  absl::StatusOr<std::vector<AuditEvent>> after =
      store_->ListAuditEvents((*all)[0].id, 10);
  ASSERT_EQ(after->size(), 1u);
  EXPECT_EQ(store_->ListAuditEvents(0, 1)->size(), 1u);
}

// audit_log.request_id is additive: a store an older server made gets it
// when opened, and an older server's writes (which do not name it) keep
// working on the new schema, since the schema version does not change.
TEST_P(StoreContract, AuditRequestIdColumnIsAdditive) {
  const std::string old_insert =
      "INSERT INTO audit_log (time_unix_ms, principal, method, target, "
      "outcome, detail) VALUES (7, 'old', 'm', 't', 'OK', '')";
  store_.reset();
  ASSERT_TRUE(
      backend_->RunSql("ALTER TABLE audit_log DROP COLUMN request_id").ok());
  ASSERT_TRUE(backend_->RunSql(old_insert).ok());  // an older server
  Reopen();
  AuditEvent e;
  e.principal = "new";
  e.request_id = "req-2";
  ASSERT_TRUE(store_->AppendAuditEvent(e).ok());
  store_.reset();
  ASSERT_TRUE(backend_->RunSql(old_insert).ok());  // an older replica
  Reopen();
  absl::StatusOr<std::vector<AuditEvent>> all = store_->ListAuditEvents(0, 10);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].principal, "old");
  EXPECT_EQ((*all)[0].request_id, "");
  EXPECT_EQ((*all)[1].request_id, "req-2");
  EXPECT_EQ((*all)[2].request_id, "");
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreContract,
                         ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace realm_measurements::service
