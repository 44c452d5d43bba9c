#include "measure/sweep.h"

#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace realm_measurements::measure {
namespace {

absl::Status SweepError(absl::string_view text) {
  return absl::InvalidArgumentError(absl::StrCat("sweep: ", text));
}

bool IsKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

bool IsKey(absl::string_view s) {
  if (s.empty() || s.size() > kMaxSweepTextSize) return false;
  for (char c : s) {
    if (!IsKeyChar(c)) return false;
  }
  return true;
}

// Shown in messages: at most 64 bytes.
std::string Shown(absl::string_view s) {
  return s.size() <= 64 ? std::string(s) : absl::StrCat(s.substr(0, 64), "...");
}

// Splits "key=rest"; checks the key.
absl::StatusOr<std::pair<std::string, absl::string_view>> SplitKey(
    absl::string_view item, absl::string_view what) {
  const size_t eq = item.find('=');
  if (eq == absl::string_view::npos) {
    return SweepError(absl::StrCat("expected KEY=VALUE in ", what, " '",
                                   Shown(item), "', found no '='"));
  }
  absl::string_view key = item.substr(0, eq);
  if (!IsKey(key)) {
    return SweepError(
        absl::StrCat("key '", Shown(key), "' in ", what,
                     " must be 1 or more of a-z 0-9 _ - (lower case)"));
  }
  return std::make_pair(std::string(key), item.substr(eq + 1));
}

absl::Status CheckValue(absl::string_view key, absl::string_view v) {
  if (v.empty()) {
    return SweepError(absl::StrCat("empty value for key '", key, "'"));
  }
  if (v.size() > kMaxSweepTextSize) {
    return SweepError(absl::StrCat("value for key '", key, "' is longer than ",
                                   kMaxSweepTextSize, " bytes"));
  }
  return absl::OkStatus();
}

// Placeholders `{word}` of one argument, word in the key alphabet; other
// braces are left alone.
void Placeholders(absl::string_view arg, std::set<std::string>* out) {
  for (size_t i = 0; i < arg.size(); ++i) {
    if (arg[i] != '{') continue;
    size_t j = i + 1;
    while (j < arg.size() && IsKeyChar(arg[j])) ++j;
    if (j > i + 1 && j < arg.size() && arg[j] == '}') {
      out->insert(std::string(arg.substr(i + 1, j - i - 1)));
    }
  }
}

std::string Substitute(absl::string_view arg,
                       const std::map<std::string, std::string>& values) {
  std::string out;
  for (size_t i = 0; i < arg.size();) {
    if (arg[i] == '{') {
      size_t j = i + 1;
      while (j < arg.size() && IsKeyChar(arg[j])) ++j;
      if (j > i + 1 && j < arg.size() && arg[j] == '}') {
        auto it = values.find(std::string(arg.substr(i + 1, j - i - 1)));
        if (it != values.end()) {
          out += it->second;
          i = j + 1;
          continue;
        }
      }
    }
    out += arg[i++];
  }
  return out;
}

}  // namespace

absl::StatusOr<SweepAxis> ParseSweepAxis(absl::string_view spec) {
  auto kv = SplitKey(spec, "--sweep");
  if (!kv.ok()) return kv.status();
  SweepAxis axis;
  axis.key = kv->first;
  for (absl::string_view v : absl::StrSplit(kv->second, ',')) {
    if (absl::Status s = CheckValue(axis.key, v); !s.ok()) return s;
    axis.values.emplace_back(v);
  }
  return axis;
}

absl::StatusOr<SweepParams> ParseSweepShape(absl::string_view spec) {
  SweepParams params;
  std::set<std::string> seen;
  for (absl::string_view item : absl::StrSplit(spec, ',')) {
    auto kv = SplitKey(item, "--sweep-shape");
    if (!kv.ok()) return kv.status();
    if (!seen.insert(kv->first).second) {
      return SweepError(absl::StrCat("key '", kv->first,
                                     "' appears twice in --sweep-shape '",
                                     Shown(spec), "'"));
    }
    if (absl::Status s = CheckValue(kv->first, kv->second); !s.ok()) return s;
    params.emplace_back(kv->first, std::string(kv->second));
  }
  return params;
}

std::string SweepParamsText(const SweepParams& params) {
  return absl::StrJoin(params, " ", absl::PairFormatter("="));
}

absl::StatusOr<std::vector<SweepShape>> ExpandSweep(
    absl::Span<const SweepAxis> axes, absl::Span<const SweepParams> shapes,
    absl::Span<const std::string> vmm_args) {
  if (!axes.empty() && !shapes.empty()) {
    return SweepError("--sweep and --sweep-shape can not be combined");
  }
  std::vector<SweepParams> list;
  if (!axes.empty()) {
    std::set<std::string> keys;
    size_t count = 1;
    for (const SweepAxis& a : axes) {
      if (!keys.insert(a.key).second) {
        return SweepError(
            absl::StrCat("key '", a.key, "' is given by two --sweep options"));
      }
      if (a.values.empty()) {
        return SweepError(absl::StrCat("key '", a.key, "' has no values"));
      }
      if (count > kMaxSweepShapes / a.values.size()) {
        return SweepError(absl::StrCat("more than ", kMaxSweepShapes,
                                       " shapes in the cross product"));
      }
      count *= a.values.size();
    }
    // Odometer over the axes, last axis fastest.
    std::vector<size_t> pos(axes.size(), 0);
    for (size_t n = 0; n < count; ++n) {
      SweepParams p;
      for (size_t k = 0; k < axes.size(); ++k) {
        p.emplace_back(axes[k].key, axes[k].values[pos[k]]);
      }
      list.push_back(std::move(p));
      for (size_t k = axes.size(); k-- > 0;) {
        if (++pos[k] < axes[k].values.size()) break;
        pos[k] = 0;
      }
    }
  } else {
    if (shapes.size() > kMaxSweepShapes) {
      return SweepError(
          absl::StrCat("more than ", kMaxSweepShapes, " --sweep-shape"));
    }
    list.assign(shapes.begin(), shapes.end());
  }
  if (list.empty()) return SweepError("no shapes");

  std::set<std::string> used;
  for (const std::string& arg : vmm_args) Placeholders(arg, &used);
  // Every shape must give every placeholder, and use no other key.
  for (size_t i = 0; i < list.size(); ++i) {
    std::set<std::string> given;
    for (const auto& [k, v] : list[i]) given.insert(k);
    for (const std::string& k : given) {
      if (used.count(k) == 0) {
        return SweepError(absl::StrCat(
            "key '", k, "' is not used: no VMM argument contains {", k, "}"));
      }
    }
    for (const std::string& k : used) {
      if (given.count(k) == 0) {
        return SweepError(absl::StrCat("placeholder {", k, "} has no value in ",
                                       axes.empty() ? "shape " : "the sweep",
                                       axes.empty() ? absl::StrCat(i + 1) : "",
                                       ""));
      }
    }
  }
  std::vector<SweepShape> out;
  out.reserve(list.size());
  for (SweepParams& p : list) {
    std::map<std::string, std::string> values(p.begin(), p.end());
    SweepShape s;
    for (const std::string& arg : vmm_args) {
      s.vmm_args.push_back(Substitute(arg, values));
    }
    s.params = std::move(p);
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace realm_measurements::measure
