#include "corim/comid.h"

#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/hex.h"
#include "base/json_text.h"
#include "corim/internal/comid_keys.h"
#include "corim/internal/expected_found.h"
#include "nlohmann/json.hpp"

namespace realm_measurements::corim {
namespace {

using Json = nlohmann::ordered_json;

// tag-identity-map and entity-map keys (§3.4).
enum TagIdentityKey : uint64_t { kTagId = 0, kTagVersion = 1 };
enum EntityKey : uint64_t {
  kEntityName = 0,
  kEntityRegId = 1,
  kEntityRoles = 2
};
enum ValidityKey : uint64_t { kNotBefore = 0, kNotAfter = 1 };

// 2025 profile measurement keys (§3.6).
constexpr absl::string_view kMkeyRim = "cca.rim";
constexpr absl::string_view kMkeyRem[kRemCount] = {"cca.rem0", "cca.rem1",
                                                   "cca.rem2", "cca.rem3"};
constexpr absl::string_view kMkeyRpv = "cca.rpv";
// Legacy integrity register names (§3.7).
constexpr absl::string_view kRegRim = "rim";
constexpr absl::string_view kRegRem[kRemCount] = {"rem0", "rem1", "rem2",
                                                  "rem3"};

// ------------------------------------------------------------ helpers

absl::Status BadValue(absl::string_view path, absl::string_view expected,
                      const CborValue& found) {
  return internal::ExpectedFound(
      path, expected,
      absl::StrCat(found.type_name(), " ", ShortDiagnostic(found)));
}

CborValue U(uint64_t v) { return CborValue::Uint(v); }
CborValue T(absl::string_view s) { return CborValue::Text(std::string(s)); }

absl::StatusOr<const CborValue*> Map(const CborValue& v, absl::string_view path,
                                     std::set<uint64_t> allowed) {
  if (!v.is_map()) return BadValue(path, "a map", v);
  for (const CborValue::Entry& e : v.map()) {
    if (!e.first.is_uint() || allowed.count(e.first.uint_value()) == 0) {
      std::string keys;
      for (uint64_t k : allowed)
        absl::StrAppend(&keys, keys.empty() ? "" : ", ", k);
      return internal::ExpectedFound(
          path, absl::StrCat("only keys {", keys, "}"),
          absl::StrCat("key ", ShortDiagnostic(e.first)));
    }
  }
  return &v;
}

absl::StatusOr<const CborValue*> Required(const CborValue& map, uint64_t key,
                                          absl::string_view path) {
  const CborValue* v = map.FindUint(key);
  if (v == nullptr) {
    return internal::ExpectedFound(path, absl::StrCat("key ", key),
                                   "it missing");
  }
  return v;
}

absl::StatusOr<std::string> Text(const CborValue& v, absl::string_view path) {
  if (!v.is_text()) return BadValue(path, "a text string", v);
  return v.text();
}

absl::StatusOr<std::vector<uint8_t>> TaggedBytes(const CborValue& v,
                                                 uint64_t tag,
                                                 absl::string_view path) {
  if (!v.is_tag() || v.tag_number() != tag || !v.tag_content().is_bytes()) {
    return BadValue(path, absl::StrCat(tag, "(byte string)"), v);
  }
  return v.tag_content().bytes();
}

absl::StatusOr<const CborValue::Array*> Array(const CborValue& v,
                                              absl::string_view path,
                                              size_t min_size) {
  if (!v.is_array()) return BadValue(path, "an array", v);
  if (v.array().size() < min_size) {
    return internal::ExpectedFound(
        path, absl::StrCat("at least ", min_size, " elements"),
        absl::StrCat(v.array().size()));
  }
  return &v.array();
}

// ------------------------------------------------------------ identifiers

CborValue IdentifierToCbor(const Identifier& id) {
  if (const Uuid* u = std::get_if<Uuid>(&id)) {
    return CborValue::Bytes(absl::Span<const uint8_t>(u->data(), u->size()));
  }
  return T(std::get<std::string>(id));
}

absl::StatusOr<Identifier> IdentifierFromCbor(const CborValue& v,
                                              absl::string_view path) {
  if (v.is_text()) return Identifier(v.text());
  if (v.is_bytes() && v.bytes().size() == 16) {
    Uuid u;
    std::copy(v.bytes().begin(), v.bytes().end(), u.begin());
    return Identifier(u);
  }
  return BadValue(path, "a text string or a 16-byte UUID", v);
}

std::string IdentifierText(const Identifier& id) {
  if (const Uuid* u = std::get_if<Uuid>(&id)) return UuidToString(*u);
  return std::get<std::string>(id);
}

// ------------------------------------------------------------ entities

CborValue EntityToCbor(const Entity& e) {
  CborValue::Map m;
  m.emplace_back(U(kEntityName), T(e.name));
  if (e.regid)
    m.emplace_back(U(kEntityRegId), CborValue::Tag(kTagUri, T(*e.regid)));
  CborValue::Array roles;
  for (uint64_t r : e.roles) roles.push_back(U(r));
  m.emplace_back(U(kEntityRoles), CborValue::MakeArray(std::move(roles)));
  return CborValue::MakeMap(std::move(m));
}

absl::StatusOr<std::vector<Entity>> EntitiesFromCbor(const CborValue& v,
                                                     absl::string_view path) {
  absl::StatusOr<const CborValue::Array*> list = Array(v, path, 1);
  if (!list.ok()) return list.status();
  std::vector<Entity> out;
  for (size_t i = 0; i < (*list)->size(); ++i) {
    const std::string p = absl::StrCat(path, "[", i, "]");
    const CborValue& ev = (**list)[i];
    absl::StatusOr<const CborValue*> m =
        Map(ev, p, {kEntityName, kEntityRegId, kEntityRoles});
    if (!m.ok()) return m.status();
    Entity e;
    absl::StatusOr<const CborValue*> name = Required(ev, kEntityName, p);
    if (!name.ok()) return name.status();
    absl::StatusOr<std::string> n = Text(**name, absl::StrCat(p, ".name"));
    if (!n.ok()) return n.status();
    e.name = *n;
    if (const CborValue* r = ev.FindUint(kEntityRegId)) {
      // 32(uri) as the codecs write it; untagged text is tolerated.
      const CborValue& inner =
          r->is_tag() && r->tag_number() == kTagUri ? r->tag_content() : *r;
      absl::StatusOr<std::string> regid =
          Text(inner, absl::StrCat(p, ".regid"));
      if (!regid.ok()) return regid.status();
      e.regid = *regid;
    }
    absl::StatusOr<const CborValue*> roles = Required(ev, kEntityRoles, p);
    if (!roles.ok()) return roles.status();
    absl::StatusOr<const CborValue::Array*> rl =
        Array(**roles, absl::StrCat(p, ".roles"), 1);
    if (!rl.ok()) return rl.status();
    for (const CborValue& r : **rl) {
      if (!r.is_uint()) {
        return BadValue(absl::StrCat(p, ".roles"), "unsigned integers", r);
      }
      e.roles.push_back(r.uint_value());
    }
    out.push_back(std::move(e));
  }
  return out;
}

// ------------------------------------------------------------ digests

CborValue DigestsToCbor(RealmHashAlgorithm alg,
                        const std::vector<uint8_t>& value) {
  return CborValue::MakeArray({CborValue::MakeArray(
      {U(static_cast<uint64_t>(NamedInfoId(alg))), CborValue::Bytes(value)})});
}

struct Digest {
  RealmHashAlgorithm alg;
  std::vector<uint8_t> value;
};

// `[[alg, bstr]]`, exactly one entry (§3.6, §3.7). Integer ids or the text
// names the 2026 codec also accepts.
absl::StatusOr<Digest> DigestFromCbor(const CborValue& v,
                                      absl::string_view path) {
  if (!v.is_array() || v.array().size() != 1) {
    return BadValue(path, "an array with exactly one digest", v);
  }
  const CborValue& d = v.array()[0];
  if (!d.is_array() || d.array().size() != 2 || !d.array()[1].is_bytes()) {
    return BadValue(path, "[algorithm, byte string]", d);
  }
  const CborValue& a = d.array()[0];
  absl::StatusOr<RealmHashAlgorithm> alg =
      a.is_uint()   ? HashFromNamedInfoId(a.uint_value())
      : a.is_text() ? HashFromName(a.text())
                    : absl::StatusOr<RealmHashAlgorithm>(
                          BadValue(path, "an integer or text algorithm", a));
  if (!alg.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", alg.status().message()));
  }
  return Digest{*alg, d.array()[1].bytes()};
}

// Builds a realm from its decoded registers; all must share one algorithm.
absl::StatusOr<RealmReferenceValue> AssembleRealm(
    const std::string& path, const Digest& rim,
    const std::array<std::optional<Digest>, kRemCount>& rems,
    std::optional<std::vector<uint8_t>> rpv) {
  RealmReferenceValue realm;
  realm.algorithm = rim.alg;
  realm.rim = rim.value;
  for (int i = 0; i < kRemCount; ++i) {
    if (!rems[i]) continue;
    if (rems[i]->alg != rim.alg) {
      return internal::ExpectedFound(
          path,
          absl::StrCat("REM", i, " digest algorithm ", HashName(rim.alg),
                       " (as the RIM)"),
          HashName(rems[i]->alg));
    }
    realm.rem[i] = rems[i]->value;
  }
  realm.rpv = std::move(rpv);
  absl::Status s = ValidateRealm(realm);
  if (!s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", s.message()));
  }
  return realm;
}

// ------------------------------------------------------------ triples

CborValue Triple2025(const RealmReferenceValue& r) {
  CborValue env = CborValue::MakeMap(
      {{U(kEnvClass),
        CborValue::MakeMap(
            {{U(kClassId),
              CborValue::Tag(kTagTaggedBytes, CborValue::Bytes(r.rim))}})}});
  auto digest_measurement = [&](absl::string_view key,
                                const std::vector<uint8_t>& value) {
    return CborValue::MakeMap(
        {{U(kMkey), T(key)},
         {U(kMval),
          CborValue::MakeMap(
              {{U(kMvalDigests), DigestsToCbor(r.algorithm, value)}})}});
  };
  CborValue::Array ms;
  ms.push_back(digest_measurement(kMkeyRim, r.rim));
  for (int i = 0; i < kRemCount; ++i) {
    if (r.rem[i]) ms.push_back(digest_measurement(kMkeyRem[i], *r.rem[i]));
  }
  if (r.rpv) {
    ms.push_back(CborValue::MakeMap(
        {{U(kMkey), T(kMkeyRpv)},
         {U(kMval),
          CborValue::MakeMap({{U(kMvalRawValue),
                               CborValue::Tag(kTagTaggedBytes,
                                              CborValue::Bytes(*r.rpv))}})}}));
  }
  return CborValue::MakeArray({env, CborValue::MakeArray(std::move(ms))});
}

CborValue TripleLegacy(const RealmReferenceValue& r,
                       const std::optional<LegacyClass>& cls) {
  CborValue::Map env;
  if (cls && (cls->class_id || cls->vendor)) {
    CborValue::Map c;
    if (cls->class_id) {
      c.emplace_back(
          U(kClassId),
          CborValue::Tag(kTagUuid, CborValue::Bytes(absl::Span<const uint8_t>(
                                       cls->class_id->data(), 16))));
    }
    if (cls->vendor) c.emplace_back(U(kClassVendor), T(*cls->vendor));
    env.emplace_back(U(kEnvClass), CborValue::MakeMap(std::move(c)));
  }
  env.emplace_back(
      U(kEnvInstance),
      CborValue::Tag(
          kTagTaggedBytes,
          CborValue::Bytes(r.legacy_instance ? *r.legacy_instance : r.rim)));
  CborValue::Map regs;
  regs.emplace_back(T(kRegRim), DigestsToCbor(r.algorithm, r.rim));
  for (int i = 0; i < kRemCount; ++i) {
    if (r.rem[i])
      regs.emplace_back(T(kRegRem[i]), DigestsToCbor(r.algorithm, *r.rem[i]));
  }
  CborValue::Map mval;
  if (r.rpv) {
    mval.emplace_back(
        U(kMvalRawValue),
        CborValue::Tag(kTagTaggedBytes, CborValue::Bytes(*r.rpv)));
  }
  mval.emplace_back(U(kMvalIntegrityRegisters),
                    CborValue::MakeMap(std::move(regs)));
  CborValue measurement =
      CborValue::MakeMap({{U(kMval), CborValue::MakeMap(std::move(mval))}});
  return CborValue::MakeArray({CborValue::MakeMap(std::move(env)),
                               CborValue::MakeArray({measurement})});
}

absl::StatusOr<RealmReferenceValue> Triple2025FromCbor(
    const CborValue& t, const std::string& path) {
  if (!t.is_array() || t.array().size() != 2) {
    return BadValue(path, "[environment, measurements]", t);
  }
  const CborValue& env = t.array()[0];
  const std::string env_path = absl::StrCat(path, ".environment");
  // Exactly {0: {0: 560(RIM)}}: the 2026 store matches environments exactly.
  absl::StatusOr<const CborValue*> e = Map(env, env_path, {kEnvClass});
  if (!e.ok()) return e.status();
  absl::StatusOr<const CborValue*> cls = Required(env, kEnvClass, env_path);
  if (!cls.ok()) return cls.status();
  const std::string class_path = absl::StrCat(env_path, ".class");
  absl::StatusOr<const CborValue*> c = Map(**cls, class_path, {kClassId});
  if (!c.ok()) return c.status();
  absl::StatusOr<const CborValue*> id = Required(**cls, kClassId, class_path);
  if (!id.ok()) return id.status();
  absl::StatusOr<std::vector<uint8_t>> class_rim =
      TaggedBytes(**id, kTagTaggedBytes, absl::StrCat(class_path, ".id"));
  if (!class_rim.ok()) return class_rim.status();

  const std::string ms_path = absl::StrCat(path, ".measurements");
  absl::StatusOr<const CborValue::Array*> ms = Array(t.array()[1], ms_path, 1);
  if (!ms.ok()) return ms.status();
  std::optional<Digest> rim;
  std::array<std::optional<Digest>, kRemCount> rems;
  std::optional<std::vector<uint8_t>> rpv;
  std::set<std::string> seen;
  for (size_t i = 0; i < (*ms)->size(); ++i) {
    const CborValue& m = (**ms)[i];
    const std::string p = absl::StrCat(ms_path, "[", i, "]");
    absl::StatusOr<const CborValue*> mm = Map(m, p, {kMkey, kMval});
    if (!mm.ok()) return mm.status();
    absl::StatusOr<const CborValue*> key = Required(m, kMkey, p);
    if (!key.ok()) return key.status();
    absl::StatusOr<std::string> k = Text(**key, absl::StrCat(p, ".key"));
    if (!k.ok()) return k.status();
    if (!seen.insert(*k).second) {
      return internal::ExpectedFound(p, "each mkey once",
                                     absl::StrCat("\"", *k, "\" again"));
    }
    absl::StatusOr<const CborValue*> mval = Required(m, kMval, p);
    if (!mval.ok()) return mval.status();
    const std::string vp = absl::StrCat(p, ".value");
    if (*k == kMkeyRpv) {
      absl::StatusOr<const CborValue*> mv = Map(**mval, vp, {kMvalRawValue});
      if (!mv.ok()) return mv.status();
      absl::StatusOr<const CborValue*> raw =
          Required(**mval, kMvalRawValue, vp);
      if (!raw.ok()) return raw.status();
      absl::StatusOr<std::vector<uint8_t>> b =
          TaggedBytes(**raw, kTagTaggedBytes, absl::StrCat(vp, ".raw-value"));
      if (!b.ok()) return b.status();
      rpv = *b;
      continue;
    }
    int slot = -2;  // -1 = RIM, 0..3 = REM
    if (*k == kMkeyRim) slot = -1;
    for (int r = 0; r < kRemCount; ++r) {
      if (*k == kMkeyRem[r]) slot = r;
    }
    if (slot == -2) {
      return internal::ExpectedFound(
          absl::StrCat(p, ".key"),
          "\"cca.rim\", \"cca.rem0\"..\"cca.rem3\" or \"cca.rpv\"",
          absl::StrCat("\"", absl::CEscape(k->substr(0, 32)), "\""));
    }
    absl::StatusOr<const CborValue*> mv = Map(**mval, vp, {kMvalDigests});
    if (!mv.ok()) return mv.status();
    absl::StatusOr<const CborValue*> dv = Required(**mval, kMvalDigests, vp);
    if (!dv.ok()) return dv.status();
    absl::StatusOr<Digest> d =
        DigestFromCbor(**dv, absl::StrCat(vp, ".digests"));
    if (!d.ok()) return d.status();
    if (slot == -1) {
      rim = *d;
    } else {
      rems[slot] = *d;
    }
  }
  if (!rim)
    return internal::ExpectedFound(ms_path, "a \"cca.rim\" measurement",
                                   "none");
  if (rim->value != *class_rim) {
    return internal::ExpectedFound(
        class_path, "class-id equal to the cca.rim digest", "different bytes");
  }
  return AssembleRealm(path, *rim, rems, std::move(rpv));
}

absl::StatusOr<RealmReferenceValue> TripleLegacyFromCbor(
    const CborValue& t, const std::string& path,
    std::optional<LegacyClass>& cls_out) {
  if (!t.is_array() || t.array().size() != 2) {
    return BadValue(path, "[environment, measurements]", t);
  }
  const CborValue& env = t.array()[0];
  const std::string env_path = absl::StrCat(path, ".environment");
  absl::StatusOr<const CborValue*> e =
      Map(env, env_path, {kEnvClass, kEnvInstance});
  if (!e.ok()) return e.status();
  absl::StatusOr<const CborValue*> inst = Required(env, kEnvInstance, env_path);
  if (!inst.ok()) return inst.status();
  absl::StatusOr<std::vector<uint8_t>> instance =
      TaggedBytes(**inst, kTagTaggedBytes, absl::StrCat(env_path, ".instance"));
  if (!instance.ok()) return instance.status();
  std::optional<LegacyClass> cls;
  if (const CborValue* cv = env.FindUint(kEnvClass)) {
    const std::string cp = absl::StrCat(env_path, ".class");
    absl::StatusOr<const CborValue*> c = Map(*cv, cp, {kClassId, kClassVendor});
    if (!c.ok()) return c.status();
    if (cv->map().empty())
      return internal::ExpectedFound(cp, "class-id or vendor", "an empty map");
    cls.emplace();
    if (const CborValue* id = cv->FindUint(kClassId)) {
      absl::StatusOr<std::vector<uint8_t>> u =
          TaggedBytes(*id, kTagUuid, absl::StrCat(cp, ".id"));
      if (!u.ok()) return u.status();
      if (u->size() != 16) {
        return internal::ExpectedFound(absl::StrCat(cp, ".id"),
                                       "a 16-byte UUID",
                                       absl::StrCat(u->size(), " bytes"));
      }
      Uuid uuid;
      std::copy(u->begin(), u->end(), uuid.begin());
      cls->class_id = uuid;
    }
    if (const CborValue* vendor = cv->FindUint(kClassVendor)) {
      absl::StatusOr<std::string> vtext =
          Text(*vendor, absl::StrCat(cp, ".vendor"));
      if (!vtext.ok()) return vtext.status();
      cls->vendor = *vtext;
    }
  }
  cls_out = cls;

  const std::string ms_path = absl::StrCat(path, ".measurements");
  const CborValue& msv = t.array()[1];
  if (!msv.is_array() || msv.array().size() != 1) {
    return BadValue(ms_path, "exactly one measurement", msv);
  }
  const CborValue& m = msv.array()[0];
  const std::string p = absl::StrCat(ms_path, "[0]");
  absl::StatusOr<const CborValue*> mm = Map(m, p, {kMval});
  if (!mm.ok()) return mm.status();
  absl::StatusOr<const CborValue*> mval = Required(m, kMval, p);
  if (!mval.ok()) return mval.status();
  const std::string vp = absl::StrCat(p, ".value");
  absl::StatusOr<const CborValue*> mv =
      Map(**mval, vp, {kMvalRawValue, kMvalIntegrityRegisters});
  if (!mv.ok()) return mv.status();
  std::optional<std::vector<uint8_t>> rpv;
  if (const CborValue* raw = (*mval)->FindUint(kMvalRawValue)) {
    absl::StatusOr<std::vector<uint8_t>> b =
        TaggedBytes(*raw, kTagTaggedBytes, absl::StrCat(vp, ".raw-value"));
    if (!b.ok()) return b.status();
    rpv = *b;
  }
  absl::StatusOr<const CborValue*> regs =
      Required(**mval, kMvalIntegrityRegisters, vp);
  if (!regs.ok()) return regs.status();
  const std::string rp = absl::StrCat(vp, ".integrity-registers");
  if (!(*regs)->is_map()) return BadValue(rp, "a map", **regs);
  std::optional<Digest> rim;
  std::array<std::optional<Digest>, kRemCount> rems;
  for (const CborValue::Entry& entry : (*regs)->map()) {
    if (!entry.first.is_text()) {
      return BadValue(rp, "text register names", entry.first);
    }
    // Veraison 2024-25 compares register names case-insensitively.
    const std::string name = absl::AsciiStrToLower(entry.first.text());
    const std::string dp = absl::StrCat(rp, ".", name);
    absl::StatusOr<Digest> d = DigestFromCbor(entry.second, dp);
    if (!d.ok()) return d.status();
    std::optional<Digest>* slot = nullptr;
    if (name == kRegRim) slot = &rim;
    for (int r = 0; r < kRemCount; ++r) {
      if (name == kRegRem[r]) slot = &rems[r];
    }
    if (slot == nullptr) {
      return internal::ExpectedFound(
          rp, "registers \"rim\", \"rem0\"..\"rem3\"",
          absl::StrCat("\"", absl::CEscape(name.substr(0, 32)), "\""));
    }
    if (slot->has_value()) {
      return internal::ExpectedFound(rp, "each register once",
                                     absl::StrCat("\"", name, "\" again"));
    }
    *slot = *d;
  }
  if (!rim) return internal::ExpectedFound(rp, "a \"rim\" register", "none");
  absl::StatusOr<RealmReferenceValue> realm =
      AssembleRealm(path, *rim, rems, std::move(rpv));
  if (!realm.ok()) return realm.status();
  if (*instance != realm->rim) realm->legacy_instance = *instance;
  if (realm->rpv && realm->rpv->empty()) {
    return internal::ExpectedFound(absl::StrCat(vp, ".raw-value"), "64 bytes",
                                   "0");
  }
  return realm;
}

// ------------------------------------------------------------ CoRIM pieces

absl::StatusOr<Profile> ProfileFromCbor(const CborValue& v) {
  const CborValue& inner =
      v.is_tag() && v.tag_number() == kTagUri ? v.tag_content() : v;
  if (inner.is_text()) {
    if (inner.text() == kProfileCcaRealm2025) return Profile::kCcaRealm2025;
    if (inner.text() == kProfileCcaRealmLegacy) return Profile::kCcaRealmLegacy;
  }
  return BadValue("corim.profile",
                  absl::StrCat("32(\"", kProfileCcaRealm2025, "\") or \"",
                               kProfileCcaRealmLegacy, "\""),
                  v);
}

absl::StatusOr<int64_t> EpochFromCbor(const CborValue& v,
                                      absl::string_view path) {
  if (!v.is_tag() || v.tag_number() != kTagEpochTime ||
      !v.tag_content().is_int()) {
    return BadValue(path, "1(epoch seconds)", v);
  }
  absl::StatusOr<int64_t> t = v.tag_content().AsInt64();
  if (!t.ok()) return BadValue(path, "epoch seconds in the int64 range", v);
  return *t;
}

// ------------------------------------------------------------ JSON

absl::StatusOr<std::string> RoleName(uint64_t role, bool corim) {
  if (corim) {
    if (role == static_cast<uint64_t>(CorimRole::kManifestCreator))
      return std::string("manifestCreator");
    if (role == static_cast<uint64_t>(CorimRole::kManifestSigner))
      return std::string("manifestSigner");
  } else {
    if (role == static_cast<uint64_t>(ComidRole::kTagCreator))
      return std::string("tagCreator");
    if (role == static_cast<uint64_t>(ComidRole::kCreator))
      return std::string("creator");
    if (role == static_cast<uint64_t>(ComidRole::kMaintainer))
      return std::string("maintainer");
  }
  return absl::InvalidArgumentError(
      absl::StrCat(corim ? "CoRIM" : "CoMID", " entity role: expected ",
                   corim ? "1 or 2" : "0, 1 or 2", ", found ", role));
}

absl::StatusOr<Json> EntitiesJson(const std::vector<Entity>& entities,
                                  bool corim) {
  Json out = Json::array();
  for (const Entity& e : entities) {
    Json j;
    j["name"] = e.name;
    if (e.regid) j["regid"] = *e.regid;
    Json roles = Json::array();
    for (uint64_t r : e.roles) {
      absl::StatusOr<std::string> n = RoleName(r, corim);
      if (!n.ok()) return n.status();
      roles.push_back(*n);
    }
    j["roles"] = roles;
    out.push_back(j);
  }
  return out;
}

Json BytesChoice(const std::vector<uint8_t>& b) {
  Json j;
  j["type"] = "bytes";
  j["value"] = base::Base64Of(b);
  return j;
}

Json Triple2025Json(const RealmReferenceValue& r) {
  Json env;
  env["class"]["id"] = BytesChoice(r.rim);
  Json ms = Json::array();
  auto digest = [&](absl::string_view key, const std::vector<uint8_t>& v) {
    Json m;
    m["key"]["type"] = "string";
    m["key"]["value"] = std::string(key);
    m["value"]["digests"] = Json::array(
        {Json::array({static_cast<uint64_t>(NamedInfoId(r.algorithm)),
                      base::Base64UrlOf(v)})});
    return m;
  };
  ms.push_back(digest(kMkeyRim, r.rim));
  for (int i = 0; i < kRemCount; ++i) {
    if (r.rem[i]) ms.push_back(digest(kMkeyRem[i], *r.rem[i]));
  }
  if (r.rpv) {
    Json m;
    m["key"]["type"] = "string";
    m["key"]["value"] = std::string(kMkeyRpv);
    m["value"]["raw-value"] = BytesChoice(*r.rpv);
    ms.push_back(m);
  }
  Json t;
  t["environment"] = env;
  t["measurements"] = ms;
  return t;
}

Json TripleLegacyJson(const RealmReferenceValue& r,
                      const std::optional<LegacyClass>& cls) {
  Json env;
  if (cls && (cls->class_id || cls->vendor)) {
    if (cls->class_id) {
      env["class"]["id"]["type"] = "uuid";
      env["class"]["id"]["value"] = UuidToString(*cls->class_id);
    }
    if (cls->vendor) env["class"]["vendor"] = *cls->vendor;
  }
  env["instance"] = BytesChoice(r.legacy_instance ? *r.legacy_instance : r.rim);
  Json value;
  if (r.rpv) value["raw-value"] = BytesChoice(*r.rpv);
  auto reg = [&](const std::vector<uint8_t>& v) {
    Json j;
    j["key-type"] = "text";
    j["value"] = Json::array(
        {absl::StrCat(HashName(r.algorithm), ";", base::Base64Of(v))});
    return j;
  };
  value["integrity-registers"][std::string(kRegRim)] = reg(r.rim);
  for (int i = 0; i < kRemCount; ++i) {
    if (r.rem[i])
      value["integrity-registers"][std::string(kRegRem[i])] = reg(*r.rem[i]);
  }
  Json m;
  m["value"] = value;
  Json t;
  t["environment"] = env;
  t["measurements"] = Json::array({m});
  return t;
}

Json IdentifierJson(const Identifier& id) { return IdentifierText(id); }

// Text decoded from CBOR is not necessarily UTF-8: replace, never throw.
std::string Dump(const Json& j) { return base::JsonText(j, 2) + "\n"; }

}  // namespace

absl::StatusOr<Validity> ValidityFromCbor(const CborValue& v,
                                          absl::string_view where,
                                          bool keep_negative) {
  absl::StatusOr<const CborValue*> vm = Map(v, where, {kNotBefore, kNotAfter});
  if (!vm.ok()) return vm.status();
  Validity validity;
  if (const CborValue* nb = v.FindUint(kNotBefore)) {
    absl::StatusOr<int64_t> t =
        EpochFromCbor(*nb, absl::StrCat(where, ".not-before"));
    if (!t.ok()) return t.status();
    validity.not_before = *t;
  }
  absl::StatusOr<const CborValue*> na = Required(v, kNotAfter, where);
  if (!na.ok()) return na.status();
  absl::StatusOr<int64_t> t =
      EpochFromCbor(**na, absl::StrCat(where, ".not-after"));
  if (!t.ok()) return t.status();
  validity.not_after = *t;
  if (keep_negative) return validity;
  if (absl::Status s = CheckValidity(validity, where); !s.ok()) return s;
  return validity;
}

DecodeLimits CorimLimits() {
  DecodeLimits l;
  l.max_depth = 24;
  l.max_items = 200000;
  l.max_string_size = 4 * 1024 * 1024;
  return l;
}

// ------------------------------------------------------------ public

absl::string_view ProfileId(Profile profile) {
  return profile == Profile::kCcaRealm2025 ? kProfileCcaRealm2025
                                           : kProfileCcaRealmLegacy;
}

std::string UnsignedCorimMediaType(Profile profile) {
  // §3.13: the profile parameter is a URI and must be quoted.
  return profile == Profile::kCcaRealm2025
             ? absl::StrCat("application/rim+cbor; profile=\"",
                            kProfileCcaRealm2025, "\"")
             : absl::StrCat("application/corim-unsigned+cbor; profile=\"",
                            kProfileCcaRealmLegacy, "\"");
}

std::string SignedCorimMediaType(Profile profile) {
  return absl::StrCat("application/rim+cose; profile=\"", ProfileId(profile),
                      "\"");
}

absl::StatusOr<CborValue> ComidToCbor(const Comid& comid, Profile profile) {
  absl::Status s = ValidateComid(comid);
  if (!s.ok()) return s;
  CborValue::Map m;
  if (comid.language) m.emplace_back(U(kComidLanguage), T(*comid.language));
  CborValue::Map tag_identity;
  tag_identity.emplace_back(U(kTagId), IdentifierToCbor(comid.tag_identity.id));
  if (comid.tag_identity.version) {
    tag_identity.emplace_back(U(kTagVersion), U(*comid.tag_identity.version));
  }
  m.emplace_back(U(kComidTagIdentity),
                 CborValue::MakeMap(std::move(tag_identity)));
  if (!comid.entities.empty()) {
    CborValue::Array es;
    for (const Entity& e : comid.entities) es.push_back(EntityToCbor(e));
    m.emplace_back(U(kComidEntities), CborValue::MakeArray(std::move(es)));
  }
  CborValue::Array triples;
  for (const RealmReferenceValue& r : comid.realms) {
    triples.push_back(profile == Profile::kCcaRealm2025
                          ? Triple2025(r)
                          : TripleLegacy(r, comid.legacy_class));
  }
  m.emplace_back(
      U(kComidTriples),
      CborValue::MakeMap({{U(kTriplesReferenceValues),
                           CborValue::MakeArray(std::move(triples))}}));
  return CborValue::MakeMap(std::move(m));
}

absl::StatusOr<EncodedObject> EncodeComid(const Comid& comid, Profile profile) {
  absl::StatusOr<CborValue> v = ComidToCbor(comid, profile);
  if (!v.ok()) return v.status();
  absl::StatusOr<std::vector<uint8_t>> b = EncodeCbor(*v);
  if (!b.ok()) return b.status();
  return EncodedObject{*std::move(b), std::string(kMediaTypeCbor)};
}

absl::StatusOr<EncodedObject> EncodeCorim(const ReferenceValues& values,
                                          Profile profile) {
  absl::Status s = ValidateReferenceValues(values);
  if (!s.ok()) return s;
  CborValue::Map m;
  m.emplace_back(U(kCorimId), IdentifierToCbor(values.corim_id));
  CborValue::Array tags;
  for (const Comid& c : values.comids) {
    absl::StatusOr<EncodedObject> comid = EncodeComid(c, profile);
    if (!comid.ok()) return comid.status();
    tags.push_back(CborValue::Tag(kTagComid, CborValue::Bytes(comid->bytes)));
  }
  m.emplace_back(U(kCorimTags), CborValue::MakeArray(std::move(tags)));
  // 2025: 32(uri) (§3.6); legacy: untagged text as Veraison 2024-25 (§3.7).
  m.emplace_back(U(kCorimProfile),
                 profile == Profile::kCcaRealm2025
                     ? CborValue::Tag(kTagUri, T(kProfileCcaRealm2025))
                     : T(kProfileCcaRealmLegacy));
  if (values.validity) {
    CborValue::Map v;
    if (values.validity->not_before) {
      v.emplace_back(
          U(kNotBefore),
          CborValue::Tag(kTagEpochTime,
                         CborValue::Int(*values.validity->not_before)));
    }
    v.emplace_back(U(kNotAfter),
                   CborValue::Tag(kTagEpochTime,
                                  CborValue::Int(values.validity->not_after)));
    m.emplace_back(U(kCorimValidity), CborValue::MakeMap(std::move(v)));
  }
  if (!values.entities.empty()) {
    CborValue::Array es;
    for (const Entity& e : values.entities) es.push_back(EntityToCbor(e));
    m.emplace_back(U(kCorimEntities), CborValue::MakeArray(std::move(es)));
  }
  absl::StatusOr<std::vector<uint8_t>> b = EncodeCbor(
      CborValue::Tag(kTagUnsignedCorim, CborValue::MakeMap(std::move(m))));
  if (!b.ok()) return b.status();
  return EncodedObject{*std::move(b), UnsignedCorimMediaType(profile)};
}

absl::StatusOr<Comid> ComidFromCbor(const CborValue& v, Profile profile) {
  absl::StatusOr<const CborValue*> m =
      Map(v, "comid",
          {kComidLanguage, kComidTagIdentity, kComidEntities, kComidTriples});
  if (!m.ok()) return m.status();
  Comid comid;
  if (const CborValue* lang = v.FindUint(kComidLanguage)) {
    absl::StatusOr<std::string> l = Text(*lang, "comid.lang");
    if (!l.ok()) return l.status();
    comid.language = *l;
  }
  absl::StatusOr<const CborValue*> ti = Required(v, kComidTagIdentity, "comid");
  if (!ti.ok()) return ti.status();
  absl::StatusOr<const CborValue*> tim =
      Map(**ti, "comid.tag-identity", {kTagId, kTagVersion});
  if (!tim.ok()) return tim.status();
  absl::StatusOr<const CborValue*> tid =
      Required(**ti, kTagId, "comid.tag-identity");
  if (!tid.ok()) return tid.status();
  absl::StatusOr<Identifier> id =
      IdentifierFromCbor(**tid, "comid.tag-identity.id");
  if (!id.ok()) return id.status();
  comid.tag_identity.id = *id;
  if (const CborValue* ver = (*ti)->FindUint(kTagVersion)) {
    if (!ver->is_uint()) {
      return BadValue("comid.tag-identity.version", "an unsigned integer",
                      *ver);
    }
    comid.tag_identity.version = ver->uint_value();
  }
  if (const CborValue* es = v.FindUint(kComidEntities)) {
    absl::StatusOr<std::vector<Entity>> e =
        EntitiesFromCbor(*es, "comid.entities");
    if (!e.ok()) return e.status();
    comid.entities = *std::move(e);
  }
  absl::StatusOr<const CborValue*> tr = Required(v, kComidTriples, "comid");
  if (!tr.ok()) return tr.status();
  absl::StatusOr<const CborValue*> trm =
      Map(**tr, "comid.triples", {kTriplesReferenceValues});
  if (!trm.ok()) return trm.status();
  absl::StatusOr<const CborValue*> rv =
      Required(**tr, kTriplesReferenceValues, "comid.triples");
  if (!rv.ok()) return rv.status();
  absl::StatusOr<const CborValue::Array*> list =
      Array(**rv, "comid.triples.reference-values", 1);
  if (!list.ok()) return list.status();
  for (size_t i = 0; i < (*list)->size(); ++i) {
    const std::string path =
        absl::StrCat("comid.triples.reference-values[", i, "]");
    absl::StatusOr<RealmReferenceValue> realm;
    if (profile == Profile::kCcaRealm2025) {
      realm = Triple2025FromCbor((**list)[i], path);
    } else {
      std::optional<LegacyClass> cls;
      realm = TripleLegacyFromCbor((**list)[i], path, cls);
      if (realm.ok()) {
        if (i == 0) {
          comid.legacy_class = cls;
        } else if (!(cls == comid.legacy_class)) {
          return internal::ExpectedFound(
              absl::StrCat(path, ".environment.class"),
              "the class of the first triple", "a different class");
        }
      }
    }
    if (!realm.ok()) return realm.status();
    comid.realms.push_back(*std::move(realm));
  }
  // Whatever decodes must also encode (same invariants both ways).
  absl::Status valid = ValidateComid(comid);
  if (!valid.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("comid: ", valid.message()));
  }
  return comid;
}

