// File: grpc/postgres_store.h
//
// The Store (grpc/store.h) on PostgreSQL through libpq: every replica of the
// service opens the same database and shares one state. Reference sets,
// payload bytes (in chunks of kPgChunkBytes, written and read one chunk at
// a time, never whole in memory), the EAR key and the audit log all live in
// the database; concurrency is the database's (primary keys, ON CONFLICT,
// transactions), never a read followed by a write.
//
// Schema (version kPgSchemaVersion, in table schema_version), created or
// migrated at open under a transaction-scoped advisory lock so replicas
// starting together do it once:
//   reference_sets(name PK, profile, realm_count, corim, corim_sha256,
//                  created_unix, part_count, revision, signer)
//   reference_set_parts(name, seq, corim, realm_count, signer;
//                       PK (name, seq))   parts 1.. appended to a set
//   sequence reference_set_revisions       one revision per change
//   payloads(sha256 PK, size, name, created_unix, upload_id UNIQUE)
//   payload_chunks(upload_id, seq, data; PK (upload_id, seq))
//   ear_key(id = 1 PK, pem, created_unix)
//   audit_log(id bigserial PK, time_unix_ms, principal, method, target,
//             outcome, detail)
// An upload runs in one transaction on its own connection: its chunks
// become visible with the payload row at commit, or vanish with a rollback
// (a client gone, a replica killed: the server closes the connection and
// PostgreSQL rolls back), so nothing is left behind.
//
// The measurement library reads payloads from files: GetPayload copies a
// payload, chunk by chunk, into the replica's cache directory (0700, files
// 0600), checks its size and SHA-256 and returns that path.
#ifndef REALM_MEASUREMENTS_GRPC_POSTGRES_STORE_H_
#define REALM_MEASUREMENTS_GRPC_POSTGRES_STORE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpc/store.h"

namespace realm_measurements::service {

inline constexpr int kPgSchemaVersion = 2;
// One payload chunk row.
inline constexpr size_t kPgChunkBytes = size_t{256} << 10;

struct PostgresStoreOptions {
  // libpq connection string or URI ("postgresql://user@host/db",
  // "host=/run/postgresql dbname=rm"). Never echoed in errors.
  std::string conninfo;
  // This replica's payload cache (created 0700, locked like a SQLite data
  // directory). Empty: a new directory under $TMPDIR or /tmp, removed when
  // the store closes.
  std::string cache_dir;
  StoreOptions store;
  // Connections kept; an upload holds one for its duration, other calls
  // one per statement group. More callers wait up to 30 s (kUnavailable).
  int max_connections = 8;
};

// Connects, creates or migrates the schema and checks it. kUnavailable when
// the database cannot be reached; kDataLoss for a schema version this build
// does not know.
absl::StatusOr<std::unique_ptr<Store>> OpenPostgresStore(
    const PostgresStoreOptions& options);

}  // namespace realm_measurements::service

#endif  // REALM_MEASUREMENTS_GRPC_POSTGRES_STORE_H_
