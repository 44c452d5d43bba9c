// Fuzzes the DTB surgeon on arbitrary template bytes, with no handler and
// with the kvmtool handlers: no crash, no hang, one-line errors, and an
// identity round trip is a fixed point.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "measure/fdt/dtb_template.h"
#include "measure/vmm/kvmtool.h"

namespace {

void CheckOneLine(const absl::Status& s) {
  if (!s.ok() && s.message().find('\n') != absl::string_view::npos) abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace realm_measurements::measure;  // NOLINT
  std::vector<uint8_t> in(data, data + size);
  IdentityDtbHandler id;
  absl::StatusOr<std::vector<uint8_t>> out = PatchDtbTemplate(in, id);
  CheckOneLine(out.status());
  if (out.ok()) {
    // The surgeon's own output must round-trip exactly.
    absl::StatusOr<std::vector<uint8_t>> again = PatchDtbTemplate(*out, id);
    if (!again.ok() || *again != *out) abort();
  }
  KvmtoolDtbGenerator gen;
  gen.set_num_cpus(3);
  gen.set_mem_size(0x10000000);
  gen.set_its(true);
  gen.set_bootargs("console=hvc0");
  gen.set_initrd(0x8fdffff0, 14);
  gen.set_log_location(0x8fff0000, 0x10000);
  gen.set_template(std::move(in));
  absl::StatusOr<std::vector<uint8_t>> patched = gen.GenDtb();
  CheckOneLine(patched.status());
  if (patched.ok() && patched->size() != 0x10000) abort();
  return 0;
}
