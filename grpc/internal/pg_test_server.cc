#include "grpc/internal/pg_test_server.h"

#include <postgresql/libpq-fe.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <mutex>
#include <vector>

#include "absl/strings/str_cat.h"

namespace realm_measurements::service::testing {
namespace {

[[noreturn]] void Die(const std::string& what, const std::string& log) {
  std::ifstream f(log);
  std::string text((std::istreambuf_iterator<char>(f)), {});
  std::cerr << "PgTestServer: " << what << "\n" << text << std::endl;
  std::abort();
}

std::string MakeDir(const std::string& base, const std::string& stem) {
  std::string tmpl = absl::StrCat(base, "/", stem, "-XXXXXX");
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) Die("mkdtemp " + tmpl, "/dev/null");
  return buf.data();
}

std::string PgBin() {
  const char* b = std::getenv("PG_BIN");
  return b != nullptr && *b ? b : "/usr/lib/postgresql/15/bin";
}

PgTestServer* g_server = nullptr;

void StopAtExit() {
  if (g_server != nullptr) g_server->Stop();
}

}  // namespace

std::string NewTempDir() {
  const char* base = std::getenv("TEST_TMPDIR");
  return MakeDir(base != nullptr && *base ? base : "/tmp", "store");
}

PgTestServer& PgTestServer::Get() {
  static std::once_flag once;
  std::call_once(once, [] {
    g_server = new PgTestServer();
    g_server->Start();
    std::atexit(StopAtExit);
  });
  return *g_server;
}

void PgTestServer::Start() {
  // Not under $TEST_TMPDIR: the postgres user cannot enter /root. Short,
  // because a socket path is limited to 107 bytes.
  dir_ = MakeDir("/tmp", "rm-pg");
  if (geteuid() == 0) {
    struct passwd* pw = getpwnam("postgres");
    if (pw == nullptr) {
      Die("running as root, but there is no `postgres` system user (install "
          "Debian's postgresql-15)",
          "/dev/null");
    }
    if (chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      Die("chown " + dir_, "/dev/null");
    }
    runas_ = "runuser -u postgres -- ";
  }
  chmod(dir_.c_str(), 0700);
  const std::string log = dir_ + "/setup.log";
  const std::string initdb =
      absl::StrCat(runas_, PgBin(), "/initdb -D ", dir_,
                   "/data -A trust -U postgres -E UTF8 --locale=C --no-sync >",
                   log, " 2>&1");
  if (std::system(initdb.c_str()) != 0) Die("initdb failed", log);
  // Unix socket in dir_ only; fsync off (test data).
  const std::string start = absl::StrCat(
      runas_, PgBin(), "/pg_ctl -D ", dir_, "/data -l ", dir_,
      "/server.log -w -t 60 -o \"-c listen_addresses='' -k ", dir_,
      " -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c "
      "max_connections=300\" start >>",
      log, " 2>&1");
  if (std::system(start.c_str()) != 0) Die("pg_ctl start failed", log);
  running_ = true;
  // A test killed by its timeout never runs atexit: a watchdog process
  // stops PostgreSQL and removes its directory when the test process is
  // gone. Between fork and exec only async-signal-safe calls.
  const std::string cleanup = absl::StrCat(
      runas_, PgBin(), "/pg_ctl -D ", dir_,
      "/data -m immediate stop >/dev/null 2>&1; rm -rf ", dir_);
  const char* argv[] = {"/bin/sh", "-c", cleanup.c_str(), nullptr};
  const pid_t parent = getpid();
  if (fork() == 0) {
    setsid();
    while (getppid() == parent) sleep(1);
    execv(argv[0], const_cast<char* const*>(argv));
    _exit(127);
  }
}

void PgTestServer::Stop() {
  if (!running_) return;
  running_ = false;
  // Best effort at exit: nothing to report to.
  if (std::system(absl::StrCat(runas_, PgBin(), "/pg_ctl -D ", dir_,
                               "/data -m immediate stop >/dev/null 2>&1")
                      .c_str()) != 0) {
    std::cerr << "PgTestServer: pg_ctl stop failed\n";
  }
  if (std::system(absl::StrCat("rm -rf ", dir_).c_str()) != 0) {
    std::cerr << "PgTestServer: cannot remove " << dir_ << "\n";
  }
}

std::string PgTestServer::Conninfo(const std::string& db) const {
  return absl::StrCat("host=", dir_, " user=postgres dbname=", db);
}

std::string PgTestServer::NewDatabase() {
  const std::string name = absl::StrCat("test_", getpid(), "_", next_db_++);
  PGconn* c = PQconnectdb(Conninfo("postgres").c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    std::cerr << PQerrorMessage(c);
    Die("cannot connect", dir_ + "/server.log");
  }
  PGresult* r = PQexec(c, absl::StrCat("CREATE DATABASE ", name).c_str());
  if (PQresultStatus(r) != PGRES_COMMAND_OK) {
    std::cerr << PQerrorMessage(c);
    Die("CREATE DATABASE failed", dir_ + "/server.log");
  }
  PQclear(r);
  PQfinish(c);
  return Conninfo(name);
}

}  // namespace realm_measurements::service::testing