absl::StatusOr<Comid> DecodeComid(absl::Span<const uint8_t> bytes,
                                  Profile profile) {
  absl::StatusOr<CborValue> v = DecodeCbor(bytes, "CoMID", CorimLimits());
  if (!v.ok()) return v.status();
  return ComidFromCbor(*v, profile);
}

absl::StatusOr<DecodedCorim> CorimFromCbor(const CborValue& top,
                                           const CorimReadOptions& options) {
  const CborValue* v = &top;
  if (v->is_tag() && v->tag_number() == kTagCorimChoice) v = &v->tag_content();
  if (!v->is_tag() || v->tag_number() != kTagUnsignedCorim) {
    return BadValue("corim", "tag 501 (unsigned CoRIM)", *v);
  }
  const CborValue& m = v->tag_content();
  absl::StatusOr<const CborValue*> mm =
      Map(m, "corim",
          {kCorimId, kCorimTags, kCorimDependentRims, kCorimProfile,
           kCorimValidity, kCorimEntities});
  if (!mm.ok()) return mm.status();
  if (m.FindUint(kCorimDependentRims) != nullptr) {
    return absl::UnimplementedError(
        "corim.dependent-rims: expected none (realm CoRIMs are "
        "self-contained), found key 2");
  }
  DecodedCorim out;
  absl::StatusOr<const CborValue*> pv = Required(m, kCorimProfile, "corim");
  if (!pv.ok()) return pv.status();
  absl::StatusOr<Profile> profile = ProfileFromCbor(**pv);
  if (!profile.ok()) return profile.status();
  out.profile = *profile;

  absl::StatusOr<const CborValue*> idv = Required(m, kCorimId, "corim");
  if (!idv.ok()) return idv.status();
  absl::StatusOr<Identifier> id = IdentifierFromCbor(**idv, "corim.id");
  if (!id.ok()) return id.status();
  out.values.corim_id = *id;

  if (const CborValue* val = m.FindUint(kCorimValidity)) {
    absl::StatusOr<Validity> validity = ValidityFromCbor(
        *val, "corim.validity", options.keep_negative_validity);
    if (!validity.ok()) return validity.status();
    out.values.validity = *validity;
  }
  if (const CborValue* es = m.FindUint(kCorimEntities)) {
    absl::StatusOr<std::vector<Entity>> e =
        EntitiesFromCbor(*es, "corim.entities");
    if (!e.ok()) return e.status();
    out.values.entities = *std::move(e);
  }
  absl::StatusOr<const CborValue*> tv = Required(m, kCorimTags, "corim");
  if (!tv.ok()) return tv.status();
  absl::StatusOr<const CborValue::Array*> tags = Array(**tv, "corim.tags", 1);
  if (!tags.ok()) return tags.status();
  for (size_t i = 0; i < (*tags)->size(); ++i) {
    const CborValue& t = (**tags)[i];
    const std::string path = absl::StrCat("corim.tags[", i, "]");
    if (t.is_tag() &&
        (t.tag_number() == kTagCoswid || t.tag_number() == kTagCots)) {
      return absl::UnimplementedError(absl::StrCat(
          path, ": expected 506 (CoMID), found tag ", t.tag_number(),
          " (CoSWID/CoTS are not used by realm endorsements)"));
    }
    absl::StatusOr<std::vector<uint8_t>> bytes =
        TaggedBytes(t, kTagComid, path);
    if (!bytes.ok()) return bytes.status();
    absl::StatusOr<Comid> comid = DecodeComid(*bytes, out.profile);
    if (!comid.ok()) {
      return absl::Status(comid.status().code(),
                          absl::StrCat(path, ": ", comid.status().message()));
    }
    out.values.comids.push_back(*std::move(comid));
  }
  // A kept negative window is the one thing the encoders' checks refuse
  // that the options allow: check the rest without it.
  std::optional<Validity> window = out.values.validity;
  if (options.keep_negative_validity) out.values.validity.reset();
  absl::Status valid = ValidateReferenceValues(out.values);
  out.values.validity = window;
  if (!valid.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("corim: ", valid.message()));
  }
  return out;
}

