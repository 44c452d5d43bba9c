#include "measure/fdt/dtb_template.h"

#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/byte_reader.h"

namespace realm_measurements::measure {
namespace {

struct Token {
  uint32_t type = 0;
  std::string name;  // node or property name
  absl::Span<const uint8_t> value;
};

// Reads a NUL-terminated string starting at the reader's offset and moves
// past the NUL.
absl::StatusOr<std::string> ReadCString(ByteReader& r,
                                        absl::string_view field) {
  absl::Span<const uint8_t> rest = r.rest();
  for (size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == 0) {
      std::string s(reinterpret_cast<const char*>(rest.data()), i);
      absl::Status skip = r.Skip(i + 1, field);
      if (!skip.ok()) return skip;
      return s;
    }
  }
  return r.Error(absl::StrCat("unterminated ", field));
}

absl::Status SkipTo4(ByteReader& r, size_t base) {
  size_t rel = r.offset() - base;
  size_t pad = (4 - rel % 4) % 4;
  return r.Skip(pad, "padding");
}

// The header fields in order (Devicetree spec v0.4 §5.2).
constexpr const char* kFdtHeaderFields[10] = {
    "magic",           "totalsize",     "off_dt_struct",     "off_dt_strings",
    "off_mem_rsvmap",  "version",       "last_comp_version", "boot_cpuid_phys",
    "size_dt_strings", "size_dt_struct"};

absl::StatusOr<uint32_t> U32(ByteReader& r, absl::string_view field) {
  return r.U32Be(field);
}

}  // namespace

absl::Status CheckDeviceTree(absl::Span<const uint8_t> dtb) {
  auto fail = [](auto&&... parts) {
    return absl::InvalidArgumentError(absl::StrCat(parts...));
  };
  if (dtb.size() < kFdtHeaderSize) {
    return fail("file of ", dtb.size(), " bytes is shorter than the ",
                kFdtHeaderSize, "-byte header");
  }
  ByteReader r(dtb, "device tree header");
  uint32_t h[10];
  for (int i = 0; i < 10; ++i) {
    absl::StatusOr<uint32_t> v = r.U32Be(kFdtHeaderFields[i]);
    if (!v.ok()) return v.status();
    h[i] = *v;
  }
  const uint32_t magic = h[0], totalsize = h[1], off_struct = h[2],
                 off_strings = h[3], off_rsvmap = h[4], version = h[5],
                 last_comp = h[6], size_strings = h[8], size_struct = h[9];
  if (magic != kFdtMagic) {
    return fail("bad magic 0x", absl::Hex(magic),
                " at offset 0 (expected 0xd00dfeed)");
  }
  if (version < kFdtLastCompVersion || last_comp > kFdtVersion) {
    return fail("unsupported version ", version, " (last_comp_version ",
                last_comp, "; expected version >= ", kFdtLastCompVersion,
                " and last_comp_version <= ", kFdtVersion, ")");
  }
  if (totalsize < kFdtHeaderSize || totalsize > dtb.size()) {
    return fail("totalsize ", totalsize, " in the header, but the file has ",
                dtb.size(), " bytes (expected ", kFdtHeaderSize, " to ",
                dtb.size(), ")");
  }
  auto block = [&](const char* name, uint64_t off, uint64_t size,
                   uint64_t align) -> absl::Status {
    if (off < kFdtHeaderSize || off % align != 0 || off > totalsize ||
        size > totalsize - off) {
      return fail(name, " block [", off, ", +", size,
                  ") is not inside [40, totalsize ", totalsize, ")",
                  off % align != 0
                      ? absl::StrCat(" or not ", align, "-byte aligned")
                      : "");
    }
    return absl::OkStatus();
  };
  // The reservation map is a list of 16-byte entries ending in a zero one.
  if (absl::Status s = block("memory reservation", off_rsvmap, 16, 8);
      !s.ok()) {
    return s;
  }
  // Version 16 headers have no size_dt_struct: the block runs to totalsize.
  const uint64_t struct_size =
      version >= kFdtVersion ? size_struct : totalsize - off_struct;
  if (absl::Status s = block("structure", off_struct, struct_size, 4);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = block("strings", off_strings, size_strings, 1);
      !s.ok()) {
    return s;
  }
  if (struct_size < 8) {
    return fail("structure block of ", struct_size,
                " bytes holds no root node (expected FDT_BEGIN_NODE ... "
                "FDT_END)");
  }
  ByteReader st(dtb.subspan(off_struct, struct_size), "structure block");
  absl::StatusOr<uint32_t> first = st.U32Be("first token");
  if (!first.ok()) return first.status();
  if (*first != kFdtBeginNode) {
    return fail("structure block starts with token 0x", absl::Hex(*first),
                " at offset ", off_struct, " (expected FDT_BEGIN_NODE 0x1)");
  }
  // size_dt_struct may include padding after FDT_END; libfdt only needs
  // FDT_END somewhere, but a v17 block must end with it or zero padding.
  size_t end = struct_size;
  while (end >= 4 && dtb[off_struct + end - 1] == 0 &&
         dtb[off_struct + end - 2] == 0 && dtb[off_struct + end - 3] == 0 &&
         dtb[off_struct + end - 4] == 0) {
    end -= 4;
  }
  if (absl::Status s = st.Seek(end >= 4 ? end - 4 : 0, "last token"); !s.ok()) {
    return s;
  }
  absl::StatusOr<uint32_t> last = st.U32Be("last token");
  if (!last.ok()) return last.status();
  if (end < 8 || *last != kFdtEnd) {
    return fail("structure block does not end with FDT_END 0x9 (found 0x",
                absl::Hex(*last), " at offset ",
                off_struct + (end >= 4 ? end - 4 : 0), ")");
  }
  return absl::OkStatus();
}

