// File: grpc/store.h
//
// Persistent state of the realm-measurements server behind a small
// interface with two implementations: SQLite in one data directory (the
// embedded default, one server per directory) and PostgreSQL
// (grpc/postgres_store.h, any number of replicas on one database). It holds
// reference-value sets (stored as CoRIM bytes), payloads, the EAR signing
// key and the audit log of mutating calls.
//
// SqliteStore keeps everything under one data directory (mode 0700, every
// file 0600, whoever created them):
//   <dir>/lock               flock'ed by the one server using the directory
//                            (it holds that server's pid)
//   <dir>/store.sqlite3      metadata (schema version kSchemaVersion)
//   <dir>/payloads/<sha256>  payload bytes, named by lower-case hex digest
//   <dir>/tmp/upload-<pid>-* uploads in progress of process <pid>
// A payload file is written to tmp/, fsync'ed and renamed into payloads/,
// then its row is inserted: readers never see a partial payload. Startup
// removes the temporary files of dead processes and payload files without a
// row (a kill between the rename and the insert).
#ifndef REALM_MEASUREMENTS_GRPC_STORE_H_
#define REALM_MEASUREMENTS_GRPC_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "base/crypto.h"
#include "base/hex.h"

namespace realm_measurements::service {

// One appended CoRIM of a reference-value set (parts 1.. of a set; part 0
// is the record's own `corim`).
struct ReferenceSetPart {
  std::vector<uint8_t> corim;
  uint32_t realm_count = 0;
  std::string signer;  // leaf subject of a signed CoRIM, empty if unsigned
};

// A named reference-value set: one or more CoRIMs (parts) in order. The
// CoRIM bytes are the canonical form; the other fields are derived when
// provisioning (for listing without decoding).
struct ReferenceSetRecord {
  std::string name;
  int profile = 0;                    // v1::CorimProfile number
  uint32_t realm_count = 0;           // of all parts
  std::vector<uint8_t> corim;         // part 0
  std::vector<uint8_t> corim_sha256;  // of part 0, filled by the store
  int64_t created_unix = 0;           // filled by the store
  std::string signer;                 // of part 0 (see ReferenceSetPart)
  uint32_t part_count = 1;            // filled by the store
  // Changes with every put/replace/append of this set (store-wide
  // increasing; across replicas for PostgreSQL): a cache of the decoded set
  // is current while the stored revision equals its own.
  int64_t revision = 0;  // filled by the store
  // AppendReferenceSetPart: the revision the part was appended to (a cache
  // holding that revision may add the part instead of reloading).
  int64_t previous_revision = 0;
  // Parts 1.. in order (GetReferenceSet only; empty in listings).
  std::vector<ReferenceSetPart> more_parts;
  // Signers of parts 1.. (listings and GetReferenceSet).
  std::vector<std::string> more_signers;
};

struct PayloadRecord {
  std::vector<uint8_t> sha256;  // 32 bytes
  uint64_t size = 0;
  std::string name;  // the label given at upload
  // A local file holding the bytes (for PostgreSQL, a verified copy in the
  // replica's cache directory). Never shown to clients.
  std::string path;
  int64_t created_unix = 0;
};

// One mutating call, as written to the audit log.
struct AuditEvent {
  int64_t id = 0;            // filled by the store, increasing
  int64_t time_unix_ms = 0;  // filled by the store when 0
  std::string principal;     // who ("anonymous" without a policy)
  std::string method;        // full gRPC method name
  std::string target;        // set name or payload digest, may be empty
  std::string outcome;       // gRPC status code name, e.g. "OK"
  std::string detail;        // status message (bounded), may be empty
  // The call's request id (x-request-id, grpc/internal/guarded_service.h);
  // empty in events an older server wrote.
  std::string request_id;
};

// One upload in progress. Append() chunks, then Commit(); destroying an
// uncommitted upload removes its temporary file.
class PayloadUpload {
 public:
  virtual ~PayloadUpload() = default;
  // kResourceExhausted past the announced size.
  virtual absl::Status Append(absl::Span<const uint8_t> chunk) = 0;
  // Checks size and digest (kInvalidArgument naming expected and found),
  // makes the file durable and visible, records it. Sets *already_present
  // when the payload was stored before (the upload is then discarded).
  virtual absl::StatusOr<PayloadRecord> Commit(bool* already_present) = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // Names: 1..128 characters of [A-Za-z0-9._-] (kInvalidArgument).
  // kAlreadyExists unless `replace`.
  virtual absl::StatusOr<ReferenceSetRecord> PutReferenceSet(
      ReferenceSetRecord record, bool replace) = 0;
  // kNotFound for an unknown name.
  virtual absl::StatusOr<ReferenceSetRecord> GetReferenceSet(
      absl::string_view name) = 0;
  // Ordered by name; `corim` is left empty.
  virtual absl::StatusOr<std::vector<ReferenceSetRecord>>
  ListReferenceSets() = 0;
  virtual absl::Status DeleteReferenceSet(absl::string_view name) = 0;
  // Appends a part to an existing set of the same profile, atomically:
  // kNotFound for an unknown name, kFailedPrecondition for another profile,
  // kResourceExhausted when the set would hold more than `max_realm_count`
  // values. Returns the set without its CoRIM bytes.
  virtual absl::StatusOr<ReferenceSetRecord> AppendReferenceSetPart(
      absl::string_view name, int profile, ReferenceSetPart part,
      uint32_t max_realm_count) = 0;
  // The set's current revision (kNotFound for an unknown name): one small
  // read, for checking a cached decoded set.
  virtual absl::StatusOr<int64_t> GetReferenceSetRevision(
      absl::string_view name) = 0;

