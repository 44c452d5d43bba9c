// Sequential flattened-devicetree (FDT v17) writer that reproduces the
// vm-fdt fork used by the reference tool byte for byte (spec-vmm §3):
// header, reservation block, structure block, then the strings block in
// order of first use with exact-match reuse only (no suffix sharing).
// The DTB surgeon (dtb_template.h) uses the extra knobs (preloaded string
// table, reservation padding, explicit total size, copied header fields).
#ifndef REALM_MEASUREMENTS_MEASURE_FDT_FDT_WRITER_H_
#define REALM_MEASUREMENTS_MEASURE_FDT_FDT_WRITER_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace realm_measurements::measure {

// Devicetree spec v0.4 §5.1 / §5.4: magic, versions and structure tokens.
inline constexpr uint32_t kFdtMagic = 0xd00dfeed;
inline constexpr uint32_t kFdtVersion = 17;
inline constexpr uint32_t kFdtLastCompVersion = 16;
inline constexpr uint32_t kFdtBeginNode = 1;
inline constexpr uint32_t kFdtEndNode = 2;
inline constexpr uint32_t kFdtProp = 3;
inline constexpr uint32_t kFdtNop = 4;
inline constexpr uint32_t kFdtEnd = 9;
inline constexpr size_t kFdtHeaderSize = 40;
// vm-fdt's FDT_MAX_NODE_DEPTH (spec-vmm §3.2).
inline constexpr int kFdtMaxNodeDepth = 64;

struct FdtReserveEntry {
  uint64_t address = 0;
  uint64_t size = 0;
};

// Returned by BeginNode; must be passed to the matching EndNode.
struct FdtNode {
  int depth = 0;
};

// Errors use vm-fdt's texts (spec-vmm §3.2), e.g. "Invalid node name".
class FdtWriter {
 public:
  // A writer without memory reservations (what every generator uses).
  FdtWriter() = default;
  // With reservations: each needs size != 0, no u64 overflow, no overlap.
  static absl::StatusOr<FdtWriter> Create(
      absl::Span<const FdtReserveEntry> reservations);

  // --- Surgeon knobs; call before the first node. ---
  // Zero bytes between the header and the reservation block (multiple of 8).
  absl::Status SetReservationPadding(uint32_t padding);
  void SetVersion(uint32_t version, uint32_t last_comp_version) {
    version_ = version;
    last_comp_version_ = last_comp_version;
  }
  void SetBootCpuidPhys(uint32_t id) { boot_cpuid_phys_ = id; }
  // Replaces the strings block with `block` (re-emitted verbatim) and makes
  // `offsets` (name -> offset into `block`) the initial name table. Names
  // not in the table are appended after `block` on first use.
  absl::Status PreloadStrings(std::vector<uint8_t> block,
                              std::map<std::string, uint32_t> offsets);
  // Zero-extends the output to `size` bytes and writes it as totalsize;
  // Finish() fails if the content is larger.
  void SetTotalSize(uint32_t size) { total_size_ = size; }

  // --- Structure. ---
  absl::StatusOr<FdtNode> BeginNode(absl::string_view name);
  absl::Status EndNode(FdtNode node);

  // A raw property value.
  absl::Status Property(absl::string_view name,
                        absl::Span<const uint8_t> value);
  absl::Status PropertyNull(absl::string_view name);
  // NUL-terminated; `value` must not contain NUL.
  absl::Status PropertyString(absl::string_view name, absl::string_view value);
  absl::Status PropertyStringList(absl::string_view name,
                                  absl::Span<const std::string> values);
  absl::Status PropertyU32(absl::string_view name, uint32_t value);
  absl::Status PropertyU64(absl::string_view name, uint64_t value);
  absl::Status PropertyArrayU32(absl::string_view name,
                                absl::Span<const uint32_t> values);
  absl::Status PropertyArrayU64(absl::string_view name,
                                absl::Span<const uint64_t> values);
  // "phandle" = value; fails with "Duplicate phandle value" if reused.
  absl::Status PropertyPhandle(uint32_t value);

  // Appends END, lays out the blob and returns it (length = totalsize).
  // "All nodes must be closed before calling finish()" if a node is open.
  absl::StatusOr<std::vector<uint8_t>> Finish();

 private:
  absl::StatusOr<uint32_t> InternString(absl::string_view name);
  void AppendU32(uint32_t v);
  void Align4();

  std::vector<FdtReserveEntry> reservations_;
  uint32_t rsv_padding_ = 0;
  uint32_t version_ = kFdtVersion;
  uint32_t last_comp_version_ = kFdtLastCompVersion;
  uint32_t boot_cpuid_phys_ = 0;
  std::optional<uint32_t> total_size_;
  std::vector<uint8_t> structure_;
  std::vector<uint8_t> strings_;
  std::map<std::string, uint32_t, std::less<>> string_offsets_;
  std::set<uint32_t> phandles_;
  int depth_ = 0;
  bool node_ended_ = false;
  bool started_ = false;
  bool finished_ = false;
};

// Node and property name rules of vm-fdt (spec-vmm §3.2), exposed for tests
// and for the surgeon.
bool FdtNodeNameValid(absl::string_view name);
bool FdtPropertyNameValid(absl::string_view name);

}  // namespace realm_measurements::measure

#endif  // REALM_MEASUREMENTS_MEASURE_FDT_FDT_WRITER_H_
