// Fuzzes the cloud-hv model on arbitrary argument vectors (NUL-separated):
// no crash, no hang, bounded memory, every error and warning one line, and
// a successful build always yields a DTB at 0x4000_0000 that is also the
// blob measured there.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "measure/realm_config.h"
#include "measure/vmm/cloud_hv.h"

namespace {

bool OneLine(absl::string_view s) {
  return s.find('\n') == absl::string_view::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace rm = realm_measurements::measure;
  if (size > 4096) return 0;
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> args = absl::StrSplit(text, '\0');
  rm::RealmConfig config{rm::HostCaps()};
  // No payload files: --kernel/--initramfs fail with "need ... image".
  const absl::Status s = rm::BuildCloudHv(rm::VmmInputs(), args, config);
  if (!OneLine(s.message())) abort();
  for (const std::string& w : config.warnings()) {
    if (!OneLine(w)) abort();
  }
  if (!s.ok()) return 0;
  if (!config.dtb().has_value() || config.dtb_address() != 0x40000000u) {
    abort();
  }
  auto it = config.rim_blobs().find(0x40000000);
  if (it == config.rim_blobs().end() || it->second.payload.bytes() == nullptr ||
      *it->second.payload.bytes() != *config.dtb()) {
    abort();
  }
  if (!OneLine(config.Validate().message())) abort();
  return 0;
}
