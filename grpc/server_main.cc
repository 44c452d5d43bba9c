// realm-measurements-server: the gRPC verifier service over a data
// directory (SQLite, grpc/store.h) or a PostgreSQL database shared by
// replicas (grpc/postgres_store.h). Stops gracefully on SIGTERM or SIGINT.
//
//   realm-measurements-server --data_dir=/var/lib/rm --listen=0.0.0.0:50051
//       --tls_cert=server.pem --tls_key=server.key [--client_ca=ca.pem]
//   realm-measurements-server --store=postgresql:///rm?host=/run/postgresql
#include <signal.h>
#include <sys/resource.h>
#include <sys/un.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/internal/parse.h"
#include "absl/flags/internal/usage.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/crypto.h"
#include "base/file_reading.h"
#include "base/working_directory.h"
#include "grpc/internal/accept_guard.h"
#include "grpc/internal/access_policy.h"
#include "grpc/internal/metrics.h"
#include "grpc/internal/unix_socket.h"
#include "grpc/postgres_store.h"
#include "grpc/service.h"
#include "grpc/store.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051",
          "host:port to listen on (port 0 picks one; the bound address is "
          "printed), or unix:PATH for a Unix socket (e.g. for a load "
          "balancer on the same host; who may connect is who may write "
          "PATH)");
ABSL_FLAG(std::string, unix_socket_mode, "0600",
          "with --listen=unix:PATH: the socket file's permission bits "
          "(octal). Connecting needs write permission, so 0600 admits only "
          "the server's user and 0660 also the socket's group. The socket is "
          "bound 0600 and only then given these bits");
ABSL_FLAG(std::string, unix_socket_group, "",
          "with --listen=unix:PATH: the socket file's group (name or "
          "number; the server's user must be in it), e.g. the load "
          "balancer's group with --unix_socket_mode=0660");
ABSL_FLAG(std::string, data_dir, "",
          "data directory (SQLite store and payload files); created if "
          "missing. With --store=postgresql://..., optional: this "
          "replica's payload cache");
ABSL_FLAG(std::string, store, "",
          "postgresql://... (libpq URI or key=value string): keep all state "
          "in PostgreSQL, shared by every replica; default: SQLite in "
          "--data_dir");
ABSL_FLAG(int, store_connections, 8,
          "with --store=postgresql://...: database connections kept (an "
          "upload holds one for its duration)");
ABSL_FLAG(uint64_t, max_store_bytes, uint64_t{64} << 30,
          "quota: all payloads of the store together");
ABSL_FLAG(std::string, tls_cert, "", "server certificate chain (PEM)");
ABSL_FLAG(std::string, tls_key, "", "server private key (PEM)");
ABSL_FLAG(std::string, client_ca, "",
          "CA certificates (PEM) client certificates must chain to (mTLS)");
ABSL_FLAG(std::string, ear_key, "",
          "EAR signing key, P-256 PEM; default: the key in the store, or a "
          "new one generated and stored");
ABSL_FLAG(int, max_message_bytes, 4 << 20, "largest request message");
ABSL_FLAG(uint64_t, max_payload_bytes, uint64_t{1} << 30,
          "largest uploaded payload");
ABSL_FLAG(int, max_concurrent_calls, 16,
          "expensive calls (compute, sweep, replay, upload) running at the "
          "same time (others wait)");
ABSL_FLAG(int, max_cheap_calls, 32,
          "cheap calls (info, list, verify, appraise, ...) running at the "
          "same time (others wait; never behind expensive calls)");
ABSL_FLAG(int, max_waiting_calls, 64,
          "calls of each class waiting for a slot; more are refused with "
          "RESOURCE_EXHAUSTED");
ABSL_FLAG(int, max_threads, 0,
          "gRPC threads serving calls; 0 = what the admission limits need");
ABSL_FLAG(int, max_streams_per_connection, 128,
          "HTTP/2 streams (calls) one connection may have open at once, "
          "1-65536 (SETTINGS_MAX_CONCURRENT_STREAMS): bounds what one client "
          "can queue in the server");
ABSL_FLAG(int, max_connections, 1000,
          "most client connections (TCP or Unix socket) at once; one more is "
          "closed as soon as it is accepted. The server raises its soft "
          "open-file limit to fit (1-1000000)");
ABSL_FLAG(int, shutdown_grace_seconds, 5,
          "how long in-flight calls may finish after SIGTERM");