  // `sha256` must be 32 bytes; `size` at most the store's payload limit
  // and within its quota (kResourceExhausted, checked again at Commit).
  virtual absl::StatusOr<std::unique_ptr<PayloadUpload>> BeginPayload(
      absl::Span<const uint8_t> sha256, uint64_t size, std::string name) = 0;
  // kNotFound for an unknown digest.
  virtual absl::StatusOr<PayloadRecord> GetPayload(
      absl::Span<const uint8_t> sha256) = 0;
  virtual absl::StatusOr<std::vector<PayloadRecord>> ListPayloads() = 0;
  // Removes a payload and its bytes (kNotFound for an unknown digest).
  // Reference-value sets hold CoRIMs, never payload digests, so no set
  // depends on a payload; calls already reading it finish.
  virtual absl::Status DeletePayload(absl::Span<const uint8_t> sha256) = 0;

  // The EAR signing key (PEM), if one was stored.
  virtual absl::StatusOr<std::optional<std::string>> GetEarKeyPem() = 0;
  // Stores `candidate_pem` as the EAR key unless a key is stored already
  // (atomic insert-if-absent), then returns the stored key: servers started
  // together all end up with the first one's key.
  virtual absl::StatusOr<std::string> EnsureEarKeyPem(
      absl::string_view candidate_pem) = 0;

  // Audit log of mutating calls.
  virtual absl::Status AppendAuditEvent(AuditEvent event) = 0;
  // Events with id > after_id, oldest first, at most `limit`.
  virtual absl::StatusOr<std::vector<AuditEvent>> ListAuditEvents(
      int64_t after_id, int limit) = 0;

  // Re-runs the startup consistency checks (tests, health probes).
  virtual absl::Status CheckConsistency() = 0;
};

// Schema of store.sqlite3 (PRAGMA user_version). Version 2 added the
// audit log, version 3 reference-set parts, revisions and signers; older
// stores are migrated when opened.
inline constexpr int kSchemaVersion = 3;
// Default cap on one payload (kernels and initrds are tens of MiB).
inline constexpr uint64_t kDefaultMaxPayloadBytes = uint64_t{1} << 30;
// Default cap on all payloads of a store together.
inline constexpr uint64_t kDefaultMaxStoreBytes = uint64_t{64} << 30;

struct StoreOptions {
  uint64_t max_payload_bytes = kDefaultMaxPayloadBytes;
  // Quota: the sum of all payload sizes (kResourceExhausted when an upload
  // would pass it).
  uint64_t max_store_bytes = kDefaultMaxStoreBytes;
};

// Opens (creating if needed) the store in `data_dir`. Refuses a directory
// another server uses (kFailedPrecondition "data directory D is in use by
// another server (pid N)"). Refuses a corrupt store with kDataLoss: a file
// that is not SQLite, PRAGMA integrity_check not "ok", an unknown schema
// version, or a recorded payload whose file is missing or has the wrong
// size. Removes leftovers of interrupted uploads and unrecorded payload
// files.
absl::StatusOr<std::unique_ptr<Store>> OpenSqliteStore(
    const std::string& data_dir, StoreOptions options);
absl::StatusOr<std::unique_ptr<Store>> OpenSqliteStore(
    const std::string& data_dir,
    uint64_t max_payload_bytes = kDefaultMaxPayloadBytes);

// Lower-case hex of bytes (base/hex.h).
using ::realm_measurements::base::HexOf;

// Checks shared by the backends: a set name of 1..128 characters of
// [A-Za-z0-9._-], a 32-byte digest (kInvalidArgument).
absl::Status ValidateSetName(absl::string_view name);
absl::Status CheckSha256Size(absl::Span<const uint8_t> sha256);
// kResourceExhausted when an upload of `size` bytes exceeds `limit`.
absl::Status CheckPayloadSize(uint64_t size, uint64_t limit);
// At the end of an upload: `received` bytes equal the `announced` size and
// `digest` (fed every byte) equals `sha256` (kInvalidArgument naming both).
absl::Status CheckUploadComplete(uint64_t announced, uint64_t received,
                                 absl::Span<const uint8_t> sha256,
                                 crypto::Digest& digest);
// kNotFound "no reference-value set named 'N'".
absl::Status SetNotFound(absl::string_view name);
// The refusals of AppendReferenceSetPart (same text for both backends).
absl::Status AppendProfileMismatch(absl::string_view name, int stored,
                                   int appended);
absl::Status AppendOverLimit(absl::string_view name, uint64_t stored,
                             uint64_t appended, uint64_t limit);
// Directory helpers shared by the backends (startup errors name the path):
// creates `path` if missing and sets mode 0700 whoever created it.
absl::Status MakePrivateDir(const std::string& path);
// Takes `dir`'s lock file (flock, released when the process dies), writes
// our pid; the descriptor holds it. kFailedPrecondition "data directory D is
// in use by another server (pid N)" when taken.
absl::StatusOr<int> LockDirectory(const std::string& dir);
// Removes dir/<prefix><pid>-* files whose process is gone.
void RemoveDeadProcessFiles(const std::string& dir, absl::string_view prefix);

// The longest audit detail kept (longer messages are cut).
inline constexpr size_t kMaxAuditDetail = 512;

}  // namespace realm_measurements::service

#endif  // REALM_MEASUREMENTS_GRPC_STORE_H_
