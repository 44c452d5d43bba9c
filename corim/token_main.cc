// cca-token: verify or appraise a CCA attestation token file.
//
//   cca-token verify TOKEN --cpak KEY [--nonce HEX] [--strict] [--format json]
//   cca-token appraise TOKEN --cpak KEY
//       (--reference-corim FILE | --rim HEX [--rpv HEX] [--rem0 HEX] ...)...
//       [--nonce HEX] [--strict] [--require-hash-alg] [--format json]
//       [--ear-key PEM]
//
// KEY: JWK, trust-anchor store JSON (looked up by the token's instance-id),
// PEM SubjectPublicKeyInfo or CBOR COSE_Key. Each --rim starts a reference
// value; --rpv/--remN apply to the latest one. --ear-key signs the EAR as
// an ES256 JWT. Exit status: 0 when verification passes (verify) or the
// appraisal affirms (appraise); 1 otherwise; 2 on usage or input errors.
#include <ctime>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "corim/appraisal.h"
#include "corim/comid.h"
#include "corim/reference_values.h"
#include "corim/token.h"
#include "corim/verify.h"
#include "measure/crypto.h"
#include "measure/working_directory.h"
#include "nlohmann/json.hpp"

namespace realm_measurements::corim {
namespace {

constexpr int kExitNotOk = 1;
constexpr int kExitUsage = 2;

constexpr char kUsage[] =
    "usage: cca-token verify TOKEN --cpak KEY [--nonce HEX] [--strict] "
    "[--format json]\n"
    "       cca-token appraise TOKEN --cpak KEY (--reference-corim FILE | "
    "--rim HEX [--rpv HEX] [--rem0..--rem3 HEX])... [--nonce HEX] [--strict] "
    "[--require-hash-alg] [--format json] [--ear-key PEM]\n";

// --help: the usage, then what each option does.
constexpr char kHelp[] =
    "Verifies an Arm CCA attestation token (tag 399 or CMW tag 907) and\n"
    "appraises it against reference values, printing each check.\n"
    "\n"
    "Options:\n"
    "  --cpak KEY              platform key: JWK, PEM SubjectPublicKeyInfo,\n"
    "                          COSE_Key or a Veraison trust-anchor JSON "
    "(looked\n"
    "                          up by the token's instance-id)\n"
    "  --nonce HEX             the verifier's challenge (freshness check;\n"
    "                          skipped without it)\n"
    "  --strict                lint checks L1-L11 fail the verification\n"
    "  --format json           the report as JSON (default text)\n"
    "  --reference-corim FILE  reference values from a CoRIM (repeatable)\n"
    "  --rim HEX               starts an inline reference value; --rpv HEX "
    "and\n"
    "                          --rem0..--rem3 HEX apply to the latest one\n"
    "  --require-hash-alg      the hash algorithm must match as well\n"
    "  --ear-key PEM           sign the EAR as an ES256 JWT with this EC key\n"
    "  -h, --help              print this help\n"
    "\n"
    "Exit status: 0 when verification passes (verify) or the appraisal\n"
    "affirms (appraise); 1 otherwise; 2 on usage or input errors.\n";

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::string data((std::istreambuf_iterator<char>(f)), {});
  // Tokens, keys and CoRIMs are small; refuse anything absurd.
  if (data.size() > 16 * 1024 * 1024) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": expected at most 16 MiB, found ", data.size()));
  }
  return data;
}

absl::StatusOr<std::vector<uint8_t>> ParseHex(absl::string_view flag,
                                              absl::string_view hex) {
  if (hex.empty() || hex.size() % 2 != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        flag, ": expected an even number of hex digits, found ", hex.size()));
  }
  for (char c : hex) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError(absl::StrCat(
          flag, ": expected hex digits, found '", std::string(1, c), "'"));
    }
  }
  std::string bytes = absl::HexStringToBytes(hex);
  return std::vector<uint8_t>(bytes.begin(), bytes.end());
}

absl::StatusOr<RealmHashAlgorithm> AlgorithmForSize(size_t n) {
  if (n == 32) return RealmHashAlgorithm::kSha256;
  if (n == 48) return RealmHashAlgorithm::kSha384;
  if (n == 64) return RealmHashAlgorithm::kSha512;
  return absl::InvalidArgumentError(
      absl::StrCat("--rim: expected 32, 48 or 64 bytes, found ", n));
}