ABSL_FLAG(std::string, ear_retired_keys, "",
          "comma-separated PEM files of former EAR keys, still published in "
          "GetServiceInfo.ear_verification_jwks (rotation) until "
          "--ear_retired_keys_until");
ABSL_FLAG(std::string, ear_retired_keys_until, "",
          "RFC 3339 time after which --ear_retired_keys are no longer "
          "published (required with them)");
ABSL_FLAG(std::string, access_policy, "",
          "access policy (TOML, docs/deploy.md): principals by client "
          "certificate subject or bearer-token SHA-256, and their roles");
ABSL_FLAG(bool, insecure_allow_anonymous, false,
          "serve a non-loopback address (not 127.x, ::1, localhost or a "
          "unix: path) without --access_policy (anyone may provision and "
          "delete)");
ABSL_FLAG(std::string, metrics_listen, "",
          "host:port serving Prometheus text at /metrics (empty: none)");
ABSL_FLAG(bool, access_log, true,
          "one JSON line per call on stderr (method, peer, principal, "
          "status, duration, request id)");
ABSL_FLAG(int, keepalive_time_ms, 0,
          "gRPC keepalive ping interval (0: gRPC default)");
ABSL_FLAG(int, keepalive_timeout_ms, 0,
          "gRPC keepalive ping timeout (0: gRPC default)");
ABSL_FLAG(int, max_connection_age_ms, 0,
          "close connections after this age so clients rebalance over "
          "replicas (0: never)");
ABSL_FLAG(int, max_connection_age_grace_ms, 0,
          "time in-flight calls get after max_connection_age (0: gRPC "
          "default)");
ABSL_FLAG(int, max_connection_idle_ms, 300000,
          "close a connection that has had no call for this long, so idle "
          "connections do not hold --max_connections slots (0: never)");
ABSL_FLAG(int, handshake_timeout_ms, 10000,
          "drop a connection whose TLS and HTTP/2 handshake takes longer "
          "(0: gRPC's 120 s)");
ABSL_FLAG(std::string, corim_trust_anchors, "",
          "PEM file of CA certificates: ProvisionReferenceValues accepts "
          "signed CoRIMs (COSE_Sign1 + x5chain) whose chain leads to one of "
          "them; the signer's subject is stored with the set");
ABSL_FLAG(bool, allow_unsigned_corim, false,
          "also accept unsigned CoRIMs and inline sets in "
          "ProvisionReferenceValues (refused by default)");
ABSL_FLAG(uint64_t, reference_index_bytes, uint64_t{1} << 30,
          "memory for the decoded, indexed reference-value sets (a set whose "
          "index needs more is refused when provisioned)");

