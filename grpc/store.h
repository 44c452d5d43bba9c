// File: grpc/store.h
//
// Persistent state of the realm-measurements server behind a small
// interface (a shared PostgreSQL backend for several replicas is the next
// implementation): reference-value sets (stored as CoRIM bytes), payload
// metadata, the EAR signing key, and payload bytes as content-addressed
// files.
//
// SqliteStore keeps everything under one data directory:
//   <dir>/store.sqlite3      metadata (schema version kSchemaVersion)
//   <dir>/payloads/<sha256>  payload bytes, named by lower-case hex digest
//   <dir>/tmp/               uploads in progress (emptied at startup)
// A payload file is written to tmp/, fsync'ed and renamed into payloads/,
// then its row is inserted: readers never see a partial payload.
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

namespace realm_measurements::service {

// A named reference-value set. The CoRIM bytes are the canonical form; the
// other fields are derived when provisioning (for listing without decoding).
struct ReferenceSetRecord {
  std::string name;
  int profile = 0;  // v1::CorimProfile number
  uint32_t realm_count = 0;
  std::vector<uint8_t> corim;
  std::vector<uint8_t> corim_sha256;  // filled by the store
  int64_t created_unix = 0;           // filled by the store
};

struct PayloadRecord {
  std::vector<uint8_t> sha256;  // 32 bytes
  uint64_t size = 0;
  std::string name;  // the label given at upload
  std::string path;  // the file holding the bytes
  int64_t created_unix = 0;
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

  // `sha256` must be 32 bytes; `size` at most the store's payload limit.
  virtual absl::StatusOr<std::unique_ptr<PayloadUpload>> BeginPayload(
      absl::Span<const uint8_t> sha256, uint64_t size, std::string name) = 0;
  // kNotFound for an unknown digest.
  virtual absl::StatusOr<PayloadRecord> GetPayload(
      absl::Span<const uint8_t> sha256) = 0;
  virtual absl::StatusOr<std::vector<PayloadRecord>> ListPayloads() = 0;

  // The EAR signing key (PEM), if one was stored.
  virtual absl::StatusOr<std::optional<std::string>> GetEarKeyPem() = 0;
  virtual absl::Status PutEarKeyPem(absl::string_view pem) = 0;

  // Re-runs the startup consistency checks (tests, health probes).
  virtual absl::Status CheckConsistency() = 0;
};

// Schema of store.sqlite3 (PRAGMA user_version).
inline constexpr int kSchemaVersion = 1;
// Default cap on one payload (kernels and initrds are tens of MiB).
inline constexpr uint64_t kDefaultMaxPayloadBytes = uint64_t{1} << 30;

// Opens (creating if needed) the store in `data_dir`. Refuses a corrupt
// store with kDataLoss: a file that is not SQLite, PRAGMA integrity_check
// not "ok", an unknown schema version, or a recorded payload whose file is
// missing or has the wrong size. Removes leftovers of interrupted uploads.
absl::StatusOr<std::unique_ptr<Store>> OpenSqliteStore(
    const std::string& data_dir,
    uint64_t max_payload_bytes = kDefaultMaxPayloadBytes);

// Lower-case hex of bytes.
std::string HexOf(absl::Span<const uint8_t> bytes);

}  // namespace realm_measurements::service

#endif  // REALM_MEASUREMENTS_GRPC_STORE_H_
