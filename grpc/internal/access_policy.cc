#include "grpc/internal/access_policy.h"

#include <toml++/toml.h>

#include <exception>
#include <map>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/crypto.h"
#include "base/hex.h"
#include "measure/toml_limits.h"

namespace realm_measurements::service {
namespace {

namespace crypto = ::realm_measurements::crypto;

constexpr char kService[] = "/realm_measurements.v1.RealmMeasurementsService/";

struct MethodRole {
  const char* method;
  Role role;
};
constexpr MethodRole kMethods[] = {
    {"ProvisionReferenceValues", Role::kProvisioner},
    {"DeleteReferenceValues", Role::kProvisioner},
    {"UploadPayload", Role::kProvisioner},
    {"DeletePayload", Role::kProvisioner},
    {"ListAuditEvents", Role::kProvisioner},
    {"VerifyToken", Role::kVerifier},
    {"AppraiseToken", Role::kVerifier},
    {"ComputeMeasurements", Role::kVerifier},
    {"ReplayEventLog", Role::kVerifier},
    {"ExportEndorsements", Role::kVerifier},
    {"SweepMeasurements", Role::kVerifier},
    {"GetServiceInfo", Role::kReader},
    {"ListReferenceValues", Role::kReader},
    {"GetMeasurementCacheStats", Role::kReader},
};

// Size and nesting bounded before toml++ sees the text (it recurses per
// level): the same linear scan as host capabilities (measure/toml_limits.h).
absl::Status CheckShape(absl::string_view text, absl::string_view source) {
  if (text.size() > kMaxPolicyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("access policy ", source, ": expected at most ",
                     kMaxPolicyBytes, " bytes, found ", text.size()));
  }
  measure::TomlLimits limits;
  limits.max_bytes = kMaxPolicyBytes;
  limits.max_depth = kMaxPolicyNesting;
  absl::Status s = measure::CheckTomlLimits(text, limits);
  if (!s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "access policy ", source, ": expected at most ", kMaxPolicyNesting,
        " levels of nesting or dotted keys, found more: ", s.message()));
  }
  return absl::OkStatus();
}

// Constant-time comparison of two 32-byte digests.
bool SameDigest(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  if (a.size() != b.size()) return false;
  volatile uint8_t diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= a[i] ^ b[i];
  return diff == 0;
}

}  // namespace

const char* RoleName(Role r) {
  switch (r) {
    case Role::kProvisioner:
      return "provisioner";
    case Role::kVerifier:
      return "verifier";
    case Role::kReader:
      return "reader";
  }
  return "?";
}

std::optional<Role> RequiredRole(absl::string_view method_name) {
  absl::string_view m = method_name;
  if (!absl::ConsumePrefix(&m, kService)) return std::nullopt;
  for (const MethodRole& r : kMethods) {
    if (m == r.method) return r.role;
  }
  return std::nullopt;
}

std::optional<std::string> BearerToken(absl::string_view authorization) {
  absl::string_view v = absl::StripAsciiWhitespace(authorization);
  if (v.size() < 7 || !absl::EqualsIgnoreCase(v.substr(0, 7), "bearer ")) {
    return std::nullopt;
  }
  v = absl::StripAsciiWhitespace(v.substr(7));
  if (v.empty()) return std::nullopt;
  return std::string(v);
}