namespace realm_measurements::service {
namespace {

// The server's own inputs (access policy, trust anchors, EAR and TLS keys
// and certificates): regular files of at most 16 MiB, as the CLIs read
// theirs. A FIFO or /dev/zero named by mistake was read forever.
absl::StatusOr<std::string> ReadFile(const std::string& path) {
  return measure::ReadSmallRegularFile(path, 16 << 20);
}

// Descriptors kept above the connections' (accept_guard.h) for the store,
// payloads being read, the metrics endpoint's 64 connections and logs.
constexpr int kSpareDescriptors = 256;
constexpr int kDefaultMaxConnections = 1000;

// Connections get descriptors below a ceiling (accept_guard.h), and the
// soft open-file limit is raised to leave the spare ones above it. Called
// once the server listens: what it opened to start is below the ceiling.
// Returns the limit in force: the default is lowered to what the hard
// open-file limit allows, an explicit value is refused.
absl::StatusOr<int> LimitConnections(int max_connections) {
  accept_guard::SetCeiling(0);  // opens the reserve descriptor first
  absl::StatusOr<int> lowest = accept_guard::LowestFreeDescriptor();
  if (!lowest.ok()) return lowest.status();
  rlimit r;
  if (getrlimit(RLIMIT_NOFILE, &r) != 0) {
    return absl::InternalError("getrlimit(RLIMIT_NOFILE) failed");
  }
  const rlim_t needed = static_cast<rlim_t>(*lowest) +
                        static_cast<rlim_t>(max_connections) +
                        kSpareDescriptors;
  if (r.rlim_cur != RLIM_INFINITY && r.rlim_cur < needed) {
    rlimit raised = r;
    raised.rlim_cur = r.rlim_max == RLIM_INFINITY || r.rlim_max >= needed
                          ? needed
                          : r.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) r = raised;
  }
  const int64_t room =
      r.rlim_cur == RLIM_INFINITY
          ? max_connections
          : static_cast<int64_t>(r.rlim_cur) - *lowest - kSpareDescriptors;
  if (room < max_connections) {
    if (max_connections != kDefaultMaxConnections || room < 1) {
      return absl::FailedPreconditionError(absl::StrCat(
          "--max_connections: expected at most ", std::max<int64_t>(room, 0),
          " with an open-file limit of ", r.rlim_cur, " (", *lowest,
          " descriptors in use at start, ", kSpareDescriptors,
          " kept for the store, payloads and metrics), found ", max_connections,
          "; raise the limit (ulimit -n, systemd "
          "LimitNOFILE=)"));
    }
    std::cerr << "note: at most " << room
              << " connections at once: the open-file limit is " << r.rlim_cur
              << " (raise it for --max_connections=" << max_connections
              << ")\n";
    max_connections = static_cast<int>(room);
  }
  accept_guard::SetCeiling(*lowest + max_connections);
  return max_connections;
}

int Fail(const absl::Status& s) {
  std::cerr << "ERROR " << s.message() << "\n";
  return 1;
}

// 127.0.0.0/8, ::1 and localhost: development without a policy. A Unix
// socket path (`unix:PATH`) counts too: only local processes allowed to
// write the socket file connect, fewer than loopback TCP admits. An
// abstract socket (`unix-abstract:`) has no file to restrict and does not.
bool IsLoopback(const std::string& listen) {
  if (absl::StartsWith(listen, "unix:")) return true;
  std::string host = listen.substr(0, listen.rfind(':'));
  if (host.size() >= 2 && host.front() == '[') {
    host = host.substr(1, host.size() - 2);
  }
  return host == "localhost" || host == "::1" || absl::StartsWith(host, "127.");
}

int Run() {
  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  const std::string store_url = absl::GetFlag(FLAGS_store);
  if (data_dir.empty() && store_url.empty()) {
    return Fail(absl::InvalidArgumentError(
        "--data_dir (SQLite) or --store=postgresql://... is required"));
  }
  if (!store_url.empty() && !absl::StartsWith(store_url, "postgresql://") &&
      !absl::StartsWith(store_url, "postgres://") &&
      !absl::StrContains(store_url, "dbname=")) {
    return Fail(absl::InvalidArgumentError(
        "--store: expected a postgresql:// URI or a libpq key=value string "
        "with dbname="));
  }
  ServerOptions o;
  o.address = absl::GetFlag(FLAGS_listen);
  // sockaddr_un holds 107 bytes of path and a NUL (unix(7)); gRPC's own
  // error for a longer one is a log line and "could not be bound".
  const std::optional<std::string> socket_path = UnixSocketPath(o.address);
  if (socket_path.has_value()) {
    const size_t n = socket_path->size();
    constexpr size_t kMaxUnixPath = sizeof(sockaddr_un::sun_path) - 1;
    if (n == 0 || n > kMaxUnixPath) {
      return Fail(absl::InvalidArgumentError(
          absl::StrCat("--listen=unix:PATH: expected a path of 1 to ",
                       kMaxUnixPath, " bytes (unix(7)), found ", n)));
    }
  }
  absl::StatusOr<mode_t> socket_mode =
      ParseSocketMode(absl::GetFlag(FLAGS_unix_socket_mode));
  if (!socket_mode.ok()) return Fail(socket_mode.status());
  std::optional<gid_t> socket_group;
  if (const std::string g = absl::GetFlag(FLAGS_unix_socket_group);
      !g.empty()) {
    absl::StatusOr<gid_t> gid = ResolveGroup(g, "--unix_socket_group");
    if (!gid.ok()) return Fail(gid.status());
    socket_group = *gid;
  }
  // (Debian's Abseil keeps IsSpecifiedOnCommandLine private: the values
  // are compared with the defaults.)
  if (!socket_path.has_value() &&
      (*socket_mode != 0600 || socket_group.has_value())) {
    return Fail(absl::InvalidArgumentError(absl::StrCat(
        socket_group.has_value() ? "--unix_socket_group" : "--unix_socket_mode",
        ": expected with --listen=unix:PATH, found --listen=", o.address)));
  }
  const int max_connections = absl::GetFlag(FLAGS_max_connections);
  if (max_connections < 1 || max_connections > 1000000) {
    return Fail(absl::InvalidArgumentError(absl::StrCat(
        "--max_connections: expected 1 to 1000000, found ", max_connections)));
  }
  o.limits.max_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  o.limits.max_payload_bytes = absl::GetFlag(FLAGS_max_payload_bytes);
  o.limits.max_concurrent_calls = absl::GetFlag(FLAGS_max_concurrent_calls);
  o.limits.max_cheap_calls = absl::GetFlag(FLAGS_max_cheap_calls);
  o.limits.max_waiting_calls = absl::GetFlag(FLAGS_max_waiting_calls);
  o.limits.max_threads = absl::GetFlag(FLAGS_max_threads);
  o.limits.max_streams_per_connection =
      absl::GetFlag(FLAGS_max_streams_per_connection);
  for (const auto& [name, value] :
       {std::pair<const char*, int>{"keepalive_time_ms",
                                    absl::GetFlag(FLAGS_keepalive_time_ms)},
        {"keepalive_timeout_ms", absl::GetFlag(FLAGS_keepalive_timeout_ms)},
        {"max_connection_age_ms", absl::GetFlag(FLAGS_max_connection_age_ms)},
        {"max_connection_age_grace_ms",
         absl::GetFlag(FLAGS_max_connection_age_grace_ms)},
        {"max_connection_idle_ms", absl::GetFlag(FLAGS_max_connection_idle_ms)},
        {"handshake_timeout_ms", absl::GetFlag(FLAGS_handshake_timeout_ms)}}) {
    if (value < 0) {
      return Fail(absl::InvalidArgumentError(absl::StrCat(
          "--", name, ": expected 0 or more milliseconds, found ", value)));
    }
  }
  o.keepalive_time_ms = absl::GetFlag(FLAGS_keepalive_time_ms);
  o.keepalive_timeout_ms = absl::GetFlag(FLAGS_keepalive_timeout_ms);
  o.max_connection_age_ms = absl::GetFlag(FLAGS_max_connection_age_ms);
  o.max_connection_age_grace_ms =
      absl::GetFlag(FLAGS_max_connection_age_grace_ms);
  o.max_connection_idle_ms = absl::GetFlag(FLAGS_max_connection_idle_ms);
  o.handshake_timeout_ms = absl::GetFlag(FLAGS_handshake_timeout_ms);
  o.guard.access_log = absl::GetFlag(FLAGS_access_log);

  const std::string policy_path = absl::GetFlag(FLAGS_access_policy);
  if (!policy_path.empty()) {
    absl::StatusOr<std::string> text = ReadFile(policy_path);
    if (!text.ok()) return Fail(text.status());
    absl::StatusOr<AccessPolicy> policy =
        AccessPolicy::Parse(*text, policy_path);
    if (!policy.ok()) return Fail(policy.status());
    o.guard.policy = std::make_shared<const AccessPolicy>(std::move(*policy));
  } else if (!IsLoopback(o.address) &&
             !absl::GetFlag(FLAGS_insecure_allow_anonymous)) {
    return Fail(absl::FailedPreconditionError(absl::StrCat(
        "--listen=", o.address,
        " is not a loopback address: give --access_policy=FILE (or "
        "--insecure_allow_anonymous to let anyone provision and delete)")));
  }
  std::unique_ptr<MetricsHttpServer> metrics_server;
  const std::string metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  if (!metrics_listen.empty()) {
    o.guard.metrics = std::make_shared<Metrics>();
    absl::StatusOr<std::unique_ptr<MetricsHttpServer>> m =
        MetricsHttpServer::Start(metrics_listen, o.guard.metrics.get());
    if (!m.ok()) return Fail(m.status());
    metrics_server = std::move(*m);
    // Scrapes work while gRPC's connections are at their limit.
    accept_guard::ExemptListener(metrics_server->listener_fd());
    o.guard.metrics->SetProcessCounterSource([] {
      const accept_guard::Refusals r = accept_guard::GetRefusals();
      return std::vector<std::pair<std::string, double>>{
          {"connections_refused_over_limit_total",
           static_cast<double>(r.over_limit)},
          {"connections_refused_no_descriptor_total",
           static_cast<double>(r.no_descriptor)}};
    });
    std::cout << "metrics on http://"
              << metrics_listen.substr(0, metrics_listen.rfind(':')) << ":"
              << metrics_server->port() << "/metrics" << std::endl;
  }

  StoreOptions so;
  so.max_payload_bytes = o.limits.max_payload_bytes;
  so.max_store_bytes = absl::GetFlag(FLAGS_max_store_bytes);
  absl::StatusOr<std::unique_ptr<Store>> store;
  if (!store_url.empty()) {
    PostgresStoreOptions po;
    po.conninfo = store_url;
    po.cache_dir = data_dir;
    po.store = so;
    po.max_connections = absl::GetFlag(FLAGS_store_connections);
    store = OpenPostgresStore(po);
  } else {
    store = OpenSqliteStore(data_dir, so);
  }
  if (!store.ok()) return Fail(store.status());
  o.store = store->get();
  o.reference_index_bytes = absl::GetFlag(FLAGS_reference_index_bytes);
  o.allow_unsigned_corim = absl::GetFlag(FLAGS_allow_unsigned_corim);
  if (const std::string ta = absl::GetFlag(FLAGS_corim_trust_anchors);
      !ta.empty()) {
    absl::StatusOr<std::string> pem = ReadFile(ta);
    if (!pem.ok()) return Fail(pem.status());
    absl::StatusOr<std::vector<crypto::Certificate>> certs =
        crypto::Certificate::AllFromPem(*pem);
    if (!certs.ok()) {
      return Fail(absl::InvalidArgumentError(absl::StrCat(
          "--corim_trust_anchors=", ta, ": ", certs.status().message())));
    }
    o.corim_trust_anchors = *std::move(certs);
  }

  // EAR key: flag, else stored, else generated and stored (so EARs stay
  // verifiable across restarts).
  std::string key_pem;
  if (!absl::GetFlag(FLAGS_ear_key).empty()) {
    absl::StatusOr<std::string> k = ReadFile(absl::GetFlag(FLAGS_ear_key));
    if (!k.ok()) return Fail(k.status());
    key_pem = *k;
  } else {
    absl::StatusOr<std::optional<std::string>> k = (*store)->GetEarKeyPem();
    if (!k.ok()) return Fail(k.status());
    if (k->has_value()) {
      key_pem = **k;
    } else {
      absl::StatusOr<crypto::EcPrivateKey> g =
          crypto::EcPrivateKey::Generate(crypto::Curve::kP256);
      if (!g.ok()) return Fail(g.status());
      absl::StatusOr<std::string> pem = g->ToPem();
      if (!pem.ok()) return Fail(pem.status());
      // Insert-if-absent, then read: a server that started at the same
      // moment and stored its key first wins, and both sign with that one.
      absl::StatusOr<std::string> stored = (*store)->EnsureEarKeyPem(*pem);
      if (!stored.ok()) return Fail(stored.status());
      key_pem = *stored;
    }
  }
  absl::StatusOr<crypto::EcPrivateKey> key =
      crypto::EcPrivateKey::FromPem(key_pem);
  if (!key.ok()) return Fail(key.status());
  if (key->curve() != crypto::Curve::kP256) {
    return Fail(absl::InvalidArgumentError(
        "EAR key: expected a P-256 key (EARs are signed with ES256)"));
  }
  o.ear_key = std::make_shared<const crypto::EcPrivateKey>(std::move(*key));
  const std::string retired = absl::GetFlag(FLAGS_ear_retired_keys);
  if (!retired.empty()) {
    absl::Time until;
    std::string err;
    if (!absl::ParseTime(absl::RFC3339_full,
                         absl::GetFlag(FLAGS_ear_retired_keys_until), &until,
                         &err)) {
      return Fail(absl::InvalidArgumentError(absl::StrCat(
          "--ear_retired_keys_until: expected an RFC 3339 time, found '",
          absl::GetFlag(FLAGS_ear_retired_keys_until), "'")));
    }
    for (absl::string_view path : absl::StrSplit(retired, ',')) {
      absl::StatusOr<std::string> pem = ReadFile(std::string(path));
      if (!pem.ok()) return Fail(pem.status());
      absl::StatusOr<crypto::EcPrivateKey> k =
          crypto::EcPrivateKey::FromPem(*pem);
      if (!k.ok() || k->curve() != crypto::Curve::kP256) {
        return Fail(absl::InvalidArgumentError(
            absl::StrCat("--ear_retired_keys: ", path,
                         ": expected a P-256 private key PEM")));
      }
      o.retired_ear_keys.push_back(
          {std::make_shared<const crypto::EcPrivateKey>(std::move(*k)), until});
    }
  }

  const std::string cert = absl::GetFlag(FLAGS_tls_cert);
  const std::string tls_key = absl::GetFlag(FLAGS_tls_key);
  const std::string ca = absl::GetFlag(FLAGS_client_ca);
  if (cert.empty() != tls_key.empty()) {
    return Fail(absl::InvalidArgumentError(
        "--tls_cert and --tls_key must be given together"));
  }
  if (!ca.empty() && cert.empty()) {
    return Fail(absl::InvalidArgumentError(
        "--client_ca needs --tls_cert and --tls_key"));
  }
  if (!cert.empty()) {
    absl::StatusOr<std::string> c = ReadFile(cert);
    if (!c.ok()) return Fail(c.status());
    absl::StatusOr<std::string> k = ReadFile(tls_key);
    if (!k.ok()) return Fail(k.status());
    std::optional<std::string> ca_pem;
    if (!ca.empty()) {
      absl::StatusOr<std::string> a = ReadFile(ca);
      if (!a.ok()) return Fail(a.status());
      ca_pem = *a;
    }
    absl::StatusOr<std::shared_ptr<::grpc::ServerCredentials>> creds =
        TlsCredentials(*c, *k, ca_pem);
    if (!creds.ok()) return Fail(creds.status());
    o.credentials = *creds;
  }

  // Block the stop signals in every thread (gRPC's included) and wait for
  // them here.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  const std::string listen = o.address;
  absl::StatusOr<std::unique_ptr<Server>> server;
  if (socket_path.has_value()) {
    PrivateUmask private_umask;  // the socket is bound 0600
    server = Server::Start(std::move(o));
  } else {
    server = Server::Start(std::move(o));
  }
  if (!server.ok()) return Fail(server.status());
  if (socket_path.has_value()) {
    if (absl::Status s =
            SetSocketPermissions(*socket_path, *socket_mode, socket_group);
        !s.ok()) {
      (*server)->Shutdown(absl::ZeroDuration());
      return Fail(s);
    }
  }
  if (absl::StatusOr<int> limit = LimitConnections(max_connections);
      !limit.ok()) {
    (*server)->Shutdown(absl::ZeroDuration());
    return Fail(limit.status());
  }
  // A Unix socket has no port: its address is the path as given.
  const std::string address =
      absl::StartsWith(listen, "unix:")
          ? listen
          : absl::StrCat(listen.substr(0, listen.rfind(':')), ":",
                         (*server)->port());
  std::cout << "listening on " << address
            << (cert.empty() ? " (plaintext)"
                             : (ca.empty() ? " (TLS)" : " (mTLS)"))
            << std::endl;
  int sig = 0;
  sigwait(&stop, &sig);
  std::cout << "signal " << sig << ": shutting down" << std::endl;
  (*server)->Shutdown(
      absl::Seconds(absl::GetFlag(FLAGS_shutdown_grace_seconds)));
  server->reset();
  metrics_server.reset();
  store->reset();
  std::cout << "stopped" << std::endl;
  return 0;
}

}  // namespace
}  // namespace realm_measurements::service

