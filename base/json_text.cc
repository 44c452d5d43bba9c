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

template <typename Json>
class Writer {
 public:
  Writer(std::string* out, int indent) : out_(out), step_(indent) {}

  void Value(const Json& v, int level) {
    switch (v.type()) {
      case nlohmann::detail::value_t::object:
        Container(v, level, '{', '}', true);
        return;
      case nlohmann::detail::value_t::array:
        Container(v, level, '[', ']', false);
        return;
      case nlohmann::detail::value_t::string:
        String(v.template get_ref<const typename Json::string_t&>());
        return;
      case nlohmann::detail::value_t::boolean:
        out_->append(v.template get<bool>() ? "true" : "false");
        return;
      case nlohmann::detail::value_t::null:
        out_->append("null");
        return;
      case nlohmann::detail::value_t::number_integer:
        absl::StrAppend(out_, v.template get<int64_t>());
        return;
      case nlohmann::detail::value_t::number_unsigned:
        absl::StrAppend(out_, v.template get<uint64_t>());
        return;
      default:
        // Floats (shortest round-trip form), binary, discarded: rare in
        // our documents; nlohmann's own text. Binary values span lines
        // when pretty, so they are not handed over with an indent.
        if (v.is_binary() && step_ >= 0) {
          out_->append(Indented(v.dump(step_, ' ', false, kReplace), level));
        } else {
          out_->append(v.dump(step_, ' ', false, kReplace));
        }
        return;
    }
  }

 private:
  static constexpr auto kReplace = Json::error_handler_t::replace;

  void Newline(int level) {
    out_->push_back('\n');
    out_->append(static_cast<size_t>(level) * static_cast<size_t>(step_), ' ');
  }

  // A multi-line text of nlohmann's written at `level` (its lines after the
  // first indented by level * step).
  std::string Indented(const std::string& text, int level) {
    std::string r;
    for (char c : text) {
      r.push_back(c);
      if (c == '\n') {
        r.append(static_cast<size_t>(level) * static_cast<size_t>(step_), ' ');
      }
    }
    return r;
  }

  void String(absl::string_view s) {
    if (Plain(s)) {
      out_->push_back('"');
      out_->append(s.data(), s.size());
      out_->push_back('"');
    } else {
      out_->append(Json(std::string(s)).dump(-1, ' ', false, kReplace));
    }
  }

  void Container(const Json& v, int level, char open, char close, bool object) {
    if (v.empty()) {
      out_->push_back(open);
      out_->push_back(close);
      return;
    }
    const bool pretty = step_ >= 0;
    out_->push_back(open);
    bool first = true;
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (!first) out_->push_back(',');
      first = false;
      if (pretty) Newline(level + 1);
      if (object) {
        String(it.key());
        out_->append(pretty ? ": " : ":");
      }
      Value(it.value(), level + 1);
    }
    if (pretty) Newline(level);
    out_->push_back(close);
  }

  std::string* out_;
  int step_;
};

template <typename Json>
std::string Text(const Json& value, int indent) {
  std::string out;
  out.reserve(1024);
  Writer<Json>(&out, indent).Value(value, 0);
  return out;
}

}  // namespace

std::string JsonText(const nlohmann::json& value, int indent) {
  return Text(value, indent);
}

std::string JsonText(const nlohmann::ordered_json& value, int indent) {
  return Text(value, indent);
}

}  // namespace realm_measurements::base
