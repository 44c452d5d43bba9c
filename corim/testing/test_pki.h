// Test-only X.509 issuing for signed-CoRIM tests: fresh CA, intermediate and
// leaf certificates made with the crypto library itself (the production
// wrapper base/crypto.h only parses and verifies certificates).
#ifndef REALM_MEASUREMENTS_CORIM_TESTING_TEST_PKI_H_
#define REALM_MEASUREMENTS_CORIM_TESTING_TEST_PKI_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/crypto.h"

namespace realm_measurements::corim::testing {

// A v3 certificate for `subject_key` named CN=`subject`, signed (ECDSA with
// SHA-256) by `issuer_key` for CN=`issuer`, valid from an hour ago for a
// day. CA certificates get basicConstraints CA:TRUE and keyCertSign; others
// CA:FALSE and digitalSignature.
absl::StatusOr<std::vector<uint8_t>> MakeCertDer(
    const std::string& subject, const crypto::EcPrivateKey& subject_key,
    const std::string& issuer, const crypto::EcPrivateKey& issuer_key, bool ca,
    long serial);

// The same with the validity given as seconds from now (an expired
// certificate: both negative).
absl::StatusOr<std::vector<uint8_t>> MakeCertDer(
    const std::string& subject, const crypto::EcPrivateKey& subject_key,
    const std::string& issuer, const crypto::EcPrivateKey& issuer_key, bool ca,
    long serial, long not_before_seconds, long not_after_seconds);

std::string DerToPem(const std::vector<uint8_t>& der);

}  // namespace realm_measurements::corim::testing

#endif  // REALM_MEASUREMENTS_CORIM_TESTING_TEST_PKI_H_
