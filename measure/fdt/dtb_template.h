// The DTB surgeon (spec-vmm §8): re-emits a VMM-produced DTB through the
// FdtWriter with a few nodes/properties replaced, preserving everything
// else byte for byte (node/property order, strings block including shared
// suffixes, header versions, reservations, total size). Used by the
// kvmtool model (§5.9) and the QEMU model (§6.11).
#ifndef REALM_MEASUREMENTS_MEASURE_FDT_DTB_TEMPLATE_H_
#define REALM_MEASUREMENTS_MEASURE_FDT_DTB_TEMPLATE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "measure/fdt/fdt_writer.h"

namespace realm_measurements::measure {

// What a VMM plugs into the surgeon. Both hooks are called only outside
// subtrees that a previous HandleNode() replaced.
class DtbTemplateHandler {
 public:
  virtual ~DtbTemplateHandler() = default;

  // At each node start. Return true when handled: the template's subtree
  // is skipped, and the handler may have written complete replacement
  // nodes through `w`. False: the node is copied.
  virtual absl::StatusOr<bool> HandleNode(absl::string_view name,
                                          FdtWriter& w) = 0;

  // At each property of `node` (the most recently begun node's full name).
  // Return true when handled (rewritten through `w`, or dropped); false:
  // copied verbatim.
  virtual absl::StatusOr<bool> HandleProperty(absl::string_view node,
                                              absl::string_view name,
                                              absl::Span<const uint8_t> value,
                                              FdtWriter& w) = 0;
};

// Handles nothing: the surgeon then reproduces its input (spec-vmm §8.4).
class IdentityDtbHandler : public DtbTemplateHandler {
 public:
  absl::StatusOr<bool> HandleNode(absl::string_view, FdtWriter&) override {
    return false;
  }
  absl::StatusOr<bool> HandleProperty(absl::string_view, absl::string_view,
                                      absl::Span<const uint8_t>,
                                      FdtWriter&) override {
    return false;
  }
};

// Patches `dtb` (spec-vmm §8.2). Errors: "parsing: invalid magic",
// "parsing: unexpected token 0x<t>", "unimplemented: NOP",
// "unimplemented: struct padding <x>", "unimplemented: strings padding <x>",
// truncation/bounds errors naming the field and offset, and the writer's
// errors. The result's length is the header totalsize.
absl::StatusOr<std::vector<uint8_t>> PatchDtbTemplate(
    absl::Span<const uint8_t> dtb, DtbTemplateHandler& handler);

// Common property rules of spec-vmm §8.3 (both VMMs): `reg` of memory
// nodes, and `linux,initrd-*` / `bootargs` of `chosen` (rewritten or
// dropped, never added).
struct CommonDtbRules {
  uint64_t ram_base = 0;
  uint64_t ram_size = 0;
  struct Initrd {
    uint64_t base = 0;
    uint64_t size = 0;
  };
  std::optional<Initrd> initrd;
  std::optional<std::string> bootargs;

  // Returns true if the property was handled.
  absl::StatusOr<bool> Apply(absl::string_view node, absl::string_view name,
                             FdtWriter& w) const;
};

// Checks that `dtb` (a file of that many bytes given with --dtb, measured
// verbatim) is a flattened device tree a kernel can read (Devicetree spec
// v0.4 §5.2, the checks of libfdt's fdt_check_header): the magic; version
// >= 16 and last_comp_version <= 17; totalsize at least the header and at
// most the file (zero padding after it is allowed, as in the 64 KiB DTBs
// kvmtool loads); the memory reservation block 8-byte aligned and the
// structure block 4-byte aligned; the structure and strings blocks inside
// totalsize; the structure block starting with FDT_BEGIN_NODE and ending
// with FDT_END. The error names the failed check, e.g. "bad magic
// 0x12345678 at offset 0 (expected 0xd00dfeed)".
absl::Status CheckDeviceTree(absl::Span<const uint8_t> dtb);

// CheckDeviceTree for the file given with the global --dtb: "--dtb <path>
// is not a device tree: <failed check>".
absl::Status CheckDtbOption(const std::string& path,
                            absl::Span<const uint8_t> dtb);

// The node name up to '@' ("memory@40000000" -> "memory").
absl::string_view DtbNodeBaseName(absl::string_view name);

}  // namespace realm_measurements::measure

#endif  // REALM_MEASUREMENTS_MEASURE_FDT_DTB_TEMPLATE_H_
