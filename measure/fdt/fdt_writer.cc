#include "measure/fdt/fdt_writer.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace realm_measurements::measure {
namespace {

bool NodeNameChar(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
         (c >= 'A' && c <= 'Z') || c == ',' || c == '.' || c == '_' ||
         c == '+' || c == '-';
}

bool PropertyNameChar(char c) {
  return NodeNameChar(c) || c == '?' || c == '#';
}

// vm-fdt limits both node base names and property names to 31 characters.
constexpr size_t kMaxNameLength = 31;

void PutU32Be(std::vector<uint8_t>& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(v >> shift);
}

void PutU64Be(std::vector<uint8_t>& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(v >> shift);
}

// User text inside a one-line error message: control characters escaped.
std::string Shown(absl::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return absl::CHexEscape(s);
    }
  }
  return std::string(s);
}

absl::Status InvalidString() {
  return absl::InvalidArgumentError("Strings cannot contain NUL");
}

}  // namespace

bool FdtNodeNameValid(absl::string_view name) {
  // vm-fdt accepts the empty name (the root node).
  if (name.empty()) return true;
  size_t at = name.find('@');
  absl::string_view base = name.substr(0, at);
  if (at != absl::string_view::npos) {
    absl::string_view unit = name.substr(at + 1);
    if (unit.find('@') != absl::string_view::npos) return false;
    if (!std::all_of(unit.begin(), unit.end(), NodeNameChar)) return false;
  }
  if (base.empty() || base.size() > kMaxNameLength) return false;
  char first = base[0];
  if (!((first >= 'a' && first <= 'z') || (first >= 'A' && first <= 'Z'))) {
    return false;
  }
  return std::all_of(base.begin(), base.end(), NodeNameChar);
}

bool FdtPropertyNameValid(absl::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  return std::all_of(name.begin(), name.end(), PropertyNameChar);
}

absl::StatusOr<FdtWriter> FdtWriter::Create(
    absl::Span<const FdtReserveEntry> reservations) {
  std::vector<FdtReserveEntry> sorted;
  for (const FdtReserveEntry& e : reservations) {
    if (e.size == 0 ||
        e.address > std::numeric_limits<uint64_t>::max() - e.size) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Memory reservation is invalid (address 0x", absl::Hex(e.address),
          ", size 0x", absl::Hex(e.size), ")"));
    }
    sorted.push_back(e);
  }
  std::sort(sorted.begin(), sorted.end(),
            [](const FdtReserveEntry& a, const FdtReserveEntry& b) {
              return a.address < b.address;
            });
  for (size_t i = 1; i < sorted.size(); ++i) {
    if (sorted[i - 1].address + sorted[i - 1].size > sorted[i].address) {
      return absl::InvalidArgumentError("Memory reservations are overlapping");
    }
  }
  FdtWriter w;
  // Written in the caller's order, as vm-fdt does.
  w.reservations_.assign(reservations.begin(), reservations.end());
  return w;
}

absl::Status FdtWriter::SetReservationPadding(uint32_t padding) {
  if (started_) {
    return absl::FailedPreconditionError(
        "FDT reservation padding must be set before the first node");
  }
  // The reservation block must stay 8-byte aligned (DT spec §5.3).
  if (padding % 8 != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "FDT reservation padding ", padding, " is not a multiple of 8"));
  }
  rsv_padding_ = padding;
  return absl::OkStatus();
}

absl::Status FdtWriter::PreloadStrings(
    std::vector<uint8_t> block, std::map<std::string, uint32_t> offsets) {
  if (started_) {
    return absl::FailedPreconditionError(
        "FDT strings must be preloaded before the first node");
  }
  for (const auto& [name, off] : offsets) {
    if (off >= block.size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "FDT string '", Shown(name), "' offset ", off,
          " is outside the strings block of ", block.size(), " bytes"));
    }
  }
  strings_ = std::move(block);
  string_offsets_.clear();
  for (auto& [name, off] : offsets) string_offsets_.emplace(name, off);
  return absl::OkStatus();
}

void FdtWriter::AppendU32(uint32_t v) { PutU32Be(structure_, v); }

void FdtWriter::Align4() {
  while (structure_.size() % 4 != 0) structure_.push_back(0);
}

absl::StatusOr<uint32_t> FdtWriter::InternString(absl::string_view name) {
  auto it = string_offsets_.find(name);
  if (it != string_offsets_.end()) return it->second;
  if (strings_.size() > std::numeric_limits<uint32_t>::max()) {
    return absl::InvalidArgumentError("Total size too large");
  }
  uint32_t off = static_cast<uint32_t>(strings_.size());
  strings_.insert(strings_.end(), name.begin(), name.end());
  strings_.push_back(0);
  string_offsets_.emplace(std::string(name), off);
  return off;
}

absl::StatusOr<FdtNode> FdtWriter::BeginNode(absl::string_view name) {
  if (finished_) return absl::FailedPreconditionError("FDT already finished");
  if (depth_ >= kFdtMaxNodeDepth) {
    return absl::InvalidArgumentError("Node depth exceeds FDT_MAX_NODE_DEPTH");
  }
  if (name.find('\0') != absl::string_view::npos) return InvalidString();
  if (!FdtNodeNameValid(name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("Invalid node name '", Shown(name), "'"));
  }
  started_ = true;
  AppendU32(kFdtBeginNode);
  structure_.insert(structure_.end(), name.begin(), name.end());
  structure_.push_back(0);
  Align4();
  ++depth_;
  node_ended_ = false;
  return FdtNode{depth_};
}

