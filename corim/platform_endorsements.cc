#include "corim/platform_endorsements.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/hex.h"
#include "base/json_text.h"
#include "base/status_macros.h"
#include "corim/comid.h"
#include "corim/internal/comid_keys.h"
#include "corim/internal/expected_found.h"
#include "nlohmann/json.hpp"

namespace realm_measurements::corim {
namespace {

// Legacy psa-refval-id map keys (601, draft-ydb-00).
enum PsaRefValIdKey : uint64_t {
  kRefValLabel = 1,
  kRefValVersion = 4,
  kRefValSignerId = 5,
};

std::string Describe(const CborValue& v) {
  if (v.is_tag()) return absl::StrCat("tag ", v.tag_number());
  if (v.is_uint()) return absl::StrCat("unsigned integer ", v.uint_value());
  if (v.is_text()) return absl::StrCat("text \"", v.text(), "\"");
  if (v.is_bytes()) return absl::StrCat("a byte string of ", v.bytes().size());
  return v.type_name();
}

bool IsDigestSize(size_t n) { return n == 32 || n == 48 || n == 64; }

// A map whose keys are unsigned integers from `allowed`.
absl::Status CheckMap(const CborValue& v, absl::string_view path,
                      std::initializer_list<uint64_t> allowed) {
  if (!v.is_map()) return internal::ExpectedFound(path, "a map", Describe(v));
  for (const auto& [k, unused] : v.map()) {
    bool ok = false;
    if (k.is_uint()) {
      for (uint64_t a : allowed) ok |= k.uint_value() == a;
    }
    if (!ok) {
      std::string keys;
      for (uint64_t a : allowed) {
        absl::StrAppend(&keys, keys.empty() ? "" : ", ", a);
      }
      return internal::ExpectedFound(path, absl::StrCat("keys ", keys),
                                     absl::StrCat("key ", ToDiagnostic(k)));
    }
  }
  return absl::OkStatus();
}

// `tag`(bstr) of `size` bytes (0: any of 32/48/64).
absl::StatusOr<std::vector<uint8_t>> TaggedBytes(const CborValue& v,
                                                 uint64_t tag, size_t size,
                                                 absl::string_view path,
                                                 absl::string_view name) {
  if (!v.is_tag() || v.tag_number() != tag || !v.tag_content().is_bytes()) {
    return internal::ExpectedFound(
        path, absl::StrCat(name, " as ", tag, "(bstr)"), Describe(v));
  }
  const std::vector<uint8_t>& b = v.tag_content().bytes();
  if (size != 0 ? b.size() != size : !IsDigestSize(b.size())) {
    return internal::ExpectedFound(
        path,
        size != 0 ? absl::StrCat(name, " of ", size, " bytes")
                  : absl::StrCat(name, " of 32, 48 or 64 bytes"),
        absl::StrCat(b.size(), " bytes"));
  }
  return b;
}

absl::StatusOr<std::string> Text(const CborValue& v, absl::string_view path) {
  if (!v.is_text()) return internal::ExpectedFound(path, "text", Describe(v));
  return v.text();
}

// The environment's class: implementation-id (and legacy vendor/model).
absl::Status ClassFromCbor(const CborValue& env, absl::string_view path,
                           PlatformEndorsementProfile profile,
                           std::vector<uint8_t>& impl_id,
                           std::optional<std::string>* vendor,
                           std::optional<std::string>* model) {
  const CborValue* cls = env.FindUint(kEnvClass);
  if (cls == nullptr) {
    return internal::ExpectedFound(
        absl::StrCat(path, ".class"),
        "a class holding the implementation-id (environment.class is "
        "required)",
        "none");
  }
  const std::string cpath = absl::StrCat(path, ".class");
  const bool legacy = profile == PlatformEndorsementProfile::kCcaPlatformLegacy;
  if (legacy) {
    BASE_RETURN_IF_ERROR(
        CheckMap(*cls, cpath, {kClassId, kClassVendor, kClassModel}));
  } else {
    BASE_RETURN_IF_ERROR(CheckMap(*cls, cpath, {kClassId}));
  }
  const CborValue* id = cls->FindUint(kClassId);
  if (id == nullptr) {
    return internal::ExpectedFound(absl::StrCat(cpath, ".id"),
                                   "the implementation-id", "none");
  }
  BASE_ASSIGN_OR_RETURN(
      impl_id,
      TaggedBytes(*id, legacy ? kTagArmImplementationId : kTagTaggedBytes,
                  kImplementationIdSize, absl::StrCat(cpath, ".id"),
                  "implementation-id"));
  if (legacy) {
    if (const CborValue* v = cls->FindUint(kClassVendor); v && vendor) {
      BASE_ASSIGN_OR_RETURN(*vendor, Text(*v, absl::StrCat(cpath, ".vendor")));
    }
    if (const CborValue* m = cls->FindUint(kClassModel); m && model) {
      BASE_ASSIGN_OR_RETURN(*model, Text(*m, absl::StrCat(cpath, ".model")));
    }
  }
  return absl::OkStatus();
}

// digests: exactly one [alg (int or text), 32/48/64-byte value].
absl::Status DigestFromCbor(const CborValue* d, absl::string_view path,
                            PlatformComponentReference& out) {
  if (d == nullptr) {
    return internal::ExpectedFound(path, "digests (digests field is mandatory)",
                                   "none");
  }
  if (!d->is_array())
    return internal::ExpectedFound(path, "an array of digests", Describe(*d));
  if (d->array().size() != 1) {
    return internal::ExpectedFound(path, "exactly one digest",
                                   absl::StrCat(d->array().size(), " digests"));
  }
  const CborValue& e = d->array()[0];
  const std::string epath = absl::StrCat(path, "[0]");
  if (!e.is_array() || e.array().size() != 2) {
    return internal::ExpectedFound(epath, "[algorithm, value]", Describe(e));
  }
  const CborValue& alg = e.array()[0];
  if (alg.is_uint()) {
    out.algorithm = absl::StrCat(alg.uint_value());
  } else if (alg.is_text()) {
    out.algorithm = alg.text();
  } else {
    return internal::ExpectedFound(absl::StrCat(epath, ".algorithm"),
                                   "an integer or text", Describe(alg));
  }
  const CborValue& val = e.array()[1];
  if (!val.is_bytes() || !IsDigestSize(val.bytes().size())) {
    return internal::ExpectedFound(absl::StrCat(epath, ".value"),
                                   "a digest of 32, 48 or 64 bytes",
                                   Describe(val));
  }
  out.measurement = val.bytes();
  return absl::OkStatus();
}

absl::Status Measurement2025(const CborValue& m, absl::string_view path,
                             PlatformReferenceValue& rv, int& configs,
                             bool& components) {
  BASE_RETURN_IF_ERROR(CheckMap(m, path, {kMkey, kMval, 2}));
  const CborValue* mkey = m.FindUint(kMkey);
  const std::string kpath = absl::StrCat(path, ".key");
  if (mkey == nullptr) {
    return internal::ExpectedFound(kpath, "an mkey (mkey is mandatory)",
                                   "none");
  }
  if (!mkey->is_text()) {
    return internal::ExpectedFound(
        kpath, "a text mkey (mkey must be of type 'string')", Describe(*mkey));
  }
  const CborValue* mval = m.FindUint(kMval);
  const std::string vpath = absl::StrCat(path, ".value");
  if (mval == nullptr)
    return internal::ExpectedFound(vpath, "a measurement value", "none");
  if (m.FindUint(2) != nullptr) {
    return internal::ExpectedFound(absl::StrCat(path, ".authorized-by"), "none",
                                   "key 2");
  }
  if (mkey->text() == kMkeySoftwareComponent) {
    if (!mval->is_map())
      return internal::ExpectedFound(vpath, "a map", Describe(*mval));
    PlatformComponentReference c;
    BASE_RETURN_IF_ERROR(DigestFromCbor(mval->FindUint(kMvalDigests),
                                        absl::StrCat(vpath, ".digests"), c));
    const std::string spath = absl::StrCat(vpath, ".cryptokeys");
    const CborValue* keys = mval->FindUint(kMvalCryptokeys);
    if (keys == nullptr) {
      return internal::ExpectedFound(
          spath, "one signer-id (cryptokeys is mandatory)", "none");
    }
    if (!keys->is_array() || keys->array().size() != 1) {
      return internal::ExpectedFound(spath, "an array of exactly one signer-id",
                                     Describe(*keys));
    }
    BASE_ASSIGN_OR_RETURN(
        c.signer_id,
        TaggedBytes(keys->array()[0], kTagTaggedBytes, 0,
                    absl::StrCat(spath, "[0]"), "a signer-id of type 'bytes'"));
    if (const CborValue* n = mval->FindUint(kMvalName)) {
      BASE_ASSIGN_OR_RETURN(c.type, Text(*n, absl::StrCat(vpath, ".name")));
    }
    if (const CborValue* ver = mval->FindUint(kMvalVersion)) {
      const std::string verpath = absl::StrCat(vpath, ".version");
      if (!ver->is_map() || ver->FindUint(0) == nullptr) {
        return internal::ExpectedFound(verpath, "{0: version}", Describe(*ver));
      }
      if (ver->FindUint(1) != nullptr) {
        return internal::ExpectedFound(
            verpath, "no version-scheme (forbidden in cca.software-component)",
            "key 1");
      }
      BASE_RETURN_IF_ERROR(CheckMap(*ver, verpath, {0}));
      BASE_ASSIGN_OR_RETURN(c.version, Text(*ver->FindUint(0), verpath));
    }
    // Unknown keys last, so that the rules Veraison applies decide first.
    BASE_RETURN_IF_ERROR(
        CheckMap(*mval, vpath,
                 {kMvalVersion, kMvalDigests, kMvalName, kMvalCryptokeys}));
    rv.components.push_back(std::move(c));
    components = true;
    return absl::OkStatus();
  }
  if (mkey->text() == kMkeyPlatformConfig) {
    if (!mval->is_map())
      return internal::ExpectedFound(vpath, "a map", Describe(*mval));
    if (++configs > 1) {
      return internal::ExpectedFound(
          path, "at most one cca.platform-config per triple",
          absl::StrCat(configs));
    }
    const CborValue* raw = mval->FindUint(kMvalRawValue);
    const std::string rpath = absl::StrCat(vpath, ".raw-value");
    if (raw == nullptr) {
      return internal::ExpectedFound(
          rpath, "a raw-value (mandatory for cca.platform-config)", "none");
    }
    if (raw->is_tag() && raw->tag_number() == kTagMaskedRawValue) {
      const CborValue& a = raw->tag_content();
      if (!a.is_array() || a.array().size() != 2 || !a.array()[0].is_bytes() ||
          !a.array()[1].is_bytes()) {
        return internal::ExpectedFound(rpath, "563([value bstr, mask bstr])",
                                       Describe(a));
      }
      rv.config = a.array()[0].bytes();
      rv.config_mask = a.array()[1].bytes();
    } else {
      if (!raw->is_tag() || raw->tag_number() != kTagTaggedBytes ||
          !raw->tag_content().is_bytes()) {
        return internal::ExpectedFound(rpath, "560(bstr) or 563([value, mask])",
                                       Describe(*raw));
      }
      rv.config = raw->tag_content().bytes();
    }
    if (const CborValue* mask = mval->FindUint(kMvalRawValueMask)) {
      if (!mask->is_bytes()) {
        return internal::ExpectedFound(absl::StrCat(vpath, ".raw-value-mask"),
                                       "a byte string", Describe(*mask));
      }
      rv.config_mask = mask->bytes();
    }
    if (!rv.config_mask) {
      return internal::ExpectedFound(
          absl::StrCat(vpath, ".raw-value-mask"),
          "a mask (mandatory for cca.platform-config)", "none");
    }
    BASE_RETURN_IF_ERROR(
        CheckMap(*mval, vpath, {kMvalRawValue, kMvalRawValueMask}));
    return absl::OkStatus();
  }
  return internal::ExpectedFound(
      kpath,
      absl::StrCat("mkey \"", kMkeySoftwareComponent, "\" or \"",
                   kMkeyPlatformConfig, "\""),
      absl::StrCat("invalid mkey \"", mkey->text(), "\""));
}

absl::Status MeasurementLegacy(const CborValue& m, absl::string_view path,
                               PlatformReferenceValue& rv, bool& components) {
  BASE_RETURN_IF_ERROR(CheckMap(m, path, {kMkey, kMval}));
  const CborValue* mkey = m.FindUint(kMkey);
  const CborValue* mval = m.FindUint(kMval);
  const std::string kpath = absl::StrCat(path, ".key");
  const std::string vpath = absl::StrCat(path, ".value");
  if (mkey == nullptr)
    return internal::ExpectedFound(kpath, "a 601 or 602 mkey", "none");
  if (mval == nullptr)
    return internal::ExpectedFound(vpath, "a measurement value", "none");
  if (mkey->is_tag() && mkey->tag_number() == kTagPsaRefValId) {
    const CborValue& id = mkey->tag_content();
    BASE_RETURN_IF_ERROR(
        CheckMap(id, kpath, {kRefValLabel, kRefValVersion, kRefValSignerId}));
    PlatformComponentReference c;
    if (const CborValue* l = id.FindUint(kRefValLabel)) {
      BASE_ASSIGN_OR_RETURN(c.type, Text(*l, absl::StrCat(kpath, ".label")));
    }
    if (const CborValue* v = id.FindUint(kRefValVersion)) {
      BASE_ASSIGN_OR_RETURN(c.version,
                            Text(*v, absl::StrCat(kpath, ".version")));
    }
    const CborValue* s = id.FindUint(kRefValSignerId);
    if (s == nullptr || !s->is_bytes() || !IsDigestSize(s->bytes().size())) {
      return internal::ExpectedFound(absl::StrCat(kpath, ".signer-id"),
                                     "a signer-id of 32, 48 or 64 bytes",
                                     s == nullptr ? "none" : Describe(*s));
    }
    c.signer_id = s->bytes();
    BASE_RETURN_IF_ERROR(CheckMap(*mval, vpath, {kMvalDigests}));
    BASE_RETURN_IF_ERROR(DigestFromCbor(mval->FindUint(kMvalDigests),
                                        absl::StrCat(vpath, ".digests"), c));
    rv.components.push_back(std::move(c));
    components = true;
    return absl::OkStatus();
  }
  if (mkey->is_tag() && mkey->tag_number() == kTagCcaPlatformConfigId) {
    if (rv.config) {
      return internal::ExpectedFound(
          path, "at most one platform-config per triple", "two");
    }
    BASE_ASSIGN_OR_RETURN(rv.config_label, Text(mkey->tag_content(), kpath));
    BASE_RETURN_IF_ERROR(CheckMap(*mval, vpath, {kMvalRawValue}));
    const CborValue* raw = mval->FindUint(kMvalRawValue);
    const std::string rpath = absl::StrCat(vpath, ".raw-value");
    if (raw == nullptr || !raw->is_tag() ||
        raw->tag_number() != kTagTaggedBytes ||
        !raw->tag_content().is_bytes()) {
      return internal::ExpectedFound(rpath, "560(bstr)",
                                     raw == nullptr ? "none" : Describe(*raw));
    }
    rv.config = raw->tag_content().bytes();
    return absl::OkStatus();
  }
  return internal::ExpectedFound(
      kpath, "601(psa-refval-id) or 602(platform-config label)",
      Describe(*mkey));
}

absl::Status ReferenceTriple(const CborValue& t, absl::string_view path,
                             PlatformEndorsementProfile profile,
                             PlatformEndorsements& out) {
  if (!t.is_array() || t.array().size() != 2) {
    return internal::ExpectedFound(path, "[environment, [+ measurement]]",
                                   Describe(t));
  }
  const CborValue& env = t.array()[0];
  const std::string epath = absl::StrCat(path, ".environment");
  BASE_RETURN_IF_ERROR(CheckMap(env, epath, {kEnvClass, kEnvInstance}));
  PlatformReferenceValue rv;
  BASE_RETURN_IF_ERROR(ClassFromCbor(env, epath, profile, rv.implementation_id,
                                     &rv.vendor, &rv.model));
  const CborValue& ms = t.array()[1];
  const std::string mpath = absl::StrCat(path, ".measurements");
  if (!ms.is_array() || ms.array().empty()) {
    return internal::ExpectedFound(mpath, "a non-empty array", Describe(ms));
  }
  int configs = 0;
  bool components = false;
  for (size_t j = 0; j < ms.array().size(); ++j) {
    const std::string p = absl::StrCat(mpath, "[", j, "]");
    if (profile == PlatformEndorsementProfile::kCcaPlatform2025) {
      BASE_RETURN_IF_ERROR(
          Measurement2025(ms.array()[j], p, rv, configs, components));
    } else {
      BASE_RETURN_IF_ERROR(MeasurementLegacy(ms.array()[j], p, rv, components));
    }
  }
  if (!components && profile == PlatformEndorsementProfile::kCcaPlatform2025) {
    return internal::ExpectedFound(mpath, "at least one cca.software-component",
                                   "none");
  }
  if (env.FindUint(kEnvInstance) != nullptr) {
    // Veraison's validator lets it through, but its exact-match lookup by
    // the CPAK's class never finds such a triple: refuse rather than store
    // dead reference values.
    return internal::ExpectedFound(
        absl::StrCat(epath, ".instance"),
        "none in a reference-value environment (looked up by "
        "implementation-id only)",
        "an instance");
  }
  out.reference_values.push_back(std::move(rv));
  return absl::OkStatus();
}

absl::Status KeyTriple(const CborValue& t, absl::string_view path,
                       PlatformEndorsementProfile profile,
                       PlatformEndorsements& out) {
  if (!t.is_array() || t.array().size() != 2) {
    return internal::ExpectedFound(path, "[environment, [+ key]]", Describe(t));
  }
  const CborValue& env = t.array()[0];
  const std::string epath = absl::StrCat(path, ".environment");
  BASE_RETURN_IF_ERROR(CheckMap(env, epath, {kEnvClass, kEnvInstance}));
  PlatformTrustAnchor ta;
  BASE_RETURN_IF_ERROR(ClassFromCbor(env, epath, profile, ta.implementation_id,
                                     nullptr, nullptr));
  const CborValue* inst = env.FindUint(kEnvInstance);
  const std::string ipath = absl::StrCat(epath, ".instance");
  if (inst == nullptr) {
    return internal::ExpectedFound(
        ipath, "the instance-id (environment.instance is required)", "none");
  }
  BASE_ASSIGN_OR_RETURN(ta.instance_id,
                        TaggedBytes(*inst, kTagUeid, kInstanceIdSize, ipath,
                                    "an instance-id of type 'ueid'"));
  if (ta.instance_id[0] != kUeidTypeRand) {
    return internal::ExpectedFound(
        ipath, "first byte 0x01 (RAND UEID)",
        absl::StrCat(
            "0x",
            base::HexOf(absl::MakeConstSpan(ta.instance_id).subspan(0, 1))));
  }
  const CborValue& keys = t.array()[1];
  const std::string kpath = absl::StrCat(path, ".verification-keys");
  if (!keys.is_array() || keys.array().size() != 1) {
    return internal::ExpectedFound(
        kpath, "exactly one key",
        keys.is_array() ? absl::StrCat(keys.array().size(), " keys")
                        : Describe(keys));
  }
  const CborValue& k = keys.array()[0];
  if (!k.is_tag() || k.tag_number() != kTagPkixBase64Key ||
      !k.tag_content().is_text()) {
    return internal::ExpectedFound(
        absl::StrCat(kpath, "[0]"),
        "554(PEM public key text) (type 'pkix-base64-key')", Describe(k));
  }
  ta.public_key_pem = k.tag_content().text();
  out.trust_anchors.push_back(std::move(ta));
  return absl::OkStatus();
}

absl::Status ComidFromBytes(const CborValue& tag, absl::string_view path,
                            PlatformEndorsementProfile profile,
                            PlatformEndorsements& out) {
  if (!tag.is_tag() || tag.tag_number() != kTagComid ||
      !tag.tag_content().is_bytes()) {
    return internal::ExpectedFound(path, "506(<< CoMID >>)", Describe(tag));
  }
  BASE_ASSIGN_OR_RETURN(CborValue comid,
                        DecodeCbor(tag.tag_content().bytes(), path));
  BASE_RETURN_IF_ERROR(
      CheckMap(comid, path,
               {kComidLanguage, kComidTagIdentity, kComidEntities,
                kComidLinkedTags, kComidTriples}));
  const CborValue* triples = comid.FindUint(kComidTriples);
  const std::string tpath = absl::StrCat(path, ".triples");
  if (triples == nullptr)
    return internal::ExpectedFound(tpath, "a triples map", "none");
  BASE_RETURN_IF_ERROR(
      CheckMap(*triples, tpath,
               {kTriplesReferenceValues, kTriplesAttesterVerificationKeys}));
  if (const CborValue* rvs = triples->FindUint(kTriplesReferenceValues)) {
    const std::string p = absl::StrCat(tpath, ".reference-values");
    if (!rvs->is_array())
      return internal::ExpectedFound(p, "an array", Describe(*rvs));
    for (size_t i = 0; i < rvs->array().size(); ++i) {
      BASE_RETURN_IF_ERROR(ReferenceTriple(
          rvs->array()[i], absl::StrCat(p, "[", i, "]"), profile, out));
    }
  }
  if (const CborValue* avks =
          triples->FindUint(kTriplesAttesterVerificationKeys)) {
    const std::string p = absl::StrCat(tpath, ".attester-verification-keys");
    if (!avks->is_array())
      return internal::ExpectedFound(p, "an array", Describe(*avks));
    for (size_t i = 0; i < avks->array().size(); ++i) {
      BASE_RETURN_IF_ERROR(KeyTriple(
          avks->array()[i], absl::StrCat(p, "[", i, "]"), profile, out));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::string_view PlatformProfileId(PlatformEndorsementProfile profile) {
  return profile == PlatformEndorsementProfile::kCcaPlatform2025
             ? kProfileCcaPlatform2025
             : kProfileCcaPlatformLegacy;
}

bool IsPlatformCorimProfile(absl::string_view id) {
  return id == kProfileCcaPlatform2025 || id == kProfileCcaPlatformLegacy;
}

absl::StatusOr<PlatformEndorsements> PlatformCorimFromCbor(
    const CborValue& top, const CorimReadOptions& options) {
  const CborValue* v = &top;
  if (v->is_tag() && v->tag_number() == kTagCorimChoice) v = &v->tag_content();
  if (!v->is_tag() || v->tag_number() != kTagUnsignedCorim) {
    return internal::ExpectedFound("corim", "tag 501 (unsigned CoRIM)",
                                   Describe(*v));
  }
  const CborValue& m = v->tag_content();
  BASE_RETURN_IF_ERROR(
      CheckMap(m, "corim",
               {kCorimId, kCorimTags, kCorimDependentRims, kCorimProfile,
                kCorimValidity, kCorimEntities}));
  if (m.FindUint(kCorimId) == nullptr)
    return internal::ExpectedFound("corim.id", "an id", "none");
  const CborValue* p = m.FindUint(kCorimProfile);
  if (p == nullptr) {
    return internal::ExpectedFound("corim.profile", "a platform profile",
                                   "none");
  }
  const CborValue& pt =
      p->is_tag() && p->tag_number() == kTagUri ? p->tag_content() : *p;
  if (!pt.is_text() || !IsPlatformCorimProfile(pt.text())) {
    return internal::ExpectedFound(
        "corim.profile",
        absl::StrCat("\"", kProfileCcaPlatform2025, "\" or \"",
                     kProfileCcaPlatformLegacy, "\""),
        Describe(pt));
  }
  PlatformEndorsements out;
  out.profile = pt.text() == kProfileCcaPlatform2025
                    ? PlatformEndorsementProfile::kCcaPlatform2025
                    : PlatformEndorsementProfile::kCcaPlatformLegacy;
  if (const CborValue* val = m.FindUint(kCorimValidity)) {
    BASE_ASSIGN_OR_RETURN(Validity validity,
                          ValidityFromCbor(*val, "corim.validity",
                                           options.keep_negative_validity));
    out.validity = validity;
  }
  const CborValue* tags = m.FindUint(kCorimTags);
  if (tags == nullptr || !tags->is_array() || tags->array().empty()) {
    return internal::ExpectedFound("corim.tags",
                                   "a non-empty array of 506(<< CoMID >>)",
                                   tags == nullptr ? "none" : Describe(*tags));
  }
  for (size_t i = 0; i < tags->array().size(); ++i) {
    BASE_RETURN_IF_ERROR(ComidFromBytes(tags->array()[i],
                                        absl::StrCat("corim.tags[", i, "]"),
                                        out.profile, out));
  }
  return out;
}

absl::StatusOr<PlatformEndorsements> DecodePlatformCorim(
    absl::Span<const uint8_t> bytes) {
  BASE_ASSIGN_OR_RETURN(CborValue v, DecodeCbor(bytes, "platform CoRIM"));
  return PlatformCorimFromCbor(v);
}

bool IsPlatformCorim(const CborValue& corim) {
  const CborValue* v = &corim;
  if (v->is_tag() && v->tag_number() == kTagCorimChoice) v = &v->tag_content();
  if (!v->is_tag() || v->tag_number() != kTagUnsignedCorim) return false;
  if (!v->tag_content().is_map()) return false;
  const CborValue* p = v->tag_content().FindUint(kCorimProfile);
  if (p == nullptr) return false;
  const CborValue& pt =
      p->is_tag() && p->tag_number() == kTagUri ? p->tag_content() : *p;
  return pt.is_text() && IsPlatformCorimProfile(pt.text());
}

const PlatformTrustAnchor* FindPlatformTrustAnchor(
    absl::Span<const PlatformTrustAnchor> anchors,
    absl::Span<const uint8_t> implementation_id,
    absl::Span<const uint8_t> instance_id) {
  for (const PlatformTrustAnchor& a : anchors) {
    if (absl::MakeConstSpan(a.implementation_id) == implementation_id &&
        absl::MakeConstSpan(a.instance_id) == instance_id) {
      return &a;
    }
  }
  return nullptr;
}

std::string PlatformEndorsementsToJson(const PlatformEndorsements& e) {
  using Json = nlohmann::json;
  Json refs = Json::array();
  for (const PlatformReferenceValue& r : e.reference_values) {
    Json comps = Json::array();
    for (const PlatformComponentReference& c : r.components) {
      Json j = {{"algorithm", c.algorithm},
                {"measurement", base::HexOf(c.measurement)},
                {"signer-id", base::HexOf(c.signer_id)}};
      if (c.type) j["type"] = *c.type;
      if (c.version) j["version"] = *c.version;
      comps.push_back(std::move(j));
    }
    Json j = {{"implementation-id", base::HexOf(r.implementation_id)},
              {"components", std::move(comps)}};
    if (r.vendor) j["vendor"] = *r.vendor;
    if (r.model) j["model"] = *r.model;
    if (r.config) j["config"] = base::HexOf(*r.config);
    if (r.config_mask) j["config-mask"] = base::HexOf(*r.config_mask);
    if (r.config_label) j["config-label"] = *r.config_label;
    refs.push_back(std::move(j));
  }
  Json tas = Json::array();
  for (const PlatformTrustAnchor& t : e.trust_anchors) {
    tas.push_back({{"implementation-id", base::HexOf(t.implementation_id)},
                   {"instance-id", base::HexOf(t.instance_id)},
                   {"public-key", t.public_key_pem}});
  }
  Json j = {{"profile", PlatformProfileId(e.profile)},
            {"reference-values", std::move(refs)},
            {"trust-anchors", std::move(tas)}};
  if (e.validity) {
    if (e.validity->not_before) {
      j["validity"]["not-before"] = EpochToRfc3339(*e.validity->not_before);
    }
    j["validity"]["not-after"] = EpochToRfc3339(e.validity->not_after);
  }
  return base::JsonText(j, 2);
}

}  // namespace realm_measurements::corim
