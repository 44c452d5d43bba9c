#include "corim/cbor.h"

#include <cbor.h>

#include <algorithm>
#include <limits>
#include <set>

#include "absl/strings/str_cat.h"
#include "base/byte_reader.h"
#include "base/hex.h"

namespace realm_measurements::corim {
namespace {

// RFC 8949 §3: major types and the additional-information values that matter.
enum MajorType : uint8_t {
  kMajorUnsigned = 0,
  kMajorNegative = 1,
  kMajorBytes = 2,
  kMajorText = 3,
  kMajorArray = 4,
  kMajorMap = 5,
  kMajorTag = 6,
  kMajorSimple = 7,
};
constexpr uint8_t kAiOneByte = 24;
constexpr uint8_t kAiEightBytes = 27;
constexpr uint8_t kAiIndefinite = 31;
constexpr uint8_t kBreak = 0xff;  // RFC 8949 §3.2.1
// RFC 8949 §3.3: simple values.
constexpr uint8_t kSimpleFalse = 20;
constexpr uint8_t kSimpleTrue = 21;
constexpr uint8_t kSimpleNull = 22;
constexpr uint8_t kSimpleUndefined = 23;

const char* MajorName(uint8_t major) {
  static const char* const kNames[] = {"unsigned integer",
                                       "negative integer",
                                       "byte string",
                                       "text string",
                                       "array",
                                       "map",
                                       "tag",
                                       "simple/float"};
  return kNames[major & 7];
}

// ---------------------------------------------------------------- encoder

// Appends a head using libcbor's shortest-form encoders.
void AppendHead(uint8_t major, uint64_t arg, std::vector<uint8_t>& out) {
  unsigned char buf[9];
  size_t n = 0;
  switch (major) {
    case kMajorUnsigned:
      n = cbor_encode_uint(arg, buf, sizeof(buf));
      break;
    case kMajorNegative:
      n = cbor_encode_negint(arg, buf, sizeof(buf));
      break;
    case kMajorBytes:
      n = cbor_encode_bytestring_start(arg, buf, sizeof(buf));
      break;
    case kMajorText:
      n = cbor_encode_string_start(arg, buf, sizeof(buf));
      break;
    case kMajorArray:
      n = cbor_encode_array_start(arg, buf, sizeof(buf));
      break;
    case kMajorMap:
      n = cbor_encode_map_start(arg, buf, sizeof(buf));
      break;
    case kMajorTag:
      n = cbor_encode_tag(arg, buf, sizeof(buf));
      break;
    default:
      break;
  }
  out.insert(out.end(), buf, buf + n);
}

absl::Status EncodeInto(const CborValue& v, std::vector<uint8_t>& out) {
  switch (v.type()) {
    case CborValue::Type::kUnsigned:
      AppendHead(kMajorUnsigned, v.uint_value(), out);
      return absl::OkStatus();
    case CborValue::Type::kNegative:
      AppendHead(kMajorNegative, v.negative_raw(), out);
      return absl::OkStatus();
    case CborValue::Type::kBytes:
      AppendHead(kMajorBytes, v.bytes().size(), out);
      out.insert(out.end(), v.bytes().begin(), v.bytes().end());
      return absl::OkStatus();
    case CborValue::Type::kText:
      AppendHead(kMajorText, v.text().size(), out);
      out.insert(out.end(), v.text().begin(), v.text().end());
      return absl::OkStatus();
    case CborValue::Type::kArray:
      AppendHead(kMajorArray, v.array().size(), out);
      for (const CborValue& item : v.array()) {
        absl::Status s = EncodeInto(item, out);
        if (!s.ok()) return s;
      }
      return absl::OkStatus();
    case CborValue::Type::kMap: {
      // RFC 8949 §4.2.1: sort by the bytewise order of the encoded keys.
      std::vector<std::pair<std::vector<uint8_t>, std::vector<uint8_t>>> kv;
      kv.reserve(v.map().size());
      for (const CborValue::Entry& e : v.map()) {
        std::vector<uint8_t> k, val;
        absl::Status s = EncodeInto(e.first, k);
        if (!s.ok()) return s;
        s = EncodeInto(e.second, val);
        if (!s.ok()) return s;
        kv.emplace_back(std::move(k), std::move(val));
      }
      std::sort(kv.begin(), kv.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      for (size_t i = 1; i < kv.size(); ++i) {
        if (kv[i].first == kv[i - 1].first) {
          return absl::InvalidArgumentError(absl::StrCat(
              "CBOR encode: duplicate map key: expected unique keys, found h'",
              base::HexOf(kv[i].first), "' twice"));
        }
      }
      AppendHead(kMajorMap, kv.size(), out);
      for (const auto& p : kv) {
        out.insert(out.end(), p.first.begin(), p.first.end());
        out.insert(out.end(), p.second.begin(), p.second.end());
      }
      return absl::OkStatus();
    }
    case CborValue::Type::kTag:
      AppendHead(kMajorTag, v.tag_number(), out);
      return EncodeInto(v.tag_content(), out);
    case CborValue::Type::kBool: {
      unsigned char b[1];
      cbor_encode_bool(v.bool_value(), b, 1);
      out.push_back(b[0]);
      return absl::OkStatus();
    }
    case CborValue::Type::kNull: {
      unsigned char b[1];
      cbor_encode_null(b, 1);
      out.push_back(b[0]);
      return absl::OkStatus();
    }
    case CborValue::Type::kUndefined: {
      unsigned char b[1];
      cbor_encode_undef(b, 1);
      out.push_back(b[0]);
      return absl::OkStatus();
    }
  }
  return absl::InternalError("CBOR encode: unknown value type");
}

// ---------------------------------------------------------------- decoder

class Decoder {
 public:
  Decoder(absl::Span<const uint8_t> data, absl::string_view what,
          const DecodeLimits& limits)
      : reader_(data, std::string(what)), limits_(limits) {}

  absl::StatusOr<CborValue> DecodeAll() {
    absl::StatusOr<CborValue> v = Item(1);
    if (!v.ok()) return v.status();
    if (!reader_.empty()) {
      return Err(reader_.offset(), "end of input",
                 "one data item and nothing after it",
                 absl::StrCat(reader_.remaining(), " trailing bytes"));
    }
    return v;
  }

 private:
  absl::Status Err(size_t offset, absl::string_view item,
                   absl::string_view expected, absl::string_view found) {
    return reader_.ErrorAt(
        offset, absl::StrCat(item, ": expected ", expected, ", found ", found));
  }

  struct Head {
    size_t offset;
    uint8_t major;
    uint8_t ai;
    uint64_t arg;
  };

  absl::StatusOr<Head> ReadHead() {
    Head h;
    h.offset = reader_.offset();
    absl::StatusOr<uint8_t> ib = reader_.U8("CBOR item head");
    if (!ib.ok()) return ib.status();
    h.major = *ib >> 5;
    h.ai = *ib & 0x1f;
    if (h.ai < kAiOneByte) {
      h.arg = h.ai;
      return h;
    }
    if (h.ai == kAiIndefinite && limits_.allow_indefinite &&
        (h.major == kMajorBytes || h.major == kMajorText ||
         h.major == kMajorArray || h.major == kMajorMap)) {
      h.arg = 0;
      return h;  // Item() reads the contents up to the break
    }
    if (h.ai == kAiIndefinite) {
      return Err(
          h.offset, MajorName(h.major),
          "a definite length (indefinite-length items and break are "
          "not accepted)",
          absl::StrCat("initial byte 0x", absl::Hex(*ib, absl::kZeroPad2)));
    }
    if (h.ai > kAiEightBytes) {
      return Err(h.offset, MajorName(h.major),
                 "additional information 0..27 (RFC 8949 §3)",
                 absl::StrCat("reserved value ", h.ai));
    }
    if (h.major == kMajorSimple) {
      // 0xf8 (one-byte simple) and 0xf9..0xfb (floats).
      return Err(h.offset, "simple value", "false, true, null or undefined",
                 h.ai == kAiOneByte ? "an extended simple value"
                                    : "a floating-point number");
    }
    const size_t width = size_t{1} << (h.ai - kAiOneByte);
    absl::StatusOr<absl::Span<const uint8_t>> b =
        reader_.Bytes(width, "CBOR head argument");
    if (!b.ok()) return b.status();
    uint64_t arg = 0;
    for (uint8_t byte : *b) arg = (arg << 8) | byte;
    h.arg = arg;
    if (limits_.require_deterministic) {
      const uint64_t min = width == 1 ? 24 : (uint64_t{1} << (4 * width));
      if (arg < min) {
        return Err(h.offset, MajorName(h.major),
                   "the shortest head (deterministic encoding)",
                   absl::StrCat(width, "-byte argument ", arg));
      }
    }
    return h;
  }

  absl::Status CountItem(size_t offset) {
    if (++items_ > limits_.max_items) {
      return Err(offset, "data item count",
                 absl::StrCat("at most ", limits_.max_items, " items"), "more");
    }
    return absl::OkStatus();
  }

  absl::StatusOr<CborValue> Item(size_t depth) {
    const size_t start = reader_.offset();
    if (depth > limits_.max_depth) {
      return Err(start, "nesting depth",
                 absl::StrCat("at most ", limits_.max_depth), "deeper nesting");
    }
    absl::Status s = CountItem(start);
    if (!s.ok()) return s;
    absl::StatusOr<Head> h = ReadHead();
    if (!h.ok()) return h.status();
    if (h->ai == kAiIndefinite) return Indefinite(*h, depth);
    switch (h->major) {
      case kMajorUnsigned:
        return CborValue::Uint(h->arg);
      case kMajorNegative:
        return CborValue::NegativeRaw(h->arg);
      case kMajorBytes:
      case kMajorText: {
        if (h->arg > limits_.max_string_size || h->arg > reader_.remaining()) {
          return Err(h->offset, MajorName(h->major),
                     absl::StrCat("a length of at most ",
                                  std::min<uint64_t>(limits_.max_string_size,
                                                     reader_.remaining()),
                                  " bytes"),
                     absl::StrCat("length ", h->arg));
        }
        absl::StatusOr<absl::Span<const uint8_t>> b =
            reader_.Bytes(static_cast<size_t>(h->arg), MajorName(h->major));
        if (!b.ok()) return b.status();
        if (h->major == kMajorBytes) return CborValue::Bytes(*b);
        return CborValue::Text(
            std::string(reinterpret_cast<const char*>(b->data()), b->size()));
      }
      case kMajorArray: {
        // Each element takes at least one byte.
        if (h->arg > reader_.remaining()) {
          return Err(h->offset, "array",
                     absl::StrCat("at most ", reader_.remaining(),
                                  " elements (one byte each remains)"),
                     absl::StrCat("count ", h->arg));
        }
        CborValue::Array items;
        items.reserve(static_cast<size_t>(h->arg));
        for (uint64_t i = 0; i < h->arg; ++i) {
          absl::StatusOr<CborValue> e = Item(depth + 1);
          if (!e.ok()) return e.status();
          items.push_back(*std::move(e));
        }
        return CborValue::MakeArray(std::move(items));
      }
      case kMajorMap: {
        if (h->arg > reader_.remaining() / 2) {
          return Err(h->offset, "map",
                     absl::StrCat("at most ", reader_.remaining() / 2,
                                  " entries (two bytes each remain)"),
                     absl::StrCat("count ", h->arg));
        }
        CborValue::Map entries;
        entries.reserve(static_cast<size_t>(h->arg));
        std::set<std::vector<uint8_t>> seen;
        std::vector<uint8_t> previous;
        for (uint64_t i = 0; i < h->arg; ++i) {
          const size_t key_offset = reader_.offset();
          absl::StatusOr<CborValue> k = Item(depth + 1);
          if (!k.ok()) return k.status();
          // Keys are compared by their deterministic encoding, so 0x01 and
          // 0x1801 are the same key.
          absl::StatusOr<std::vector<uint8_t>> canonical = EncodeCbor(*k);
          if (!canonical.ok()) {
            return reader_.ErrorAt(key_offset, canonical.status().message());
          }
          if (!seen.insert(*canonical).second) {
            return Err(key_offset, "map key", "unique keys",
                       absl::StrCat("duplicate key ", ShortDiagnostic(*k, 64)));
          }
          if (limits_.require_deterministic && i > 0 &&
              !(previous < *canonical)) {
            return Err(
                key_offset, "map key",
                "keys sorted by encoded bytes (deterministic encoding)",
                absl::StrCat("key ", ShortDiagnostic(*k, 64), " out of order"));
          }
          previous = *std::move(canonical);
          absl::StatusOr<CborValue> v = Item(depth + 1);
          if (!v.ok()) return v.status();
          entries.emplace_back(*std::move(k), *std::move(v));
        }
        return CborValue::MakeMap(std::move(entries));
      }
      case kMajorTag: {
        absl::StatusOr<CborValue> content = Item(depth + 1);
        if (!content.ok()) return content.status();
        return CborValue::Tag(h->arg, *std::move(content));
      }
      case kMajorSimple:
        switch (h->ai) {
          case kSimpleFalse:
            return CborValue::Bool(false);
          case kSimpleTrue:
            return CborValue::Bool(true);
          case kSimpleNull:
            return CborValue::Null();
          case kSimpleUndefined:
            return CborValue::Undefined();
          default:
            return Err(h->offset, "simple value",
                       "false, true, null or undefined",
                       absl::StrCat("simple(", h->ai, ")"));
        }
    }
    return Err(h->offset, "data item", "a known major type", "another");
  }

  // True (and consumed) when the next byte is the break 0xff.
  absl::StatusOr<bool> Break() {
    if (reader_.empty()) {
      return Err(reader_.offset(), "indefinite-length item",
                 "more items or a break (0xff)", "end of input");
    }
    const size_t at = reader_.offset();
    absl::StatusOr<uint8_t> b = reader_.U8("break");
    if (!b.ok()) return b.status();
    if (*b == kBreak) return true;
    absl::Status s = reader_.Seek(at, "indefinite-length item");
    if (!s.ok()) return s;
    return false;
  }

  // An indefinite-length string, array or map (allow_indefinite only).
  absl::StatusOr<CborValue> Indefinite(const Head& h, size_t depth) {
    if (h.major == kMajorBytes || h.major == kMajorText) {
      std::string joined;
      for (;;) {
        absl::StatusOr<bool> end = Break();
        if (!end.ok()) return end.status();
        if (*end) break;
        const size_t at = reader_.offset();
        absl::Status s = CountItem(at);
        if (!s.ok()) return s;
        absl::StatusOr<Head> c = ReadHead();
        if (!c.ok()) return c.status();
        if (c->major != h.major || c->ai == kAiIndefinite) {
          return Err(at, "indefinite-length string chunk",
                     absl::StrCat("a definite ", MajorName(h.major)),
                     MajorName(c->major));
        }
        if (c->arg > reader_.remaining() ||
            joined.size() + c->arg > limits_.max_string_size) {
          return Err(at, MajorName(h.major),
                     absl::StrCat("a total length of at most ",
                                  limits_.max_string_size, " bytes"),
                     absl::StrCat("chunk length ", c->arg));
        }
        absl::StatusOr<absl::Span<const uint8_t>> b =
            reader_.Bytes(static_cast<size_t>(c->arg), MajorName(h.major));
        if (!b.ok()) return b.status();
        joined.append(reinterpret_cast<const char*>(b->data()), b->size());
      }
      if (h.major == kMajorText) return CborValue::Text(std::move(joined));
      return CborValue::Bytes(
          std::vector<uint8_t>(joined.begin(), joined.end()));
    }
    if (h.major == kMajorArray) {
      CborValue::Array items;
      for (;;) {
        absl::StatusOr<bool> end = Break();
        if (!end.ok()) return end.status();
        if (*end) break;
        absl::StatusOr<CborValue> e = Item(depth + 1);
        if (!e.ok()) return e.status();
        items.push_back(*std::move(e));
      }
      return CborValue::MakeArray(std::move(items));
    }
    CborValue::Map entries;
    std::set<std::vector<uint8_t>> seen;
    for (;;) {
      absl::StatusOr<bool> end = Break();
      if (!end.ok()) return end.status();
      if (*end) break;
      const size_t key_offset = reader_.offset();
      absl::StatusOr<CborValue> k = Item(depth + 1);
      if (!k.ok()) return k.status();
      absl::StatusOr<std::vector<uint8_t>> canonical = EncodeCbor(*k);
      if (!canonical.ok()) {
        return reader_.ErrorAt(key_offset, canonical.status().message());
      }
      if (!seen.insert(*std::move(canonical)).second) {
        return Err(key_offset, "map key", "unique keys",
                   absl::StrCat("duplicate key ", ShortDiagnostic(*k, 64)));
      }
      absl::StatusOr<bool> early = Break();
      if (!early.ok()) return early.status();
      if (*early) {
        return Err(reader_.offset() - 1, "map", "a value after the key",
                   "a break");
      }
      absl::StatusOr<CborValue> v = Item(depth + 1);
      if (!v.ok()) return v.status();
      entries.emplace_back(*std::move(k), *std::move(v));
    }
    return CborValue::MakeMap(std::move(entries));
  }

  ByteReader reader_;
  const DecodeLimits& limits_;
  size_t items_ = 0;
};

// ---------------------------------------------------------------- diag

void AppendQuoted(const std::string& s, std::string& out) {
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          absl::StrAppend(&out, "\\u", absl::Hex(c, absl::kZeroPad4));
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

// Embedded CBOR inside embedded CBOR is expanded this many levels deep, so
// the recursion stays bounded whatever the input.
constexpr int kMaxEmbedding = 4;

void AppendDiag(const CborValue& v, const DiagnosticOptions& options,
                bool embedded, std::string& out, int level = 0);

void AppendBytes(const CborValue& v, const DiagnosticOptions& options,
                 bool embedded, std::string& out, int level) {
  if (embedded && options.expand_embedded && level < kMaxEmbedding) {
    absl::StatusOr<CborValue> inner =
        DecodeCbor(v.bytes(), "embedded CBOR", DecodeLimits{});
    if (inner.ok()) {
      out += "<< ";
      AppendDiag(*inner, options, false, out, level + 1);
      out += " >>";
      return;
    }
  }
  out += "h'";
  out += base::HexOf(v.bytes());
  out += "'";
}

void AppendDiag(const CborValue& v, const DiagnosticOptions& options,
                bool embedded, std::string& out, int level) {
  switch (v.type()) {
    case CborValue::Type::kUnsigned:
      absl::StrAppend(&out, v.uint_value());
      return;
    case CborValue::Type::kNegative:
      if (v.negative_raw() == std::numeric_limits<uint64_t>::max()) {
        out += "-18446744073709551616";
      } else {
        absl::StrAppend(&out, "-", v.negative_raw() + 1);
      }
      return;
    case CborValue::Type::kBytes:
      AppendBytes(v, options, embedded, out, level);
      return;
    case CborValue::Type::kText:
      AppendQuoted(v.text(), out);
      return;
    case CborValue::Type::kArray:
      out += "[";
      for (size_t i = 0; i < v.array().size(); ++i) {
        if (i) out += ", ";
        AppendDiag(v.array()[i], options, false, out, level);
      }
      out += "]";
      return;
    case CborValue::Type::kMap:
      out += "{";
      for (size_t i = 0; i < v.map().size(); ++i) {
        if (i) out += ", ";
        AppendDiag(v.map()[i].first, options, false, out, level);
        out += ": ";
        AppendDiag(v.map()[i].second, options, false, out, level);
      }
      out += "}";
      return;
    case CborValue::Type::kTag: {
      absl::StrAppend(&out, v.tag_number(), "(");
      const uint64_t t = v.tag_number();
      const CborValue& c = v.tag_content();
      if (t == kTagCoseSign1 && c.is_array() && c.array().size() == 4) {
        // COSE_Sign1: protected header and payload are embedded CBOR.
        out += "[";
        for (size_t i = 0; i < 4; ++i) {
          if (i) out += ", ";
          AppendDiag(c.array()[i], options, i == 0 || i == 2, out, level);
        }
        out += "]";
      } else {
        AppendDiag(c, options,
                   t == kTagComid || t == kTagCoswid || t == kTagCots, out,
                   level);
      }
      out += ")";
      return;
    }
    case CborValue::Type::kBool:
      out += v.bool_value() ? "true" : "false";
      return;
    case CborValue::Type::kNull:
      out += "null";
      return;
    case CborValue::Type::kUndefined:
      out += "undefined";
      return;
  }
}

}  // namespace

void AppendCborHead(uint8_t major, uint64_t arg, std::vector<uint8_t>& out) {
  AppendHead(major, arg, out);
}

// ---------------------------------------------------------------- CborValue

CborValue CborValue::Uint(uint64_t v) {
  CborValue c(Type::kUnsigned);
  c.uint_ = v;
  return c;
}
CborValue CborValue::Int(int64_t v) {
  if (v >= 0) return Uint(static_cast<uint64_t>(v));
  // -1 - n == v  =>  n == -1 - v, computed without overflow.
  return NegativeRaw(static_cast<uint64_t>(-(v + 1)));
}
CborValue CborValue::NegativeRaw(uint64_t n) {
  CborValue c(Type::kNegative);
  c.uint_ = n;
  return c;
}
CborValue CborValue::Bytes(std::vector<uint8_t> b) {
  CborValue c(Type::kBytes);
  c.bytes_ = std::move(b);
  return c;
}
CborValue CborValue::Bytes(absl::Span<const uint8_t> b) {
  return Bytes(std::vector<uint8_t>(b.begin(), b.end()));
}
CborValue CborValue::Text(std::string s) {
  CborValue c(Type::kText);
  c.text_ = std::move(s);
  return c;
}
CborValue CborValue::MakeArray(Array items) {
  CborValue c(Type::kArray);
  c.array_ = std::move(items);
  return c;
}
CborValue CborValue::MakeMap(Map entries) {
  CborValue c(Type::kMap);
  c.map_ = std::move(entries);
  return c;
}
CborValue CborValue::Tag(uint64_t tag, CborValue content) {
  CborValue c(Type::kTag);
  c.uint_ = tag;
  c.array_.push_back(std::move(content));
  return c;
}
CborValue CborValue::Bool(bool b) {
  CborValue c(Type::kBool);
  c.uint_ = b ? 1 : 0;
  return c;
}
CborValue CborValue::Null() { return CborValue(Type::kNull); }
CborValue CborValue::Undefined() { return CborValue(Type::kUndefined); }

absl::StatusOr<int64_t> CborValue::AsInt64() const {
  constexpr uint64_t kMax = std::numeric_limits<int64_t>::max();
  if (type_ == Type::kUnsigned && uint_ <= kMax) {
    return static_cast<int64_t>(uint_);
  }
  if (type_ == Type::kNegative && uint_ <= kMax) {
    return -1 - static_cast<int64_t>(uint_);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("expected an integer in the int64 range, found ",
                   type_name(), " ", ToDiagnostic(*this)));
}

const CborValue* CborValue::Find(const CborValue& key) const {
  if (type_ != Type::kMap) return nullptr;
  for (const Entry& e : map_) {
    if (e.first == key) return &e.second;
  }
  return nullptr;
}

const char* CborValue::TypeName(Type type) {
  switch (type) {
    case Type::kUnsigned:
      return "unsigned integer";
    case Type::kNegative:
      return "negative integer";
    case Type::kBytes:
      return "byte string";
    case Type::kText:
      return "text string";
    case Type::kArray:
      return "array";
    case Type::kMap:
      return "map";
    case Type::kTag:
      return "tag";
    case Type::kBool:
      return "boolean";
    case Type::kNull:
      return "null";
    case Type::kUndefined:
      return "undefined";
  }
  return "unknown";
}

namespace {

// Map entries ordered by their deterministic key encoding, so that maps
// compare as maps (RFC 8949 §5.6: entry order carries no meaning). Returns
// false when a key has no valid encoding (a map key with duplicate keys).
bool SortedEntries(
    const CborValue::Map& m,
    std::vector<std::pair<std::vector<uint8_t>, const CborValue*>>& out) {
  out.reserve(m.size());
  for (const CborValue::Entry& e : m) {
    absl::StatusOr<std::vector<uint8_t>> k = EncodeCbor(e.first);
    if (!k.ok()) return false;
    out.emplace_back(*std::move(k), &e.second);
  }
  std::sort(out.begin(), out.end(),
            [](const auto& x, const auto& y) { return x.first < y.first; });
  return true;
}

}  // namespace

bool operator==(const CborValue& a, const CborValue& b) {
  if (a.type_ != b.type_ || a.uint_ != b.uint_ || a.bytes_ != b.bytes_ ||
      a.text_ != b.text_ || a.array_ != b.array_ ||
      a.map_.size() != b.map_.size()) {
    return false;
  }
  if (a.map_.empty() || a.map_ == b.map_) return true;
  std::vector<std::pair<std::vector<uint8_t>, const CborValue*>> ea, eb;
  if (!SortedEntries(a.map_, ea) || !SortedEntries(b.map_, eb)) return false;
  for (size_t i = 0; i < ea.size(); ++i) {
    if (ea[i].first != eb[i].first || !(*ea[i].second == *eb[i].second)) {
      return false;
    }
  }
  return true;
}

absl::StatusOr<std::vector<uint8_t>> EncodeCbor(const CborValue& value) {
  std::vector<uint8_t> out;
  absl::Status s = EncodeInto(value, out);
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<CborValue> DecodeCbor(absl::Span<const uint8_t> data,
                                     absl::string_view what,
                                     const DecodeLimits& limits) {
  Decoder d(data, what, limits);
  return d.DecodeAll();
}

std::string ToDiagnostic(const CborValue& value,
                         const DiagnosticOptions& options) {
  std::string out;
  AppendDiag(value, options, false, out);
  return out;
}

std::string ShortDiagnostic(const CborValue& value, size_t max_chars) {
  std::string d = ToDiagnostic(value);
  if (d.size() > max_chars && max_chars >= 3) {
    d = absl::StrCat(d.substr(0, max_chars - 3), "...");
  }
  return d;
}

}  // namespace realm_measurements::corim
