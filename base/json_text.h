// JSON text of the documents we emit (EAR, reports, CLI output), byte for
// byte what
//   value.dump(indent, ' ', /*ensure_ascii=*/false, error_handler_t::replace)
// gives, without its cost on the service's hot path: nlohmann decodes every
// string byte by byte as UTF-8, and building a tree to dump it allocates a
// node per value (issue 18: the three AppraiseToken documents were ~6% of
// the server's CPU). Strings of printable ASCII without quotes or
// backslashes are copied as they are; any other string, and floats and
// binary values, are written by nlohmann itself, so the output never
// differs from its (base:json_text_test compares both on every value kind,
// on invalid UTF-8 and on random trees).
//
// Invalid UTF-8 (token text claims, file names) becomes U+FFFD instead of
// the exception nlohmann's default handler throws.
#ifndef REALM_MEASUREMENTS_BASE_JSON_TEXT_H_
#define REALM_MEASUREMENTS_BASE_JSON_TEXT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace realm_measurements::base {

// indent < 0: compact (no whitespace); indent >= 0: one member or element a
// line, `indent` spaces a level.
std::string JsonText(const nlohmann::json& value, int indent);
std::string JsonText(const nlohmann::ordered_json& value, int indent);

// Writes a document as a stream of values, in nlohmann's format for the
// given indent, without building a tree. The caller gives object members in
// the order nlohmann would write them: for a document that stands for an
// nlohmann::json (std::map), keys in increasing byte order.
//   JsonWriter w(2);
//   w.BeginObject();
//   w.Key("a");
//   w.Int(1);
//   w.EndObject();
//   std::string text = w.Take();  // "{\n  \"a\": 1\n}"
class JsonWriter {
 public:
  explicit JsonWriter(int indent);

  void BeginObject() { Open('{'); }
  void EndObject() { Close('}'); }
  void BeginArray() { Open('['); }
  void EndArray() { Close(']'); }
  // The next member's name; its value follows.
  void Key(absl::string_view key);

  void String(absl::string_view s);
  void Int(int64_t v);
  void Uint(uint64_t v);
  void Bool(bool v);
  void Null();
  // A whole value of nlohmann's, written at the current position.
  void Value(const nlohmann::json& v);
  void Value(const nlohmann::ordered_json& v);

  // The text written so far; the writer is empty afterwards.
  std::string Take();

 private:
  template <typename Json>
  friend class TreeWriter;

  void Open(char bracket);
  void Close(char bracket);
  // Separator and line break before a value that is an element or a key.
  void BeforeValue();
  void Newline(size_t level);
  void Quoted(absl::string_view s);  // a string's text, escaped

  std::string out_;
  int step_;
  // Per open container: no element or member yet.
  std::vector<bool> empty_;
  bool after_key_ = false;
};

}  // namespace realm_measurements::base

#endif  // REALM_MEASUREMENTS_BASE_JSON_TEXT_H_
