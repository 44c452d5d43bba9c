// AppraiseToken over gRPC against stored realm reference sets of 1, 1,000,
// 100,000 and 1,000,000 values (issue 16 item 4): per-call cost, the ratio
// at 1,000,000 vs 1, the response size at each, and the time to provision
// 100,000 values. The matching value (token 02's realm, from the reference
// CoRIM vector) is the last of every set; the others have distinct RIMs.
// One in-process server on loopback with a real SQLite store. Prints
// figures; asserts nothing about speed, exits 1 on any failed call.
//   ./bazelw run -c opt //tools/bench:reference_scale [-- --calls=300]
#include <grpcpp/grpcpp.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "corim/comid.h"
#include "corim/reference_values.h"
#include "grpc/service.h"
#include "grpc/store.h"
#include "base/crypto.h"
#include "proto/realm_measurements/v1/service.grpc.pb.h"

ABSL_FLAG(int, calls, 200, "AppraiseToken calls per set per round");
ABSL_FLAG(int, rounds, 5, "rounds (sets measured in turn; median reported)");
ABSL_FLAG(int, max_values, 1000000, "largest set (1,000,000 by the issue)");

namespace realm_measurements::service {
namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "ERROR %s\n", what.c_str());
  std::exit(1);
}

std::string Read(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) Die("cannot read " + path);
  return std::string((std::istreambuf_iterator<char>(f)), {});
}

double Seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// CPU seconds of the whole process (client and in-process server): on a
// shared machine the wall clock also counts other processes' time.
double CpuSeconds() {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec +
         (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// Value n: SHA-256 realm with RIM, four REMs and an RPV; RIM unique per n.
corim::RealmReferenceValue Other(uint32_t n) {
  corim::RealmReferenceValue v;
  v.rim.assign(32, 0x5a);
  for (int i = 0; i < 4; ++i) v.rim[i] = static_cast<uint8_t>(n >> (8 * i));
  for (int r = 0; r < corim::kRemCount; ++r) {
    v.rem[r] = std::vector<uint8_t>(32, static_cast<uint8_t>(0x10 + r));
  }
  v.rpv = std::vector<uint8_t>(corim::kRpvSize, 0x33);
  return v;
}

// One part: an unsigned 2025-profile CoRIM of `values`, 1,000 per CoMID.
std::string Encode(const std::vector<corim::RealmReferenceValue>& values) {
  corim::ReferenceValues rv;
  rv.corim_id = std::string("bench");
  for (size_t i = 0; i < values.size(); i += 1000) {
    corim::Comid c;
    c.tag_identity.id = absl::StrCat("bench-", i / 1000);
    c.realms.assign(values.begin() + i,
                    values.begin() + std::min(values.size(), i + 1000));
    rv.comids.push_back(std::move(c));
  }
  absl::StatusOr<corim::EncodedObject> e =
      corim::EncodeCorim(rv, corim::Profile::kCcaRealm2025);
  if (!e.ok()) Die(std::string(e.status().message()));
  return std::string(e->bytes.begin(), e->bytes.end());
}

struct SetResult {
  uint32_t values = 0;
  double provision_seconds = 0;  // the gRPC calls only
  double provision_cpu_seconds = 0;
  size_t parts = 0;
  std::vector<double> per_call_us;  // one per round
  std::vector<double> cpu_per_call_us;
  size_t response_bytes = 0;
};

int Run() {
  const std::string vectors = "testdata/vectors/";
  const std::string token = Read(vectors + "cca-token-02.cbor");
  const std::string cpak = Read(vectors + "ta-iak-p256.json");
  const std::string ref_corim = Read(vectors + "corim-cca-realm-2025.cbor");
  absl::StatusOr<corim::DecodedCorim> ref = corim::DecodeCorim(
      {reinterpret_cast<const uint8_t*>(ref_corim.data()), ref_corim.size()});
  if (!ref.ok()) Die(std::string(ref.status().message()));
  const corim::RealmReferenceValue match = ref->values.comids[0].realms[0];

  char tmpl[] = "/tmp/reference-scale-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) Die("mkdtemp");
  absl::StatusOr<std::unique_ptr<Store>> store = OpenSqliteStore(tmpl);
  if (!store.ok()) Die(std::string(store.status().message()));
  ServerOptions o;
  o.store = store->get();
  o.allow_unsigned_corim = true;
  o.limits.max_message_bytes = 64 << 20;
  absl::StatusOr<crypto::EcPrivateKey> key =
      crypto::EcPrivateKey::Generate(crypto::Curve::kP256);
  o.ear_key = std::make_shared<const crypto::EcPrivateKey>(std::move(*key));
  o.guard.access_log = false;
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(o);
  if (!server.ok()) Die(std::string(server.status().message()));
  ::grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(64 << 20);
  args.SetMaxReceiveMessageSize(64 << 20);
  auto stub = v1::RealmMeasurementsService::NewStub(
      ::grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", (*server)->port()),
                                  ::grpc::InsecureChannelCredentials(), args));

  std::vector<SetResult> sets;
  for (uint32_t n : {1u, 1000u, 100000u, 1000000u}) {
    if (n > static_cast<uint32_t>(absl::GetFlag(FLAGS_max_values))) break;
    SetResult s;
    s.values = n;
    // Parts of at most 50,000 values, encoded before the clock starts.
    std::vector<std::string> parts;
    for (uint32_t first = 0; first < n; first += 50000) {
      const uint32_t count = std::min<uint32_t>(50000, n - first);
      std::vector<corim::RealmReferenceValue> values;
      values.reserve(count);
      for (uint32_t i = first; i < first + count; ++i) {
        values.push_back(i == n - 1 ? match : Other(i));
      }
      parts.push_back(Encode(values));
    }
    s.parts = parts.size();
    const Clock::time_point t0 = Clock::now();
    const double c0 = CpuSeconds();
    for (size_t p = 0; p < parts.size(); ++p) {
      v1::ProvisionReferenceValuesRequest req;
      req.set_name(absl::StrCat("set-", n));
      req.set_corim(parts[p]);
      req.set_append(p > 0);
      v1::ProvisionReferenceValuesResponse resp;
      ::grpc::ClientContext ctx;
      ::grpc::Status st = stub->ProvisionReferenceValues(&ctx, req, &resp);
      if (!st.ok()) Die("provision: " + st.error_message());
    }
    s.provision_seconds = Seconds(Clock::now() - t0);
    s.provision_cpu_seconds = CpuSeconds() - c0;
    std::printf(
        "provisioned %7u values in %2zu part(s): %.3f s wall, %.3f s CPU\n", n,
        s.parts, s.provision_seconds, s.provision_cpu_seconds);
    std::fflush(stdout);
    sets.push_back(std::move(s));
  }

  const int calls = absl::GetFlag(FLAGS_calls);
  for (int round = 0; round < absl::GetFlag(FLAGS_rounds); ++round) {
    for (SetResult& s : sets) {
      v1::AppraiseTokenRequest req;
      req.set_token(token);
      req.set_cpak(cpak);
      req.set_stored_set(absl::StrCat("set-", s.values));
      auto call = [&](v1::AppraiseTokenResponse* resp) {
        ::grpc::ClientContext ctx;
        ::grpc::Status st = stub->AppraiseToken(&ctx, req, resp);
        if (!st.ok()) Die("appraise: " + st.error_message());
        if (resp->realm().executables() != 2) {
          Die(absl::StrCat("appraise set-", s.values,
                           ": expected realm executables 2, found ",
                           resp->realm().executables()));
        }
      };
      v1::AppraiseTokenResponse resp;
      for (int i = 0; i < 10; ++i) call(&resp);  // warm-up
      const Clock::time_point t0 = Clock::now();
      const double c0 = CpuSeconds();
      for (int i = 0; i < calls; ++i) call(&resp);
      s.per_call_us.push_back(Seconds(Clock::now() - t0) * 1e6 / calls);
      s.cpu_per_call_us.push_back((CpuSeconds() - c0) * 1e6 / calls);
      s.response_bytes = resp.ByteSizeLong();
    }
  }
  std::printf(
      "\nAppraiseToken over gRPC (loopback, one client, %d calls x %d "
      "rounds, median of rounds):\n",
      calls, absl::GetFlag(FLAGS_rounds));
  std::printf("%10s %12s %8s %14s %8s %16s\n", "values", "wall us/call", "vs 1",
              "CPU us/call", "vs 1", "response bytes");
  double base = 0, cpu_base = 0;
  for (SetResult& s : sets) {
    std::sort(s.per_call_us.begin(), s.per_call_us.end());
    std::sort(s.cpu_per_call_us.begin(), s.cpu_per_call_us.end());
    const double med = s.per_call_us[s.per_call_us.size() / 2];
    const double cpu = s.cpu_per_call_us[s.cpu_per_call_us.size() / 2];
    if (s.values == 1) base = med, cpu_base = cpu;
    std::printf("%10u %12.1f %7.3fx %14.1f %7.3fx %16zu\n", s.values, med,
                base > 0 ? med / base : 0.0, cpu,
                cpu_base > 0 ? cpu / cpu_base : 0.0, s.response_bytes);
  }
  double load[3] = {0, 0, 0};
  if (getloadavg(load, 3) == 3) {
    std::printf("(load average %.1f %.1f %.1f on %ld CPUs)\n", load[0], load[1],
                load[2], sysconf(_SC_NPROCESSORS_ONLN));
  }
  (*server)->Shutdown(absl::Seconds(1));
  return 0;
}

}  // namespace
}  // namespace realm_measurements::service

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return realm_measurements::service::Run();
}
