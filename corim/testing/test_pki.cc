#include "corim/testing/test_pki.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace realm_measurements::corim::testing {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

absl::StatusOr<PkeyPtr> LibKey(const crypto::EcPrivateKey& key) {
  absl::StatusOr<std::string> pem = key.ToPem();
  if (!pem.ok()) return pem.status();
  BIO* in = BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size()));
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(in, nullptr, nullptr, nullptr);
  BIO_free(in);
  if (pkey == nullptr) return absl::InternalError("PEM_read_bio_PrivateKey");
  return PkeyPtr(pkey);
}

bool AddExt(X509* x, int nid, const char* value) {
  X509_EXTENSION* ext = X509V3_EXT_nconf_nid(nullptr, nullptr, nid, value);
  if (ext == nullptr) return false;
  const bool ok = X509_add_ext(x, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

bool SetName(X509* x, const std::string& cn, bool subject) {
  X509_NAME* n = X509_NAME_new();
  bool ok =
      X509_NAME_add_entry_by_txt(
          n, "CN", MBSTRING_ASC,
          reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0) == 1;
  ok = ok && (subject ? X509_set_subject_name(x, n)
                      : X509_set_issuer_name(x, n)) == 1;
  X509_NAME_free(n);
  return ok;
}

}  // namespace

absl::StatusOr<std::vector<uint8_t>> MakeCertDer(
    const std::string& subject, const crypto::EcPrivateKey& subject_key,
    const std::string& issuer, const crypto::EcPrivateKey& issuer_key, bool ca,
    long serial) {
  return MakeCertDer(subject, subject_key, issuer, issuer_key, ca, serial,
                     -3600, 86400);
}

absl::StatusOr<std::vector<uint8_t>> MakeCertDer(
    const std::string& subject, const crypto::EcPrivateKey& subject_key,
    const std::string& issuer, const crypto::EcPrivateKey& issuer_key, bool ca,
    long serial, long not_before_seconds, long not_after_seconds) {
  absl::StatusOr<PkeyPtr> subject_pkey = LibKey(subject_key);
  if (!subject_pkey.ok()) return subject_pkey.status();
  absl::StatusOr<PkeyPtr> issuer_pkey = LibKey(issuer_key);
  if (!issuer_pkey.ok()) return issuer_pkey.status();
  X509Ptr x(X509_new());
  bool ok = x != nullptr && X509_set_version(x.get(), 2) == 1 &&
            ASN1_INTEGER_set(X509_get_serialNumber(x.get()), serial) == 1 &&
            X509_gmtime_adj(X509_getm_notBefore(x.get()), not_before_seconds) !=
                nullptr &&
            X509_gmtime_adj(X509_getm_notAfter(x.get()), not_after_seconds) !=
                nullptr &&
            SetName(x.get(), subject, true) &&
            SetName(x.get(), issuer, false) &&
            X509_set_pubkey(x.get(), subject_pkey->get()) == 1;
  if (ok && ca) {
    ok = AddExt(x.get(), NID_basic_constraints, "critical,CA:TRUE") &&
         AddExt(x.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  } else if (ok) {
    ok = AddExt(x.get(), NID_basic_constraints, "critical,CA:FALSE") &&
         AddExt(x.get(), NID_key_usage, "critical,digitalSignature");
  }
  ok = ok && X509_sign(x.get(), issuer_pkey->get(), EVP_sha256()) > 0;
  if (!ok) return absl::InternalError("building the test certificate failed");
  uint8_t* der = nullptr;
  const int n = i2d_X509(x.get(), &der);
  if (n <= 0) return absl::InternalError("i2d_X509");
  std::vector<uint8_t> out(der, der + n);
  OPENSSL_free(der);
  return out;
}

std::string DerToPem(const std::vector<uint8_t>& der) {
  std::string b64 = absl::Base64Escape(
      absl::string_view(reinterpret_cast<const char*>(der.data()), der.size()));
  std::string pem = "-----BEGIN CERTIFICATE-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) {
    absl::StrAppend(&pem, b64.substr(i, 64), "\n");
  }
  absl::StrAppend(&pem, "-----END CERTIFICATE-----\n");
  return pem;
}

}  // namespace realm_measurements::corim::testing
