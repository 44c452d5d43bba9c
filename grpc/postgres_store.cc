#include "grpc/postgres_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <postgresql/libpq-fe.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/crypto.h"

namespace realm_measurements::service {
namespace {

namespace crypto = ::realm_measurements::crypto;

// Advisory lock keys (pg_advisory_xact_lock): schema changes and payload
// commits (the quota check and the insert are one step).
constexpr int64_t kSchemaLockKey = 0x726d5f736368656d;   // "rm_schem"
constexpr int64_t kPayloadLockKey = 0x726d5f7061796c64;  // "rm_payld"
constexpr absl::Duration kConnectionWait = absl::Seconds(30);

constexpr char kSchemaV1[] = R"sql(
CREATE TABLE IF NOT EXISTS reference_sets (
  name text PRIMARY KEY,
  profile integer NOT NULL,
  realm_count bigint NOT NULL,
  corim bytea NOT NULL,
  corim_sha256 bytea NOT NULL,
  created_unix bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS payloads (
  sha256 bytea PRIMARY KEY CHECK (length(sha256) = 32),
  size bigint NOT NULL CHECK (size >= 0),
  name text NOT NULL,
  created_unix bigint NOT NULL,
  upload_id bigint NOT NULL UNIQUE
);
CREATE SEQUENCE IF NOT EXISTS payload_upload_ids;
CREATE TABLE IF NOT EXISTS payload_chunks (
  upload_id bigint NOT NULL,
  seq integer NOT NULL,
  data bytea NOT NULL,
  PRIMARY KEY (upload_id, seq)
);
CREATE TABLE IF NOT EXISTS ear_key (
  id integer PRIMARY KEY CHECK (id = 1),
  pem text NOT NULL,
  created_unix bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_log (
  id bigserial PRIMARY KEY,
  time_unix_ms bigint NOT NULL,
  principal text NOT NULL,
  method text NOT NULL,
  target text NOT NULL,
  outcome text NOT NULL,
  detail text NOT NULL
);
)sql";

// Version 1 -> 2: parts appended to a set, revisions (one sequence for all
// replicas), signers.
constexpr char kSchemaV2[] = R"sql(
ALTER TABLE reference_sets ADD COLUMN IF NOT EXISTS part_count bigint NOT NULL DEFAULT 1;
ALTER TABLE reference_sets ADD COLUMN IF NOT EXISTS revision bigint NOT NULL DEFAULT 0;
ALTER TABLE reference_sets ADD COLUMN IF NOT EXISTS signer text NOT NULL DEFAULT '';
CREATE SEQUENCE IF NOT EXISTS reference_set_revisions;
CREATE TABLE IF NOT EXISTS reference_set_parts (
  name text NOT NULL,
  seq bigint NOT NULL,
  corim bytea NOT NULL,
  realm_count bigint NOT NULL,
  signer text NOT NULL,
  PRIMARY KEY (name, seq)
);
)sql";

int64_t NowUnix() { return static_cast<int64_t>(std::time(nullptr)); }

int64_t NowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

absl::Status OsError(absl::string_view what, int e) {
  return absl::InternalError(
      absl::StrCat(what, ": ", std::strerror(e), " (os error ", e, ")"));
}

// A statement parameter: text (format 0) or binary bytes (format 1, bytea).
struct Param {
  std::string value;
  bool binary = false;
  bool null = false;
};
Param Text(absl::string_view s) { return {std::string(s), false}; }
Param Int(int64_t v) { return {absl::StrCat(v), false}; }
Param Bytes(absl::Span<const uint8_t> b) {
  return {std::string(reinterpret_cast<const char*>(b.data()), b.size()), true};
}

class Result {
 public:
  explicit Result(PGresult* r) : r_(r) {}
  Result(Result&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
  Result& operator=(Result&&) = delete;
  ~Result() { PQclear(r_); }
  PGresult* raw() const { return r_; }
  int rows() const { return PQntuples(r_); }
  bool IsNull(int row, int col) const { return PQgetisnull(r_, row, col); }
  std::string Str(int row, int col) const {
    return std::string(PQgetvalue(r_, row, col), PQgetlength(r_, row, col));
  }
  std::vector<uint8_t> Blob(int row, int col) const {
    const uint8_t* p =
        reinterpret_cast<const uint8_t*>(PQgetvalue(r_, row, col));
    return std::vector<uint8_t>(p, p + PQgetlength(r_, row, col));
  }
  absl::Span<const uint8_t> View(int row, int col) const {
    return {reinterpret_cast<const uint8_t*>(PQgetvalue(r_, row, col)),
            static_cast<size_t>(PQgetlength(r_, row, col))};
  }
  // Binary int8 (every integer column is selected as bigint).
  int64_t I64(int row, int col) const {
    absl::Span<const uint8_t> b = View(row, col);
    if (b.size() != 8) return 0;
    uint64_t v = 0;
    for (uint8_t x : b) v = (v << 8) | x;
    return static_cast<int64_t>(v);
  }

 private:
  PGresult* r_;
};

// One connection; statements return binary results.
class Conn {
 public:
  explicit Conn(PGconn* c) : c_(c) {}
  ~Conn() { PQfinish(c_); }
  bool healthy() const { return PQstatus(c_) == CONNECTION_OK; }
  PGconn* raw() { return c_; }

