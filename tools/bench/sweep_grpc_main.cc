// SweepMeasurements over gRPC, the path a verifier backend runs (issue 8's
// sweep figures, measured on the service): starts the real server binary
// as its own process, uploads a 64 MiB kernel + 128 MiB initrd + 128 MiB
// firmware (kvmtool, the layout of //tools/bench:measure_sweep), then
//   - one ComputeMeasurements with the server's digest cache empty (cold),
//   - `--rounds` SweepMeasurements of 8 vCPU counts x 8 memory sizes,
// and prints seconds, the ratio of the first sweep to the cold call, the
// repeated sweeps (their chain segments cached by the server) and whether
// the sweep's (2 vCPUs, 2G) entry equals the single call. `--server` picks
// the binary (to compare builds).
//
//   ./bazelw run -c opt //tools/bench:sweep_grpc
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"
#include "grpc/internal/replica_cluster.h"
#include "proto/realm_measurements/v1/service.grpc.pb.h"
#include "tools/bench/bench_util.h"

ABSL_FLAG(std::string, server, "grpc/realm-measurements-server",
          "server binary to start");
ABSL_FLAG(int, rounds, 3, "sweeps to time");

namespace rm = realm_measurements;
namespace v1 = rm::v1;

namespace {

constexpr size_t kMiB = 1 << 20;

// Pseudo-random bytes; with `image`, an arm64 Image header (64 MiB).
std::string Payload(size_t size, uint32_t seed, bool image) {
  std::string d(size, '\0');
  uint32_t x = seed;
  for (size_t i = 0; i < size; i += 4) {
    x = x * 1103515245 + 12345;
    d[i] = static_cast<char>(x >> 24);
    if (i + 1 < size) d[i + 1] = static_cast<char>(x >> 16);
  }
  if (image) {
    std::fill(d.begin(), d.begin() + 64, '\0');
    const uint64_t image_size = size;
    for (int i = 0; i < 8; ++i) {
      d[16 + i] = static_cast<char>(image_size >> (8 * i));
    }
    d[24] = 0x0a;  // flags: little-endian, 4 KiB pages, anywhere
    d.replace(56, 4, "ARM\x64", 4);
  }
  return d;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  char tmpl[] = "/tmp/sweep-grpc-XXXXXX";
  const char* dir = mkdtemp(tmpl);
  if (dir == nullptr) return 1;
  absl::StatusOr<rm::service::testing::Replica> server =
      rm::service::testing::StartServer(
          absl::GetFlag(FLAGS_server), dir,
          // 64 entries carry their DTBs and layouts: ~4.3 MB.
          {absl::StrCat("--data_dir=", dir, "/data"), "--access_log=false",
           "--max_message_bytes=16777216"});
  if (!server.ok()) {
    std::fprintf(stderr, "ERROR %s\n", server.status().ToString().c_str());
    return 1;
  }
  ::grpc::ChannelArguments channel_args;
  channel_args.SetMaxReceiveMessageSize(16 << 20);
  auto stub = v1::RealmMeasurementsService::NewStub(::grpc::CreateCustomChannel(
      absl::StrCat("127.0.0.1:", server->port),
      ::grpc::InsecureChannelCredentials(), channel_args));
  int rc = 0;
  auto fail = [&](const std::string& what) {
    std::fprintf(stderr, "ERROR %s\n", what.c_str());
    rc = 1;
  };
  v1::ComputeMeasurementsRequest base;
  base.set_vmm(v1::VMM_KVMTOOL);
  base.mutable_overrides()->set_num_bps(6);
  base.mutable_overrides()->set_num_wps(6);
  base.mutable_overrides()->set_ipa_bits(48);
  struct Part {
    const char* name;
    size_t size;
    v1::PayloadRef* ref;
  };
  for (const Part& p :
       {Part{"kernel", 64 * kMiB, base.mutable_kernel()},
        Part{"initrd", 128 * kMiB, base.mutable_initrd()},
        Part{"firmware", 128 * kMiB, base.mutable_firmware()}}) {
    v1::UploadPayloadResponse up;
    ::grpc::Status s = rm::service::testing::Upload(
        *stub, Payload(p.size, p.size / kMiB, p.ref == base.mutable_kernel()),
        &up);
    if (!s.ok()) {
      fail(absl::StrCat("upload ", p.name, ": ", s.error_message()));
      break;
    }
    p.ref->set_sha256(up.sha256());
  }
  const std::vector<std::string> cpus = {"1", "2", "3",  "4",
                                         "6", "8", "12", "16"};
  const std::vector<std::string> mems = {"1G",    "1280M", "1536M", "2G",
                                         "2560M", "3G",    "4G",    "6G"};
  auto args = [&](const std::string& c, const std::string& m) {
    v1::ComputeMeasurementsRequest r = base;
    for (const std::string& a :
         {std::string("--realm"), std::string("-c"), c, std::string("-m"), m,
          std::string("-k"), std::string("Image"), std::string("-i"),
          std::string("initrd"), std::string("--firmware"), std::string("fw"),
          std::string("--firmware-address"), std::string("2415919104")}) {
      r.add_vmm_args(a);
    }
    return r;
  };
  double cold = 0;
  v1::ComputeMeasurementsResponse single;
  if (rc == 0) {
    ::grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::minutes(5));
    const double t0 = rm::bench::Now();
    ::grpc::Status s =
        stub->ComputeMeasurements(&ctx, args("2", "2G"), &single);
    cold = rm::bench::Now() - t0;
    if (!s.ok()) fail("cold ComputeMeasurements: " + s.error_message());
  }
  std::vector<double> sweeps;
  bool same = false;
  for (int round = 0; rc == 0 && round < absl::GetFlag(FLAGS_rounds); ++round) {
    v1::SweepMeasurementsRequest req;
    *req.mutable_base() = args("{cpus}", "{mem}");
    v1::SweepAxis* a = req.add_axes();
    a->set_key("cpus");
    for (const std::string& c : cpus) a->add_values(c);
    v1::SweepAxis* b = req.add_axes();
    b->set_key("mem");
    for (const std::string& m : mems) b->add_values(m);
    ::grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::minutes(5));
    ctx.set_wait_for_ready(true);
    v1::SweepMeasurementsResponse r;
    const double t0 = rm::bench::Now();
    ::grpc::Status s = stub->SweepMeasurements(&ctx, req, &r);
    sweeps.push_back(rm::bench::Now() - t0);
    if (!s.ok()) {
      fail("SweepMeasurements: " + s.error_message());
      break;
    }
    // (cpus 2, mem 2G) is shape 8 + 3 (0-based 11).
    same = r.entries_size() == 64 &&
           google::protobuf::util::MessageDifferencer::Equals(
               r.entries(11).result(), single);
    std::printf("  round %d: sweep %.3f s = %.2fx the cold call\n", round + 1,
                sweeps.back(), sweeps.back() / cold);
  }
  server->process.Kill(SIGTERM);
  if (rc != 0) return rc;
  // The first sweep computes 8 + 56 RIM chains; later ones find the chain
  // segments in the server's digest cache.
  std::vector<double> again(sweeps.begin() + 1, sweeps.end());
  std::printf(
      "SweepMeasurements over gRPC, kvmtool sha256, 320 MiB (64 MiB kernel + "
      "128 MiB initrd + 128 MiB firmware), 64 shapes (cpus 1-16 x mem 1G-6G)\n"
      "  cold ComputeMeasurements (empty digest cache): %.3f s\n"
      "  first 64-shape sweep: %.3f s = %.2fx the cold call\n",
      cold, sweeps[0], sweeps[0] / cold);
  if (!again.empty()) {
    std::printf(
        "  the same sweep again (chains cached), median of %zu: %.3f s\n",
        again.size(), rm::bench::Median(again));
  }
  std::printf("  (2 vCPUs, 2G) entry equals the single call: %s\n",
              same ? "yes" : "NO");
  return same ? 0 : 1;
}