struct Args {
  std::string command, token_path, cpak_path, format = "text", ear_key_path;
  std::optional<std::vector<uint8_t>> nonce;
  bool strict = false, require_hash_alg = false;
  std::vector<std::string> corims;
  std::vector<RealmReferenceValue> inline_refs;
};

absl::StatusOr<Args> ParseArgs(int argc, char** argv) {
  Args a;
  if (argc < 3) return absl::InvalidArgumentError("missing command or TOKEN");
  a.command = argv[1];
  if (a.command != "verify" && a.command != "appraise") {
    return absl::InvalidArgumentError(absl::StrCat(
        "command: expected verify or appraise, found \"", a.command, "\""));
  }
  a.token_path = argv[2];
  for (int i = 3; i < argc; ++i) {
    const std::string flag = argv[i];
    auto value = [&]() -> absl::StatusOr<std::string> {
      if (i + 1 >= argc) {
        return absl::InvalidArgumentError(
            absl::StrCat(flag, ": expected a value, found none"));
      }
      return std::string(argv[++i]);
    };
    if (flag == "--strict") {
      a.strict = true;
    } else if (flag == "--require-hash-alg") {
      a.require_hash_alg = true;
    } else if (flag == "--cpak" || flag == "--format" || flag == "--nonce" ||
               flag == "--ear-key" || flag == "--reference-corim" ||
               flag == "--rim" || flag == "--rpv" ||
               absl::StartsWith(flag, "--rem")) {
      absl::StatusOr<std::string> v = value();
      if (!v.ok()) return v.status();
      if (flag == "--cpak") {
        a.cpak_path = *v;
      } else if (flag == "--format") {
        if (*v != "json" && *v != "text") {
          return absl::InvalidArgumentError(absl::StrCat(
              "--format: expected json or text, found \"", *v, "\""));
        }
        a.format = *v;
      } else if (flag == "--nonce") {
        auto n = ParseHex(flag, *v);
        if (!n.ok()) return n.status();
        a.nonce = *n;
      } else if (flag == "--ear-key") {
        a.ear_key_path = *v;
      } else if (flag == "--reference-corim") {
        a.corims.push_back(*v);
      } else if (flag == "--rim") {
        auto rim = ParseHex(flag, *v);
        if (!rim.ok()) return rim.status();
        auto alg = AlgorithmForSize(rim->size());
        if (!alg.ok()) return alg.status();
        RealmReferenceValue ref;
        ref.algorithm = *alg;
        ref.rim = *rim;
        a.inline_refs.push_back(std::move(ref));
      } else {
        if (a.inline_refs.empty()) {
          return absl::InvalidArgumentError(
              absl::StrCat(flag, ": expected after a --rim, found first"));
        }
        auto bytes = ParseHex(flag, *v);
        if (!bytes.ok()) return bytes.status();
        RealmReferenceValue& ref = a.inline_refs.back();
        if (flag == "--rpv") {
          ref.rpv = *bytes;
        } else if (flag.size() == 6 && flag[5] >= '0' && flag[5] <= '3') {
          ref.rem[flag[5] - '0'] = *bytes;
        } else {
          return absl::InvalidArgumentError(
              absl::StrCat("unknown flag \"", flag, "\""));
        }
        if (absl::Status s = ValidateRealm(ref); !s.ok()) return s;
      }
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown argument \"", flag, "\""));
    }
  }
  if (a.cpak_path.empty()) {
    return absl::InvalidArgumentError(
        "--cpak: expected a key file, found none");
  }
  if (a.command == "appraise" && a.corims.empty() && a.inline_refs.empty()) {
    return absl::InvalidArgumentError(
        "appraise: expected --reference-corim or --rim, found neither");
  }
  return a;
}

int Fail(const absl::Status& status) {
  std::cerr << "cca-token: " << status.message() << "\n";
  return kExitUsage;
}

