// corim: inspect CoRIMs.
//
//   corim decode FILE            decoded reference values as JSON (realm
//                                CoRIMs; platform CoRIMs: firmware
//                                reference values and CPAK trust anchors)
//   corim decode --diag FILE     CBOR diagnostic notation (embedded CBOR
//                                expanded: CoMIDs, COSE headers and payload)
//   corim verify [--at TIME] --trust-anchor CA.pem FILE
//                                verify a signed CoRIM (at TIME, default
//                                now), then print as decode
//
// A signed CoRIM (tag 18) given to `decode` is decoded without verifying
// its signature (the output says so). Exit status: 0 ok, 1 bad input,
// 2 usage.
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "base/crypto.h"
#include "base/file_reading.h"
#include "base/working_directory.h"
#include "corim/cbor.h"
#include "corim/comid.h"
#include "corim/platform_endorsements.h"
#include "corim/reference_values.h"
#include "corim/signed_corim.h"

namespace realm_measurements::corim {
namespace {

constexpr char kUsage[] =
    "usage: corim decode [--diag] FILE\n"
    "       corim verify [--at TIME] --trust-anchor CA.pem FILE\n";

// --help: the usage, then what each command does.
constexpr char kHelp[] =
    "Inspects CBOR CoRIMs (such as realm-measurements --corim-output).\n"
    "\n"
    "Commands:\n"
    "  decode FILE         the decoded reference values as JSON; a signed\n"
    "                      CoRIM is decoded without checking its signature\n"
    "  decode --diag FILE  CBOR diagnostic notation (CoMIDs, COSE headers and\n"
    "                      payload expanded)\n"
    "  verify --trust-anchor CA.pem FILE\n"
    "                      verify a signed CoRIM against CA.pem (x5chain\n"
    "                      certificates and the corim-meta signature-validity\n"
    "                      at the verification time), then print as decode;\n"
    "                      a note on stderr when the CoRIM's own validity\n"
    "                      (key 4) does not contain that time, as a verifier\n"
    "                      would then not use its reference values\n"
    "  --at TIME           verify at TIME instead of now: RFC 3339\n"
    "                      (2026-01-31T00:00:00Z) or Unix seconds\n"
    "  -h, --help          print this help\n"
    "\n"
    "Exit status: 0 ok, 1 bad input, 2 usage.\n";

// CoRIMs and certificates are small: at most 16 MiB, and only regular
// files (a device or FIFO was read until memory ran out).
constexpr uint64_t kMaxInputSize = 16 << 20;

bool ReadFile(const std::string& path, std::vector<uint8_t>& out) {
  absl::StatusOr<std::string> data =
      measure::ReadSmallRegularFile(path, kMaxInputSize);
  if (!data.ok()) {
    std::cerr << "corim: " << data.status().message() << "\n";
    return false;
  }
  out.assign(data->begin(), data->end());
  return true;
}

int Fail(const absl::Status& s) {
  std::cerr << "corim: " << s.message() << "\n";
  return 1;
}

int Decode(const std::vector<uint8_t>& bytes, bool diag) {
  if (diag) {
    absl::StatusOr<CborValue> v = DecodeCbor(bytes, "input");
    if (!v.ok()) return Fail(v.status());
    DiagnosticOptions options;
    options.expand_embedded = true;
    std::cout << ToDiagnostic(*v, options) << "\n";
    return 0;
  }
  // Signed: decode the payload, without verification.
  if (!bytes.empty() && bytes[0] == 0xd2) {
    absl::StatusOr<CborValue> v = DecodeCbor(bytes, "signed CoRIM");
    if (!v.ok()) return Fail(v.status());
    const CborValue& arr = v->tag_content();
    if (!arr.is_array() || arr.array().size() != 4 ||
        !arr.array()[2].is_bytes()) {
      return Fail(absl::InvalidArgumentError(
          "signed CoRIM: expected a COSE_Sign1 with an attached payload"));
    }
    absl::StatusOr<DecodedCorim> d = DecodeCorim(arr.array()[2].bytes());
    if (!d.ok()) return Fail(d.status());
    std::cerr << "corim: signed CoRIM; signature NOT verified (use `verify`)\n";
    std::cout << DecodedCorimToJson(*d);
    return 0;
  }
  absl::StatusOr<DecodedCorim> d = DecodeCorim(bytes);
  if (!d.ok()) {
    // A platform CoRIM (§3.14): firmware reference values and CPAKs.
    absl::StatusOr<CborValue> v = DecodeCbor(bytes, "input");
    if (v.ok()) {
      const CborValue* c = v->is_tag() ? &v->tag_content() : nullptr;
      const CborValue* p = c != nullptr ? c->FindUint(3) : nullptr;
      if (p != nullptr && p->is_tag()) p = &p->tag_content();
      if (p != nullptr && p->is_text() && IsPlatformCorimProfile(p->text())) {
        absl::StatusOr<PlatformEndorsements> e = PlatformCorimFromCbor(*v);
        if (!e.ok()) return Fail(e.status());
        std::cout << PlatformEndorsementsToJson(*e) << "\n";
        return 0;
      }
    }
    return Fail(d.status());
  }
  std::cout << DecodedCorimToJson(*d);
  return 0;
}

int Main(int argc, char** argv) {
  if (absl::Status s = EnterBuildWorkingDirectory(); !s.ok()) {
    std::cerr << "corim: " << s.message() << "\n";
    return 2;
  }
  std::vector<std::string> args(argv + 1, argv + argc);
  for (const std::string& a : args) {
    if (a == "--help" || a == "-h") {
      std::cout << kUsage << "\n" << kHelp;
      return 0;
    }
  }
  if (args.empty()) {
    std::cerr << kUsage;
    return 2;
  }
  const std::string cmd = args[0];
  bool diag = false;
  std::string anchor_path, file;
  std::optional<int64_t> at;
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--diag" && cmd == "decode") {
      diag = true;
    } else if (args[i] == "--trust-anchor" && cmd == "verify" &&
               i + 1 < args.size()) {
      anchor_path = args[++i];
    } else if (args[i] == "--at" && cmd == "verify" && i + 1 < args.size()) {
      absl::StatusOr<int64_t> t = ParseTimeText(args[++i], "--at");
      if (!t.ok()) {
        std::cerr << "corim: " << t.status().message() << "\n";
        return 2;
      }
      at = *t;
    } else if (file.empty() && !args[i].empty() && args[i][0] != '-') {
      file = args[i];
    } else {
      std::cerr << "corim: unexpected argument \"" << args[i] << "\"\n"
                << kUsage;
      return 2;
    }
  }
  if ((cmd != "decode" && cmd != "verify") || file.empty() ||
      (cmd == "verify" && anchor_path.empty())) {
    std::cerr << kUsage;
    return 2;
  }
  std::vector<uint8_t> bytes;
  if (!ReadFile(file, bytes)) return 1;
  if (cmd == "decode") return Decode(bytes, diag);

