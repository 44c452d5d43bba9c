#include "grpc/store.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "base/crypto.h"

namespace realm_measurements::service {
namespace {

namespace crypto = ::realm_measurements::crypto;

constexpr size_t kSha256Size = 32;
constexpr size_t kMaxNameLength = 128;
// SQLite waits this long for a lock held by another connection.
constexpr int kBusyTimeoutMs = 5000;

// Errors of calls name what failed, never the server's paths (clients see
// them); startup errors (DirError) name the path for the operator.
absl::Status OsError(absl::string_view what, int e) {
  return absl::InternalError(
      absl::StrCat(what, ": ", std::strerror(e), " (os error ", e, ")"));
}
absl::Status DirError(absl::string_view what, const std::string& path, int e) {
  return absl::FailedPreconditionError(absl::StrCat(
      what, " ", path, ": ", std::strerror(e), " (os error ", e, ")"));
}

// Creates `path` if missing and sets mode 0700 whoever created it (the
// store holds the EAR private key).
absl::Status MakeDirImpl(const std::string& path) {
  if (mkdir(path.c_str(), 0700) == 0 || errno == EEXIST) {
    struct stat st;
    if (lstat(path.c_str(), &st) != 0)
      return DirError("cannot stat", path, errno);
    if (!S_ISDIR(st.st_mode)) {
      return absl::FailedPreconditionError(
          absl::StrCat("data path ", path, " exists and is not a directory"));
    }
    if ((st.st_mode & 07777) != 0700 && chmod(path.c_str(), 0700) != 0) {
      return DirError("cannot set mode 0700 on", path, errno);
    }
    return absl::OkStatus();
  }
  return DirError("cannot create directory", path, errno);
}

// Creates `path` 0600 if missing; sets 0600 on an existing regular file.
absl::Status PrivateFile(const std::string& path, bool create) {
  int fd = open(path.c_str(),
                O_RDWR | O_CLOEXEC | O_NOFOLLOW | (create ? O_CREAT : 0), 0600);
  if (fd < 0) {
    if (!create && errno == ENOENT) return absl::OkStatus();
    return DirError("cannot open", path, errno);
  }
  struct stat st;
  absl::Status s;
  if (fstat(fd, &st) != 0) {
    s = DirError("cannot stat", path, errno);
  } else if (!S_ISREG(st.st_mode)) {
    s = absl::FailedPreconditionError(
        absl::StrCat(path, ": expected a regular file"));
  } else if ((st.st_mode & 07777) != 0600 && fchmod(fd, 0600) != 0) {
    s = DirError("cannot set mode 0600 on", path, errno);
  }
  close(fd);
  return s;
}

// fsync of a directory makes a rename in it durable.
absl::Status SyncDir(const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return OsError("cannot open the payload directory", errno);
  int rc = fsync(fd);
  int e = errno;
  close(fd);
  if (rc != 0) return OsError("cannot sync the payload directory", e);
  return absl::OkStatus();
}

bool IsHexDigestName(absl::string_view n) {
  if (n.size() != 2 * kSha256Size) return false;
  for (char c : n) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

int64_t NowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Takes the data directory's lock (an flock, released by the kernel when
// the process dies) and writes our pid into it.
absl::StatusOr<int> LockDataDir(const std::string& dir) {
  // (public as LockDirectory)
  const std::string path = dir + "/lock";
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return DirError("cannot open", path, errno);
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int e = errno;
    if (e != EWOULDBLOCK) {
      close(fd);
      return DirError("cannot lock", path, e);
    }
    // The holder writes its pid just after taking the lock: until then the
    // file is empty or names the previous, dead holder. Wait up to ~0.5 s
    // for a live pid so that the error names the right process.
    std::string pid = "unknown";
    for (int attempt = 0; attempt < 100; ++attempt) {
      char buf[32] = {};
      const ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
      const absl::string_view text = absl::StripAsciiWhitespace(
          absl::string_view(buf, n > 0 ? static_cast<size_t>(n) : 0));
      int holder = 0;
      if (absl::SimpleAtoi(text, &holder) && holder > 0) {
        pid = std::string(text);
        if (kill(holder, 0) == 0 || errno == EPERM) break;
      }
      usleep(5000);
    }
    close(fd);
    return absl::FailedPreconditionError(
        absl::StrCat("data directory ", dir,
                     " is in use by another server (pid ", pid, ")"));
  }
  const std::string pid = absl::StrCat(getpid(), "\n");
  if (fchmod(fd, 0600) != 0 || ftruncate(fd, 0) != 0 ||
      pwrite(fd, pid.data(), pid.size(), 0) !=
          static_cast<ssize_t>(pid.size())) {
    const int e = errno;
    close(fd);
    return DirError("cannot write", path, e);
  }
  return fd;
}

}  // namespace

absl::Status MakePrivateDir(const std::string& path) {
  return MakeDirImpl(path);
}

absl::StatusOr<int> LockDirectory(const std::string& dir) {
  return LockDataDir(dir);
}

void RemoveDeadProcessFiles(const std::string& dir, absl::string_view prefix) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return;
  while (struct dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    absl::string_view rest = n;
    int pid = 0;
    if (absl::ConsumePrefix(&rest, prefix)) {
      size_t dash = rest.find('-');
      if (dash != absl::string_view::npos &&
          absl::SimpleAtoi(rest.substr(0, dash), &pid) && pid > 0 &&
          (pid == getpid() || kill(pid, 0) == 0 || errno == EPERM)) {
        continue;  // alive
      }
    } else if (!absl::StartsWith(n, "upload-")) {
      continue;  // not a temporary file of ours
    }
    unlinkat(dirfd(d), n.c_str(), 0);
  }
  closedir(d);
}

