#include "measure/comid_json.h"

#include <cstdint>
#include <exception>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/json_limits.h"
#include "base/json_text.h"
#include "nlohmann/json.hpp"

namespace realm_measurements::measure {
namespace {

using Json = nlohmann::json;
// Insertion-ordered output: the key order is the data model's (§12.1).
using OJson = nlohmann::ordered_json;

// Registers in serialization order.
constexpr const char* kRegisters[] = {"rim", "rem0", "rem1", "rem2", "rem3"};

const char* TypeName(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return "boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return "integer";
    case Json::value_t::number_float:
      return "floating point";
    case Json::value_t::string:
      return "string";
    case Json::value_t::array:
      return "sequence";
    case Json::value_t::object:
      return "map";
    default:
      return "value";
  }
}

// Walks the template along the data model, reporting the first mismatch
// with its JSON path.
class Parser {
 public:
  absl::Status error() const { return error_; }
  bool failed() const { return !error_.ok(); }

  const Json* Member(const Json& obj, const char* key,
                     const std::string& path) {
    if (failed()) return nullptr;
    auto it = obj.find(key);
    if (it == obj.end()) {
      Fail(absl::StrCat("missing field `", key, "` in ", path));
      return nullptr;
    }
    return &*it;
  }

  const Json* Object(const Json& obj, const char* key,
                     const std::string& path) {
    const Json* j = Member(obj, key, path);
    if (j == nullptr) return nullptr;
    if (!j->is_object()) {
      Fail(absl::StrCat("invalid type: ", TypeName(*j), ", expected a map at ",
                        path, ".", key));
      return nullptr;
    }
    return j;
  }

  const Json* Array(const Json& obj, const char* key, const std::string& path) {
    const Json* j = Member(obj, key, path);
    if (j == nullptr) return nullptr;
    if (!j->is_array()) {
      Fail(absl::StrCat("invalid type: ", TypeName(*j),
                        ", expected a sequence at ", path, ".", key));
      return nullptr;
    }
    return j;
  }

  std::string String(const Json& obj, const char* key,
                     const std::string& path) {
    const Json* j = Member(obj, key, path);
    if (j == nullptr) return "";
    if (!j->is_string()) {
      Fail(absl::StrCat("invalid type: ", TypeName(*j),
                        ", expected a string at ", path, ".", key));
      return "";
    }
    return j->get<std::string>();
  }

  uint32_t U32(const Json& obj, const char* key, const std::string& path) {
    const Json* j = Member(obj, key, path);
    if (j == nullptr) return 0;
    if (j->is_number_unsigned() && j->get<uint64_t>() <= UINT32_MAX) {
      return static_cast<uint32_t>(j->get<uint64_t>());
    }
    if (j->is_number_integer() || j->is_number_unsigned()) {
      Fail(absl::StrCat("invalid value: integer `", j->dump(),
                        "`, expected u32 at ", path, ".", key));
    } else {
      Fail(absl::StrCat("invalid type: ", TypeName(*j), ", expected u32 at ",
                        path, ".", key));
    }
    return 0;
  }

