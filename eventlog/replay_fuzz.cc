// libFuzzer entry point: Parse() then, if it succeeded, Replay() against the
// spec-eventlog §J.4 image catalogue, with a DTB synthesiser, in fatal and
// non-fatal mode and with both index semantics, for RMM 1.0 and RMM 2.0
// realms; then CompareWithLog against a small realm of each algorithm
// (`realm-measurements --compare-log`).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "eventlog/compare.h"
#include "eventlog/parser.h"
#include "eventlog/replay.h"

namespace {

using realm_measurements::eventlog::DtbRequest;
using realm_measurements::eventlog::ImageCatalogue;
using realm_measurements::eventlog::LogSource;
using realm_measurements::eventlog::Replayer;
using realm_measurements::eventlog::ReplayOptions;

std::vector<uint8_t> Bytes(const std::string& s) {
  return std::vector<uint8_t>(s.begin(), s.end());
}

std::vector<uint8_t> Dtb() {
  std::vector<uint8_t> d = {0xd0, 0x0d, 0xfe, 0xed};
  for (int r = 0; r < 8; ++r) {
    for (int i = 0; i < 256; ++i) d.push_back(static_cast<uint8_t>(i));
  }
  return d;
}

const ImageCatalogue& Catalogue() {
  static const ImageCatalogue* c = [] {
    auto* cat = new ImageCatalogue;
    std::string initrd;
    for (int i = 0; i < 300; ++i) initrd += "INITRD CONTENT";
    (void)cat->AddImage("fw", Bytes("FW CONTENT"));
    (void)cat->AddImage("initrd", Bytes(initrd));
    (void)cat->AddImage("kernel", Bytes("KERNEL CONTENT"));
    return cat;
  }();
  return *c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace el = realm_measurements::eventlog;
  absl::StatusOr<el::EventLog> log =
      el::Parse(absl::Span<const uint8_t>(data, size));
  if (!log.ok()) return 0;
  for (int mode = 0; mode < 8; ++mode) {
    ReplayOptions o;
    o.fatal = mode & 1;
    o.rmm_version = (mode & 4) ? realm_measurements::measure::RmmVersion::k2_0
                               : realm_measurements::measure::RmmVersion::k1_0;
    o.strip_description_nuls = mode & 2;
    o.population_granule = (mode & 2) ? 0x10000 : 0x1000;
    // Bound the work per input; the default cap is for real logs.
    o.max_granules_per_event = 4096;
    o.dtb_synthesizer = [](const DtbRequest&) {
      return absl::StatusOr<std::vector<uint8_t>>(Dtb());
    };
    Replayer r(&Catalogue());
    (void)r.Replay(*log, o);
    // K11: the same log again as a firmware log on that realm.
    ReplayOptions fw = o;
    fw.source = LogSource::kFirmware;
    (void)r.Replay(*log, fw);
    (void)r.FormatReport();
  }
  for (auto alg : {realm_measurements::measure::HashAlgorithm::kSha256,
                   realm_measurements::measure::HashAlgorithm::kSha384,
                   realm_measurements::measure::HashAlgorithm::kSha512}) {
    el::ExpectedRealm x;
    x.params.hash_algorithm = alg;
    x.params.ipa_bits = 41;
    x.ram = {{0x40000000, 0x40000000}};
    x.rim_blobs = {{"dtb", "DTB", 0x40000000, 2052, std::vector<uint8_t>(32)}};
    x.rec = realm_measurements::measure::RecParams{};
    x.rem_blobs = {{2, {"kernel", "k", 0, 14, std::vector<uint8_t>(64)}}};
    absl::StatusOr<el::LogComparison> c = el::CompareWithLog(*log, x);
    if (c.ok()) (void)el::ComparisonToText(*c);
  }
  return 0;
}