absl::Status ValidateSetName(absl::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("reference-value set name: expected 1..", kMaxNameLength,
                     " characters, found ", name.size()));
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat("reference-value set name: expected only [A-Za-z0-9._-]"
                       ", found character 0x",
                       HexOf({reinterpret_cast<const uint8_t*>(&c), 1})));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckSha256Size(absl::Span<const uint8_t> sha256) {
  if (sha256.size() != kSha256Size) {
    return absl::InvalidArgumentError(
        absl::StrCat("payload sha256: expected ", kSha256Size, " bytes, found ",
                     sha256.size()));
  }
  return absl::OkStatus();
}

absl::Status CheckUploadComplete(uint64_t announced, uint64_t received,
                                 absl::Span<const uint8_t> sha256,
                                 crypto::Digest& digest) {
  if (received != announced) {
    return absl::InvalidArgumentError(
        absl::StrCat("payload truncated: expected ", announced,
                     " bytes as announced, found ", received));
  }
  absl::StatusOr<std::vector<uint8_t>> got = digest.Finish();
  if (!got.ok()) return got.status();
  if (absl::MakeConstSpan(*got) != sha256) {
    return absl::InvalidArgumentError(absl::StrCat(
        "payload sha256: expected ", HexOf(sha256), ", found ", HexOf(*got)));
  }
  return absl::OkStatus();
}

absl::Status CheckPayloadSize(uint64_t size, uint64_t limit) {
  if (size > limit) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "payload size ", size, " exceeds the limit of ", limit, " bytes"));
  }
  return absl::OkStatus();
}

absl::Status SetNotFound(absl::string_view name) {
  return absl::NotFoundError(
      absl::StrCat("no reference-value set named '", name, "'"));
}

absl::Status AppendProfileMismatch(absl::string_view name, int stored,
                                   int appended) {
  return absl::FailedPreconditionError(
      absl::StrCat("append to reference-value set '", name,
                   "': expected a CoRIM of the set's profile (CorimProfile ",
                   stored, "), found CorimProfile ", appended));
}

absl::Status AppendOverLimit(absl::string_view name, uint64_t stored,
                             uint64_t appended, uint64_t limit) {
  return absl::ResourceExhaustedError(absl::StrCat(
      "append to reference-value set '", name, "': expected at most ", limit,
      " values per set, found ", stored, " stored + ", appended, " appended"));
}

namespace {

// RAII prepared statement.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  absl::Status prepared() const {
    if (rc_ == SQLITE_OK) return absl::OkStatus();
    return Error("prepare");
  }
  void Bind(int i, absl::string_view text) {
    sqlite3_bind_text(stmt_, i, text.data(), static_cast<int>(text.size()),
                      SQLITE_TRANSIENT);
  }
  void Bind(int i, absl::Span<const uint8_t> blob) {
    sqlite3_bind_blob(stmt_, i, blob.data(), static_cast<int>(blob.size()),
                      SQLITE_TRANSIENT);
  }
  void Bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  // kOk when a row is available, kOutOfRange at the end.
  absl::Status Step() {
    rc_ = sqlite3_step(stmt_);
    if (rc_ == SQLITE_ROW) return absl::OkStatus();
    if (rc_ == SQLITE_DONE) return absl::OutOfRangeError("done");
    return Error("step");
  }
  absl::Status Run() {
    absl::Status s = Step();
    if (absl::IsOutOfRange(s)) return absl::OkStatus();
    if (s.ok()) return absl::InternalError("sqlite: unexpected row");
    return s;
  }
  int64_t Int(int col) { return sqlite3_column_int64(stmt_, col); }
  std::string Text(int col) {
    const unsigned char* t = sqlite3_column_text(stmt_, col);
    return t == nullptr ? std::string()
                        : std::string(reinterpret_cast<const char*>(t),
                                      sqlite3_column_bytes(stmt_, col));
  }
  std::vector<uint8_t> Blob(int col) {
    const uint8_t* b =
        static_cast<const uint8_t*>(sqlite3_column_blob(stmt_, col));
    int n = sqlite3_column_bytes(stmt_, col);
    return b == nullptr ? std::vector<uint8_t>()
                        : std::vector<uint8_t>(b, b + n);
  }
  int rc() const { return rc_; }

 private:
  absl::Status Error(absl::string_view what) const {
    return absl::InternalError(
        absl::StrCat("sqlite ", what, ": ", sqlite3_errmsg(db_)));
  }
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_OK;
};

absl::Status Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err != nullptr ? err : sqlite3_errmsg(db);
    sqlite3_free(err);
    return absl::InternalError(absl::StrCat("sqlite: ", msg));
  }
  return absl::OkStatus();
}

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS reference_sets (
  name TEXT PRIMARY KEY NOT NULL,
  profile INTEGER NOT NULL,
  realm_count INTEGER NOT NULL,
  corim BLOB NOT NULL,
  corim_sha256 BLOB NOT NULL,
  created_unix INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS payloads (
  sha256 BLOB PRIMARY KEY NOT NULL CHECK (length(sha256) = 32),
  size INTEGER NOT NULL,
  name TEXT NOT NULL,
  created_unix INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS ear_key (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  pem TEXT NOT NULL
);
)sql";

// Version 2 -> 3: parts appended to a set, revisions, signers.
constexpr char kSchemaV3[] = R"sql(
ALTER TABLE reference_sets ADD COLUMN part_count INTEGER NOT NULL DEFAULT 1;
ALTER TABLE reference_sets ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
ALTER TABLE reference_sets ADD COLUMN signer TEXT NOT NULL DEFAULT '';
CREATE TABLE IF NOT EXISTS reference_set_parts (
  name TEXT NOT NULL,
  seq INTEGER NOT NULL,
  corim BLOB NOT NULL,
  realm_count INTEGER NOT NULL,
  signer TEXT NOT NULL,
  PRIMARY KEY (name, seq)
);
)sql";