 private:
  void Fail(std::string text) {
    if (!failed()) error_ = absl::InvalidArgumentError(std::move(text));
  }
  absl::Status error_;
};

OJson TypeValue(std::string type, std::string value) {
  OJson j = OJson::object();
  j["type"] = std::move(type);
  j["value"] = std::move(value);
  return j;
}

// "type"/"value" pair, both required strings.
OJson ParseTypeValue(Parser& p, const Json& obj, const char* key,
                     const std::string& path) {
  const Json* j = p.Object(obj, key, path);
  if (j == nullptr) return OJson();
  const std::string sub = absl::StrCat(path, ".", key);
  std::string type = p.String(*j, "type", sub);
  std::string value = p.String(*j, "value", sub);
  return TypeValue(std::move(type), std::move(value));
}

OJson ParseEnvironment(Parser& p, const Json& refval, const std::string& path) {
  const Json* env = p.Object(refval, "environment", path);
  if (env == nullptr) return OJson();
  const std::string env_path = path + ".environment";
  OJson out = OJson::object();
  const Json* cls = p.Object(*env, "class", env_path);
  if (cls == nullptr) return OJson();
  const std::string cls_path = env_path + ".class";
  OJson cls_out = OJson::object();
  cls_out["id"] = ParseTypeValue(p, *cls, "id", cls_path);
  cls_out["vendor"] = p.String(*cls, "vendor", cls_path);
  out["class"] = std::move(cls_out);
  out["instance"] = ParseTypeValue(p, *env, "instance", env_path);
  return out;
}

OJson ParseMeasurement(Parser& p, const Json& m, const std::string& path) {
  const Json* value = p.Object(m, "value", path);
  if (value == nullptr) return OJson();
  const std::string vpath = path + ".value";
  OJson vout = OJson::object();
  vout["raw-value"] = ParseTypeValue(p, *value, "raw-value", vpath);
  const Json* regs = p.Object(*value, "integrity-registers", vpath);
  if (regs == nullptr) return OJson();
  const std::string rpath = vpath + ".integrity-registers";
  OJson rout = OJson::object();
  for (const char* reg : kRegisters) {
    const Json* r = p.Object(*regs, reg, rpath);
    if (r == nullptr) return OJson();
    const std::string regpath = absl::StrCat(rpath, ".", reg);
    OJson reg_out = OJson::object();
    reg_out["key-type"] = p.String(*r, "key-type", regpath);
    const Json* vals = p.Array(*r, "value", regpath);
    if (vals == nullptr) return OJson();
    OJson vals_out = OJson::array();
    for (size_t i = 0; i < vals->size(); ++i) {
      const Json& v = (*vals)[i];
      if (!v.is_string()) {
        // Reuse the String() wording through a one-member wrapper.
        Json holder = Json::object();
        holder["value"] = v;
        p.String(holder, "value", absl::StrCat(regpath, "[", i, "]"));
        return OJson();
      }
      vals_out.push_back(v.get<std::string>());
    }
    reg_out["value"] = std::move(vals_out);
    rout[reg] = std::move(reg_out);
  }
  vout["integrity-registers"] = std::move(rout);
  OJson out = OJson::object();
  out["value"] = std::move(vout);
  return out;
}

OJson DefaultEnvironment() {
  OJson cls = OJson::object();
  cls["id"] = TypeValue("", "");
  cls["vendor"] = "";
  OJson env = OJson::object();
  env["class"] = std::move(cls);
  env["instance"] = TypeValue("", "");
  return env;
}

// Nesting depth outside strings; nlohmann's parser recurses, so deep input
// is refused before it is parsed.
absl::Status ParseError(absl::string_view name, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(
      "invalid VM configuration: cannot parse ", name, ": ", what));
}

}  // namespace