  absl::StatusOr<Result> Exec(const char* sql,
                              const std::vector<Param>& params = {}) {
    std::vector<const char*> values;
    std::vector<int> lengths, formats;
    for (const Param& p : params) {
      values.push_back(p.null ? nullptr : p.value.data());
      lengths.push_back(static_cast<int>(p.value.size()));
      formats.push_back(p.binary ? 1 : 0);
    }
    Result r(PQexecParams(c_, sql, static_cast<int>(params.size()), nullptr,
                          values.data(), lengths.data(), formats.data(),
                          /*resultFormat=*/1));
    return Check(std::move(r));
  }
  // Several statements, no parameters, text protocol.
  absl::Status ExecScript(const char* sql) {
    absl::StatusOr<Result> r = Check(Result(PQexec(c_, sql)));
    return r.status();
  }

 private:
  absl::StatusOr<Result> Check(Result r) {
    PGresult* raw = r.raw();
    ExecStatusType st = PQresultStatus(raw);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return r;
    if (!healthy()) {
      return absl::UnavailableError(
          "postgresql: connection to the database lost");
    }
    const char* state = PQresultErrorField(raw, PG_DIAG_SQLSTATE);
    const char* msg = PQresultErrorField(raw, PG_DIAG_MESSAGE_PRIMARY);
    std::string text =
        absl::StrCat("postgresql: ", msg != nullptr ? msg : "error");
    const std::string code = state != nullptr ? state : "";
    if (code == "23505") return absl::AlreadyExistsError(text);
    if (code == "40001" || code == "40P01") return absl::AbortedError(text);
    if (code.rfind("08", 0) == 0 || code == "57P01") {
      return absl::UnavailableError(text);
    }
    return absl::InternalError(text);
  }

  PGconn* c_;
};

// A bounded set of connections. Lease returns its connection when it goes
// (dropping one that broke).
class Pool {
 public:
  Pool(std::string conninfo, int max)
      : conninfo_(std::move(conninfo)), max_(std::max(1, max)) {}
  ~Pool() {
    for (Conn* c : idle_) delete c;
  }

  class Lease {
   public:
    Lease(Pool* pool, Conn* c) : pool_(pool), c_(c) {}
    Lease(Lease&& o) noexcept : pool_(o.pool_), c_(o.c_) { o.c_ = nullptr; }
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (c_ != nullptr) pool_->Return(c_);
    }
    Conn* operator->() { return c_; }
    Conn& operator*() { return *c_; }

   private:
    Pool* pool_;
    Conn* c_;
  };

  absl::StatusOr<Lease> Take() {
    {
      absl::MutexLock lock(&mu_);
      const absl::Time deadline = absl::Now() + kConnectionWait;
      while (idle_.empty() && open_ >= max_) {
        if (freed_.WaitWithDeadline(&mu_, deadline)) {
          return absl::UnavailableError(
              "postgresql: no free database connection (all busy)");
        }
      }
      if (!idle_.empty()) {
        Conn* c = idle_.back();
        idle_.pop_back();
        return Lease(this, c);
      }
      ++open_;
    }
    PGconn* raw = PQconnectdb(conninfo_.c_str());
    if (raw == nullptr || PQstatus(raw) != CONNECTION_OK) {
      // libpq's message may quote the connection string: keep its first
      // line only and never the conninfo.
      std::string why = raw != nullptr ? PQerrorMessage(raw) : "out of memory";
      why = why.substr(0, why.find('\n'));
      PQfinish(raw);
      absl::MutexLock lock(&mu_);
      --open_;
      freed_.Signal();
      return absl::UnavailableError(
          absl::StrCat("postgresql: cannot connect to the database: ", why));
    }
    // Short statements; a stuck lock must not hang a call forever.
    PQclear(PQexec(raw, "SET statement_timeout = '60s'"));
    return Lease(this, new Conn(raw));
  }

 private:
  void Return(Conn* c) {
    if (!c->healthy() || PQtransactionStatus(c->raw()) != PQTRANS_IDLE) {
      delete c;
      absl::MutexLock lock(&mu_);
      --open_;
      freed_.Signal();
      return;
    }
    absl::MutexLock lock(&mu_);
    idle_.push_back(c);
    freed_.Signal();
  }

  const std::string conninfo_;
  const int max_;
  absl::Mutex mu_;
  absl::CondVar freed_;
  std::vector<Conn*> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;  // idle and leased
};

class PostgresStore;

// An upload: BEGIN, one INSERT per chunk, then the payload row and COMMIT.
class PgUpload final : public PayloadUpload {
 public:
  PgUpload(PostgresStore* store, Pool::Lease conn, int64_t upload_id,
           std::vector<uint8_t> sha256, uint64_t size, std::string name,
           crypto::Digest digest)
      : store_(store),
        conn_(std::move(conn)),
        upload_id_(upload_id),
        sha256_(std::move(sha256)),
        size_(size),
        name_(std::move(name)),
        digest_(std::move(digest)) {}
  ~PgUpload() override {
    if (open_) conn_->ExecScript("ROLLBACK").IgnoreError();
  }