// Version 1 -> 2.
constexpr char kSchemaV2[] = R"sql(
CREATE TABLE IF NOT EXISTS audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  time_unix_ms INTEGER NOT NULL,
  principal TEXT NOT NULL,
  method TEXT NOT NULL,
  target TEXT NOT NULL,
  outcome TEXT NOT NULL,
  detail TEXT NOT NULL
);
)sql";

class SqliteStore;

class FileUpload final : public PayloadUpload {
 public:
  FileUpload(SqliteStore* store, std::vector<uint8_t> sha256, uint64_t size,
             std::string name, std::string tmp_path, int fd,
             crypto::Digest digest)
      : store_(store),
        sha256_(std::move(sha256)),
        size_(size),
        name_(std::move(name)),
        tmp_path_(std::move(tmp_path)),
        fd_(fd),
        digest_(std::move(digest)) {}
  ~FileUpload() override {
    if (fd_ >= 0) close(fd_);
    if (!committed_) unlink(tmp_path_.c_str());
  }

  absl::Status Append(absl::Span<const uint8_t> chunk) override {
    if (fd_ < 0) return absl::FailedPreconditionError("upload already closed");
    if (chunk.size() > size_ - written_) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "payload larger than its announced size of ", size_, " bytes"));
    }
    if (absl::Status s = digest_.Update(chunk); !s.ok()) return s;
    size_t off = 0;
    while (off < chunk.size()) {
      ssize_t n = write(fd_, chunk.data() + off, chunk.size() - off);
      if (n < 0) {
        if (errno == EINTR) continue;
        return OsError("cannot write the payload upload", errno);
      }
      off += static_cast<size_t>(n);
    }
    written_ += chunk.size();
    return absl::OkStatus();
  }

  absl::StatusOr<PayloadRecord> Commit(bool* already_present) override;

 private:
  SqliteStore* store_;
  std::vector<uint8_t> sha256_;
  uint64_t size_;
  std::string name_;
  std::string tmp_path_;
  int fd_;
  crypto::Digest digest_;
  uint64_t written_ = 0;
  bool committed_ = false;
};

class SqliteStore final : public Store {
 public:
  SqliteStore(std::string dir, sqlite3* db, StoreOptions options, int lock_fd)
      : dir_(std::move(dir)),
        db_(db),
        max_payload_bytes_(options.max_payload_bytes),
        max_store_bytes_(options.max_store_bytes),
        lock_fd_(lock_fd) {}
  ~SqliteStore() override {
    sqlite3_close(db_);
    if (lock_fd_ >= 0) close(lock_fd_);  // releases the directory
  }

  std::string payload_dir() const { return dir_ + "/payloads"; }
  std::string tmp_dir() const { return dir_ + "/tmp"; }
  std::string PayloadPath(absl::Span<const uint8_t> sha256) const {
    return absl::StrCat(payload_dir(), "/", HexOf(sha256));
  }

  absl::StatusOr<ReferenceSetRecord> PutReferenceSet(ReferenceSetRecord r,
                                                     bool replace) override {
    if (absl::Status s = ValidateSetName(r.name); !s.ok()) return s;
    absl::StatusOr<std::vector<uint8_t>> h =
        crypto::HashOnce(crypto::DigestAlgorithm::kSha256, r.corim);
    if (!h.ok()) return h.status();
    r.corim_sha256 = *h;
    r.created_unix = static_cast<int64_t>(std::time(nullptr));
    r.part_count = 1;
    r.more_parts.clear();
    r.more_signers.clear();
    absl::MutexLock lock(&mu_);
    if (absl::Status s = Exec(db_, "BEGIN IMMEDIATE"); !s.ok()) return s;
    r.revision = ++revision_;
    absl::Status s = PutLocked(r, replace);
    if (s.ok()) s = Exec(db_, "COMMIT");
    if (!s.ok()) {
      Exec(db_, "ROLLBACK").IgnoreError();
      return s;
    }
    revisions_[r.name] = r.revision;
    return r;
  }

