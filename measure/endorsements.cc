#include "measure/endorsements.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/crypto.h"
#include "corim/signed_corim.h"
#include "measure/payload.h"
#include "measure/vmm/vmm.h"

namespace realm_measurements::measure {
namespace {

// Labels mixed into the derived ids so that the tag id and the CoRIM id of
// one realm differ.
constexpr absl::string_view kTagIdLabel = "realm-measurements comid tag-id";
constexpr absl::string_view kCorimIdLabel = "realm-measurements corim-id";

// RFC 9562 §5.8: a UUIDv8 carries 122 implementation-defined bits; version
// nibble 8, variant bits 10.
constexpr uint8_t kUuidVersion8 = 0x80;
constexpr uint8_t kUuidVariantRfc = 0x80;

absl::StatusOr<std::string> ReadPem(const std::string& option,
                                    const std::string& path) {
  Payload p = Payload::FromFile(path);
  std::string text;
  absl::Status s = p.Read([&](absl::Span<const uint8_t> chunk) -> absl::Status {
    if (text.size() + chunk.size() > kMaxPemFileSize) {
      return absl::InvalidArgumentError(
          absl::StrCat("file ", path, " error: larger than the limit of ",
                       kMaxPemFileSize, " bytes"));
    }
    text.append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
    return absl::OkStatus();
  });
  if (!s.ok()) {
    return absl::Status(s.code(), absl::StrCat(option, ": ", s.message()));
  }
  return text;
}

// A UUIDv8 from SHA-256(label || profile || RIM || RPV): stable for one
// realm, different for different realms. Several realms (a sweep) add
// their count and each realm's sizes, so the concatenation stays
// unambiguous; one realm hashes exactly what it always did.
absl::StatusOr<corim::Uuid> DerivedUuid(
    absl::string_view label, absl::string_view profile,
    absl::Span<const corim::RealmReferenceValue> realms) {
  absl::StatusOr<crypto::Digest> d =
      crypto::Digest::Create(crypto::DigestAlgorithm::kSha256);
  if (!d.ok()) return d.status();
  auto add = [&](absl::string_view s) {
    return d->Update(absl::MakeConstSpan(
        reinterpret_cast<const uint8_t*>(s.data()), s.size()));
  };
  // Lengths keep the concatenation unambiguous.
  for (absl::string_view s : {label, profile}) {
    if (absl::Status st = add(absl::StrCat(s.size(), ":", s)); !st.ok())
      return st;
  }
  if (realms.size() > 1) {
    if (absl::Status st = add(absl::StrCat(realms.size(), " realms")); !st.ok())
      return st;
  }
  for (const corim::RealmReferenceValue& r : realms) {
    if (realms.size() > 1) {
      if (absl::Status st =
              add(absl::StrCat(r.rim.size(), ":", r.rpv.has_value() ? 1 : 0));
          !st.ok())
        return st;
    }
    if (absl::Status st = d->Update(r.rim); !st.ok()) return st;
    if (r.rpv.has_value()) {
      if (absl::Status st = d->Update(*r.rpv); !st.ok()) return st;
    }
  }
  absl::StatusOr<std::vector<uint8_t>> h = d->Finish();
  if (!h.ok()) return h.status();
  corim::Uuid u;
  std::copy(h->begin(), h->begin() + u.size(), u.begin());
  u[6] = static_cast<uint8_t>((u[6] & 0x0f) | kUuidVersion8);
  u[8] = static_cast<uint8_t>((u[8] & 0x3f) | kUuidVariantRfc);
  return u;
}

corim::Identifier ParseIdentifier(const std::string& text) {
  absl::StatusOr<corim::Uuid> u = corim::UuidFromString(text);
  if (u.ok()) return *u;
  return text;
}

absl::StatusOr<corim::RealmHashAlgorithm> RealmAlgorithm(HashAlgorithm a) {
  switch (a) {
    case HashAlgorithm::kSha256:
      return corim::RealmHashAlgorithm::kSha256;
    case HashAlgorithm::kSha384:
      return corim::RealmHashAlgorithm::kSha384;
    case HashAlgorithm::kSha512:
      return corim::RealmHashAlgorithm::kSha512;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown realm hash algorithm ", static_cast<int>(a)));
}

}  // namespace

absl::StatusOr<corim::Profile> ParseCorimProfile(absl::string_view name) {
  if (name == kCorimProfile2025) return corim::Profile::kCcaRealm2025;
  if (name == kCorimProfileLegacy) return corim::Profile::kCcaRealmLegacy;
  return UsageError(absl::StrCat("invalid value '", name,
                                 "' for '--corim-profile <CORIM_PROFILE>': "
                                 "possible values: ",
                                 kCorimProfile2025, ", ", kCorimProfileLegacy));
}

namespace {

// The window of --corim-not-before/--corim-not-after, if given.
absl::StatusOr<std::optional<corim::Validity>> ValidityOf(
    const EndorsementOptions& o) {
  if (!o.not_after) return std::nullopt;
  corim::Validity v;
  absl::StatusOr<int64_t> after =
      corim::ParseTimeText(*o.not_after, "--corim-not-after");
  if (!after.ok()) return after.status();
  v.not_after = *after;
  if (o.not_before) {
    absl::StatusOr<int64_t> before =
        corim::ParseTimeText(*o.not_before, "--corim-not-before");
    if (!before.ok()) return before.status();
    v.not_before = *before;
  }
  if (absl::Status s =
          corim::CheckValidity(v, "--corim-not-before/--corim-not-after");
      !s.ok()) {
    return s;
  }
  return v;
}

}  // namespace

absl::StatusOr<std::array<bool, corim::kRemCount>> ParseCorimRems(
    absl::string_view text) {
  std::array<bool, corim::kRemCount> keep;
  keep.fill(text == "all");
  if (text == "all" || text == "none") return keep;
  const absl::Status bad = UsageError(absl::StrCat(
      "--corim-rems: expected all, none or distinct REM indices 0-3 separated "
      "by commas (e.g. 0,2), found '",
      text.substr(0, 40), text.size() > 40 ? "...'" : "'"));
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    if (part.size() != 1 || part[0] < '0' || part[0] > '3') return bad;
    bool& k = keep[static_cast<size_t>(part[0] - '0')];
    if (k) return bad;
    k = true;
  }
  return keep;
}

absl::Status CheckEndorsementOptions(const EndorsementOptions& o,
                                     bool measuring) {
  if (o.rems.has_value()) {
    if (!o.Requested()) {
      return UsageError("--corim-rems needs --corim-output or --comid-output");
    }
    if (absl::Status s = ParseCorimRems(*o.rems).status(); !s.ok()) return s;
  }
  if (o.profile.has_value()) {
    if (absl::StatusOr<corim::Profile> p = ParseCorimProfile(*o.profile);
        !p.ok()) {
      return p.status();
    }
  }
  const bool metadata = o.profile || o.tag_id || o.corim_id || o.entity;
  if (!o.Requested() && (metadata || o.sign_key || o.sign_chain)) {
    return UsageError(
        "--corim-profile, --corim-tag-id, --corim-id, --corim-entity and "
        "--corim-sign-* need --corim-output or --comid-output");
  }
  if (o.sign_key.has_value() != o.sign_chain.has_value()) {
    return UsageError(
        "--corim-sign-key and --corim-sign-chain must be given together");
  }
  if (o.sign_key && !o.corim_output) {
    return UsageError(
        "--corim-sign-key signs a CoRIM: it needs --corim-output (a CoMID "
        "alone is never signed)");
  }
  if (o.corim_id && !o.corim_output) {
    return UsageError("--corim-id needs --corim-output");
  }
  if ((o.not_before || o.not_after) && !o.corim_output) {
    return UsageError(
        "--corim-not-before and --corim-not-after set the CoRIM's validity: "
        "they need --corim-output");
  }
  if (o.not_before && !o.not_after) {
    return UsageError(
        "--corim-not-before needs --corim-not-after (a CoRIM validity always "
        "has a not-after)");
  }
  if (o.not_after) {
    absl::StatusOr<std::optional<corim::Validity>> v = ValidityOf(o);
    if (!v.ok()) return UsageError(v.status().message());
  }
  if (o.Requested() && !measuring) {
    return UsageError(
        "--corim-output and --comid-output need the measurements; they "
        "cannot be used with --no-measurements");
  }
  if (o.corim_output && o.comid_output && *o.corim_output == *o.comid_output) {
    return UsageError(
        absl::StrCat("--corim-output and --comid-output name "
                     "the same file ",
                     *o.corim_output));
  }
  if (o.tag_id && o.tag_id->empty()) {
    return UsageError("--corim-tag-id must not be empty");
  }
  if (o.corim_id && o.corim_id->empty()) {
    return UsageError("--corim-id must not be empty");
  }
  if (o.entity && o.entity->empty()) {
    return UsageError("--corim-entity must not be empty");
  }
  return absl::OkStatus();
}

absl::StatusOr<corim::ReferenceValues> RealmReferenceValues(
    const Measurements& m, const Measurement& rpv,
    const EndorsementOptions& options) {
  const MeasuredRealm one{m, rpv};
  return RealmReferenceValues(absl::MakeConstSpan(&one, 1), options);
}

absl::StatusOr<corim::ReferenceValues> RealmReferenceValues(
    absl::Span<const MeasuredRealm> realms, const EndorsementOptions& options) {
  if (realms.empty()) {
    return absl::InvalidArgumentError(
        "reference values: expected at least one measured realm, found none");
  }
  corim::Profile profile = corim::Profile::kCcaRealm2025;
  if (options.profile.has_value()) {
    absl::StatusOr<corim::Profile> p = ParseCorimProfile(*options.profile);
    if (!p.ok()) return p.status();
    profile = *p;
  }
  std::array<bool, corim::kRemCount> keep_rem;
  keep_rem.fill(true);
  if (options.rems.has_value()) {
    absl::StatusOr<std::array<bool, corim::kRemCount>> k =
        ParseCorimRems(*options.rems);
    if (!k.ok()) return k.status();
    keep_rem = *k;
  }
  std::vector<corim::RealmReferenceValue> triples;
  triples.reserve(realms.size());
  for (const MeasuredRealm& realm : realms) {
    const Measurements& m = realm.measurements;
    absl::StatusOr<corim::RealmHashAlgorithm> alg =
        RealmAlgorithm(m.hash_algorithm);
    if (!alg.ok()) return alg.status();
    // spec-token-corim §7.3: the significant bytes only, never the whole
    // 64-byte measurement buffer.
    const size_t n = corim::DigestSize(*alg);
    corim::RealmReferenceValue r;
    r.algorithm = *alg;
    r.rim.assign(m.rim.begin(), m.rim.begin() + n);
    for (int i = 0; i < corim::kRemCount; ++i) {
      if (!keep_rem[i]) continue;
      r.rem[i] = std::vector<uint8_t>(m.rem[i].begin(), m.rem[i].begin() + n);
    }
    // §7.3: emit the RPV only when the realm is launched with one; without
    // it the reference value means "any realm with this RIM".
    if (std::any_of(realm.rpv.begin(), realm.rpv.end(),
                    [](uint8_t b) { return b != 0; })) {
      r.rpv = std::vector<uint8_t>(realm.rpv.begin(), realm.rpv.end());
    }
    triples.push_back(std::move(r));
  }

  const absl::string_view profile_id = corim::ProfileId(profile);
  corim::Comid comid;
  if (options.tag_id) {
    comid.tag_identity.id = ParseIdentifier(*options.tag_id);
  } else {
    absl::StatusOr<corim::Uuid> u =
        DerivedUuid(kTagIdLabel, profile_id, triples);
    if (!u.ok()) return u.status();
    comid.tag_identity.id = *u;
  }
  corim::ReferenceValues values;
  if (options.corim_id) {
    values.corim_id = ParseIdentifier(*options.corim_id);
  } else {
    absl::StatusOr<corim::Uuid> u =
        DerivedUuid(kCorimIdLabel, profile_id, triples);
    if (!u.ok()) return u.status();
    values.corim_id = *u;
  }
  if (options.entity) {
    comid.entities.push_back(
        corim::Entity{*options.entity,
                      std::nullopt,
                      {static_cast<uint64_t>(corim::ComidRole::kTagCreator),
                       static_cast<uint64_t>(corim::ComidRole::kCreator)}});
    values.entities.push_back(corim::Entity{
        *options.entity,
        std::nullopt,
        {static_cast<uint64_t>(corim::CorimRole::kManifestCreator)}});
  }
  absl::StatusOr<std::optional<corim::Validity>> validity = ValidityOf(options);
  if (!validity.ok()) return validity.status();
  values.validity = *validity;
  comid.realms = std::move(triples);
  values.comids.push_back(std::move(comid));
  if (absl::Status s = corim::ValidateReferenceValues(values); !s.ok()) {
    return s;
  }
  return values;
}

absl::StatusOr<std::vector<EndorsementFile>> BuildEndorsements(
    const EndorsementOptions& options, const Measurements& m,
    const Measurement& rpv) {
  const MeasuredRealm one{m, rpv};
  return BuildEndorsements(options, absl::MakeConstSpan(&one, 1));
}

absl::StatusOr<std::vector<EndorsementFile>> BuildEndorsements(
    const EndorsementOptions& options, absl::Span<const MeasuredRealm> realms) {
  if (absl::Status s = CheckEndorsementOptions(options, /*measuring=*/true);
      !s.ok()) {
    return s;
  }
  std::vector<EndorsementFile> files;
  if (!options.Requested()) return files;
  corim::Profile profile = corim::Profile::kCcaRealm2025;
  if (options.profile) {
    absl::StatusOr<corim::Profile> p = ParseCorimProfile(*options.profile);
    if (!p.ok()) return p.status();
    profile = *p;
  }
  absl::StatusOr<corim::ReferenceValues> values =
      RealmReferenceValues(realms, options);
  if (!values.ok()) return values.status();

  if (options.comid_output) {
    absl::StatusOr<corim::EncodedObject> comid =
        corim::EncodeComid(values->comids.front(), profile);
    if (!comid.ok()) return comid.status();
    files.push_back({*options.comid_output, "comid", *std::move(comid)});
  }
  if (options.corim_output && !options.sign_key) {
    absl::StatusOr<corim::EncodedObject> c =
        corim::EncodeCorim(*values, profile);
    if (!c.ok()) return c.status();
    files.push_back({*options.corim_output, "corim", *std::move(c)});
  }
  if (options.corim_output && options.sign_key) {
    absl::StatusOr<std::string> key =
        ReadPem("--corim-sign-key", *options.sign_key);
    if (!key.ok()) return key.status();
    absl::StatusOr<std::string> chain =
        ReadPem("--corim-sign-chain", *options.sign_chain);
    if (!chain.ok()) return chain.status();
    absl::StatusOr<corim::CorimSigner> signer =
        // FromPem wants a name; without --corim-entity the leaf subject is
        // set below, once the chain is parsed.
        corim::CorimSigner::FromPem(*key, *chain,
                                    options.entity.value_or("signer"));
    if (!signer.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot sign the CoRIM with --corim-sign-key ",
                       *options.sign_key, " and --corim-sign-chain ",
                       *options.sign_chain, ": ", signer.status().message()));
    }
    if (!options.entity) {
      signer->signer_name = signer->chain.front().SubjectText();
    }
    absl::StatusOr<corim::EncodedObject> c =
        corim::SignCorim(*values, profile, *signer);
    if (!c.ok()) {
      return absl::Status(
          c.status().code(),
          absl::StrCat("cannot sign the CoRIM: ", c.status().message()));
    }
    files.push_back({*options.corim_output, "signed-corim", *std::move(c)});
  }
  return files;
}

}  // namespace realm_measurements::measure
