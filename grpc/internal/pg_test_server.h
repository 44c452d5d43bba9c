// Test helper: a real PostgreSQL 15 server of the test's own, started once
// per test process with Debian's binaries (/usr/lib/postgresql/15/bin, or
// $PG_BIN) in a fresh directory under /tmp, listening only on a Unix socket
// in that directory (no TCP). PostgreSQL refuses to run as root, so as root
// it runs as the `postgres` system user (runuser), the directory owned by
// that user. Stopped (pg_ctl -m immediate) and removed at exit, or by a
// watchdog process once the test process is gone (killed by a timeout).
#ifndef REALM_MEASUREMENTS_GRPC_INTERNAL_PG_TEST_SERVER_H_
#define REALM_MEASUREMENTS_GRPC_INTERNAL_PG_TEST_SERVER_H_

#include <string>

namespace realm_measurements::service::testing {

// A fresh directory under $TEST_TMPDIR (or /tmp).
std::string NewTempDir();

class PgTestServer {
 public:
  // Starts the server on first use (dies with the log on failure: the test
  // cannot run without it).
  static PgTestServer& Get();
  // A new empty database; returns its libpq connection string.
  std::string NewDatabase();
  // The directory holding the socket (the "host" of a connection string).
  const std::string& socket_dir() const { return dir_; }
  // "host=<dir> user=postgres dbname=<db>".
  std::string Conninfo(const std::string& db) const;
  void Stop();

 private:
  PgTestServer() = default;
  void Start();

  std::string dir_;
  std::string runas_;  // "runuser -u postgres -- " as root, else ""
  int next_db_ = 0;
  bool running_ = false;
};

}  // namespace realm_measurements::service::testing

#endif  // REALM_MEASUREMENTS_GRPC_INTERNAL_PG_TEST_SERVER_H_
