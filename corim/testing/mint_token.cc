// Test tool: signs a CCA token whose realm claims carry the given RIM and
// REMs (the sample claims of corim/internal/token_samples.h otherwise), with
// fresh CPAK and RAK keys, and writes the CPAK as a JWK for `--cpak`.
// Usage: mint_token TOKEN_OUT CPAK_JWK_OUT HASH RIM REM0 REM1 REM2 REM3
// (HASH "sha-256"/"sha-384"/"sha-512", measurements in hex).
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "base/crypto.h"
#include "corim/internal/token_samples.h"
#include "corim/token.h"

namespace realm_measurements::corim {
namespace {

std::vector<uint8_t> FromHex(const std::string& hex) {
  std::string s = absl::HexStringToBytes(hex);
  return std::vector<uint8_t>(s.begin(), s.end());
}

std::string B64Url(const std::vector<uint8_t>& b, size_t from, size_t n) {
  return absl::WebSafeBase64Escape(
      absl::string_view(reinterpret_cast<const char*>(b.data()) + from, n));
}

int Main(int argc, char** argv) {
  if (argc != 9) {
    std::fprintf(stderr,
                 "usage: mint_token TOKEN_OUT CPAK_JWK_OUT HASH RIM REM0 "
                 "REM1 REM2 REM3\n");
    return 2;
  }
  absl::StatusOr<crypto::EcPrivateKey> cpak =
      crypto::EcPrivateKey::Generate(crypto::Curve::kP256);
  absl::StatusOr<crypto::EcPrivateKey> rak =
      crypto::EcPrivateKey::Generate(crypto::Curve::kP384);
  if (!cpak.ok() || !rak.ok()) return 1;
  RealmClaims realm = internal::SampleRealmClaims(RealmProfile::kV1, argv[3]);
  realm.initial_measurement = FromHex(argv[4]);
  realm.extensible_measurements.clear();
  for (int k = 0; k < 4; ++k) {
    realm.extensible_measurements.push_back(FromHex(argv[5 + k]));
  }
  absl::StatusOr<std::vector<uint8_t>> token =
      SignCcaToken(TopLevelForm::kCmwCollection,
                   internal::SamplePlatformClaims(), realm, *cpak, *rak);
  if (!token.ok()) {
    std::fprintf(stderr, "%s\n", std::string(token.status().message()).c_str());
    return 1;
  }
  absl::StatusOr<crypto::EcPublicKey> pub = cpak->PublicKey();
  if (!pub.ok()) return 1;
  absl::StatusOr<std::vector<uint8_t>> point = pub->ToSec1();
  if (!point.ok()) return 1;
  std::ofstream t(argv[1], std::ios::binary);
  t.write(reinterpret_cast<const char*>(token->data()), token->size());
  std::ofstream j(argv[2]);
  j << absl::StrCat(R"({"kty": "EC", "crv": "P-256", "x": ")",
                    B64Url(*point, 1, 32), R"(", "y": ")",
                    B64Url(*point, 33, 32), R"("})");
  return t.good() && j.good() ? 0 : 1;
}

}  // namespace
}  // namespace realm_measurements::corim

int main(int argc, char** argv) {
  return realm_measurements::corim::Main(argc, argv);
}
