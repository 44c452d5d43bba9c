// Writes CBOR samples of every shape our encoders emit, for the independent
// decoder check in corim/testing/cbor2_check_test.py. Values follow a simple
// pattern that the Python test recomputes on its own:
//   Pattern(seed, n)[i] = (seed * 31 + i * 7) & 0xff.
// Usage: write_samples OUT_DIR
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <string>
#include <vector>

#include "base/crypto.h"
#include "corim/comid.h"
#include "corim/reference_values.h"
#include "corim/signed_corim.h"
#include "corim/testing/test_pki.h"

namespace realm_measurements::corim {
namespace {

std::vector<uint8_t> Pattern(int seed, size_t n) {
  std::vector<uint8_t> out(n);
  for (size_t i = 0; i < n; ++i)
    out[i] = static_cast<uint8_t>((seed * 31 + i * 7) & 0xff);
  return out;
}

RealmReferenceValue Realm(RealmHashAlgorithm alg, int seed, bool rems,
                          bool rpv) {
  RealmReferenceValue r;
  r.algorithm = alg;
  r.rim = Pattern(seed, DigestSize(alg));
  if (rems) {
    for (int i = 0; i < kRemCount; ++i)
      r.rem[i] = Pattern(seed + 1 + i, DigestSize(alg));
  }
  if (rpv) r.rpv = Pattern(seed + 10, kRpvSize);
  return r;
}

Uuid TestUuid(int seed) {
  Uuid u;
  std::vector<uint8_t> p = Pattern(seed, 16);
  std::copy(p.begin(), p.end(), u.begin());
  return u;
}

bool Write(const std::string& dir, const std::string& name,
           const absl::StatusOr<EncodedObject>& obj) {
  if (!obj.ok()) {
    std::fprintf(stderr, "%s: %s\n", name.c_str(),
                 std::string(obj.status().message()).c_str());
    return false;
  }
  std::ofstream f(dir + "/" + name, std::ios::binary);
  f.write(reinterpret_cast<const char*>(obj->bytes.data()), obj->bytes.size());
  std::ofstream m(dir + "/" + name + ".media-type");
  m << obj->media_type;
  return f.good() && m.good();
}

int Main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: write_samples OUT_DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  bool ok = true;
  const struct {
    const char* name;
    RealmHashAlgorithm alg;
  } kAlgs[] = {{"sha256", RealmHashAlgorithm::kSha256},
               {"sha384", RealmHashAlgorithm::kSha384},
               {"sha512", RealmHashAlgorithm::kSha512}};
  for (const auto& a : kAlgs) {
    ReferenceValues v;
    v.corim_id = std::string("sample-") + a.name;
    Comid c;
    c.tag_identity.id = TestUuid(1);
    c.realms.push_back(Realm(a.alg, 3, true, true));
    v.comids.push_back(c);
    ok &= Write(dir, std::string("corim-2025-") + a.name + ".cbor",
                EncodeCorim(v, Profile::kCcaRealm2025));
    c.legacy_class = LegacyClass{TestUuid(2), std::string("Sample Vendor")};
    v.comids[0] = c;
    v.validity = Validity{1700000000, 1900000000};
    v.entities.push_back(
        Entity{"Sample Ltd.", std::string("https://sample.example"), {1, 2}});
    ok &= Write(dir, std::string("corim-legacy-") + a.name + ".cbor",
                EncodeCorim(v, Profile::kCcaRealmLegacy));
  }
  // Two CoMIDs; the first with two realms, one without REMs/RPV and one
  // with a single REM; text tag-id with a version; CoMID entities.
  ReferenceValues multi;
  multi.corim_id = TestUuid(9);
  Comid c1;
  c1.language = "en-GB";
  c1.tag_identity.id = std::string("realm-tag-1");
  c1.tag_identity.version = 3;
  c1.entities.push_back(Entity{"Realm Owner", std::nullopt, {0, 1}});
  c1.realms.push_back(Realm(RealmHashAlgorithm::kSha256, 20, false, false));
  RealmReferenceValue partial =
      Realm(RealmHashAlgorithm::kSha512, 30, false, true);
  partial.rem[1] = Pattern(31, 64);
  c1.realms.push_back(partial);
  Comid c2;
  c2.tag_identity.id = TestUuid(4);
  c2.realms.push_back(Realm(RealmHashAlgorithm::kSha384, 40, true, false));
  multi.comids = {c1, c2};
  ok &= Write(dir, "corim-2025-multi.cbor",
              EncodeCorim(multi, Profile::kCcaRealm2025));
  ok &= Write(dir, "corim-legacy-multi.cbor",
              EncodeCorim(multi, Profile::kCcaRealmLegacy));
  ok &= Write(dir, "comid-2025.cbor", EncodeComid(c1, Profile::kCcaRealm2025));
  ok &= Write(dir, "comid-legacy.cbor",
              EncodeComid(c1, Profile::kCcaRealmLegacy));
  // Signed CoRIMs, one per curve: root (P-384) -> leaf, x5chain = [leaf]
  // for P-256 and [leaf, intermediate] otherwise; signer name "Sample".
  const struct {
    const char* name;
    crypto::Curve curve;
  } kCurves[] = {{"es256", crypto::Curve::kP256},
                 {"es384", crypto::Curve::kP384},
                 {"es512", crypto::Curve::kP521}};
  for (const auto& k : kCurves) {
    auto root = crypto::EcPrivateKey::Generate(crypto::Curve::kP384);
    auto inter = crypto::EcPrivateKey::Generate(crypto::Curve::kP384);
    auto leaf = crypto::EcPrivateKey::Generate(k.curve);
    if (!root.ok() || !inter.ok() || !leaf.ok()) return 1;
    auto inter_der = testing::MakeCertDer("Sample Intermediate", *inter,
                                          "Sample Root", *root, true, 2);
    auto leaf_der = testing::MakeCertDer(
        "Sample Leaf", *leaf, "Sample Intermediate", *inter, false, 3);
    auto leaf_pem = leaf->ToPem();
    if (!inter_der.ok() || !leaf_der.ok() || !leaf_pem.ok()) return 1;
    std::string chain = testing::DerToPem(*leaf_der);
    if (k.curve != crypto::Curve::kP256) chain += testing::DerToPem(*inter_der);
    auto signer = CorimSigner::FromPem(*leaf_pem, chain, "Sample");
    if (!signer.ok()) return 1;
    ReferenceValues v;
    v.corim_id = std::string("signed-") + k.name;
    Comid c;
    c.tag_identity.id = TestUuid(1);
    c.realms.push_back(Realm(RealmHashAlgorithm::kSha256, 3, true, true));
    v.comids.push_back(c);
    ok &= Write(dir, std::string("signed-corim-2025-") + k.name + ".cbor",
                SignCorim(v, Profile::kCcaRealm2025, *signer));
    if (k.curve == crypto::Curve::kP384) {
      // For corim:tool_test (`corim verify --at`): the same with a CoRIM
      // validity that ended a minute ago (the certificates are valid from an
      // hour ago for a day), and the intermediate as a PEM trust anchor.
      const int64_t now = static_cast<int64_t>(std::time(nullptr));
      v.validity = Validity{now - 1800, now - 60};
      ok &= Write(dir, "signed-corim-2025-es384-window.cbor",
                  SignCorim(v, Profile::kCcaRealm2025, *signer));
      const std::string pem = testing::DerToPem(*inter_der);
      ok &= Write(dir, "signed-corim-2025-es384.inter.pem",
                  absl::StatusOr<EncodedObject>(EncodedObject{
                      std::vector<uint8_t>(pem.begin(), pem.end()), ""}));
    }
    ok &= Write(dir, std::string("signed-corim-2025-") + k.name + ".leaf.der",
                absl::StatusOr<EncodedObject>(EncodedObject{*leaf_der, ""}));
    ok &= Write(dir, std::string("signed-corim-2025-") + k.name + ".inter.der",
                absl::StatusOr<EncodedObject>(EncodedObject{*inter_der, ""}));
  }
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace realm_measurements::corim

int main(int argc, char** argv) {
  return realm_measurements::corim::Main(argc, argv);
}