  absl::Status PutLocked(const ReferenceSetRecord& r, bool replace)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    {
      Stmt st(db_, replace ? "INSERT OR REPLACE INTO reference_sets (name, "
                             "profile, realm_count, corim, corim_sha256, "
                             "created_unix, part_count, revision, signer) "
                             "VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7, ?8)"
                           : "INSERT INTO reference_sets (name, profile, "
                             "realm_count, corim, corim_sha256, created_unix, "
                             "part_count, revision, signer) VALUES (?1, ?2, "
                             "?3, ?4, ?5, ?6, 1, ?7, ?8)");
      if (absl::Status s = st.prepared(); !s.ok()) return s;
      st.Bind(1, r.name);
      st.Bind(2, int64_t{r.profile});
      st.Bind(3, int64_t{r.realm_count});
      st.Bind(4, absl::MakeConstSpan(r.corim));
      st.Bind(5, absl::MakeConstSpan(r.corim_sha256));
      st.Bind(6, r.created_unix);
      st.Bind(7, r.revision);
      st.Bind(8, r.signer);
      absl::Status s = st.Run();
      if (!s.ok() && (st.rc() & 0xff) == SQLITE_CONSTRAINT) {
        return absl::AlreadyExistsError(
            absl::StrCat("reference-value set '", r.name,
                         "' already exists (set replace to overwrite it)"));
      }
      if (!s.ok()) return s;
    }
    return DeletePartsLocked(r.name);
  }

  absl::Status DeletePartsLocked(absl::string_view name)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    Stmt st(db_, "DELETE FROM reference_set_parts WHERE name = ?1");
    if (absl::Status s = st.prepared(); !s.ok()) return s;
    st.Bind(1, name);
    return st.Run();
  }

  absl::StatusOr<ReferenceSetRecord> AppendReferenceSetPart(
      absl::string_view name, int profile, ReferenceSetPart part,
      uint32_t max_realm_count) override {
    absl::MutexLock lock(&mu_);
    if (absl::Status s = Exec(db_, "BEGIN IMMEDIATE"); !s.ok()) return s;
    absl::StatusOr<ReferenceSetRecord> r =
        AppendLocked(name, profile, part, max_realm_count);
    absl::Status s = r.status();
    if (s.ok()) s = Exec(db_, "COMMIT");
    if (!s.ok()) {
      Exec(db_, "ROLLBACK").IgnoreError();
      return s;
    }
    revisions_[std::string(name)] = r->revision;
    return r;
  }

  absl::StatusOr<ReferenceSetRecord> AppendLocked(absl::string_view name,
                                                  int profile,
                                                  const ReferenceSetPart& part,
                                                  uint32_t max_realm_count)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    absl::StatusOr<ReferenceSetRecord> r =
        GetLocked(name, /*with_corim=*/false);
    if (!r.ok()) return r.status();
    if (r->profile != profile) {
      return AppendProfileMismatch(name, r->profile, profile);
    }
    if (uint64_t{r->realm_count} + part.realm_count > max_realm_count) {
      return AppendOverLimit(name, r->realm_count, part.realm_count,
                             max_realm_count);
    }
    const int64_t seq = r->part_count;
    {
      Stmt st(db_,
              "INSERT INTO reference_set_parts VALUES (?1, ?2, ?3, ?4, ?5)");
      if (absl::Status s = st.prepared(); !s.ok()) return s;
      st.Bind(1, name);
      st.Bind(2, seq);
      st.Bind(3, absl::MakeConstSpan(part.corim));
      st.Bind(4, int64_t{part.realm_count});
      st.Bind(5, part.signer);
      if (absl::Status s = st.Run(); !s.ok()) return s;
    }
    r->previous_revision = r->revision;
    r->revision = ++revision_;
    r->realm_count += part.realm_count;
    r->part_count += 1;
    r->more_signers.push_back(part.signer);
    Stmt st(db_,
            "UPDATE reference_sets SET realm_count = ?2, part_count = ?3, "
            "revision = ?4 WHERE name = ?1");
    if (absl::Status s = st.prepared(); !s.ok()) return s;
    st.Bind(1, name);
    st.Bind(2, int64_t{r->realm_count});
    st.Bind(3, int64_t{r->part_count});
    st.Bind(4, r->revision);
    if (absl::Status s = st.Run(); !s.ok()) return s;
    return r;
  }

  absl::StatusOr<int64_t> GetReferenceSetRevision(
      absl::string_view name) override {
    // From memory: this store is the directory's only writer, and reading
    // the column from the row would walk the overflow pages of its CoRIM.
    absl::MutexLock lock(&mu_);
    auto it = revisions_.find(name);
    if (it == revisions_.end()) return SetNotFound(name);
    return it->second;
  }

  absl::StatusOr<ReferenceSetRecord> GetReferenceSet(
      absl::string_view name) override {
    absl::MutexLock lock(&mu_);
    return GetLocked(name, /*with_corim=*/true);
  }

  absl::StatusOr<ReferenceSetRecord> GetLocked(absl::string_view name,
                                               bool with_corim)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    ReferenceSetRecord r;
    {
      Stmt st(db_, with_corim ? "SELECT name, profile, realm_count, corim, "
                                "corim_sha256, created_unix, part_count, "
                                "revision, signer FROM reference_sets WHERE "
                                "name = ?1"
                              : "SELECT name, profile, realm_count, NULL, "
                                "corim_sha256, created_unix, part_count, "
                                "revision, signer FROM reference_sets WHERE "
                                "name = ?1");
      if (absl::Status s = st.prepared(); !s.ok()) return s;
      st.Bind(1, name);
      absl::Status s = st.Step();
      if (absl::IsOutOfRange(s)) {
        return SetNotFound(name);
      }
      if (!s.ok()) return s;
      r = Row(st, with_corim);
    }
    Stmt st(db_, with_corim
                     ? "SELECT corim, realm_count, signer FROM "
                       "reference_set_parts WHERE name = ?1 ORDER BY seq"
                     : "SELECT NULL, realm_count, signer FROM "
                       "reference_set_parts WHERE name = ?1 ORDER BY seq");
    if (absl::Status s = st.prepared(); !s.ok()) return s;
    st.Bind(1, name);
    while (true) {
      absl::Status s = st.Step();
      if (absl::IsOutOfRange(s)) break;
      if (!s.ok()) return s;
      ReferenceSetPart p;
      if (with_corim) p.corim = st.Blob(0);
      p.realm_count = static_cast<uint32_t>(st.Int(1));
      p.signer = st.Text(2);
      r.more_signers.push_back(p.signer);
      if (with_corim) r.more_parts.push_back(std::move(p));
    }
    return r;
  }

  absl::StatusOr<std::vector<ReferenceSetRecord>> ListReferenceSets() override {
    absl::MutexLock lock(&mu_);
    std::vector<ReferenceSetRecord> out;
    {
      Stmt st(db_,
              "SELECT name, profile, realm_count, NULL, corim_sha256, "
              "created_unix, part_count, revision, signer FROM reference_sets "
              "ORDER BY name");
      if (absl::Status s = st.prepared(); !s.ok()) return s;
      while (true) {
        absl::Status s = st.Step();
        if (absl::IsOutOfRange(s)) break;
        if (!s.ok()) return s;
        out.push_back(Row(st, /*with_corim=*/false));
      }
    }
    Stmt st(db_,
            "SELECT name, signer FROM reference_set_parts ORDER BY name, seq");
    if (absl::Status s = st.prepared(); !s.ok()) return s;
    size_t i = 0;
    while (true) {
      absl::Status s = st.Step();
      if (absl::IsOutOfRange(s)) break;
      if (!s.ok()) return s;
      const std::string n = st.Text(0);
      while (i < out.size() && out[i].name < n) ++i;
      if (i < out.size() && out[i].name == n) {
        out[i].more_signers.push_back(st.Text(1));
      }
    }
    return out;
  }

  absl::Status DeleteReferenceSet(absl::string_view name) override {
    absl::MutexLock lock(&mu_);
    if (absl::Status s = Exec(db_, "BEGIN IMMEDIATE"); !s.ok()) return s;
    absl::Status s;
    {
      Stmt st(db_, "DELETE FROM reference_sets WHERE name = ?1");
      s = st.prepared();
      if (s.ok()) {
        st.Bind(1, name);
        s = st.Run();
      }
      if (s.ok() && sqlite3_changes(db_) == 0) s = SetNotFound(name);
    }
    if (s.ok()) s = DeletePartsLocked(name);
    if (s.ok()) s = Exec(db_, "COMMIT");
    if (!s.ok()) {
      Exec(db_, "ROLLBACK").IgnoreError();
      return s;
    }
    if (auto it = revisions_.find(name); it != revisions_.end()) {
      revisions_.erase(it);
    }
    return s;
  }

  absl::StatusOr<std::unique_ptr<PayloadUpload>> BeginPayload(
      absl::Span<const uint8_t> sha256, uint64_t size,
      std::string name) override {
    if (absl::Status s = CheckSha256Size(sha256); !s.ok()) return s;
    if (absl::Status s = CheckPayloadSize(size, max_payload_bytes_); !s.ok())
      return s;
    {
      absl::MutexLock lock(&mu_);
      if (absl::Status s = CheckQuotaLocked(size); !s.ok()) return s;
    }
    if (name.size() > 256) name.resize(256);
    // Named by our pid: a starting server removes only dead processes'
    // files.
    std::string tmpl = absl::StrCat(tmp_dir(), "/upload-", getpid(), "-XXXXXX");
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    int fd = mkstemp(buf.data());  // mode 0600
    if (fd < 0) return OsError("cannot create the payload upload", errno);
    absl::StatusOr<crypto::Digest> d =
        crypto::Digest::Create(crypto::DigestAlgorithm::kSha256);
    if (!d.ok()) {
      close(fd);
      unlink(buf.data());
      return d.status();
    }
    return std::unique_ptr<PayloadUpload>(new FileUpload(
        this, std::vector<uint8_t>(sha256.begin(), sha256.end()), size,
        std::move(name), std::string(buf.data()), fd, std::move(*d)));
  }

  // Called by FileUpload::Commit once the file is complete and verified.
  absl::StatusOr<PayloadRecord> Publish(const std::vector<uint8_t>& sha256,
                                        uint64_t size, const std::string& name,
                                        const std::string& tmp_path,
                                        bool* already_present) {
    absl::MutexLock lock(&mu_);
    absl::StatusOr<std::optional<PayloadRecord>> existing = FindLocked(sha256);
    if (!existing.ok()) return existing.status();
    if (existing->has_value()) {
      *already_present = true;
      unlink(tmp_path.c_str());
      return **existing;
    }
    *already_present = false;
    if (absl::Status s = CheckQuotaLocked(size); !s.ok()) return s;
    const std::string path = PayloadPath(sha256);
    if (rename(tmp_path.c_str(), path.c_str()) != 0) {
      return OsError("cannot move the payload into place", errno);
    }
    if (absl::Status s = SyncDir(payload_dir()); !s.ok()) return s;
    PayloadRecord r;
    r.sha256 = sha256;
    r.size = size;
    r.name = name;
    r.path = path;
    r.created_unix = static_cast<int64_t>(std::time(nullptr));
    Stmt st(db_, "INSERT INTO payloads VALUES (?1, ?2, ?3, ?4)");
    if (absl::Status s = st.prepared(); !s.ok()) return s;
    st.Bind(1, absl::MakeConstSpan(sha256));
    st.Bind(2, static_cast<int64_t>(size));
    st.Bind(3, name);
    st.Bind(4, r.created_unix);
    if (absl::Status s = st.Run(); !s.ok()) return s;
    return r;
  }

  absl::StatusOr<PayloadRecord> GetPayload(
      absl::Span<const uint8_t> sha256) override {
    if (absl::Status s = CheckSha256Size(sha256); !s.ok()) return s;
    absl::MutexLock lock(&mu_);
    absl::StatusOr<std::optional<PayloadRecord>> r = FindLocked(sha256);
    if (!r.ok()) return r.status();
    if (!r->has_value()) {
      return absl::NotFoundError(absl::StrCat(
          "no payload with sha256 ", HexOf(sha256), " (upload it first)"));
    }
    return **r;
  }

  absl::StatusOr<std::vector<PayloadRecord>> ListPayloads() override {
    absl::MutexLock lock(&mu_);
    return ListPayloadsLocked();
  }

  absl::StatusOr<std::optional<std::string>> GetEarKeyPem() override {
    absl::MutexLock lock(&mu_);
    Stmt st(db_, "SELECT pem FROM ear_key WHERE id = 1");
    if (absl::Status s = st.prepared(); !s.ok()) return s;
    absl::Status s = st.Step();
    if (absl::IsOutOfRange(s)) return std::optional<std::string>();
    if (!s.ok()) return s;
    return std::optional<std::string>(st.Text(0));
  }

  absl::Status DeletePayload(absl::Span<const uint8_t> sha256) override {
    if (absl::Status s = CheckSha256Size(sha256); !s.ok()) return s;
    absl::MutexLock lock(&mu_);
    Stmt st(db_, "DELETE FROM payloads WHERE sha256 = ?1");
    if (absl::Status s = st.prepared(); !s.ok()) return s;
    st.Bind(1, sha256);
    if (absl::Status s = st.Run(); !s.ok()) return s;
    if (sqlite3_changes(db_) == 0) {
      return absl::NotFoundError(
          absl::StrCat("no payload with sha256 ", HexOf(sha256)));
    }
    // Row first, then file: a kill in between leaves an unrecorded file,
    // which the next startup removes.
    if (unlink(PayloadPath(sha256).c_str()) != 0 && errno != ENOENT) {
      return OsError("cannot remove the payload file", errno);
    }
    return SyncDir(payload_dir());
  }

  absl::StatusOr<std::string> EnsureEarKeyPem(
      absl::string_view candidate_pem) override {
    absl::MutexLock lock(&mu_);
    {
      // Insert-if-absent: never replaces a key another server published.
      Stmt st(db_, "INSERT OR IGNORE INTO ear_key VALUES (1, ?1)");
      if (absl::Status s = st.prepared(); !s.ok()) return s;
      st.Bind(1, candidate_pem);
      if (absl::Status s = st.Run(); !s.ok()) return s;
    }
    Stmt st(db_, "SELECT pem FROM ear_key WHERE id = 1");
    if (absl::Status s = st.prepared(); !s.ok()) return s;
    if (absl::Status s = st.Step(); !s.ok()) return s;
    return st.Text(0);
  }

  absl::Status AppendAuditEvent(AuditEvent e) override {
    if (e.time_unix_ms == 0) e.time_unix_ms = NowUnixMs();
    if (e.detail.size() > kMaxAuditDetail) e.detail.resize(kMaxAuditDetail);
    absl::MutexLock lock(&mu_);
    Stmt st(db_,
            "INSERT INTO audit_log (time_unix_ms, principal, method, target, "
            "outcome, detail, request_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (absl::Status s = st.prepared(); !s.ok()) return s;
    st.Bind(1, e.time_unix_ms);
    st.Bind(2, e.principal);
    st.Bind(3, e.method);
    st.Bind(4, e.target);
    st.Bind(5, e.outcome);
    st.Bind(6, e.detail);
    st.Bind(7, e.request_id);
    return st.Run();
  }

  absl::StatusOr<std::vector<AuditEvent>> ListAuditEvents(int64_t after_id,
                                                          int limit) override {
    absl::MutexLock lock(&mu_);
    Stmt st(db_,
            "SELECT id, time_unix_ms, principal, method, target, outcome, "
            "detail, request_id FROM audit_log WHERE id > ?1 ORDER BY id "
            "LIMIT ?2");
    if (absl::Status s = st.prepared(); !s.ok()) return s;
    st.Bind(1, after_id);
    st.Bind(2, int64_t{limit});
    std::vector<AuditEvent> out;
    while (true) {
      absl::Status s = st.Step();
      if (absl::IsOutOfRange(s)) break;
      if (!s.ok()) return s;
      AuditEvent e;
      e.id = st.Int(0);
      e.time_unix_ms = st.Int(1);
      e.principal = st.Text(2);
      e.method = st.Text(3);
      e.target = st.Text(4);
      e.outcome = st.Text(5);
      e.detail = st.Text(6);
      e.request_id = st.Text(7);
      out.push_back(std::move(e));
    }
    return out;
  }

  absl::Status CheckConsistency() override {
    absl::MutexLock lock(&mu_);
    return CheckLocked();
  }

  // Schema creation or checks, then the consistency check.
  absl::Status Init() {
    absl::MutexLock lock(&mu_);
    return InitLocked();
  }

  absl::Status InitLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    sqlite3_busy_timeout(db_, kBusyTimeoutMs);
    // Anything that is not a valid SQLite file fails on its first read.
    // The statements are finalised before the schema is touched (an open
    // statement holds a read transaction).
    int64_t version = 0;
    bool empty = false;
    {
      Stmt v(db_, "PRAGMA user_version");
      absl::Status s = v.prepared();
      if (s.ok()) s = v.Step();
      if (!s.ok()) return Corrupt(s.message());
      version = v.Int(0);
    }
    {
      Stmt tables(db_, "SELECT count(*) FROM sqlite_master");
      absl::Status s = tables.prepared();
      if (s.ok()) s = tables.Step();
      if (!s.ok()) return Corrupt(s.message());
      empty = tables.Int(0) == 0;
    }
    if ((version == 0 && empty) || version == 1 || version == 2) {
      // Creation, or migration from an older version, in one transaction.
      std::string sql =
          absl::StrCat("BEGIN IMMEDIATE;", version == 0 ? kSchema : "",
                       version <= 1 ? kSchemaV2 : "", kSchemaV3,
                       "PRAGMA user_version = ", kSchemaVersion, "; COMMIT;");
      if (absl::Status e = Exec(db_, sql.c_str()); !e.ok()) {
        Exec(db_, "ROLLBACK").IgnoreError();
        return e;
      }
    } else if (version != kSchemaVersion) {
      return Corrupt(absl::StrCat("schema version: expected ", kSchemaVersion,
                                  ", found ", version));
    }
    if (absl::Status e = AddAuditRequestId(); !e.ok()) {
      return Corrupt(e.message());
    }
    if (absl::Status e = Exec(db_, "PRAGMA journal_mode = WAL"); !e.ok()) {
      return Corrupt(e.message());
    }
    Exec(db_, "PRAGMA synchronous = FULL").IgnoreError();
    {
      // Revisions continue from the highest stored one (one server per
      // directory, so this counter is the only writer).
      Stmt st(db_, "SELECT name, revision FROM reference_sets");
      absl::Status s = st.prepared();
      if (!s.ok()) return Corrupt(s.message());
      revision_ = 0;
      revisions_.clear();
      while (true) {
        s = st.Step();
        if (absl::IsOutOfRange(s)) break;
        if (!s.ok()) return Corrupt(s.message());
        revisions_[st.Text(0)] = st.Int(1);
        revision_ = std::max(revision_, st.Int(1));
      }
    }
    return CheckLocked();
  }

  // audit_log.request_id: an additive column with a default, so it does
  // not change the schema version (docs/deploy.md): a store of an older
  // server gets it here, and an older server still opens this one.
  absl::Status AddAuditRequestId() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    {
      Stmt st(db_,
              "SELECT count(*) FROM pragma_table_info('audit_log') "
              "WHERE name = 'request_id'");
      absl::Status s = st.prepared();
      if (s.ok()) s = st.Step();
      if (!s.ok()) return s;
      if (st.Int(0) != 0) return absl::OkStatus();
    }
    return Exec(db_,
                "ALTER TABLE audit_log ADD COLUMN request_id TEXT NOT NULL "
                "DEFAULT ''");
  }

  // Removes what interrupted uploads of dead processes left in tmp/ (a
  // live process's uploads are never touched).
  void CleanTmp() { RemoveDeadProcessFiles(tmp_dir(), "upload-"); }

  // Reconciles payloads/ with the database: removes files named by a digest
  // that has no row (a kill between the rename and the insert, or between
  // a deletion's row and file) and makes the recorded ones 0600.
  absl::Status ReconcilePayloads() {
    absl::MutexLock lock(&mu_);
    absl::StatusOr<std::vector<PayloadRecord>> all = ListPayloadsLocked();
    if (!all.ok()) return Corrupt(all.status().message());
    std::set<std::string> recorded;
    for (const PayloadRecord& p : *all) recorded.insert(HexOf(p.sha256));
    DIR* d = opendir(payload_dir().c_str());
    if (d == nullptr) return DirError("cannot open", payload_dir(), errno);
    bool removed = false;
    while (struct dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (!IsHexDigestName(n)) continue;  // not ours: left alone
      if (recorded.count(n) == 0) {
        unlinkat(dirfd(d), n.c_str(), 0);
        removed = true;
      } else {
        fchmodat(dirfd(d), n.c_str(), 0600, 0);
      }
    }
    closedir(d);
    if (removed) return SyncDir(payload_dir());
    return absl::OkStatus();
  }

 private:
  absl::Status Corrupt(absl::string_view why) const {
    return absl::DataLossError(absl::StrCat(
        "store ", dir_,
        "/store.sqlite3 is corrupt and will not be served: ", why));
  }

  absl::Status CheckLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    {
      Stmt ic(db_, "PRAGMA integrity_check");
      absl::Status s = ic.prepared();
      if (s.ok()) s = ic.Step();
      if (!s.ok()) return Corrupt(s.message());
      if (ic.Text(0) != "ok") {
        return Corrupt(absl::StrCat("integrity_check: ", ic.Text(0)));
      }
    }
    absl::StatusOr<std::vector<PayloadRecord>> all = ListPayloadsLocked();
    if (!all.ok()) return Corrupt(all.status().message());
    for (const PayloadRecord& p : *all) {
      struct stat st;
      if (stat(p.path.c_str(), &st) != 0) {
        return Corrupt(absl::StrCat("payload file ", p.path, " is missing"));
      }
      if (static_cast<uint64_t>(st.st_size) != p.size) {
        return Corrupt(absl::StrCat("payload file ", p.path, ": expected ",
                                    p.size, " bytes, found ", st.st_size));
      }
    }
    return absl::OkStatus();
  }

  // kResourceExhausted when `more` bytes would pass the quota.
  absl::Status CheckQuotaLocked(uint64_t more)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    Stmt st(db_, "SELECT coalesce(sum(size), 0) FROM payloads");
    if (absl::Status s = st.prepared(); !s.ok()) return s;
    if (absl::Status s = st.Step(); !s.ok()) return s;
    const uint64_t used = static_cast<uint64_t>(st.Int(0));
    if (more > max_store_bytes_ || used > max_store_bytes_ - more) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "store quota: a payload of ", more, " bytes does not fit (", used,
          " of ", max_store_bytes_,
          " bytes used; remove unused payloads with DeletePayload)"));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<PayloadRecord>> ListPayloadsLocked()
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    Stmt st(db_,
            "SELECT sha256, size, name, created_unix FROM payloads ORDER BY "
            "sha256");
    if (absl::Status s = st.prepared(); !s.ok()) return s;
    std::vector<PayloadRecord> out;
    while (true) {
      absl::Status s = st.Step();
      if (absl::IsOutOfRange(s)) break;
      if (!s.ok()) return s;
      out.push_back(PayloadRow(st));
    }
    return out;
  }

  absl::StatusOr<std::optional<PayloadRecord>> FindLocked(
      absl::Span<const uint8_t> sha256) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    Stmt st(db_,
            "SELECT sha256, size, name, created_unix FROM payloads WHERE "
            "sha256 = ?1");
    if (absl::Status s = st.prepared(); !s.ok()) return s;
    st.Bind(1, sha256);
    absl::Status s = st.Step();
    if (absl::IsOutOfRange(s)) return std::optional<PayloadRecord>();
    if (!s.ok()) return s;
    return std::optional<PayloadRecord>(PayloadRow(st));
  }

  PayloadRecord PayloadRow(Stmt& st) const {
    PayloadRecord r;
    r.sha256 = st.Blob(0);
    r.size = static_cast<uint64_t>(st.Int(1));
    r.name = st.Text(2);
    r.created_unix = st.Int(3);
    r.path = PayloadPath(r.sha256);
    return r;
  }

  static ReferenceSetRecord Row(Stmt& st, bool with_corim) {
    ReferenceSetRecord r;
    r.name = st.Text(0);
    r.profile = static_cast<int>(st.Int(1));
    r.realm_count = static_cast<uint32_t>(st.Int(2));
    if (with_corim) r.corim = st.Blob(3);
    r.corim_sha256 = st.Blob(4);
    r.created_unix = st.Int(5);
    r.part_count = static_cast<uint32_t>(st.Int(6));
    r.revision = st.Int(7);
    r.signer = st.Text(8);
    return r;
  }

  const std::string dir_;
  absl::Mutex mu_;
  sqlite3* db_ ABSL_GUARDED_BY(mu_);
  int64_t revision_ ABSL_GUARDED_BY(mu_) = 0;
  // Every set's revision (GetReferenceSetRevision).
  std::map<std::string, int64_t, std::less<>> revisions_ ABSL_GUARDED_BY(mu_);
  const uint64_t max_payload_bytes_;
  const uint64_t max_store_bytes_;
  const int lock_fd_;
};

