#include "tools/bench/appraisal_work.h"

// ECDSA_do_verify and the EC_KEY API are what `openssl speed` times; OpenSSL
// 3 marks them deprecated.
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/obj_mac.h>
#include <time.h>

#include <algorithm>
#include <ctime>
#include <fstream>
#include <iterator>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "corim/comid.h"
#include "corim/cose.h"
#include "corim/token.h"
#include "corim/verify.h"

namespace realm_measurements::bench {
namespace {

absl::StatusOr<std::string> Read(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  return std::string(std::istreambuf_iterator<char>(f), {});
}

std::vector<uint8_t> Bytes(const std::string& s) {
  return std::vector<uint8_t>(s.begin(), s.end());
}

double ThreadCpuSeconds() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

// One prepared ECDSA verification: key, digest and signature decoded.
struct Prepared {
  EC_KEY* key = nullptr;
  ECDSA_SIG* sig = nullptr;
  std::vector<uint8_t> digest;
  Prepared() = default;
  Prepared(const Prepared&) = delete;
  Prepared& operator=(const Prepared&) = delete;
  ~Prepared() {
    EC_KEY_free(key);
    ECDSA_SIG_free(sig);
  }
  bool Verify() const {
    return ECDSA_do_verify(digest.data(), static_cast<int>(digest.size()), sig,
                           key) == 1;
  }
};

absl::Status Prepare(const corim::CoseSign1& envelope,
                     const crypto::EcPublicKey& key, Prepared& out) {
  absl::StatusOr<corim::CoseAlgorithm> alg = envelope.Algorithm();
  if (!alg.ok()) return alg.status();
  const std::vector<uint8_t> tbs =
      corim::SigStructure(envelope.protected_bytes, {}, envelope.payload);
  absl::StatusOr<std::vector<uint8_t>> digest =
      crypto::HashOnce(corim::CoseAlgorithmDigest(*alg), tbs);
  if (!digest.ok()) return digest.status();
  out.digest = *std::move(digest);
  absl::StatusOr<std::vector<uint8_t>> point = key.ToSec1();
  if (!point.ok()) return point.status();
  const int nid = key.curve() == crypto::Curve::kP256   ? NID_X9_62_prime256v1
                  : key.curve() == crypto::Curve::kP384 ? NID_secp384r1
                                                        : NID_secp521r1;
  out.key = EC_KEY_new_by_curve_name(nid);
  const EC_GROUP* group = out.key ? EC_KEY_get0_group(out.key) : nullptr;
  EC_POINT* p = group ? EC_POINT_new(group) : nullptr;
  const bool ok = p != nullptr &&
                  EC_POINT_oct2point(group, p, point->data(), point->size(),
                                     nullptr) == 1 &&
                  EC_KEY_set_public_key(out.key, p) == 1;
  EC_POINT_free(p);
  if (!ok) return absl::InternalError("EC key for the limit");
  const size_t half = envelope.signature.size() / 2;
  BIGNUM* r = BN_bin2bn(envelope.signature.data(), half, nullptr);
  BIGNUM* s = BN_bin2bn(envelope.signature.data() + half, half, nullptr);
  out.sig = ECDSA_SIG_new();
  if (r == nullptr || s == nullptr || out.sig == nullptr ||
      ECDSA_SIG_set0(out.sig, r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return absl::InternalError("ECDSA_SIG for the limit");
  }
  if (!out.Verify()) {
    return absl::InternalError("the workload's signature does not verify");
  }
  return absl::OkStatus();
}

class OpenSslLimit : public VerifyLimit {
 public:
  bool Platform() const override { return platform_.Verify(); }
  bool Realm() const override { return realm_.Verify(); }
  std::string Curves() const override { return curves_; }

  Prepared platform_;
  Prepared realm_;
  std::string curves_;
};

}  // namespace

absl::StatusOr<Workload> Token02(const std::string& dir) {
  Workload w;
  w.name = "cca-token-02 (ES256 platform, ES384 realm)";
  absl::StatusOr<std::string> token = Read(dir + "/cca-token-02.cbor");
  absl::StatusOr<std::string> cpak = Read(dir + "/ta-iak-p256.json");
  absl::StatusOr<std::string> corim = Read(dir + "/corim-cca-realm-2025.cbor");
  if (!token.ok()) return token.status();
  if (!cpak.ok()) return cpak.status();
  if (!corim.ok()) return corim.status();
  w.token = Bytes(*token);
  w.cpak_text = *cpak;
  absl::StatusOr<corim::CcaToken> t = corim::DecodeCcaToken(w.token);
  if (!t.ok()) return t.status();
  absl::StatusOr<crypto::EcPublicKey> key =
      corim::LoadPublicKey(w.cpak_text, t->platform.instance_id);
  if (!key.ok()) return key.status();
  w.cpak = std::make_shared<const crypto::EcPublicKey>(*std::move(key));
  absl::StatusOr<corim::DecodedCorim> d = corim::DecodeCorim(Bytes(*corim));
  if (!d.ok()) return d.status();
  w.refs = corim::FlattenReferenceValues(d->values);
  return w;
}

absl::StatusOr<Workload> DraftFfm00(const std::string& dir) {
  Workload w;
  w.name = "draft-ffm-00 (ES384 platform, ES384 realm)";
  absl::StatusOr<std::string> token =
      Read(dir + "/cca-token-draft-ffm-00.cbor");
  absl::StatusOr<std::string> cpak = Read(dir + "/cpak-tfm-p384.jwk.json");
  if (!token.ok()) return token.status();
  if (!cpak.ok()) return cpak.status();
  w.token = Bytes(*token);
  w.cpak_text = *cpak;
  absl::StatusOr<crypto::EcPublicKey> key = corim::LoadPublicKey(w.cpak_text);
  if (!key.ok()) return key.status();
  w.cpak = std::make_shared<const crypto::EcPublicKey>(*std::move(key));
  absl::StatusOr<corim::CcaToken> t = corim::DecodeCcaToken(w.token);
  if (!t.ok()) return t.status();
  // A reference value equal to the realm claims (full match).
  corim::RealmReferenceValue r;
  r.algorithm = corim::RealmHashAlgorithm::kSha256;
  r.rim = t->realm.initial_measurement;
  for (int i = 0; i < corim::kRemCount; ++i) {
    r.rem[i] = t->realm.extensible_measurements[i];
  }
  r.rpv = t->realm.personalization_value;
  w.refs = {r};
  return w;
}

absl::StatusOr<std::unique_ptr<VerifyLimit>> VerifyLimit::For(
    const Workload& w) {
  absl::StatusOr<corim::CcaToken> t = corim::DecodeCcaToken(w.token);
  if (!t.ok()) return t.status();
  absl::StatusOr<crypto::EcPublicKey> rak =
      corim::RealmAttestationKey(t->realm);
  if (!rak.ok()) return rak.status();
  auto limit = std::make_unique<OpenSslLimit>();
  if (absl::Status s = Prepare(t->platform_envelope, *w.cpak, limit->platform_);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = Prepare(t->realm_envelope, *rak, limit->realm_);
      !s.ok()) {
    return s;
  }
  limit->curves_ = absl::StrCat(corim::CurveName(w.cpak->curve()), " + ",
                                corim::CurveName(rak->curve()));
  return limit;
}

absl::StatusOr<std::vector<double>> CpuSecondsPerCall(
    const std::vector<std::function<bool()>>& fns, double seconds, int rounds) {
  std::vector<double> best(fns.size(), std::numeric_limits<double>::max());
  for (int round = 0; round < rounds; ++round) {
    for (size_t i = 0; i < fns.size(); ++i) {
      const double start = ThreadCpuSeconds();
      double now = start;
      int64_t calls = 0;
      // Check the clock every 16 calls (a call is 0.1-2 ms).
      while (now - start < seconds) {
        for (int k = 0; k < 16; ++k, ++calls) {
          if (!fns[i]()) {
            return absl::InternalError(
                absl::StrCat("function ", i, " failed in round ", round));
          }
        }
        now = ThreadCpuSeconds();
      }
      best[i] = std::min(best[i], (now - start) / calls);
    }
  }
  return best;
}

bool AppraiseOnce(const Workload& w, corim::PlatformTokenCache* platform,
                  corim::PublicKeyCache* keys) {
  absl::StatusOr<corim::CcaToken> t = corim::DecodeCcaToken(w.token);
  if (!t.ok()) return false;
  corim::AppraisalOptions o;
  o.verify.cpak = w.cpak.get();
  o.verify.platform_cache = platform;
  o.verify.key_cache = keys;
  return corim::AppraiseCcaToken(*t, w.refs, o).affirms();
}

bool AppraiseWithEarOnce(const Workload& w, corim::PlatformTokenCache& platform,
                         corim::PublicKeyCache& keys,
                         const corim::EarSigner& signer) {
  absl::StatusOr<corim::CcaToken> t = corim::DecodeCcaToken(w.token);
  if (!t.ok()) return false;
  absl::StatusOr<corim::PublicKeyCache::Key> cpak =
      corim::LoadPublicKey(keys, w.cpak_text, t->platform.instance_id);
  if (!cpak.ok()) return false;
  corim::AppraisalOptions o;
  o.verify.cpak = cpak->get();
  o.verify.platform_cache = &platform;
  o.verify.key_cache = &keys;
  const corim::AppraisalResult r = corim::AppraiseCcaToken(*t, w.refs, o);
  corim::EarOptions ear;
  ear.issued_at = static_cast<int64_t>(std::time(nullptr));
  const corim::AppraisalDocuments d = corim::AppraisalToDocuments(*t, r, ear);
  absl::StatusOr<std::string> jwt = signer.Sign(d.ear_json);
  return r.affirms() && jwt.ok() && !d.report_json.empty();
}

}  // namespace realm_measurements::bench
