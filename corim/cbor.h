// CBOR (RFC 8949) values, a deterministic encoder and a strict, bounded
// decoder, plus diagnostic notation (RFC 8949 §8).
//
// Encoding follows the "core deterministic" rules of RFC 8949 §4.2.1:
// shortest integer/length forms, definite lengths only, map keys sorted by
// their encoded bytes. Headers are written by libcbor's encoding primitives.
//
// Decoding is our own (corim/README.md explains why libcbor's loader is not
// used for untrusted input): it reads through base/byte_reader.h, checks
// every declared length against the bytes that remain before allocating,
// bounds nesting depth and item count, rejects duplicate map keys, trailing
// bytes, indefinite lengths, floats and unassigned simple values. Non-shortest
// integer forms and unsorted maps are accepted (they are well-formed) unless
// `DecodeLimits::require_deterministic` is set.
#ifndef REALM_MEASUREMENTS_CORIM_CBOR_H_
#define REALM_MEASUREMENTS_CORIM_CBOR_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace realm_measurements::corim {

// One CBOR data item. A plain value type: copyable, comparable.
class CborValue {
 public:
  enum class Type {
    kUnsigned,  // major type 0
    kNegative,  // major type 1: value is -1 - negative_raw()
    kBytes,     // major type 2
    kText,      // major type 3 (UTF-8 is not validated)
    kArray,     // major type 4
    kMap,       // major type 5, entries in insertion (or wire) order
    kTag,       // major type 6
    kBool,      // simple 20/21
    kNull,      // simple 22
    kUndefined  // simple 23
  };
  using Array = std::vector<CborValue>;
  using Entry = std::pair<CborValue, CborValue>;
  using Map = std::vector<Entry>;

  CborValue() : type_(Type::kNull) {}

  static CborValue Uint(uint64_t v);
  static CborValue Int(int64_t v);
  // -1 - n, for the full major-type-1 range.
  static CborValue NegativeRaw(uint64_t n);
  static CborValue Bytes(std::vector<uint8_t> b);
  static CborValue Bytes(absl::Span<const uint8_t> b);
  static CborValue Text(std::string s);
  static CborValue MakeArray(Array items);
  static CborValue MakeMap(Map entries);
  static CborValue Tag(uint64_t tag, CborValue content);
  static CborValue Bool(bool b);
  static CborValue Null();
  static CborValue Undefined();

