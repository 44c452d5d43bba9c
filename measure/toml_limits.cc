#include "measure/toml_limits.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace realm_measurements::measure {
namespace {

// A forward-only scan of TOML 1.0 syntax, just enough to know the depth of
// every value: strings and comments are skipped, keys counted by parts,
// brackets and braces tracked on an explicit stack bounded by max_depth.
class Scanner {
 public:
  Scanner(absl::string_view text, int max_depth)
      : text_(text), max_depth_(max_depth) {}

  absl::Status Run() {
    while (pos_ < text_.size()) {
      absl::Status s;
      switch (mode_) {
        case Mode::kLineStart:
          s = LineStart();
          break;
        case Mode::kKey:
          s = Key();
          break;
        case Mode::kValue:
          s = Value();
          break;
      }
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  }

 private:
  enum class Mode { kLineStart, kKey, kValue };

  char Peek(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  bool At(absl::string_view s) const {
    return text_.substr(pos_, s.size()) == s;
  }

  absl::Status TooDeep() const {
    return absl::InvalidArgumentError(absl::StrCat(
        "nesting depth exceeds the limit of ", max_depth_, " at line ", line_,
        " (dotted keys, table headers, arrays and inline tables count one "
        "level each)"));
  }

  absl::Status Check(int depth) const {
    return depth > max_depth_ ? TooDeep() : absl::OkStatus();
  }

  // Depth of the table keys are currently added to.
  int TableDepth() const {
    return stack_.empty() ? table_depth_ : stack_.back().second;
  }

  void SkipComment() {
    while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
  }

  // Skips one string starting at pos_ (any of the four kinds).
  void SkipString() {
    const char q = text_[pos_];
    const bool basic = q == '"';
    const std::string triple(3, q);
    if (At(triple)) {
      pos_ += 3;
      while (pos_ < text_.size()) {
        const char c = text_[pos_];
        if (basic && c == '\\') {
          if (Peek(1) == '\n') ++line_;
          pos_ += 2;
          continue;
        }
        if (c == '\n') ++line_;
        if (At(triple)) {
          pos_ += 3;
          // Up to two more quotes belong to the content (TOML 1.0).
          for (int k = 0; k < 2 && Peek() == q; ++k) ++pos_;
          return;
        }
        ++pos_;
      }
      return;
    }
    ++pos_;
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '\n') return;  // unterminated: the parser reports it
      if (basic && c == '\\') {
        pos_ += 2;
        continue;
      }
      ++pos_;
      if (c == q) return;
    }
  }

  absl::Status LineStart() {
    const char c = text_[pos_];
    if (c == ' ' || c == '\t' || c == '\r') {
      ++pos_;
    } else if (c == '\n') {
      ++pos_;
      ++line_;
    } else if (c == '#') {
      SkipComment();
    } else if (c == '[') {
      return Header();
    } else {
      parts_ = 1;
      mode_ = Mode::kKey;
    }
    return absl::OkStatus();
  }