absl::StatusOr<DecodedCorim> DecodeCorim(absl::Span<const uint8_t> bytes) {
  absl::StatusOr<CborValue> v = DecodeCbor(bytes, "CoRIM", CorimLimits());
  if (!v.ok()) return v.status();
  return CorimFromCbor(*v);
}

absl::StatusOr<EncodedObject> EncodeComidJson(const Comid& comid,
                                              Profile profile) {
  absl::Status s = ValidateComid(comid);
  if (!s.ok()) return s;
  Json j;
  if (comid.language) j["lang"] = *comid.language;
  j["tag-identity"]["id"] = IdentifierJson(comid.tag_identity.id);
  j["tag-identity"]["version"] = comid.tag_identity.version.value_or(0);
  if (!comid.entities.empty()) {
    absl::StatusOr<Json> e = EntitiesJson(comid.entities, /*corim=*/false);
    if (!e.ok()) return e.status();
    j["entities"] = *e;
  }
  Json triples = Json::array();
  for (const RealmReferenceValue& r : comid.realms) {
    triples.push_back(profile == Profile::kCcaRealm2025
                          ? Triple2025Json(r)
                          : TripleLegacyJson(r, comid.legacy_class));
  }
  j["triples"]["reference-values"] = triples;
  std::string text = Dump(j);
  return EncodedObject{std::vector<uint8_t>(text.begin(), text.end()),
                       std::string(kMediaTypeJson)};
}

