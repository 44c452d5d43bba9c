// Fuzzes the kvmtool model's argument handling: the input is split into
// arguments at newlines; no payload files are given, so nothing is read.
// No crash, no hang, one-line errors, and a successful build always yields
// a 64 KiB DTB at the recorded address.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "measure/vmm/kvmtool.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace realm_measurements::measure;  // NOLINT
  std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> args = absl::StrSplit(text, '\n');
  if (args.size() > 64) return 0;
  HostCaps caps;
  caps.num_bps = 6;
  caps.num_wps = 6;
  RealmConfig config(caps);
  absl::Status s = BuildKvmtool(VmmInputs(), args, config);
  if (!s.ok()) {
    if (s.message().find('\n') != absl::string_view::npos) abort();
    return 0;
  }
  if (!config.dtb().has_value() || config.dtb()->size() != 0x10000 ||
      !config.dtb_address().has_value() ||
      config.rim_blobs().count(*config.dtb_address()) != 1) {
    abort();
  }
  return 0;
}