  // [a.b.c] or [[a.b.c]]: the current table for the following keys.
  absl::Status Header() {
    const bool array = Peek(1) == '[';
    pos_ += array ? 2 : 1;
    int parts = 1;
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '"' || c == '\'') {
        SkipString();
        continue;
      }
      if (c == '\n' || c == ']') break;
      if (c == '.') ++parts;
      ++pos_;
    }
    while (Peek() == ']') ++pos_;
    // An array of tables is an array at `parts`, its table one deeper.
    table_depth_ = parts + (array ? 1 : 0);
    return Check(table_depth_);
  }

  absl::Status Key() {
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '"' || c == '\'') {
        SkipString();
        continue;
      }
      if (c == '.') {
        ++parts_;
      } else if (c == '=') {
        ++pos_;
        value_depth_ = TableDepth() + parts_;
        mode_ = Mode::kValue;
        return Check(value_depth_);
      } else if (c == '}' && !stack_.empty() && stack_.back().first == '{') {
        // "{}" or a trailing comma: no key here.
        stack_.pop_back();
        mode_ = Mode::kValue;
        ++pos_;
        return absl::OkStatus();
      } else if (c == '\n') {
        // Not a key/value line; the parser reports it.
        mode_ = stack_.empty() ? Mode::kLineStart : Mode::kValue;
        return absl::OkStatus();
      } else if (c == '#') {
        SkipComment();
        continue;
      }
      ++pos_;
    }
    return absl::OkStatus();
  }

  absl::Status Value() {
    const char c = text_[pos_];
    if (c == '"' || c == '\'') {
      SkipString();
      return absl::OkStatus();
    }
    ++pos_;
    switch (c) {
      case '[':
      case '{': {
        // An array element is one below its array; any other value is at
        // the depth its key gave it.
        const int depth = !stack_.empty() && stack_.back().first == '['
                              ? stack_.back().second + 1
                              : value_depth_;
        // An array's elements are one level below it, even scalars.
        if (absl::Status s = Check(c == '[' ? depth + 1 : depth); !s.ok()) {
          return s;
        }
        stack_.emplace_back(c, depth);
        if (c == '{') {
          parts_ = 1;
          mode_ = Mode::kKey;
        }
        break;
      }
      case ']':
      case '}':
        if (!stack_.empty() && stack_.back().first == (c == ']' ? '[' : '{')) {
          stack_.pop_back();
        }
        break;
      case ',':
        if (!stack_.empty() && stack_.back().first == '{') {
          parts_ = 1;
          mode_ = Mode::kKey;
        }
        break;
      case '#':
        SkipComment();
        break;
      case '\n':
        ++line_;
        if (stack_.empty()) mode_ = Mode::kLineStart;
        break;
      default:
        break;
    }
    return absl::OkStatus();
  }

  absl::string_view text_;
  const int max_depth_;
  size_t pos_ = 0;
  int line_ = 1;
  Mode mode_ = Mode::kLineStart;
  int table_depth_ = 0;  // of the last [header]
  int parts_ = 1;        // of the key being read
  int value_depth_ = 0;  // of the value after the last '='
  // Open arrays ('[') and inline tables ('{') with their depth; never more
  // than max_depth entries.
  std::vector<std::pair<char, int>> stack_;
};

// Length of the well-formed UTF-8 sequence at the start of `s` (RFC 3629
// §4: no overlong forms, no surrogates, nothing above U+10FFFF), or 0.
size_t Utf8SequenceLength(absl::string_view s) {
  const auto byte = [&s](size_t i) {
    return i < s.size() ? static_cast<unsigned char>(s[i]) : 0;
  };
  const unsigned char b0 = byte(0);
  if (b0 < 0x80) return 1;
  size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    if (b0 == 0xE0) lo = 0xA0;  // overlong
    if (b0 == 0xED) hi = 0x9F;  // surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    if (b0 == 0xF0) lo = 0x90;  // overlong
    if (b0 == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (byte(1) < lo || byte(1) > hi) return 0;
  for (size_t i = 2; i < n; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xBF) return 0;
  }
  return n;
}

}  // namespace

absl::Status CheckTomlLimits(absl::string_view text, const TomlLimits& limits) {
  if (text.size() > limits.max_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "document is ", text.size(), " bytes, more than the limit of ",
        limits.max_bytes, " bytes"));
  }
  // toml++ reports a bad sequence at the character before it (the end of
  // the previous line for one that starts a line): found here, it is named
  // where it is. Columns count characters, as toml++'s do.
  size_t line = 1, column = 1;
  for (size_t i = 0; i < text.size();) {
    const size_t n = Utf8SequenceLength(text.substr(i));
    if (n == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid UTF-8 sequence at line ", line, ", column ",
                       column, " (TOML documents are UTF-8)"));
    }
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
    i += n;
  }
  return Scanner(text, limits.max_depth).Run();
}

}  // namespace realm_measurements::measure
