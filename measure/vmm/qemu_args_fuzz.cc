// libFuzzer target for the QEMU tokenizer and the whole QEMU model (no
// payload files): input = arguments separated by '\n' or NUL.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "measure/realm_config.h"
#include "measure/vmm/qemu.h"
#include "measure/vmm/qemu_args.h"
#include "measure/vmm/vmm.h"

namespace rm = realm_measurements::measure;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> args(1);
  for (size_t i = 0; i < size; ++i) {
    const char c = static_cast<char>(data[i]);
    if (c == '\n' || c == '\0') {
      args.emplace_back();
    } else {
      args.back().push_back(c);
    }
  }
  auto tokens = rm::qemu::TokenizeQemuArgs(args);
  if (tokens.ok()) {
    for (const rm::qemu::QemuArg& a : *tokens) {
      if (a.value.has_value()) {
        std::vector<rm::qemu::QemuListItem> items =
            rm::qemu::SplitQemuList(*a.value);
        // Every list has at least one item; keys never contain ',' unless
        // escaped, so re-splitting a key yields one item.
        if (items.empty()) __builtin_trap();
        (void)rm::qemu::ParseQemuBool(items[0].value);
        (void)rm::qemu::FindQemuSubOption(a.name, items[0].key);
      }
    }
  }
  // The model itself; without payload files nothing touches the disk.
  rm::HostCaps caps;
  caps.num_bps = 6;
  caps.num_wps = 6;
  caps.pmu_num_ctrs = 6;
  rm::RealmConfig config(caps);
  rm::VmmInputs inputs;
  absl::Status s = rm::BuildQemu(inputs, args, config);
  if (s.ok()) {
    (void)config.Validate();
    if (!config.dtb().has_value()) __builtin_trap();
  }
  return 0;
}
