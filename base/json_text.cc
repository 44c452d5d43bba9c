#include "base/json_text.h"

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace realm_measurements::base {
namespace {

// Bytes nlohmann writes unchanged with ensure_ascii off: printable ASCII
// other than '"' and '\\'.
bool Plain(absl::string_view s) {
  for (char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u > 0x7e || c == '"' || c == '\\') return false;
  }
  return true;
}

}  // namespace

// An nlohmann tree through the writer.
template <typename Json>
class TreeWriter {
 public:
  static void Write(JsonWriter& w, const Json& v) {
    switch (v.type()) {
      case nlohmann::detail::value_t::object:
        w.BeginObject();
        for (auto it = v.begin(); it != v.end(); ++it) {
          w.Key(it.key());
          Write(w, it.value());
        }
        w.EndObject();
        return;
      case nlohmann::detail::value_t::array:
        w.BeginArray();
        for (const Json& e : v) Write(w, e);
        w.EndArray();
        return;
      case nlohmann::detail::value_t::string:
        w.String(v.template get_ref<const typename Json::string_t&>());
        return;
      case nlohmann::detail::value_t::boolean:
        w.Bool(v.template get<bool>());
        return;
      case nlohmann::detail::value_t::null:
        w.Null();
        return;
      case nlohmann::detail::value_t::number_integer:
        w.Int(v.template get<int64_t>());
        return;
      case nlohmann::detail::value_t::number_unsigned:
        w.Uint(v.template get<uint64_t>());
        return;
      default: {
        // Floats (shortest round-trip form), binary, discarded: rare in
        // our documents; nlohmann's own text. Binary values span lines
        // when pretty: their lines after the first are indented to the
        // writer's level.
        w.BeforeValue();
        const std::string text =
            v.dump(w.step_, ' ', false, Json::error_handler_t::replace);
        if (!v.is_binary() || w.step_ < 0) {
          w.out_.append(text);
          return;
        }
        const size_t pad = w.empty_.size() * static_cast<size_t>(w.step_);
        for (char c : text) {
          w.out_.push_back(c);
          if (c == '\n') w.out_.append(pad, ' ');
        }
        return;
      }
    }
  }
};

JsonWriter::JsonWriter(int indent) : step_(indent) { out_.reserve(1024); }

void JsonWriter::Newline(size_t level) {
  out_.push_back('\n');
  out_.append(level * static_cast<size_t>(step_), ' ');
}

void JsonWriter::BeforeValue() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (empty_.empty()) return;  // the document's top-level value
  if (!empty_.back()) out_.push_back(',');
  empty_.back() = false;
  if (step_ >= 0) Newline(empty_.size());
}

void JsonWriter::Open(char bracket) {
  BeforeValue();
  out_.push_back(bracket);
  empty_.push_back(true);
}

void JsonWriter::Close(char bracket) {
  if (empty_.empty()) return;  // nothing open: a caller's mistake, no UB
  const bool was_empty = empty_.back();
  empty_.pop_back();
  if (!was_empty && step_ >= 0) Newline(empty_.size());
  out_.push_back(bracket);
}

void JsonWriter::Key(absl::string_view key) {
  BeforeValue();
  Quoted(key);
  out_.append(step_ >= 0 ? ": " : ":");
  after_key_ = true;
}

void JsonWriter::String(absl::string_view s) {
  BeforeValue();
  Quoted(s);
}

void JsonWriter::Quoted(absl::string_view s) {
  if (Plain(s)) {
    out_.push_back('"');
    out_.append(s.data(), s.size());
    out_.push_back('"');
  } else {
    out_.append(
        nlohmann::json(std::string(s))
            .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
}

void JsonWriter::Int(int64_t v) {
  BeforeValue();
  absl::StrAppend(&out_, v);
}

void JsonWriter::Uint(uint64_t v) {
  BeforeValue();
  absl::StrAppend(&out_, v);
}

void JsonWriter::Bool(bool v) {
  BeforeValue();
  out_.append(v ? "true" : "false");
}

void JsonWriter::Null() {
  BeforeValue();
  out_.append("null");
}

void JsonWriter::Value(const nlohmann::json& v) {
  TreeWriter<nlohmann::json>::Write(*this, v);
}

void JsonWriter::Value(const nlohmann::ordered_json& v) {
  TreeWriter<nlohmann::ordered_json>::Write(*this, v);
}

std::string JsonWriter::Take() {
  std::string s = std::move(out_);
  out_.clear();
  empty_.clear();
  after_key_ = false;
  return s;
}

std::string JsonText(const nlohmann::json& value, int indent) {
  JsonWriter w(indent);
  w.Value(value);
  return w.Take();
}

std::string JsonText(const nlohmann::ordered_json& value, int indent) {
  JsonWriter w(indent);
  w.Value(value);
  return w.Take();
}

}  // namespace realm_measurements::base