absl::Status CheckDtbOption(const std::string& path,
                            absl::Span<const uint8_t> dtb) {
  absl::Status s = CheckDeviceTree(dtb);
  if (s.ok()) return s;
  return absl::Status(
      s.code(),
      absl::StrCat("--dtb ", path, " is not a device tree: ", s.message()));
}

absl::string_view DtbNodeBaseName(absl::string_view name) {
  return name.substr(0, name.find('@'));
}

absl::StatusOr<std::vector<uint8_t>> PatchDtbTemplate(
    absl::Span<const uint8_t> dtb, DtbTemplateHandler& handler) {
  // --- Header (DT spec §5.2), spec-vmm §8.2 step 1. ---
  ByteReader hr(dtb, "DTB template");
  uint32_t h[10];
  for (int i = 0; i < 10; ++i) {
    absl::StatusOr<uint32_t> v = U32(hr, kFdtHeaderFields[i]);
    if (!v.ok()) return v.status();
    h[i] = *v;
    if (i == 0 && *v != kFdtMagic) {
      return absl::InvalidArgumentError(
          absl::StrCat("parsing: invalid magic 0x", absl::Hex(*v),
                       " (expected 0xd00dfeed)"));
    }
  }
  const uint64_t totalsize = h[1], off_struct = h[2], off_strings = h[3],
                 off_rsv = h[4], size_strings = h[8], size_struct = h[9];
  // Bounds the output allocation by the input size.
  if (totalsize > dtb.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("DTB template: header totalsize ", totalsize,
                     " exceeds the ", dtb.size(), "-byte input"));
  }
  if (off_rsv < kFdtHeaderSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("parsing: off_mem_rsvmap ", off_rsv, " overlaps the ",
                     kFdtHeaderSize, "-byte header"));
  }
  auto in_bounds = [&](uint64_t off, uint64_t size,
                       absl::string_view what) -> absl::Status {
    if (off > dtb.size() || size > dtb.size() - off) {
      return absl::InvalidArgumentError(
          absl::StrCat("DTB template: ", what, " [", off, ", ", off + size,
                       ") exceeds the ", dtb.size(), "-byte input"));
    }
    return absl::OkStatus();
  };
  if (absl::Status s = in_bounds(off_struct, size_struct, "structure block");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = in_bounds(off_strings, size_strings, "strings block");
      !s.ok()) {
    return s;
  }

  // Reservation entries until (0, 0).
  ByteReader rr(dtb, "DTB template");
  if (absl::Status s = rr.Seek(off_rsv, "off_mem_rsvmap"); !s.ok()) return s;
  std::vector<FdtReserveEntry> rsv;
  for (;;) {
    absl::StatusOr<uint64_t> addr = rr.U64Be("reservation address");
    if (!addr.ok()) return addr.status();
    absl::StatusOr<uint64_t> size = rr.U64Be("reservation size");
    if (!size.ok()) return size.status();
    if (*addr == 0 && *size == 0) break;
    rsv.push_back({*addr, *size});
  }
  const int64_t struct_pad =
      static_cast<int64_t>(off_struct) - static_cast<int64_t>(rr.offset());
  if (struct_pad != 0) {
    return absl::UnimplementedError(
        absl::StrCat("unimplemented: struct padding ", struct_pad));
  }
  const int64_t strings_pad = static_cast<int64_t>(off_strings) -
                              static_cast<int64_t>(off_struct + size_struct);
  if (strings_pad != 0) {
    return absl::UnimplementedError(
        absl::StrCat("unimplemented: strings padding ", strings_pad));
  }

  // --- Strings block (step 3): consecutive NUL-terminated strings. ---
  absl::Span<const uint8_t> strings = dtb.subspan(off_strings, size_strings);
  if (!strings.empty() && strings.back() != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("DTB template: strings block at offset ", off_strings,
                     " does not end with NUL"));
  }
  auto string_at = [&](uint32_t off) -> absl::StatusOr<std::string> {
    if (off >= strings.size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "DTB template: property name offset ", off,
          " is outside the strings block of ", strings.size(), " bytes"));
    }
    size_t end = off;
    while (strings[end] != 0) ++end;  // terminated: last byte is NUL
    return std::string(reinterpret_cast<const char*>(strings.data()) + off,
                       end - off);
  };

  // --- Structure block (step 2). ---
  ByteReader sr(dtb.subspan(off_struct, size_struct), "DTB template structure");
  std::vector<Token> tokens;
  std::map<std::string, uint32_t> name_offsets;
  bool ended = false;
  while (!ended) {
    const size_t token_offset = sr.offset();
    absl::StatusOr<uint32_t> type = U32(sr, "token");
    if (!type.ok()) return type.status();
    Token t;
    t.type = *type;
    switch (*type) {
      case kFdtBeginNode: {
        absl::StatusOr<std::string> name = ReadCString(sr, "node name");
        if (!name.ok()) return name.status();
        t.name = *std::move(name);
        // Non-zero padding bytes are tolerated, as in the reference.
        if (absl::Status s = SkipTo4(sr, 0); !s.ok()) return s;
        break;
      }
      case kFdtProp: {
        absl::StatusOr<uint32_t> len = U32(sr, "property length");
        if (!len.ok()) return len.status();
        absl::StatusOr<uint32_t> nameoff = U32(sr, "property name offset");
        if (!nameoff.ok()) return nameoff.status();
        absl::StatusOr<absl::Span<const uint8_t>> value =
            sr.Bytes(*len, "property value");
        if (!value.ok()) return value.status();
        if (absl::Status s = SkipTo4(sr, 0); !s.ok()) return s;
        absl::StatusOr<std::string> name = string_at(*nameoff);
        if (!name.ok()) return name.status();
        name_offsets[*name] = *nameoff;  // last wins
        t.name = *std::move(name);
        t.value = *value;
        break;
      }
      case kFdtEndNode:
      case kFdtNop:
        break;
      case kFdtEnd:
        ended = true;
        break;
      default:
        return absl::InvalidArgumentError(
            absl::StrCat("parsing: unexpected token 0x", absl::Hex(*type),
                         " at structure offset ", token_offset));
    }
    tokens.push_back(std::move(t));
  }

  // --- Writer set-up (steps 1 and 3). ---
  absl::StatusOr<FdtWriter> writer = FdtWriter::Create(rsv);
  if (!writer.ok()) return writer.status();
  FdtWriter& w = *writer;
  if (absl::Status s = w.SetReservationPadding(
          static_cast<uint32_t>(off_rsv - kFdtHeaderSize));
      !s.ok()) {
    return s;
  }
  w.SetVersion(h[5], h[6]);
  w.SetBootCpuidPhys(h[7]);
  if (absl::Status s =
          w.PreloadStrings(std::vector<uint8_t>(strings.begin(), strings.end()),
                           std::move(name_offsets));
      !s.ok()) {
    return s;
  }
  const uint64_t content =
      off_rsv + 16 * (rsv.size() + 1) + size_struct + size_strings;
  if (content < totalsize) w.SetTotalSize(static_cast<uint32_t>(totalsize));

  // --- Replay (step 4). ---
  int ignore = 0;
  std::vector<FdtNode> open;
  std::string current;
  for (const Token& t : tokens) {
    switch (t.type) {
      case kFdtBeginNode: {
        if (ignore > 0) {
          ++ignore;
          break;
        }
        absl::StatusOr<bool> handled = handler.HandleNode(t.name, w);
        if (!handled.ok()) return handled.status();
        if (*handled) {
          ignore = 1;
          break;
        }
        absl::StatusOr<FdtNode> node = w.BeginNode(t.name);
        if (!node.ok()) return node.status();
        open.push_back(*node);
        current = t.name;
        break;
      }
      case kFdtEndNode:
        if (ignore > 0) {
          --ignore;
          break;
        }
        if (open.empty()) {
          return absl::InvalidArgumentError(
              "parsing: END_NODE without a matching BEGIN_NODE");
        }
        if (absl::Status s = w.EndNode(open.back()); !s.ok()) return s;
        open.pop_back();
        break;
      case kFdtProp: {
        if (ignore > 0) break;
        absl::StatusOr<bool> handled =
            handler.HandleProperty(current, t.name, t.value, w);
        if (!handled.ok()) return handled.status();
        if (!*handled) {
          if (absl::Status s = w.Property(t.name, t.value); !s.ok()) return s;
        }
        break;
      }
      case kFdtNop:
        if (ignore == 0) {
          return absl::UnimplementedError("unimplemented: NOP");
        }
        break;
      case kFdtEnd:
        break;
    }
  }
  return w.Finish();
}

absl::StatusOr<bool> CommonDtbRules::Apply(absl::string_view node,
                                           absl::string_view name,
                                           FdtWriter& w) const {
  const absl::string_view base = DtbNodeBaseName(node);
  if (base == "memory" && name == "reg") {
    const uint64_t reg[] = {ram_base, ram_size};
    if (absl::Status s = w.PropertyArrayU64(name, reg); !s.ok()) return s;
    return true;
  }
  if (base != "chosen") return false;
  if (name == "linux,initrd-start") {
    if (initrd.has_value()) {
      if (absl::Status s = w.PropertyU64(name, initrd->base); !s.ok()) return s;
    }
    return true;
  }
  if (name == "linux,initrd-end") {
    if (initrd.has_value()) {
      if (absl::Status s = w.PropertyU64(name, initrd->base + initrd->size);
          !s.ok()) {
        return s;
      }
    }
    return true;
  }
  if (name == "bootargs") {
    if (bootargs.has_value()) {
      if (absl::Status s = w.PropertyString(name, *bootargs); !s.ok()) return s;
    }
    return true;
  }
  return false;
}

}  // namespace realm_measurements::measure