  std::vector<uint8_t> pem;
  if (!ReadFile(anchor_path, pem)) return 1;
  absl::StatusOr<crypto::Certificate> anchor =
      crypto::Certificate::FromPem(std::string(pem.begin(), pem.end()));
  if (!anchor.ok()) return Fail(anchor.status());
  const int64_t time = at.value_or(static_cast<int64_t>(std::time(nullptr)));
  absl::StatusOr<VerifiedCorim> v = VerifySignedCorim(bytes, *anchor, time);
  if (absl::IsUnauthenticated(v.status())) {
    // Certificates and signature-validity depend on the time: name it.
    std::cerr << "corim: " << v.status().message() << " (verified at "
              << EpochToRfc3339(time) << ")\n";
    return 1;
  }
  if (!v.ok()) return Fail(v.status());
  std::cerr << "corim: signature OK at " << EpochToRfc3339(time) << " ("
            << v->leaf_subject << ", signer \"" << v->signer_name << "\")\n";
  if (!ValidAt(v->corim.values.validity, time)) {
    std::cerr << "corim: note: CoRIM validity ("
              << ValidityToText(*v->corim.values.validity)
              << ") does not contain " << EpochToRfc3339(time)
              << "; a verifier appraising then does not use its reference "
                 "values\n";
  }
  std::cout << DecodedCorimToJson(v->corim);
  return 0;
}

}  // namespace
}  // namespace realm_measurements::corim

int main(int argc, char** argv) {
  return realm_measurements::corim::Main(argc, argv);
}