absl::Status FdtWriter::EndNode(FdtNode node) {
  if (finished_) return absl::FailedPreconditionError("FDT already finished");
  if (node.depth != depth_ || depth_ == 0) {
    return absl::InvalidArgumentError("Node end must match node begin");
  }
  AppendU32(kFdtEndNode);
  --depth_;
  node_ended_ = true;
  return absl::OkStatus();
}

absl::Status FdtWriter::Property(absl::string_view name,
                                 absl::Span<const uint8_t> value) {
  if (finished_) return absl::FailedPreconditionError("FDT already finished");
  if (node_ended_) {
    return absl::InvalidArgumentError(
        "Properties may not be added after a node has been ended");
  }
  if (depth_ == 0) {
    return absl::InvalidArgumentError(
        "Properties may not be added before beginning a node");
  }
  if (name.find('\0') != absl::string_view::npos) return InvalidString();
  if (!FdtPropertyNameValid(name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("Invalid property name '", Shown(name), "'"));
  }
  if (value.size() > std::numeric_limits<uint32_t>::max()) {
    return absl::InvalidArgumentError("Property value is too large");
  }
  absl::StatusOr<uint32_t> off = InternString(name);
  if (!off.ok()) return off.status();
  AppendU32(kFdtProp);
  AppendU32(static_cast<uint32_t>(value.size()));
  AppendU32(*off);
  structure_.insert(structure_.end(), value.begin(), value.end());
  Align4();
  return absl::OkStatus();
}

absl::Status FdtWriter::PropertyNull(absl::string_view name) {
  return Property(name, {});
}

absl::Status FdtWriter::PropertyString(absl::string_view name,
                                       absl::string_view value) {
  if (value.find('\0') != absl::string_view::npos) return InvalidString();
  std::vector<uint8_t> bytes(value.begin(), value.end());
  bytes.push_back(0);
  return Property(name, bytes);
}

absl::Status FdtWriter::PropertyStringList(
    absl::string_view name, absl::Span<const std::string> values) {
  std::vector<uint8_t> bytes;
  for (const std::string& v : values) {
    if (v.find('\0') != std::string::npos) return InvalidString();
    bytes.insert(bytes.end(), v.begin(), v.end());
    bytes.push_back(0);
  }
  return Property(name, bytes);
}

absl::Status FdtWriter::PropertyU32(absl::string_view name, uint32_t value) {
  std::vector<uint8_t> bytes;
  PutU32Be(bytes, value);
  return Property(name, bytes);
}

absl::Status FdtWriter::PropertyU64(absl::string_view name, uint64_t value) {
  std::vector<uint8_t> bytes;
  PutU64Be(bytes, value);
  return Property(name, bytes);
}

absl::Status FdtWriter::PropertyArrayU32(absl::string_view name,
                                         absl::Span<const uint32_t> values) {
  std::vector<uint8_t> bytes;
  bytes.reserve(values.size() * 4);
  for (uint32_t v : values) PutU32Be(bytes, v);
  return Property(name, bytes);
}

absl::Status FdtWriter::PropertyArrayU64(absl::string_view name,
                                         absl::Span<const uint64_t> values) {
  std::vector<uint8_t> bytes;
  bytes.reserve(values.size() * 8);
  for (uint64_t v : values) PutU64Be(bytes, v);
  return Property(name, bytes);
}

absl::Status FdtWriter::PropertyPhandle(uint32_t value) {
  if (!phandles_.insert(value).second) {
    return absl::InvalidArgumentError(
        absl::StrCat("Duplicate phandle value ", value));
  }
  return PropertyU32("phandle", value);
}

absl::StatusOr<std::vector<uint8_t>> FdtWriter::Finish() {
  if (finished_) return absl::FailedPreconditionError("FDT already finished");
  if (depth_ > 0) {
    return absl::InvalidArgumentError(
        "All nodes must be closed before calling finish()");
  }
  finished_ = true;
  AppendU32(kFdtEnd);

  // Layout (spec-vmm §3.1): header, padding, reservations, structure,
  // strings; every offset is already aligned by construction.
  const uint64_t off_rsvmap = kFdtHeaderSize + uint64_t{rsv_padding_};
  const uint64_t off_struct = off_rsvmap + 16 * (reservations_.size() + 1);
  const uint64_t off_strings = off_struct + structure_.size();
  const uint64_t content = off_strings + strings_.size();
  if (content > std::numeric_limits<uint32_t>::max()) {
    return absl::InvalidArgumentError("Total size too large");
  }
  uint64_t total = content;
  if (total_size_.has_value()) {
    if (content > *total_size_) {
      return absl::InvalidArgumentError(
          absl::StrCat("Output size larger than requested total size (",
                       content, " > ", *total_size_, ")"));
    }
    total = *total_size_;
  }
  std::vector<uint8_t> out;
  out.reserve(total);
  PutU32Be(out, kFdtMagic);
  PutU32Be(out, static_cast<uint32_t>(total));
  PutU32Be(out, static_cast<uint32_t>(off_struct));
  PutU32Be(out, static_cast<uint32_t>(off_strings));
  PutU32Be(out, static_cast<uint32_t>(off_rsvmap));
  PutU32Be(out, version_);
  PutU32Be(out, last_comp_version_);
  PutU32Be(out, boot_cpuid_phys_);
  PutU32Be(out, static_cast<uint32_t>(strings_.size()));
  PutU32Be(out, static_cast<uint32_t>(structure_.size()));
  out.resize(off_rsvmap, 0);
  for (const FdtReserveEntry& e : reservations_) {
    PutU64Be(out, e.address);
    PutU64Be(out, e.size);
  }
  PutU64Be(out, 0);
  PutU64Be(out, 0);
  out.insert(out.end(), structure_.begin(), structure_.end());
  out.insert(out.end(), strings_.begin(), strings_.end());
  out.resize(total, 0);
  return out;
}

}  // namespace realm_measurements::measure