absl::StatusOr<EncodedObject> EncodeCorimTemplateJson(
    const ReferenceValues& values, Profile profile) {
  absl::Status s = ValidateReferenceValues(values);
  if (!s.ok()) return s;
  Json j;
  j["corim-id"] = IdentifierJson(values.corim_id);
  if (profile == Profile::kCcaRealm2025) {
    j["profile"]["type"] = "uri";
    j["profile"]["value"] = std::string(kProfileCcaRealm2025);
  } else {
    j["profile"] = std::string(kProfileCcaRealmLegacy);
  }
  if (values.validity) {
    if (values.validity->not_before) {
      j["validity"]["not-before"] =
          EpochToRfc3339(*values.validity->not_before);
    }
    j["validity"]["not-after"] = EpochToRfc3339(values.validity->not_after);
  }
  if (!values.entities.empty()) {
    absl::StatusOr<Json> e = EntitiesJson(values.entities, /*corim=*/true);
    if (!e.ok()) return e.status();
    j["entities"] = *e;
  }
  std::string text = Dump(j);
  return EncodedObject{std::vector<uint8_t>(text.begin(), text.end()),
                       std::string(kMediaTypeJson)};
}

std::string DecodedCorimToJson(const DecodedCorim& corim) {
  Json j;
  j["profile"] = std::string(ProfileId(corim.profile));
  j["media-type"] = UnsignedCorimMediaType(corim.profile);
  j["corim-id"] = IdentifierJson(corim.values.corim_id);
  if (corim.values.validity) {
    if (corim.values.validity->not_before) {
      j["validity"]["not-before"] =
          EpochToRfc3339(*corim.values.validity->not_before);
    }
    j["validity"]["not-after"] =
        EpochToRfc3339(corim.values.validity->not_after);
  }
  auto entities = [](const std::vector<Entity>& es) {
    Json out = Json::array();
    for (const Entity& e : es) {
      Json x;
      x["name"] = e.name;
      if (e.regid) x["regid"] = *e.regid;
      x["roles"] = e.roles;
      out.push_back(x);
    }
    return out;
  };
  j["entities"] = entities(corim.values.entities);
  j["comids"] = Json::array();
  for (const Comid& c : corim.values.comids) {
    Json cj;
    if (c.language) cj["lang"] = *c.language;
    cj["tag-id"] = IdentifierJson(c.tag_identity.id);
    if (c.tag_identity.version) cj["tag-version"] = *c.tag_identity.version;
    cj["entities"] = entities(c.entities);
    if (c.legacy_class) {
      if (c.legacy_class->class_id) {
        cj["class"]["id"] = UuidToString(*c.legacy_class->class_id);
      }
      if (c.legacy_class->vendor)
        cj["class"]["vendor"] = *c.legacy_class->vendor;
    }
    cj["realms"] = Json::array();
    for (const RealmReferenceValue& r : c.realms) {
      Json rj;
      rj["hash-algorithm"] = HashName(r.algorithm);
      rj["rim"] = base::HexOf(r.rim);
      Json rems = Json::array();
      for (int i = 0; i < kRemCount; ++i) {
        rems.push_back(r.rem[i] ? Json(base::HexOf(*r.rem[i])) : Json(nullptr));
      }
      rj["rem"] = rems;
      rj["rpv"] = r.rpv ? Json(base::HexOf(*r.rpv)) : Json(nullptr);
      if (r.legacy_instance) rj["instance"] = base::HexOf(*r.legacy_instance);
      cj["realms"].push_back(rj);
    }
    j["comids"].push_back(cj);
  }
  return Dump(j);
}

}  // namespace realm_measurements::corim