int Run(int argc, char** argv) {
  // --help anywhere (e.g. `cca-token verify --help`) wins over every
  // other argument check.
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h" || (i == 1 && argc == 2 && a == "help")) {
      std::cout << kUsage << "\n" << kHelp;
      return 0;
    }
  }
  if (absl::Status s = EnterBuildWorkingDirectory(); !s.ok()) {
    std::cerr << "cca-token: " << s.message() << "\n";
    return kExitUsage;
  }
  absl::StatusOr<Args> args = ParseArgs(argc, argv);
  if (!args.ok()) {
    std::cerr << "cca-token: " << args.status().message() << "\n" << kUsage;
    return kExitUsage;
  }
  absl::StatusOr<std::string> token_bytes = ReadFile(args->token_path);
  if (!token_bytes.ok()) return Fail(token_bytes.status());
  TokenDecodeOptions decode_options;
  decode_options.strict = args->strict;
  absl::StatusOr<CcaToken> token =
      DecodeCcaToken(absl::Span<const uint8_t>(
                         reinterpret_cast<const uint8_t*>(token_bytes->data()),
                         token_bytes->size()),
                     decode_options);
  if (!token.ok()) {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat(args->token_path, ": ", token.status().message())));
  }
  absl::StatusOr<std::string> key_text = ReadFile(args->cpak_path);
  if (!key_text.ok()) return Fail(key_text.status());
  absl::StatusOr<crypto::EcPublicKey> cpak =
      LoadPublicKey(*key_text, token->platform.instance_id);
  if (!cpak.ok()) {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat(args->cpak_path, ": ", cpak.status().message())));
  }
  VerifyOptions verify;
  verify.cpak = &*cpak;
  verify.nonce = args->nonce;
  verify.strict = args->strict;

  if (args->command == "verify") {
    VerificationReport report = VerifyCcaToken(*token, verify);
    std::cout << (args->format == "json"
                      ? VerificationReportToJson(report) + "\n"
                      : VerificationReportToText(report));
    return report.ok() ? 0 : kExitNotOk;
  }

  std::vector<RealmReferenceValue> refs = args->inline_refs;
  for (const std::string& path : args->corims) {
    absl::StatusOr<std::string> data = ReadFile(path);
    if (!data.ok()) return Fail(data.status());
    absl::StatusOr<DecodedCorim> corim = DecodeCorim(absl::Span<const uint8_t>(
        reinterpret_cast<const uint8_t*>(data->data()), data->size()));
    if (!corim.ok()) {
      return Fail(absl::InvalidArgumentError(
          absl::StrCat(path, ": ", corim.status().message())));
    }
    std::vector<RealmReferenceValue> more =
        FlattenReferenceValues(corim->values);
    refs.insert(refs.end(), more.begin(), more.end());
  }
  AppraisalOptions options;
  options.verify = verify;
  options.require_hash_algorithm_match = args->require_hash_alg;
  AppraisalResult result = AppraiseCcaToken(*token, refs, options);
  EarOptions ear;
  ear.issued_at = static_cast<int64_t>(std::time(nullptr));
  ear.nonce = args->nonce;
  std::optional<std::string> jwt;
  if (!args->ear_key_path.empty()) {
    absl::StatusOr<std::string> pem = ReadFile(args->ear_key_path);
    if (!pem.ok()) return Fail(pem.status());
    absl::StatusOr<crypto::EcPrivateKey> key =
        crypto::EcPrivateKey::FromPem(*pem);
    if (!key.ok()) {
      return Fail(absl::InvalidArgumentError(
          absl::StrCat(args->ear_key_path, ": ", key.status().message())));
    }
    absl::StatusOr<std::string> signed_jwt =
        SignEarJwt(EarToJson(*token, result, ear), *key);
    if (!signed_jwt.ok()) return Fail(signed_jwt.status());
    jwt = *signed_jwt;
  }
  if (args->format == "json") {
    nlohmann::json j =
        nlohmann::json::parse(AppraisalToJson(*token, result, ear));
    if (jwt) j["ear-jwt"] = *jwt;
    std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
              << "\n";
  } else {
    std::cout << AppraisalToText(result);
    if (jwt) std::cout << "EAR JWT: " << *jwt << "\n";
  }
  return result.affirms() ? 0 : kExitNotOk;
}

}  // namespace
}  // namespace realm_measurements::corim

int main(int argc, char** argv) {
  return realm_measurements::corim::Run(argc, argv);
}