absl::StatusOr<PayloadRecord> FileUpload::Commit(bool* already_present) {
  if (fd_ < 0) return absl::FailedPreconditionError("upload already closed");
  if (absl::Status s = CheckUploadComplete(size_, written_, sha256_, digest_);
      !s.ok()) {
    return s;
  }
  if (fsync(fd_) != 0) return OsError("cannot sync the payload upload", errno);
  int rc = close(fd_);
  fd_ = -1;
  if (rc != 0) return OsError("cannot close the payload upload", errno);
  absl::StatusOr<PayloadRecord> r =
      store_->Publish(sha256_, size_, name_, tmp_path_, already_present);
  if (r.ok()) committed_ = true;
  return r;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Store>> OpenSqliteStore(
    const std::string& data_dir, uint64_t max_payload_bytes) {
  StoreOptions o;
  o.max_payload_bytes = max_payload_bytes;
  return OpenSqliteStore(data_dir, o);
}

absl::StatusOr<std::unique_ptr<Store>> OpenSqliteStore(
    const std::string& data_dir, StoreOptions options) {
  if (data_dir.empty()) {
    return absl::InvalidArgumentError("data directory: expected a path");
  }
  if (absl::Status s = MakeDirImpl(data_dir); !s.ok()) return s;
  absl::StatusOr<int> lock_fd = LockDataDir(data_dir);
  if (!lock_fd.ok()) return lock_fd.status();
  struct FdCloser {
    int fd;
    ~FdCloser() {
      if (fd >= 0) close(fd);
    }
  } lock{*lock_fd};
  for (const std::string& d : {data_dir + "/payloads", data_dir + "/tmp"}) {
    if (absl::Status s = MakeDirImpl(d); !s.ok()) return s;
  }
  const std::string db_path = data_dir + "/store.sqlite3";
  // SQLite gives its -wal and -shm files the database file's mode.
  if (absl::Status s = PrivateFile(db_path, /*create=*/true); !s.ok()) return s;
  for (const char* side : {"-wal", "-shm", "-journal"}) {
    if (absl::Status s = PrivateFile(db_path + side, /*create=*/false);
        !s.ok()) {
      return s;
    }
  }
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      db_path.c_str(), &db,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
      nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open store ", db_path, ": ", msg));
  }
  auto store = std::make_unique<SqliteStore>(data_dir, db, options, lock.fd);
  lock.fd = -1;  // the store owns it now
  store->CleanTmp();
  if (absl::Status s = store->Init(); !s.ok()) return s;
  if (absl::Status s = store->ReconcilePayloads(); !s.ok()) return s;
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace realm_measurements::service
