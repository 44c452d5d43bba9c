#include "corim/reference_values.h"

#include <algorithm>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace realm_measurements::corim {
namespace {

absl::Status CheckSize(absl::string_view field,
                       const std::vector<uint8_t>& value, size_t expected,
                       absl::string_view why) {
  if (value.size() != expected) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": expected ",
                                                   expected, " bytes (", why,
                                                   "), found ", value.size()));
  }
  return absl::OkStatus();
}

absl::Status CheckIdentifier(absl::string_view field, const Identifier& id) {
  if (const std::string* s = std::get_if<std::string>(&id); s && s->empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": expected a non-empty text or a UUID, found \"\""));
  }
  return absl::OkStatus();
}

absl::Status CheckEntities(absl::string_view where,
                           const std::vector<Entity>& entities) {
  for (size_t i = 0; i < entities.size(); ++i) {
    if (entities[i].name.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, " entity ", i, ": expected a non-empty name, found \"\""));
    }
    if (entities[i].roles.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, " entity ", i, ": expected at least one role, found none"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

size_t DigestSize(RealmHashAlgorithm algorithm) {
  switch (algorithm) {
    case RealmHashAlgorithm::kSha256:
      return 32;
    case RealmHashAlgorithm::kSha384:
      return 48;
    case RealmHashAlgorithm::kSha512:
      return 64;
  }
  return 0;
}

NamedInfoHashId NamedInfoId(RealmHashAlgorithm algorithm) {
  switch (algorithm) {
    case RealmHashAlgorithm::kSha256:
      return NamedInfoHashId::kSha256;
    case RealmHashAlgorithm::kSha384:
      return NamedInfoHashId::kSha384;
    case RealmHashAlgorithm::kSha512:
      return NamedInfoHashId::kSha512;
  }
  return NamedInfoHashId::kSha256;
}

const char* HashName(RealmHashAlgorithm algorithm) {
  switch (algorithm) {
    case RealmHashAlgorithm::kSha256:
      return "sha-256";
    case RealmHashAlgorithm::kSha384:
      return "sha-384";
    case RealmHashAlgorithm::kSha512:
      return "sha-512";
  }
  return "?";
}

absl::StatusOr<RealmHashAlgorithm> HashFromNamedInfoId(uint64_t id) {
  switch (id) {
    case static_cast<uint64_t>(NamedInfoHashId::kSha256):
      return RealmHashAlgorithm::kSha256;
    case static_cast<uint64_t>(NamedInfoHashId::kSha384):
      return RealmHashAlgorithm::kSha384;
    case static_cast<uint64_t>(NamedInfoHashId::kSha512):
      return RealmHashAlgorithm::kSha512;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "digest algorithm: expected 1 (sha-256), 7 (sha-384) or 8 (sha-512), "
      "found ",
      id));
}

absl::StatusOr<RealmHashAlgorithm> HashFromName(absl::string_view name) {
  for (RealmHashAlgorithm a :
       {RealmHashAlgorithm::kSha256, RealmHashAlgorithm::kSha384,
        RealmHashAlgorithm::kSha512}) {
    if (name == HashName(a)) return a;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "digest algorithm: expected \"sha-256\", \"sha-384\" or \"sha-512\", "
      "found \"",
      absl::CEscape(name.substr(0, 32)), "\""));
}

std::string UuidToString(const Uuid& uuid) {
  std::string hex = absl::AsciiStrToUpper(absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(uuid.data()), 16)));
  return absl::StrCat(hex.substr(0, 8), "-", hex.substr(8, 4), "-",
                      hex.substr(12, 4), "-", hex.substr(16, 4), "-",
                      hex.substr(20));
}

absl::StatusOr<Uuid> UuidFromString(absl::string_view text) {
  auto error = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("UUID: expected 8-4-4-4-12 hex digits, found \"",
                     absl::CEscape(text.substr(0, 40)), "\""));
  };
  if (text.size() != 36) return error();
  std::string hex;
  for (size_t i = 0; i < text.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash) {
      if (text[i] != '-') return error();
    } else {
      if (!absl::ascii_isxdigit(static_cast<unsigned char>(text[i]))) {
        return error();
      }
      hex.push_back(text[i]);
    }
  }
  std::string bytes = absl::HexStringToBytes(hex);
  Uuid uuid;
  std::copy(bytes.begin(), bytes.end(), uuid.begin());
  return uuid;
}