  absl::Status Append(absl::Span<const uint8_t> chunk) override {
    if (!open_) return absl::FailedPreconditionError("upload already closed");
    if (chunk.size() > size_ - received_) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "payload larger than its announced size of ", size_, " bytes"));
    }
    if (absl::Status s = digest_.Update(chunk); !s.ok()) return s;
    received_ += chunk.size();
    while (!chunk.empty()) {
      const size_t n = std::min(chunk.size(), kPgChunkBytes - buffer_.size());
      buffer_.insert(buffer_.end(), chunk.begin(), chunk.begin() + n);
      chunk.remove_prefix(n);
      if (buffer_.size() == kPgChunkBytes) {
        if (absl::Status s = Flush(); !s.ok()) return s;
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<PayloadRecord> Commit(bool* already_present) override;

 private:
  absl::Status Flush() {
    if (buffer_.empty()) return absl::OkStatus();
    absl::StatusOr<Result> r = conn_->Exec(
        "INSERT INTO payload_chunks (upload_id, seq, data) VALUES ($1, $2, $3)",
        {Int(upload_id_), Int(seq_), Bytes(buffer_)});
    if (!r.ok()) return r.status();
    ++seq_;
    buffer_.clear();
    return absl::OkStatus();
  }

  PostgresStore* store_;
  Pool::Lease conn_;
  const int64_t upload_id_;
  std::vector<uint8_t> sha256_;
  const uint64_t size_;
  std::string name_;
  crypto::Digest digest_;
  std::vector<uint8_t> buffer_;
  uint64_t received_ = 0;
  int64_t seq_ = 0;
  bool open_ = true;  // the transaction is open
};

class PostgresStore final : public Store {
 public:
  PostgresStore(const PostgresStoreOptions& o, std::string cache_dir,
                bool own_cache, int cache_lock)
      : pool_(o.conninfo, o.max_connections),
        options_(o.store),
        cache_dir_(std::move(cache_dir)),
        own_cache_(own_cache),
        cache_lock_(cache_lock) {}
  ~PostgresStore() override {
    if (own_cache_) {
      // A private temporary cache: remove it with the store.
      if (DIR* d = opendir(cache_dir_.c_str())) {
        while (struct dirent* e = readdir(d)) {
          std::string n = e->d_name;
          if (n != "." && n != "..") unlinkat(dirfd(d), n.c_str(), 0);
        }
        closedir(d);
      }
      rmdir(cache_dir_.c_str());
    }
    if (cache_lock_ >= 0) close(cache_lock_);
  }

  const StoreOptions& options() const { return options_; }
  Pool& pool() { return pool_; }

  absl::Status Init() {
    absl::StatusOr<Pool::Lease> c = pool_.Take();
    if (!c.ok()) return c.status();
    // Quiet NOTICEs ("relation already exists, skipping").
    (*c)->ExecScript("SET client_min_messages = warning").IgnoreError();
    if (absl::Status s = (*c)->ExecScript("BEGIN"); !s.ok()) return s;
    absl::Status s = InitInTransaction(**c);
    if (!s.ok()) {
      (*c)->ExecScript("ROLLBACK").IgnoreError();
      return s;
    }
    if (absl::Status s = (*c)->ExecScript("COMMIT"); !s.ok()) return s;
    return CheckConsistency();
  }

  absl::StatusOr<ReferenceSetRecord> PutReferenceSet(ReferenceSetRecord r,
                                                     bool replace) override {
    if (absl::Status s = ValidateSetName(r.name); !s.ok()) return s;
    absl::StatusOr<std::vector<uint8_t>> h =
        crypto::HashOnce(crypto::DigestAlgorithm::kSha256, r.corim);
    if (!h.ok()) return h.status();
    r.corim_sha256 = *h;
    r.created_unix = NowUnix();
    r.part_count = 1;
    r.more_parts.clear();
    r.more_signers.clear();
    absl::StatusOr<Pool::Lease> c = pool_.Take();
    if (!c.ok()) return c.status();
    absl::StatusOr<int64_t> rev = InTransaction(**c, [&](Conn& c) {
      absl::StatusOr<Result> res = c.Exec(
          replace
              ? "INSERT INTO reference_sets (name, profile, realm_count, "
                "corim, corim_sha256, created_unix, part_count, revision, "
                "signer) VALUES ($1, $2, $3, $4, $5, $6, 1, "
                "nextval('reference_set_revisions'), $7) ON CONFLICT (name) "
                "DO UPDATE SET profile = excluded.profile, realm_count = "
                "excluded.realm_count, corim = excluded.corim, corim_sha256 = "
                "excluded.corim_sha256, created_unix = excluded.created_unix, "
                "part_count = 1, revision = excluded.revision, signer = "
                "excluded.signer RETURNING revision"
              : "INSERT INTO reference_sets (name, profile, realm_count, "
                "corim, corim_sha256, created_unix, part_count, revision, "
                "signer) VALUES ($1, $2, $3, $4, $5, $6, 1, "
                "nextval('reference_set_revisions'), $7) RETURNING revision",
          {Text(r.name), Int(r.profile), Int(r.realm_count), Bytes(r.corim),
           Bytes(r.corim_sha256), Int(r.created_unix), Text(r.signer)});
      if (absl::IsAlreadyExists(res.status())) {
        return absl::StatusOr<int64_t>(absl::AlreadyExistsError(
            absl::StrCat("reference-value set '", r.name,
                         "' already exists (set replace to overwrite it)")));
      }
      if (!res.ok()) return absl::StatusOr<int64_t>(res.status());
      const int64_t revision = res->I64(0, 0);
      absl::StatusOr<Result> del = c.Exec(
          "DELETE FROM reference_set_parts WHERE name = $1", {Text(r.name)});
      if (!del.ok()) return absl::StatusOr<int64_t>(del.status());
      return absl::StatusOr<int64_t>(revision);
    });
    if (!rev.ok()) return rev.status();
    r.revision = *rev;
    return r;
  }

  absl::StatusOr<ReferenceSetRecord> AppendReferenceSetPart(
      absl::string_view name, int profile, ReferenceSetPart part,
      uint32_t max_realm_count) override {
    absl::StatusOr<Pool::Lease> c = pool_.Take();
    if (!c.ok()) return c.status();
    return InTransaction(
        **c, [&](Conn& c) -> absl::StatusOr<ReferenceSetRecord> {
          // One statement: the row lock it takes orders concurrent appends,
          // and the limits are checked on the locked row.
          absl::StatusOr<Result> u = c.Exec(
              "WITH old AS (SELECT name, revision FROM reference_sets WHERE "
              "name = $1 FOR UPDATE) UPDATE reference_sets s SET realm_count "
              "= s.realm_count + $2, part_count = s.part_count + 1, revision "
              "= nextval('reference_set_revisions') FROM old WHERE s.name = "
              "old.name AND s.profile = $3 AND s.realm_count + $2 <= $4 "
              "RETURNING s.name, s.profile::bigint, s.realm_count, "
              "NULL::bytea, s.corim_sha256, s.created_unix, s.part_count, "
              "s.revision, s.signer, old.revision",
              {Text(name), Int(part.realm_count), Int(profile),
               Int(max_realm_count)});
          if (!u.ok()) return u.status();
          if (u->rows() == 0) {
            absl::StatusOr<Result> cur = c.Exec(
                "SELECT profile::bigint, realm_count FROM reference_sets "
                "WHERE name = $1",
                {Text(name)});
            if (!cur.ok()) return cur.status();
            if (cur->rows() == 0) return SetNotFound(name);
            if (cur->I64(0, 0) != profile) {
              return AppendProfileMismatch(
                  name, static_cast<int>(cur->I64(0, 0)), profile);
            }
            return AppendOverLimit(name, cur->I64(0, 1), part.realm_count,
                                   max_realm_count);
          }
          ReferenceSetRecord r = SetRow(*u, 0, /*with_corim=*/false);
          r.previous_revision = u->I64(0, 9);
          absl::StatusOr<Result> ins = c.Exec(
              "INSERT INTO reference_set_parts VALUES ($1, $2, $3, $4, $5)",
              {Text(name), Int(r.part_count - 1), Bytes(part.corim),
               Int(part.realm_count), Text(part.signer)});
          if (!ins.ok()) return ins.status();
          absl::StatusOr<Result> signers = c.Exec(
              "SELECT signer FROM reference_set_parts WHERE name = $1 ORDER "
              "BY seq",
              {Text(name)});
          if (!signers.ok()) return signers.status();
          for (int i = 0; i < signers->rows(); ++i) {
            r.more_signers.push_back(signers->Str(i, 0));
          }
          return r;
        });
  }

  absl::StatusOr<int64_t> GetReferenceSetRevision(
      absl::string_view name) override {
    absl::StatusOr<Pool::Lease> c = pool_.Take();
    if (!c.ok()) return c.status();
    absl::StatusOr<Result> r = (*c)->Exec(
        "SELECT revision FROM reference_sets WHERE name = $1", {Text(name)});
    if (!r.ok()) return r.status();
    if (r->rows() == 0) return SetNotFound(name);
    return r->I64(0, 0);
  }

  absl::StatusOr<ReferenceSetRecord> GetReferenceSet(
      absl::string_view name) override {
    // One snapshot: the set row and its parts agree.
    return ReadInSnapshot<ReferenceSetRecord>(
        [&](Conn& c) { return GetInSnapshot(c, name); });
  }

  // Runs `read` on one connection inside a read-only REPEATABLE READ
  // transaction, so everything it reads comes from one snapshot.
  template <typename T, typename F>
  absl::StatusOr<T> ReadInSnapshot(F read) {
    absl::StatusOr<Pool::Lease> c = pool_.Take();
    if (!c.ok()) return c.status();
    if (absl::Status s =
            (*c)->ExecScript("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
        !s.ok()) {
      return s;
    }
    absl::StatusOr<T> out = read(**c);
    (*c)->ExecScript(out.ok() ? "COMMIT" : "ROLLBACK").IgnoreError();
    return out;
  }

  absl::StatusOr<ReferenceSetRecord> GetInSnapshot(Conn& c,
                                                   absl::string_view name) {
    absl::StatusOr<Result> r = c.Exec(
        "SELECT name, profile::bigint, realm_count, corim, corim_sha256, "
        "created_unix, part_count, revision, signer FROM reference_sets "
        "WHERE name = $1",
        {Text(name)});
    if (!r.ok()) return r.status();
    if (r->rows() == 0) {
      return SetNotFound(name);
    }
    ReferenceSetRecord out = SetRow(*r, 0, /*with_corim=*/true);
    // Part by part (each at most one request's CoRIM).
    for (int64_t seq = 1; seq < out.part_count; ++seq) {
      absl::StatusOr<Result> p = c.Exec(
          "SELECT corim, realm_count, signer FROM reference_set_parts WHERE "
          "name = $1 AND seq = $2",
          {Text(name), Int(seq)});
      if (!p.ok()) return p.status();
      if (p->rows() != 1) {
        return absl::DataLossError(absl::StrCat("reference-value set '", name,
                                                "': part ", seq, " of ",
                                                out.part_count, " is missing"));
      }
      ReferenceSetPart part;
      part.corim = p->Blob(0, 0);
      part.realm_count = static_cast<uint32_t>(p->I64(0, 1));
      part.signer = p->Str(0, 2);
      out.more_signers.push_back(part.signer);
      out.more_parts.push_back(std::move(part));
    }
    return out;
  }

  absl::StatusOr<std::vector<ReferenceSetRecord>> ListReferenceSets() override {
    absl::StatusOr<Pool::Lease> c = pool_.Take();
    if (!c.ok()) return c.status();
    absl::StatusOr<Result> r = (*c)->Exec(
        "SELECT name, profile::bigint, realm_count, NULL::bytea, "
        "corim_sha256, created_unix, part_count, revision, signer FROM "
        "reference_sets ORDER BY name COLLATE \"C\"");
    if (!r.ok()) return r.status();
    std::vector<ReferenceSetRecord> out;
    for (int i = 0; i < r->rows(); ++i) {
      out.push_back(SetRow(*r, i, /*with_corim=*/false));
    }
    absl::StatusOr<Result> p = (*c)->Exec(
        "SELECT name, signer FROM reference_set_parts ORDER BY name COLLATE "
        "\"C\", seq");
    if (!p.ok()) return p.status();
    size_t j = 0;
    for (int i = 0; i < p->rows(); ++i) {
      const std::string n = p->Str(i, 0);
      while (j < out.size() && out[j].name < n) ++j;
      if (j < out.size() && out[j].name == n) {
        out[j].more_signers.push_back(p->Str(i, 1));
      }
    }
    return out;
  }

  absl::Status DeleteReferenceSet(absl::string_view name) override {
    absl::StatusOr<Pool::Lease> c = pool_.Take();
    if (!c.ok()) return c.status();
    absl::StatusOr<bool> deleted = InTransaction(**c, [&](Conn& c) {
      absl::StatusOr<Result> r =
          c.Exec("DELETE FROM reference_sets WHERE name = $1 RETURNING name",
                 {Text(name)});
      if (!r.ok()) return absl::StatusOr<bool>(r.status());
      absl::StatusOr<Result> p = c.Exec(
          "DELETE FROM reference_set_parts WHERE name = $1", {Text(name)});
      if (!p.ok()) return absl::StatusOr<bool>(p.status());
      return absl::StatusOr<bool>(r->rows() > 0);
    });
    if (!deleted.ok()) return deleted.status();
    if (!*deleted) return SetNotFound(name);
    return absl::OkStatus();
  }

  // Runs `f` between BEGIN and COMMIT (ROLLBACK when it fails).
  template <typename F>
  static auto InTransaction(Conn& c, F f) -> decltype(f(c)) {
    if (absl::Status s = c.ExecScript("BEGIN"); !s.ok()) return s;
    auto out = f(c);
    absl::Status s = out.status();
    if (s.ok()) s = c.ExecScript("COMMIT");
    if (!s.ok()) {
      c.ExecScript("ROLLBACK").IgnoreError();
      return s;
    }
    return out;
  }

  absl::StatusOr<std::unique_ptr<PayloadUpload>> BeginPayload(
      absl::Span<const uint8_t> sha256, uint64_t size,
      std::string name) override {
    if (absl::Status s = CheckSha256Size(sha256); !s.ok()) return s;
    if (absl::Status s = CheckPayloadSize(size, options_.max_payload_bytes);
        !s.ok())
      return s;
    if (name.size() > 256) name.resize(256);
    absl::StatusOr<Pool::Lease> c = pool_.Take();
    if (!c.ok()) return c.status();
    if (absl::Status s = CheckQuota(**c, size); !s.ok()) return s;
    absl::StatusOr<Result> id =
        (*c)->Exec("SELECT nextval('payload_upload_ids')");
    if (!id.ok()) return id.status();
    absl::StatusOr<crypto::Digest> d =
        crypto::Digest::Create(crypto::DigestAlgorithm::kSha256);
    if (!d.ok()) return d.status();
    if (absl::Status s = (*c)->ExecScript("BEGIN"); !s.ok()) return s;
    return std::unique_ptr<PayloadUpload>(
        new PgUpload(this, std::move(*c), id->I64(0, 0),
                     std::vector<uint8_t>(sha256.begin(), sha256.end()), size,
                     std::move(name), std::move(*d)));
  }

  // kResourceExhausted when `more` bytes would pass the quota.
  absl::Status CheckQuota(Conn& c, uint64_t more) {
    absl::StatusOr<Result> r =
        c.Exec("SELECT coalesce(sum(size), 0)::bigint FROM payloads");
    if (!r.ok()) return r.status();
    const uint64_t used = static_cast<uint64_t>(r->I64(0, 0));
    const uint64_t max = options_.max_store_bytes;
    if (more > max || used > max - more) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "store quota: a payload of ", more, " bytes does not fit (", used,
          " of ", max,
          " bytes used; remove unused payloads with DeletePayload)"));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<PayloadRecord> GetPayload(
      absl::Span<const uint8_t> sha256) override {
    if (absl::Status s = CheckSha256Size(sha256); !s.ok()) return s;
    // One snapshot for the row and its chunks (a concurrent delete cannot
    // tear the copy).
    return ReadInSnapshot<PayloadRecord>(
        [&](Conn& c) { return GetPayloadInSnapshot(c, sha256); });
  }

  absl::StatusOr<std::vector<PayloadRecord>> ListPayloads() override {
    absl::StatusOr<Pool::Lease> c = pool_.Take();
    if (!c.ok()) return c.status();
    absl::StatusOr<Result> r = (*c)->Exec(
        "SELECT sha256, size, name, created_unix FROM payloads ORDER BY "
        "sha256");
    if (!r.ok()) return r.status();
    std::vector<PayloadRecord> out;
    for (int i = 0; i < r->rows(); ++i) {
      PayloadRecord p = PayloadRow(*r, i);
      out.push_back(std::move(p));
    }
    return out;
  }

  absl::Status DeletePayload(absl::Span<const uint8_t> sha256) override {
    if (absl::Status s = CheckSha256Size(sha256); !s.ok()) return s;
    absl::StatusOr<Pool::Lease> c = pool_.Take();
    if (!c.ok()) return c.status();
    // Row and chunks in one statement (one transaction).
    absl::StatusOr<Result> r = (*c)->Exec(
        "WITH gone AS (DELETE FROM payloads WHERE sha256 = $1 RETURNING "
        "upload_id), chunks AS (DELETE FROM payload_chunks WHERE upload_id "
        "IN (SELECT upload_id FROM gone)) SELECT count(*) FROM gone",
        {Bytes(sha256)});
    if (!r.ok()) return r.status();
    if (r->I64(0, 0) == 0) {
      return absl::NotFoundError(
          absl::StrCat("no payload with sha256 ", HexOf(sha256)));
    }
    unlink(CachePath(sha256).c_str());
    return absl::OkStatus();
  }

  absl::StatusOr<std::optional<std::string>> GetEarKeyPem() override {
    absl::StatusOr<Pool::Lease> c = pool_.Take();
    if (!c.ok()) return c.status();
    absl::StatusOr<Result> r =
        (*c)->Exec("SELECT pem FROM ear_key WHERE id = 1");
    if (!r.ok()) return r.status();
    if (r->rows() == 0) return std::optional<std::string>();
    return std::optional<std::string>(r->Str(0, 0));
  }

  absl::StatusOr<std::string> EnsureEarKeyPem(
      absl::string_view candidate_pem) override {
    absl::StatusOr<Pool::Lease> c = pool_.Take();
    if (!c.ok()) return c.status();
    absl::StatusOr<Result> ins = (*c)->Exec(
        "INSERT INTO ear_key VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING",
        {Text(candidate_pem), Int(NowUnix())});
    if (!ins.ok()) return ins.status();
    absl::StatusOr<Result> r =
        (*c)->Exec("SELECT pem FROM ear_key WHERE id = 1");
    if (!r.ok()) return r.status();
    if (r->rows() != 1) return absl::InternalError("EAR key vanished");
    return r->Str(0, 0);
  }

  absl::Status AppendAuditEvent(AuditEvent e) override {
    if (e.time_unix_ms == 0) e.time_unix_ms = NowUnixMs();
    if (e.detail.size() > kMaxAuditDetail) e.detail.resize(kMaxAuditDetail);
    absl::StatusOr<Pool::Lease> c = pool_.Take();
    if (!c.ok()) return c.status();
    // Text columns must be valid UTF-8 in PostgreSQL: bytes outside ASCII
    // printable are replaced (principals and messages are ours or
    // certificate subjects).
    auto clean = [](std::string s) {
      for (char& ch : s) {
        if (static_cast<unsigned char>(ch) < 0x20 ||
            static_cast<unsigned char>(ch) > 0x7e) {
          ch = '?';
        }
      }
      return s;
    };
    return (*c)
        ->Exec(
            "INSERT INTO audit_log (time_unix_ms, principal, method, target, "
            "outcome, detail, request_id) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            {Int(e.time_unix_ms), Text(clean(e.principal)),
             Text(clean(e.method)), Text(clean(e.target)),
             Text(clean(e.outcome)), Text(clean(e.detail)),
             Text(clean(e.request_id))})
        .status();
  }

  absl::StatusOr<std::vector<AuditEvent>> ListAuditEvents(int64_t after_id,
                                                          int limit) override {
    absl::StatusOr<Pool::Lease> c = pool_.Take();
    if (!c.ok()) return c.status();
    absl::StatusOr<Result> r = (*c)->Exec(
        "SELECT id, time_unix_ms, principal, method, target, outcome, detail, "
        "request_id FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2",
        {Int(after_id), Int(limit)});
    if (!r.ok()) return r.status();
    std::vector<AuditEvent> out;
    for (int i = 0; i < r->rows(); ++i) {
      AuditEvent e;
      e.id = r->I64(i, 0);
      e.time_unix_ms = r->I64(i, 1);
      e.principal = r->Str(i, 2);
      e.method = r->Str(i, 3);
      e.target = r->Str(i, 4);
      e.outcome = r->Str(i, 5);
      e.detail = r->Str(i, 6);
      e.request_id = r->Str(i, 7);
      out.push_back(std::move(e));
    }
    return out;
  }

  absl::Status CheckConsistency() override {
    absl::StatusOr<Pool::Lease> c = pool_.Take();
    if (!c.ok()) return c.status();
    absl::StatusOr<Result> v =
        (*c)->Exec("SELECT max(version)::bigint FROM schema_version");
    if (!v.ok()) return v.status();
    if (v->rows() != 1 || v->IsNull(0, 0) || v->I64(0, 0) != kPgSchemaVersion) {
      return absl::DataLossError(absl::StrCat(
          "postgresql store: schema version: expected ", kPgSchemaVersion,
          ", found ", v->rows() == 1 && !v->IsNull(0, 0) ? v->I64(0, 0) : 0));
    }
    // Every payload's chunks add up to its size.
    absl::StatusOr<Result> bad = (*c)->Exec(
        "SELECT p.sha256, p.size, coalesce(c.total, 0)::bigint FROM payloads "
        "p LEFT JOIN (SELECT upload_id, sum(length(data)) AS total FROM "
        "payload_chunks GROUP BY upload_id) c USING (upload_id) WHERE "
        "coalesce(c.total, 0) <> p.size LIMIT 1");
    if (!bad.ok()) return bad.status();
    if (bad->rows() > 0) {
      return absl::DataLossError(absl::StrCat(
          "postgresql store is corrupt: payload ", HexOf(bad->View(0, 0)),
          ": expected ", bad->I64(0, 1), " bytes, found ", bad->I64(0, 2)));
    }
    return absl::OkStatus();
  }

  std::string CachePath(absl::Span<const uint8_t> sha256) const {
    return absl::StrCat(cache_dir_, "/", HexOf(sha256));
  }

 private:
  absl::Status InitInTransaction(Conn& c) {
    absl::StatusOr<Result> l =
        c.Exec("SELECT pg_advisory_xact_lock($1)", {Int(kSchemaLockKey)});
    if (!l.ok()) return l.status();
    if (absl::Status s = c.ExecScript(
            "CREATE TABLE IF NOT EXISTS schema_version (version integer NOT "
            "NULL)");
        !s.ok()) {
      return s;
    }
    absl::StatusOr<Result> v =
        c.Exec("SELECT max(version)::bigint FROM schema_version");
    if (!v.ok()) return v.status();
    const int64_t found = v->IsNull(0, 0) ? 0 : v->I64(0, 0);
    if (found > kPgSchemaVersion) {
      return absl::DataLossError(
          absl::StrCat("postgresql store: schema version: expected at most ",
                       kPgSchemaVersion, ", found ", found,
                       " (written by a newer server; not served)"));
    }
    if (found < 1) {
      if (absl::Status s = c.ExecScript(kSchemaV1); !s.ok()) return s;
      absl::StatusOr<Result> ins = c.Exec(
          "INSERT INTO schema_version VALUES ($1)", {Int(kPgSchemaVersion)});
      if (!ins.ok()) return ins.status();
    }
    // Later versions: one `if (found < N)` step each, in order.
    if (found < 2) {
      if (absl::Status s = c.ExecScript(kSchemaV2); !s.ok()) return s;
      if (found >= 1) {
        absl::StatusOr<Result> up = c.Exec(
            "UPDATE schema_version SET version = $1", {Int(kPgSchemaVersion)});
        if (!up.ok()) return up.status();
      }
    }
    // Additive columns with a default leave the version as it is, so
    // replicas of an older server keep running on this schema during a
    // rolling upgrade (docs/deploy.md). Looked up first: ALTER TABLE takes
    // an exclusive lock even when the column exists.
    absl::StatusOr<Result> col = c.Exec(
        "SELECT count(*)::bigint FROM information_schema.columns WHERE "
        "table_schema = current_schema() AND table_name = 'audit_log' AND "
        "column_name = 'request_id'");
    if (!col.ok()) return col.status();
    if (col->I64(0, 0) == 0) {
      if (absl::Status s = c.ExecScript(
              "ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS request_id text "
              "NOT NULL DEFAULT ''");
          !s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<PayloadRecord> GetPayloadInSnapshot(
      Conn& c, absl::Span<const uint8_t> sha256) {
    absl::StatusOr<Result> r = c.Exec(
        "SELECT sha256, size, name, created_unix, upload_id FROM payloads "
        "WHERE sha256 = $1",
        {Bytes(sha256)});
    if (!r.ok()) return r.status();
    if (r->rows() == 0) {
      return absl::NotFoundError(absl::StrCat(
          "no payload with sha256 ", HexOf(sha256), " (upload it first)"));
    }
    PayloadRecord p = PayloadRow(*r, 0);
    const int64_t upload_id = r->I64(0, 4);
    struct stat st;
    if (stat(p.path.c_str(), &st) == 0 &&
        static_cast<uint64_t>(st.st_size) == p.size) {
      return p;  // copied and checked before
    }
    if (absl::Status s = Materialize(c, p, upload_id); !s.ok()) return s;
    return p;
  }

  // Copies the chunks into a temporary file, checks size and digest, and
  // renames it to the cache path.
  absl::Status Materialize(Conn& c, const PayloadRecord& p, int64_t upload_id) {
    std::string tmpl = absl::StrCat(cache_dir_, "/fetch-", getpid(), "-XXXXXX");
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    int fd = mkstemp(buf.data());
    if (fd < 0) return OsError("cannot create the payload cache file", errno);
    const std::string tmp(buf.data());
    auto fail = [&](absl::Status s) {
      close(fd);
      unlink(tmp.c_str());
      return s;
    };
    absl::StatusOr<crypto::Digest> d =
        crypto::Digest::Create(crypto::DigestAlgorithm::kSha256);
    if (!d.ok()) return fail(d.status());
    uint64_t total = 0;
    for (int64_t seq = 0;; ++seq) {
      absl::StatusOr<Result> chunk = c.Exec(
          "SELECT data FROM payload_chunks WHERE upload_id = $1 AND seq = $2",
          {Int(upload_id), Int(seq)});
      if (!chunk.ok()) return fail(chunk.status());
      if (chunk->rows() == 0) break;
      absl::Span<const uint8_t> data = chunk->View(0, 0);
      if (absl::Status s = d->Update(data); !s.ok()) return fail(s);
      size_t off = 0;
      while (off < data.size()) {
        ssize_t n = write(fd, data.data() + off, data.size() - off);
        if (n < 0) {
          if (errno == EINTR) continue;
          return fail(OsError("cannot write the payload cache file", errno));
        }
        off += static_cast<size_t>(n);
      }
      total += data.size();
    }
    absl::StatusOr<std::vector<uint8_t>> got = d->Finish();
    if (!got.ok()) return fail(got.status());
    if (total != p.size || *got != p.sha256) {
      return fail(absl::DataLossError(
          absl::StrCat("postgresql store: payload ", HexOf(p.sha256),
                       ": expected ", p.size, " bytes with that digest, found ",
                       total, " bytes with ", HexOf(*got))));
    }
    if (fsync(fd) != 0) {
      return fail(OsError("cannot sync the payload cache file", errno));
    }
    close(fd);
    if (rename(tmp.c_str(), p.path.c_str()) != 0) {
      const int e = errno;
      unlink(tmp.c_str());
      return OsError("cannot move the payload cache file into place", e);
    }
    return absl::OkStatus();
  }

  PayloadRecord PayloadRow(const Result& r, int i) const {
    PayloadRecord p;
    p.sha256 = r.Blob(i, 0);
    p.size = static_cast<uint64_t>(r.I64(i, 1));
    p.name = r.Str(i, 2);
    p.created_unix = r.I64(i, 3);
    p.path = CachePath(p.sha256);
    return p;
  }

  static ReferenceSetRecord SetRow(const Result& r, int i, bool with_corim) {
    ReferenceSetRecord s;
    s.name = r.Str(i, 0);
    s.profile = static_cast<int>(r.I64(i, 1));
    s.realm_count = static_cast<uint32_t>(r.I64(i, 2));
    if (with_corim) s.corim = r.Blob(i, 3);
    s.corim_sha256 = r.Blob(i, 4);
    s.created_unix = r.I64(i, 5);
    s.part_count = static_cast<uint32_t>(r.I64(i, 6));
    s.revision = r.I64(i, 7);
    s.signer = r.Str(i, 8);
    return s;
  }

  Pool pool_;
  const StoreOptions options_;
  const std::string cache_dir_;
  const bool own_cache_;
  const int cache_lock_;
};

absl::StatusOr<PayloadRecord> PgUpload::Commit(bool* already_present) {
  if (!open_) return absl::FailedPreconditionError("upload already closed");
  if (absl::Status s = CheckUploadComplete(size_, received_, sha256_, digest_);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = Flush(); !s.ok()) return s;
  // Payload commits are serialised so the quota check and the insert are
  // one step; a digest committed meanwhile by another replica is seen
  // here (READ COMMITTED) and this upload is discarded.
  absl::StatusOr<Result> l =
      conn_->Exec("SELECT pg_advisory_xact_lock($1)", {Int(kPayloadLockKey)});
  if (!l.ok()) return l.status();
  PayloadRecord p;
  p.sha256 = sha256_;
  p.size = size_;
  p.name = name_;
  p.created_unix = NowUnix();
  p.path = store_->CachePath(sha256_);
  absl::StatusOr<Result> existing = conn_->Exec(
      "SELECT sha256, size, name, created_unix FROM payloads WHERE sha256 = "
      "$1",
      {Bytes(sha256_)});
  if (!existing.ok()) return existing.status();
  if (existing->rows() > 0) {
    conn_->ExecScript("ROLLBACK").IgnoreError();
    open_ = false;
    *already_present = true;
    p.name = existing->Str(0, 2);
    p.created_unix = existing->I64(0, 3);
    return p;
  }
  if (absl::Status s = store_->CheckQuota(*conn_, size_); !s.ok()) return s;
  absl::StatusOr<Result> ins =
      conn_->Exec("INSERT INTO payloads VALUES ($1, $2, $3, $4, $5)",
                  {Bytes(sha256_), Int(static_cast<int64_t>(size_)),
                   Text(name_), Int(p.created_unix), Int(upload_id_)});
  if (!ins.ok()) return ins.status();
  if (absl::Status s = conn_->ExecScript("COMMIT"); !s.ok()) return s;
  open_ = false;
  *already_present = false;
  return p;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Store>> OpenPostgresStore(
    const PostgresStoreOptions& options) {
  if (options.conninfo.empty()) {
    return absl::InvalidArgumentError(
        "postgresql store: expected a connection string");
  }
  std::string cache = options.cache_dir;
  bool own = false;
  if (cache.empty()) {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = absl::StrCat(base != nullptr && *base ? base : "/tmp",
                                    "/realm-measurements-cache-XXXXXX");
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (mkdtemp(buf.data()) == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot create a payload cache directory under ", tmpl,
                       ": ", std::strerror(errno)));
    }
    cache = buf.data();
    own = true;
  }
  if (absl::Status s = MakePrivateDir(cache); !s.ok()) return s;
  absl::StatusOr<int> lock = LockDirectory(cache);
  if (!lock.ok()) return lock.status();
  RemoveDeadProcessFiles(cache, "fetch-");
  auto store = std::make_unique<PostgresStore>(options, cache, own, *lock);
  if (absl::Status s = store->Init(); !s.ok()) return s;
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace realm_measurements::service