  Type type() const { return type_; }
  bool is_uint() const { return type_ == Type::kUnsigned; }
  bool is_int() const {
    return type_ == Type::kUnsigned || type_ == Type::kNegative;
  }
  bool is_bytes() const { return type_ == Type::kBytes; }
  bool is_text() const { return type_ == Type::kText; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_map() const { return type_ == Type::kMap; }
  bool is_tag() const { return type_ == Type::kTag; }

  // Unsigned value (kUnsigned), tag number (kTag), raw n (kNegative).
  uint64_t uint_value() const { return uint_; }
  uint64_t negative_raw() const { return uint_; }
  uint64_t tag_number() const { return uint_; }
  bool bool_value() const { return uint_ != 0; }
  // The integer as int64 if it fits (kUnsigned or kNegative).
  absl::StatusOr<int64_t> AsInt64() const;
  const std::vector<uint8_t>& bytes() const { return bytes_; }
  const std::string& text() const { return text_; }
  const Array& array() const { return array_; }
  Array& mutable_array() { return array_; }
  const Map& map() const { return map_; }
  Map& mutable_map() { return map_; }
  // Content of a tag (the single element of array_).
  const CborValue& tag_content() const { return array_[0]; }

  // Map lookup (nullptr when absent or not a map).
  const CborValue* Find(const CborValue& key) const;
  const CborValue* FindUint(uint64_t key) const { return Find(Uint(key)); }
  const CborValue* FindText(absl::string_view key) const {
    return Find(Text(std::string(key)));
  }

  // "unsigned integer", "byte string", "map", ... (for error messages).
  static const char* TypeName(Type type);
  const char* type_name() const { return TypeName(type_); }

  friend bool operator==(const CborValue& a, const CborValue& b);
  friend bool operator!=(const CborValue& a, const CborValue& b) {
    return !(a == b);
  }

 private:
  explicit CborValue(Type type) : type_(type) {}
  Type type_;
  uint64_t uint_ = 0;
  std::vector<uint8_t> bytes_;
  std::string text_;
  Array array_;  // elements, or the tag content
  Map map_;
};

// Well-known tag numbers used by CoRIM/COSE (spec-token-corim §3.2).
enum CborTag : uint64_t {
  kTagEpochTime = 1,   // RFC 8949 §3.4.2
  kTagCoseSign1 = 18,  // RFC 9052 §2
  kTagUri = 32,        // RFC 8949 §3.4.5.3
  kTagUuid = 37,       // CoRIM tagged UUID
  kTagOid = 111,       // RFC 9090
  kTagUnsignedCorim = 501,
  kTagCoswid = 505,
  kTagComid = 506,
  kTagCots = 507,
  kTagUeid = 550,
  kTagTaggedBytes = 560,
};

// Deterministic encoding (RFC 8949 §4.2.1). Fails (kInvalidArgument) when a
// map holds two keys with the same encoding: such a map has no valid
// encoding.
absl::StatusOr<std::vector<uint8_t>> EncodeCbor(const CborValue& value);

// Appends a definite-length head in its shortest form (RFC 8949 §3, §4.2.1):
// `major` 0..6, `arg` the value, length, count or tag number. For encodings
// built by hand, such as the COSE Sig_structure (corim/cose.cc).
void AppendCborHead(uint8_t major, uint64_t arg, std::vector<uint8_t>& out);

struct DecodeLimits {
  // Nesting of arrays, maps and tags; the top-level item is depth 1.
  size_t max_depth = 32;
  // Total data items (every element, key, value and tag counts).
  size_t max_items = 100000;
  // Largest byte or text string, in bytes.
  size_t max_string_size = 16 * 1024 * 1024;
  // Also reject non-shortest heads and maps whose keys are not sorted by
  // their encoded bytes (input must be exactly what EncodeCbor writes).
  bool require_deterministic = false;
  // Accept indefinite-length strings, arrays and maps (RFC 8949 §3.2.2/3):
  // lenient token decoding (spec-token-corim §1.2 item 4, §7.1). Chunks of
  // a string must be definite strings of the same major type. The decoded
  // value is the same as for the definite form.
  bool allow_indefinite = false;
};

// Decodes exactly one item covering all of `data`. `what` names the input in
// errors: "<what>: <item>: expected <x>, found <y> at offset <o>". Errors are
// kInvalidArgument (malformed, limits, trailing bytes, duplicate keys).
absl::StatusOr<CborValue> DecodeCbor(absl::Span<const uint8_t> data,
                                     absl::string_view what = "CBOR",
                                     const DecodeLimits& limits = {});

// Diagnostic notation: `h'..'` bytes (lower-case hex), `"..."` text with
// JSON escapes, `N(..)` tags, `[..]`, `{k: v}`. With `expand_embedded`, byte
// strings directly inside tags 506/505/507 (and the protected header and
// payload of a tag-18 COSE_Sign1) that hold exactly one CBOR item are shown
// as `<< .. >>`.
struct DiagnosticOptions {
  bool expand_embedded = false;
};
std::string ToDiagnostic(const CborValue& value,
                         const DiagnosticOptions& options = {});

// ToDiagnostic(value) for error messages: at most `max_chars` characters, a
// longer text cut to max_chars - 3 and ended with "...".
std::string ShortDiagnostic(const CborValue& value, size_t max_chars = 48);

}  // namespace realm_measurements::corim

#endif  // REALM_MEASUREMENTS_CORIM_CBOR_H_