absl::Status ValidateRealm(const RealmReferenceValue& realm) {
  const size_t n = DigestSize(realm.algorithm);
  const std::string why = HashName(realm.algorithm);
  absl::Status s = CheckSize("RIM", realm.rim, n, why);
  if (!s.ok()) return s;
  for (int i = 0; i < kRemCount; ++i) {
    if (!realm.rem[i].has_value()) continue;
    s = CheckSize(absl::StrCat("REM", i), *realm.rem[i], n, why);
    if (!s.ok()) return s;
  }
  if (realm.rpv.has_value()) {
    s = CheckSize("RPV", *realm.rpv, kRpvSize, "realm personalization value");
    if (!s.ok()) return s;
  }
  if (realm.legacy_instance.has_value() && realm.legacy_instance->empty()) {
    return absl::InvalidArgumentError(
        "legacy instance: expected a non-empty byte string, found 0 bytes");
  }
  return absl::OkStatus();
}

absl::Status ValidateComid(const Comid& comid) {
  absl::Status s = CheckIdentifier("CoMID tag-id", comid.tag_identity.id);
  if (!s.ok()) return s;
  s = CheckEntities("CoMID", comid.entities);
  if (!s.ok()) return s;
  if (comid.realms.empty()) {
    return absl::InvalidArgumentError(
        "CoMID reference values: expected at least one realm, found none");
  }
  for (size_t i = 0; i < comid.realms.size(); ++i) {
    s = ValidateRealm(comid.realms[i]);
    if (!s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("realm ", i, ": ", s.message()));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateReferenceValues(const ReferenceValues& values) {
  absl::Status s = CheckIdentifier("CoRIM id", values.corim_id);
  if (!s.ok()) return s;
  s = CheckEntities("CoRIM", values.entities);
  if (!s.ok()) return s;
  if (values.validity) {
    s = CheckValidity(*values.validity, "CoRIM validity");
    if (!s.ok()) return s;
  }
  if (values.comids.empty()) {
    return absl::InvalidArgumentError(
        "CoRIM tags: expected at least one CoMID, found none");
  }
  for (size_t i = 0; i < values.comids.size(); ++i) {
    s = ValidateComid(values.comids[i]);
    if (!s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("CoMID ", i, ": ", s.message()));
    }
  }
  return absl::OkStatus();
}

bool ValidAt(const std::optional<Validity>& validity, int64_t time) {
  if (!validity) return true;
  if (validity->not_before && time < *validity->not_before) return false;
  return time <= validity->not_after;
}

absl::Status CheckValidity(const Validity& validity, absl::string_view where) {
  if (validity.not_before && *validity.not_before > validity.not_after) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": expected not-before <= not-after, found not-before ",
        EpochToRfc3339(*validity.not_before), " after not-after ",
        EpochToRfc3339(validity.not_after)));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> ParseTimeText(absl::string_view text,
                                      absl::string_view what) {
  int64_t seconds = 0;
  if (!text.empty() && text.size() <= 18 &&
      std::all_of(text.begin(), text.end(),
                  [](char c) { return c >= '0' && c <= '9'; }) &&
      absl::SimpleAtoi(text, &seconds) && seconds <= kMaxRfc3339Seconds) {
    return seconds;
  }
  absl::Time t;
  std::string error;
  if (absl::ParseTime(absl::RFC3339_full, text, &t, &error) &&
      absl::ToUnixSeconds(t) >= 0 &&
      absl::ToUnixSeconds(t) <= kMaxRfc3339Seconds) {
    return absl::ToUnixSeconds(t);
  }
  return absl::InvalidArgumentError(
      absl::StrCat(what,
                   ": expected an RFC 3339 time (2026-01-31T00:00:00Z) or "
                   "Unix seconds, found \"",
                   absl::CHexEscape(text), "\""));
}

std::string EpochToRfc3339(int64_t time) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(time),
                          absl::UTCTimeZone());
}

std::string ValidityToText(const Validity& validity) {
  std::string out;
  if (validity.not_before) {
    absl::StrAppend(&out, "not-before ", EpochToRfc3339(*validity.not_before),
                    ", ");
  }
  absl::StrAppend(&out, "not-after ", EpochToRfc3339(validity.not_after));
  return out;
}

}  // namespace realm_measurements::corim