absl::StatusOr<AccessPolicy> AccessPolicy::Parse(absl::string_view text,
                                                 absl::string_view source) {
  if (absl::Status s = CheckShape(text, source); !s.ok()) return s;
  toml::table table;
  try {
    table = toml::parse(std::string_view(text.data(), text.size()),
                        std::string_view(source.data(), source.size()));
  } catch (const toml::parse_error& e) {
    return absl::InvalidArgumentError(absl::StrCat(
        "access policy ", source, ":", e.source().begin.line, ":",
        e.source().begin.column, ": ", std::string(e.description())));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("access policy ", source, ": ", e.what()));
  }
  AccessPolicy policy;
  for (const auto& [key, value] : table) {
    if (key.str() != "principal") {
      return absl::InvalidArgumentError(
          absl::StrCat("access policy ", source,
                       ": expected only [[principal]]"
                       " tables, found '",
                       std::string(key.str()), "'"));
    }
  }
  const toml::array* list = table["principal"].as_array();
  if (list == nullptr || list->empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "access policy ", source,
        ": expected at least one [[principal]] table, found none"));
  }
  if (list->size() > kMaxPrincipals) {
    return absl::InvalidArgumentError(
        absl::StrCat("access policy ", source, ": expected at most ",
                     kMaxPrincipals, " principals, found ", list->size()));
  }
  std::map<std::string, size_t> subjects, tokens, names;  // -> principal
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string where =
        absl::StrCat("access policy ", source, ": principal ", i + 1);
    const toml::table* t = (*list)[i].as_table();
    if (t == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": expected a table"));
    }
    Principal p;
    for (const auto& [key, value] : *t) {
      const std::string k(key.str());
      if (k != "name" && k != "subject" && k != "token_sha256" &&
          k != "roles") {
        return absl::InvalidArgumentError(absl::StrCat(
            where,
            ": expected keys name, subject, token_sha256, roles; found '", k,
            "'"));
      }
    }
    if (auto n = (*t)["name"].value<std::string>()) p.name = *n;
    std::optional<std::string> subject = (*t)["subject"].value<std::string>();
    std::optional<std::string> token =
        (*t)["token_sha256"].value<std::string>();
    if (subject.has_value() == token.has_value()) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": expected exactly one of subject and token_sha256"));
    }
    if (subject.has_value()) {
      if (subject->empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": subject: expected a non-empty string"));
      }
      p.subject = *subject;
    } else {
      std::string lower = absl::AsciiStrToLower(*token);
      if (lower.size() != 64 || !base::IsHexDigits(lower)) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ": token_sha256: expected 64 hex digits, found ",
            token->size(), " characters"));
      }
      std::string raw = absl::HexStringToBytes(lower);
      p.token_sha256.assign(raw.begin(), raw.end());
    }
    const toml::array* roles = (*t)["roles"].as_array();
    if (roles == nullptr || roles->empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where,
                       ": roles: expected a non-empty array of provisioner, "
                       "verifier, reader"));
    }
    for (const toml::node& r : *roles) {
      std::optional<std::string> name = r.value<std::string>();
      if (name == "provisioner") {
        p.roles |= static_cast<uint8_t>(Role::kProvisioner);
      } else if (name == "verifier") {
        p.roles |= static_cast<uint8_t>(Role::kVerifier);
      } else if (name == "reader") {
        p.roles |= static_cast<uint8_t>(Role::kReader);
      } else {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ": roles: expected provisioner, verifier or reader, found ",
            name.has_value() ? absl::StrCat("'", *name, "'") : "a non-string"));
      }
    }
    if (p.name.empty()) {
      p.name = !p.subject.empty()
                   ? p.subject
                   : absl::StrCat("token:", absl::BytesToHexString(std::string(
                                                p.token_sha256.begin(),
                                                p.token_sha256.begin() + 4)));
    }
    // The first principal that matches decides, so a second one with the
    // same identity would be silently dead; one name per principal keeps the
    // logs unambiguous.
    auto once = [&](std::map<std::string, size_t>& seen, const std::string& v,
                    absl::string_view what, absl::string_view expected,
                    absl::string_view shown) -> absl::Status {
      auto [it, added] = seen.emplace(v, i + 1);
      if (added) return absl::OkStatus();
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": ", what, ": expected ", expected, ", found ",
                       shown, " also in principal ", it->second));
    };
    constexpr absl::string_view kOneIdentity =
        "each identity in one principal with all its roles";
    const std::string token_hex = absl::BytesToHexString(
        std::string(p.token_sha256.begin(), p.token_sha256.end()));
    absl::Status dup =
        !p.subject.empty()
            ? once(subjects, p.subject, "subject", kOneIdentity,
                   absl::StrCat("'", p.subject, "'"))
            : once(tokens, token_hex, "token_sha256", kOneIdentity,
                   absl::StrCat(token_hex.substr(0, 8), "..."));
    if (dup.ok()) {
      dup = once(names, p.name, "name", "each name once",
                 absl::StrCat("'", p.name, "'"));
    }
    if (!dup.ok()) return dup;
    policy.principals_.push_back(std::move(p));
  }
  return policy;
}

absl::StatusOr<std::string> AccessPolicy::Authorize(
    const CallerCredentials& who, absl::string_view method_name) const {
  std::optional<Role> need = RequiredRole(method_name);
  if (!need.has_value()) {
    return absl::PermissionDeniedError(
        absl::StrCat("method ", method_name, " is not in the access policy"));
  }
  const Principal* found = nullptr;
  if (who.authorization.has_value()) {
    std::optional<std::string> token = BearerToken(*who.authorization);
    if (!token.has_value()) {
      return absl::UnauthenticatedError(
          "authorization: expected \"Bearer <token>\"");
    }
    absl::StatusOr<std::vector<uint8_t>> h = crypto::HashOnce(
        crypto::DigestAlgorithm::kSha256,
        absl::Span<const uint8_t>(
            reinterpret_cast<const uint8_t*>(token->data()), token->size()));
    if (!h.ok()) return h.status();
    // Every principal is compared: the time does not tell which matched.
    for (const Principal& p : principals_) {
      if (!p.token_sha256.empty() && SameDigest(p.token_sha256, *h) &&
          found == nullptr) {
        found = &p;
      }
    }
    if (found == nullptr) {
      return absl::UnauthenticatedError(
          "authorization: the bearer token matches no principal of the "
          "access policy");
    }
  } else if (!who.cert_subject.empty() || !who.cert_names.empty()) {
    for (const Principal& p : principals_) {
      if (p.subject.empty()) continue;
      bool match = p.subject == who.cert_subject;
      for (const std::string& n : who.cert_names)
        match = match || p.subject == n;
      if (match) {
        found = &p;
        break;
      }
    }
    if (found == nullptr) {
      return absl::UnauthenticatedError(
          absl::StrCat("client certificate '", who.cert_subject,
                       "' matches no principal of the access policy"));
    }
  } else {
    return absl::UnauthenticatedError(
        "expected a client certificate or \"authorization: Bearer <token>\" "
        "metadata (this server has an access policy)");
  }
  if ((found->roles & static_cast<uint8_t>(*need)) == 0) {
    return absl::PermissionDeniedError(absl::StrCat(
        "principal '", found->name, "' lacks role ", RoleName(*need),
        " needed by ", method_name.substr(method_name.rfind('/') + 1)));
  }
  return found->name;
}

}  // namespace realm_measurements::service