int main(int argc, char** argv) {
  // Debian's Abseil is built without NDEBUG, so every absl::Mutex operation
  // would feed the deadlock detector's global graph (measured ~2% of the
  // server's CPU per AppraiseToken, serialised on one lock; issue 18). The
  // tests run the same code with detection on.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  absl::SetProgramUsageMessage(
      "gRPC service computing and appraising Arm CCA realm reference values");
  // --help lists this file's flags (absl matches the binary's name against
  // file names by default, and "realm-measurements-server" matches none).
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = [](absl::string_view file) {
    return absl::EndsWith(file, "grpc/server_main.cc");
  };
  absl::SetFlagsUsageConfig(usage);
  // absl::ParseCommandLine exits 1 after --help; asking for help is not a
  // failure, so usage flags are handled here: help printed, exit 0.
  absl::flags_internal::ParseCommandLineImpl(
      argc, argv, absl::flags_internal::ArgvListAction::kRemoveParsedArgs,
      absl::flags_internal::UsageFlagsAction::kIgnoreUsage,
      absl::flags_internal::OnUndefinedFlag::kAbortIfUndefined);
  if (const int usage = absl::flags_internal::HandleUsageFlags(
          std::cout, absl::ProgramUsageMessage());
      usage != -1) {
    return usage == 1 ? 0 : usage;  // 1: a help flag was handled
  }
  if (absl::Status s = realm_measurements::EnterBuildWorkingDirectory();
      !s.ok()) {
    std::cerr << s.message() << "\n";
    return 2;
  }
  return realm_measurements::service::Run();
}