absl::StatusOr<std::string> FillComidJson(
    const std::optional<std::string>& template_json,
    absl::string_view template_name, const Measurements& measurements,
    const Measurement& personalization_value) {
  OJson tag_identity = OJson::object();
  tag_identity["id"] = "";
  tag_identity["version"] = 0;
  std::vector<OJson> refvals;

  if (template_json.has_value()) {
    const std::string& text = *template_json;
    if (absl::Status s = CheckJsonLimits(
            text, JsonLimits{kMaxComidTemplateSize, kMaxComidTemplateDepth});
        !s.ok()) {
      return ParseError(template_name, s.message());
    }
    Json doc = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) {
      // Re-parse with exceptions only to obtain the position text.
      std::string what = "invalid JSON";
      try {
        Json unused = Json::parse(text);
        (void)unused;
      } catch (const std::exception& e) {
        what = e.what();
        // "[json.exception.parse_error.101] parse error at ..." -> the tail.
        size_t pos = what.find("] ");
        if (pos != std::string::npos) what = what.substr(pos + 2);
      }
      return ParseError(template_name, what);
    }
    if (!doc.is_object()) {
      return ParseError(template_name,
                        absl::StrCat("invalid type: ", TypeName(doc),
                                     ", expected a CoMID map at the top"));
    }
    Parser p;
    const std::string root = "$";
    const Json* tag = p.Object(doc, "tag-identity", root);
    if (tag != nullptr) {
      tag_identity["id"] = p.String(*tag, "id", "$.tag-identity");
      tag_identity["version"] = p.U32(*tag, "version", "$.tag-identity");
    }
    const Json* triples = p.Object(doc, "triples", root);
    const Json* rv =
        triples ? p.Array(*triples, "reference-values", "$.triples") : nullptr;
    if (rv != nullptr) {
      for (size_t i = 0; i < rv->size() && !p.failed(); ++i) {
        const std::string path =
            absl::StrCat("$.triples.reference-values[", i, "]");
        const Json& entry = (*rv)[i];
        if (!entry.is_object()) {
          return ParseError(template_name,
                            absl::StrCat("invalid type: ", TypeName(entry),
                                         ", expected a map at ", path));
        }
        OJson out = OJson::object();
        out["environment"] = ParseEnvironment(p, entry, path);
        const Json* ms = p.Array(entry, "measurements", path);
        OJson ms_out = OJson::array();
        if (ms != nullptr) {
          for (size_t k = 0; k < ms->size() && !p.failed(); ++k) {
            const std::string mpath =
                absl::StrCat(path, ".measurements[", k, "]");
            if (!(*ms)[k].is_object()) {
              return ParseError(
                  template_name,
                  absl::StrCat("invalid type: ", TypeName((*ms)[k]),
                               ", expected a map at ", mpath));
            }
            ms_out.push_back(ParseMeasurement(p, (*ms)[k], mpath));
          }
        }
        out["measurements"] = std::move(ms_out);
        refvals.push_back(std::move(out));
      }
    }
    if (p.failed()) return ParseError(template_name, p.error().message());
  }

  // §12.2: one default entry when there is none; entry 0's measurements
  // are replaced, the others kept.
  if (refvals.empty()) {
    OJson entry = OJson::object();
    entry["environment"] = DefaultEnvironment();
    entry["measurements"] = OJson::array();
    refvals.push_back(std::move(entry));
  }
  // Named-information hash names (RFC 6920 §9.4): sha-256, sha-384, sha-512.
  std::string alg = "sha-256";
  if (measurements.hash_algorithm == HashAlgorithm::kSha384) alg = "sha-384";
  if (measurements.hash_algorithm == HashAlgorithm::kSha512) alg = "sha-512";
  OJson regs = OJson::object();
  for (int r = 0; r < 5; ++r) {
    const Measurement& m = r == 0 ? measurements.rim : measurements.rem[r - 1];
    OJson reg = OJson::object();
    reg["key-type"] = "text";
    // The reference keeps all 64 bytes, SHA-256 padding included.
    reg["value"] = OJson::array({absl::StrCat(alg, ";", ToBase64(m))});
    regs[kRegisters[r]] = std::move(reg);
  }
  OJson value = OJson::object();
  value["raw-value"] = TypeValue("bytes", ToBase64(personalization_value));
  value["integrity-registers"] = std::move(regs);
  OJson measurement = OJson::object();
  measurement["value"] = std::move(value);
  refvals[0]["measurements"] = OJson::array({std::move(measurement)});

  OJson triples = OJson::object();
  triples["reference-values"] = OJson::array();
  for (OJson& e : refvals) triples["reference-values"].push_back(std::move(e));
  OJson doc = OJson::object();
  doc["tag-identity"] = std::move(tag_identity);
  doc["triples"] = std::move(triples);
  // serde_json to_string_pretty: raw UTF-8, no trailing newline.
  return base::JsonText(doc, 2);
}

}  // namespace realm_measurements::measure
