// Issue 16 items 3 and 4 over a real loopback server and a real SQLite
// store: signed-CoRIM provisioning against configured trust anchors, and
// reference sets beyond the old limits (provisioned in parts, looked up by
// RIM, bounded responses).
#include <grpcpp/grpcpp.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/crypto.h"
#include "corim/comid.h"
#include "corim/reference_values.h"
#include "corim/testing/test_pki.h"
#include "grpc/internal/corim_signing.h"
#include "grpc/internal/test_util.h"
#include "grpc/service.h"
#include "gtest/gtest.h"
#include "proto/realm_measurements/v1/service.grpc.pb.h"

namespace realm_measurements::service {
namespace {

using ::realm_measurements::service::testing::MakeTempDir;
using ::realm_measurements::service::testing::ReadFileOrDie;
using ::realm_measurements::service::testing::SetDeadline;
using ::realm_measurements::service::testing::TestServer;

constexpr char kVectors[] = "testdata/vectors/";

std::string Vector(const std::string& name) {
  return ReadFileOrDie(absl::StrCat(kVectors, name));
}

template <typename T>
T Must(absl::StatusOr<T> v) {
  EXPECT_TRUE(v.ok()) << v.status();
  return *std::move(v);
}

::grpc::Status Provision(v1::RealmMeasurementsService::Stub& stub,
                         const v1::ProvisionReferenceValuesRequest& req,
                         v1::ProvisionReferenceValuesResponse* resp) {
  ::grpc::ClientContext ctx;
  SetDeadline(ctx, 120);
  return stub.ProvisionReferenceValues(&ctx, req, resp);
}

// Token 02 appraised against a stored set (testdata/vectors/README.md: it
// verifies with the P-256 IAK; its realm is the one of
// corim-cca-realm-2025.cbor).
::grpc::Status Appraise(v1::RealmMeasurementsService::Stub& stub,
                        const std::string& set, uint32_t near_misses,
                        v1::AppraiseTokenResponse* resp) {
  v1::AppraiseTokenRequest req;
  req.set_token(Vector("cca-token-02.cbor"));
  req.set_cpak(Vector("ta-iak-p256.json"));
  req.set_stored_set(set);
  req.set_max_near_misses(near_misses);
  ::grpc::ClientContext ctx;
  SetDeadline(ctx, 60);
  return stub.AppraiseToken(&ctx, req, resp);
}

corim::DecodedCorim DecodeCorimOrDie(const std::string& bytes) {
  return Must(corim::DecodeCorim(
      {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}));
}

// The stored set `name` exported as an unsigned 2025-profile CoRIM; a failed
// export fails the test (and returns nothing).
std::string ExportStored(v1::RealmMeasurementsService::Stub& stub,
                         const std::string& name) {
  v1::ExportEndorsementsRequest ex;
  ex.set_stored_set(name);
  ex.set_format(v1::ENDORSEMENT_FORMAT_CORIM_2025_UNSIGNED);
  v1::ExportEndorsementsResponse out;
  ::grpc::ClientContext ctx;
  SetDeadline(ctx);
  ::grpc::Status s = stub.ExportEndorsements(&ctx, ex, &out);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return out.content();
}

// ------------------------------------------------------------ signed

class SignedProvisioningTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_der_ = Must(corim::testing::MakeCertDer(
        "CoRIM Root", root_key_, "CoRIM Root", root_key_, true, 1));
    ServerOptions o;
    o.corim_trust_anchors.push_back(
        Must(crypto::Certificate::FromDer(root_der_)));
    ts_.Start(MakeTempDir(), o);
    stub_ = ts_.Stub();
  }

  // The reference CoRIM vector, signed by CN=`leaf` issued by `issuer`.
  std::string Signed(const crypto::EcPrivateKey& issuer_key,
                     const std::string& issuer, long not_before = -3600,
                     long not_after = 86400) {
    const std::vector<uint8_t> leaf_der = Must(corim::testing::MakeCertDer(
        "ACME CoRIM signer", leaf_key_, issuer, issuer_key, false, 7,
        not_before, not_after));
    const std::string corim = Vector("corim-cca-realm-2025.cbor");
    corim::DecodedCorim d = Must(corim::DecodeCorim(
        {reinterpret_cast<const uint8_t*>(corim.data()), corim.size()}));
    corim::EncodedObject e = Must(
        internal::SignCorimWithPem(d.values, d.profile, Must(leaf_key_.ToPem()),
                                   corim::testing::DerToPem(leaf_der), "ACME"));
    return std::string(e.bytes.begin(), e.bytes.end());
  }

  ::grpc::Status ProvisionCorim(const std::string& name,
                                const std::string& bytes, bool append,
                                v1::ProvisionReferenceValuesResponse* resp) {
    v1::ProvisionReferenceValuesRequest req;
    req.set_name(name);
    req.set_corim(bytes);
    req.set_append(append);
    return Provision(*stub_, req, resp);
  }

  std::vector<v1::ReferenceValueSetInfo> List() {
    ::grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::ListReferenceValuesResponse r;
    EXPECT_TRUE(stub_->ListReferenceValues(&ctx, {}, &r).ok());
    return {r.sets().begin(), r.sets().end()};
  }

  static crypto::EcPrivateKey NewKey() {
    return Must(crypto::EcPrivateKey::Generate(crypto::Curve::kP256));
  }
  crypto::EcPrivateKey root_key_ = NewKey();
  crypto::EcPrivateKey other_root_key_ = NewKey();
  crypto::EcPrivateKey leaf_key_ = NewKey();
  std::vector<uint8_t> root_der_;
  TestServer ts_;
  std::unique_ptr<v1::RealmMeasurementsService::Stub> stub_;
};

TEST_F(SignedProvisioningTest, GoodChainAcceptedSignerStoredAndListed) {
  v1::ProvisionReferenceValuesResponse r;
  ::grpc::Status s =
      ProvisionCorim("signed", Signed(root_key_, "CoRIM Root"), false, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(r.set().signer_subject(), "CN=ACME CoRIM signer");
  EXPECT_EQ(r.set().realm_count(), 1u);
  // An appended signed part keeps its own signer.
  s = ProvisionCorim("signed", Signed(root_key_, "CoRIM Root"), true, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  std::vector<v1::ReferenceValueSetInfo> sets = List();
  ASSERT_EQ(sets.size(), 1u);
  EXPECT_EQ(sets[0].signer_subject(), "CN=ACME CoRIM signer");
  EXPECT_EQ(sets[0].part_count(), 2u);
  ASSERT_EQ(sets[0].appended_signer_subjects_size(), 1);
  EXPECT_EQ(sets[0].appended_signer_subjects(0), "CN=ACME CoRIM signer");
  // What was signed is what appraisal uses.
  v1::AppraiseTokenResponse a;
  s = Appraise(*stub_, "signed", 0, &a);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(a.realm().executables(), 2) << a.report_json();
  EXPECT_EQ(a.candidate_count(), 2u);
}

TEST_F(SignedProvisioningTest, EachFailureRefusedWithItsOwnError) {
  struct Case {
    std::string what;
    std::string bytes;
    ::grpc::StatusCode code;
    std::string message;
  };
  std::string tampered = Signed(root_key_, "CoRIM Root");
  {
    // One byte of the signed payload's RIM (token 02's RIM starts 0x21 0x0c
    // ... in the vector; any byte inside the payload will do): flip the
    // last byte of the payload's longest run, here simply a byte near the
    // end before the signature (64 bytes) and its 2-byte head.
    const size_t at = tampered.size() - 64 - 2 - 10;
    tampered[at] = static_cast<char>(tampered[at] ^ 0x01);
  }
  const std::string unsigned_corim = Vector("corim-cca-realm-2025.cbor");
  const std::vector<Case> cases = {
      {"unsigned CoRIM", unsigned_corim,
       ::grpc::StatusCode::FAILED_PRECONDITION,
       "corim: expected a signed CoRIM (COSE_Sign1 with x5chain, tag 18), "
       "found an unsigned one; this server accepts unsigned CoRIMs only "
       "with --allow_unsigned_corim"},
      {"wrong trust anchor", Signed(other_root_key_, "Other Root"),
       ::grpc::StatusCode::UNAUTHENTICATED,
       "unable to get local issuer certificate"},
      {"tampered payload", tampered, ::grpc::StatusCode::UNAUTHENTICATED,
       "corim: COSE_Sign1 signature: expected a valid ES256 signature by "
       "the x5chain leaf (CN=ACME CoRIM signer), found it does not verify"},
      {"expired leaf", Signed(root_key_, "CoRIM Root", -2 * 86400, -86400),
       ::grpc::StatusCode::UNAUTHENTICATED, "certificate has expired"},
  };
  for (const Case& c : cases) {
    v1::ProvisionReferenceValuesResponse r;
    ::grpc::Status s = ProvisionCorim("x", c.bytes, false, &r);
    EXPECT_EQ(s.error_code(), c.code) << c.what << ": " << s.error_message();
    EXPECT_TRUE(absl::StrContains(s.error_message(), c.message))
        << c.what << ": " << s.error_message();
  }
  // An inline set is unsigned too.
  v1::ProvisionReferenceValuesRequest inline_req;
  inline_req.set_name("inline");
  v1::RealmReferenceValue* v = inline_req.mutable_inline_set()->add_realms();
  v->set_hash_algorithm(v1::HASH_ALGORITHM_SHA256);
  v->set_rim(std::string(32, 'r'));
  v1::ProvisionReferenceValuesResponse r;
  ::grpc::Status s = Provision(*stub_, inline_req, &r);
  EXPECT_EQ(s.error_code(), ::grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "--allow_unsigned_corim"))
      << s.error_message();
  EXPECT_TRUE(List().empty());  // nothing refused was stored
}

TEST(SignedProvisioningNoAnchorsTest, SignedCorimNeedsConfiguredAnchors) {
  TestServer ts;
  ServerOptions o;
  o.allow_unsigned_corim = true;
  ts.Start(MakeTempDir(), o);
  crypto::EcPrivateKey key =
      Must(crypto::EcPrivateKey::Generate(crypto::Curve::kP256));
  const std::vector<uint8_t> cert =
      Must(corim::testing::MakeCertDer("S", key, "S", key, false, 1));
  const std::string corim = Vector("corim-cca-realm-2025.cbor");
  corim::DecodedCorim d = Must(corim::DecodeCorim(
      {reinterpret_cast<const uint8_t*>(corim.data()), corim.size()}));
  corim::EncodedObject e =
      Must(internal::SignCorimWithPem(d.values, d.profile, Must(key.ToPem()),
                                      corim::testing::DerToPem(cert), "S"));
  v1::ProvisionReferenceValuesRequest req;
  req.set_name("s");
  req.set_corim(std::string(e.bytes.begin(), e.bytes.end()));
  v1::ProvisionReferenceValuesResponse r;
  ::grpc::Status s = Provision(*ts.Stub(), req, &r);
  EXPECT_EQ(s.error_code(), ::grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "--corim_trust_anchors"))
      << s.error_message();
}

// ------------------------------------------------------------ scale

// A value that is not token 02's realm (RIM derived from `n`).
void AddOther(v1::ReferenceValueSet* set, uint32_t n) {
  v1::RealmReferenceValue* v = set->add_realms();
  v->set_hash_algorithm(v1::HASH_ALGORITHM_SHA256);
  std::string rim(32, '\x5a');
  for (int i = 0; i < 4; ++i) rim[i] = static_cast<char>(n >> (8 * i));
  v->set_rim(rim);
  for (int i = 0; i < 4; ++i)
    v->add_rems(std::string(32, static_cast<char>(i)));
  v->set_rpv(std::string(64, '\x11'));
}

class LargeSetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir();
    Start();
  }
  void Start() {
    ServerOptions o;
    o.allow_unsigned_corim = true;  // inline sets and unsigned CoRIMs
    ts_.Start(dir_, o);
    stub_ = ts_.Stub();
  }
  std::string dir_;
  TestServer ts_;
  std::unique_ptr<v1::RealmMeasurementsService::Stub> stub_;
};

// 20,000 values (the old limits: 990 values per response, 3,030 per
// inline set), in four parts, the matching one last.
TEST_F(LargeSetTest, TwentyThousandValuesInPartsAppraise) {
  const std::string vector_corim = Vector("corim-cca-realm-2025.cbor");
  // The token's RIM with another RPV, twice, early in the set: candidates
  // that do not decide (near misses).
  const corim::DecodedCorim d = DecodeCorimOrDie(vector_corim);
  const corim::RealmReferenceValue& real = d.values.comids[0].realms[0];
  auto add_near_miss = [&](v1::ReferenceValueSet* set) {
    v1::RealmReferenceValue* v = set->add_realms();
    v->set_hash_algorithm(real.rim.size() == 64   ? v1::HASH_ALGORITHM_SHA512
                          : real.rim.size() == 48 ? v1::HASH_ALGORITHM_SHA384
                                                  : v1::HASH_ALGORITHM_SHA256);
    v->set_rim(std::string(real.rim.begin(), real.rim.end()));
    v->set_rpv(std::string(64, '\x77'));
  };
  uint32_t n = 0;
  for (int part = 0; part < 4; ++part) {
    v1::ProvisionReferenceValuesRequest req;
    req.set_name("fleet");
    req.set_append(part > 0);
    v1::ReferenceValueSet* set = req.mutable_inline_set();
    const uint32_t count = part < 3 ? 5000 : 4999;
    for (uint32_t i = 0; i < count; ++i) {
      if (n == 10 || n == 12000) {
        add_near_miss(set);
      } else {
        AddOther(set, n);
      }
      ++n;
    }
    v1::ProvisionReferenceValuesResponse r;
    ::grpc::Status s = Provision(*stub_, req, &r);
    ASSERT_TRUE(s.ok()) << part << ": " << s.error_code() << " "
                        << s.error_message();
    EXPECT_EQ(r.set().realm_count(), n);
    EXPECT_EQ(r.set().part_count(), static_cast<uint32_t>(part + 1));
  }
  {
    // The last value: the vector CoRIM appended (unsigned, allowed here).
    v1::ProvisionReferenceValuesRequest req;
    req.set_name("fleet");
    req.set_append(true);
    req.set_corim(vector_corim);
    v1::ProvisionReferenceValuesResponse r;
    ::grpc::Status s = Provision(*stub_, req, &r);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(r.set().realm_count(), 20000u);
    EXPECT_EQ(r.set().part_count(), 5u);
  }
  for (int round = 0; round < 2; ++round) {
    v1::AppraiseTokenResponse a;
    ::grpc::Status s = Appraise(*stub_, "fleet", 0, &a);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_TRUE(a.affirms()) << a.report_json();
    EXPECT_EQ(a.realm().executables(), 2);
    EXPECT_EQ(a.reference_count(), 20000u);
    EXPECT_EQ(a.candidate_count(), 3u);
    ASSERT_EQ(a.candidates_size(), 1);  // the deciding one only
    EXPECT_TRUE(a.has_matched());
    EXPECT_EQ(a.matched(), 0u);
    EXPECT_EQ(a.candidates(0).index(), 19999u);
    EXPECT_EQ(a.candidates(0).executables(), 2);
    EXPECT_LT(a.ByteSizeLong(), 64u * 1024) << "response size";
    // Near misses on request: the other two values with the token's RIM,
    // each contraindicated by its RPV.
    s = Appraise(*stub_, "fleet", 5, &a);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ASSERT_EQ(a.candidates_size(), 3);
    EXPECT_EQ(a.candidates(0).index(), 19999u);
    EXPECT_EQ(a.candidates(1).index(), 10u);
    EXPECT_EQ(a.candidates(2).index(), 12000u);
    EXPECT_EQ(a.candidates(1).executables(), 96);
    // A restarted server reads the set back from the store.
    if (round == 0) {
      stub_.reset();
      ts_.Stop();
      Start();
    }
  }
  v1::AppraiseTokenResponse a;
  ::grpc::Status s = Appraise(*stub_, "fleet", 17, &a);
  EXPECT_EQ(s.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(),
            "max_near_misses: expected at most 16, found 17");
}

// An inline set past the old decoder limit (3,031 values made the stored
// CoRIM unreadable) is stored so that it reads back.
TEST_F(LargeSetTest, InlineSetBeyondOldDecoderLimitIsUsable) {
  v1::ProvisionReferenceValuesRequest req;
  req.set_name("wide");
  for (uint32_t i = 0; i < 3100; ++i) AddOther(req.mutable_inline_set(), i);
  v1::ProvisionReferenceValuesResponse r;
  ::grpc::Status s = Provision(*stub_, req, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  stub_.reset();
  ts_.Stop();
  Start();
  v1::AppraiseTokenResponse a;
  s = Appraise(*stub_, "wide", 0, &a);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(a.reference_count(), 3100u);
  EXPECT_EQ(a.realm().executables(), 33);  // its RIM is not among them
  EXPECT_EQ(a.candidates_size(), 0);
  // The export of the stored set holds every value again.
  corim::DecodedCorim d = DecodeCorimOrDie(ExportStored(*stub_, "wide"));
  size_t values = 0;
  for (const corim::Comid& c : d.values.comids) values += c.realms.size();
  EXPECT_EQ(values, 3100u);
}

// RealmReferenceValue.rems with an empty entry: that REM is not compared,
// the others are (REM0 of a firmware boot the tool does not model).
TEST_F(LargeSetTest, InlineSetRemsCanBeLeftUnconstrained) {
  const std::string vector_corim = Vector("corim-cca-realm-2025.cbor");
  const corim::DecodedCorim d = DecodeCorimOrDie(vector_corim);
  const corim::RealmReferenceValue& real = d.values.comids[0].realms[0];
  for (int k = 0; k < corim::kRemCount; ++k) ASSERT_TRUE(real.rem[k]) << k;
  auto provision = [&](const std::string& name, const std::string& rem0) {
    v1::ProvisionReferenceValuesRequest req;
    req.set_name(name);
    v1::RealmReferenceValue* v = req.mutable_inline_set()->add_realms();
    v->set_hash_algorithm(real.rim.size() == 64   ? v1::HASH_ALGORITHM_SHA512
                          : real.rim.size() == 48 ? v1::HASH_ALGORITHM_SHA384
                                                  : v1::HASH_ALGORITHM_SHA256);
    v->set_rim(std::string(real.rim.begin(), real.rim.end()));
    if (real.rpv) v->set_rpv(std::string(real.rpv->begin(), real.rpv->end()));
    v->add_rems(rem0);
    for (int k = 1; k < corim::kRemCount; ++k) {
      v->add_rems(std::string(real.rem[k]->begin(), real.rem[k]->end()));
    }
    v1::ProvisionReferenceValuesResponse r;
    ::grpc::Status s = Provision(*stub_, req, &r);
    ASSERT_TRUE(s.ok()) << s.error_message();
  };
  provision("free-rem0", "");
  provision("wrong-rem0", std::string(real.rem[0]->size(), '\x5a'));
  v1::AppraiseTokenResponse a;
  ASSERT_TRUE(Appraise(*stub_, "free-rem0", 0, &a).ok());
  EXPECT_TRUE(a.affirms()) << a.report_json();
  EXPECT_EQ(a.realm().executables(), 2);
  ASSERT_TRUE(Appraise(*stub_, "wrong-rem0", 0, &a).ok());
  EXPECT_EQ(a.realm().executables(), 3);  // a REM differs: approved boot
  // The stored CoRIM has no REM0 (exported and decoded again).
  const corim::DecodedCorim back =
      DecodeCorimOrDie(ExportStored(*stub_, "free-rem0"));
  const corim::RealmReferenceValue& v = back.values.comids[0].realms[0];
  EXPECT_FALSE(v.rem[0].has_value());
  EXPECT_EQ(v.rem[3], real.rem[3]);
}

// An inline set's validity window (not_before_unix/not_after_unix) is
// stored in its CoRIM (key 4, bytes spelled out: {0: 1(1640908800), 1:
// 1(1767139200)}), exported, and enforced at appraisal.
TEST_F(LargeSetTest, InlineSetValidityIsStoredExportedAndEnforced) {
  const std::string vector_corim = Vector("corim-cca-realm-2025.cbor");
  corim::DecodedCorim vc = DecodeCorimOrDie(vector_corim);
  const corim::RealmReferenceValue& token_realm =
      vc.values.comids.at(0).realms.at(0);
  v1::ProvisionReferenceValuesRequest req;
  req.set_name("dated");
  v1::RealmReferenceValue* v = req.mutable_inline_set()->add_realms();
  v->set_hash_algorithm(v1::HASH_ALGORITHM_SHA512);
  ASSERT_EQ(token_realm.algorithm, corim::RealmHashAlgorithm::kSha512);
  v->set_rim(std::string(token_realm.rim.begin(), token_realm.rim.end()));
  req.mutable_inline_set()->set_not_before_unix(1640908800);  // 2021-12-31
  req.mutable_inline_set()->set_not_after_unix(1767139200);   // 2025-12-31
  v1::ProvisionReferenceValuesResponse r;
  ::grpc::Status s = Provision(*stub_, req, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();

  // Now (after 2025): the value is left out, and the report says so.
  v1::AppraiseTokenResponse a;
  s = Appraise(*stub_, "dated", 0, &a);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(a.realm().executables(), 33);
  EXPECT_EQ(a.candidate_count(), 0u);
  EXPECT_TRUE(
      absl::StrContains(a.report_json(), "\"excluded-realm-values\": 1"))
      << a.report_json();
  // Inside the window it decides.
  v1::AppraiseTokenRequest at;
  at.set_token(Vector("cca-token-02.cbor"));
  at.set_cpak(Vector("ta-iak-p256.json"));
  at.set_stored_set("dated");
  at.set_validity_time(1700000000);
  {
    ::grpc::ClientContext ctx;
    SetDeadline(ctx);
    s = stub_->AppraiseToken(&ctx, at, &a);
  }
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(a.realm().executables(), 2) << a.report_json();

  // The stored CoRIM carries the window; so does an inline export.
  v1::ExportEndorsementsRequest ex;
  ex.set_stored_set("dated");
  ex.set_format(v1::ENDORSEMENT_FORMAT_CORIM_2025_UNSIGNED);
  v1::ExportEndorsementsResponse out;
  {
    ::grpc::ClientContext ctx;
    SetDeadline(ctx);
    ASSERT_TRUE(stub_->ExportEndorsements(&ctx, ex, &out).ok());
  }
  const std::string window = "04a200c11a61ce480001c11a69546780";
  auto hex = [](const std::string& b) {
    std::string h;
    for (unsigned char c : b)
      absl::StrAppend(&h, absl::Hex(c, absl::kZeroPad2));
    return h;
  };
  EXPECT_TRUE(absl::StrContains(hex(out.content()), window));
  *ex.mutable_inline_set() = req.inline_set();
  {
    ::grpc::ClientContext ctx;
    SetDeadline(ctx);
    ASSERT_TRUE(stub_->ExportEndorsements(&ctx, ex, &out).ok());
  }
  EXPECT_TRUE(absl::StrContains(hex(out.content()), window));

  // Refused: not-before alone, a negative time, a negative window.
  const std::vector<std::pair<std::pair<int64_t, int64_t>, std::string>> bad = {
      {{5, 0}, "inline_set.not_before_unix: expected with not_after_unix"},
      {{0, -1},
       "inline_set: expected not_before_unix and not_after_unix from 0 to "
       "253402300799 (9999-12-31T23:59:59Z), found 0 and -1"},
      {{0, 253402300800}, "found 0 and 253402300800"},
      {{20, 10},
       "inline_set validity: expected not-before <= not-after, "
       "found not-before 1970-01-01T00:00:20Z after not-after "
       "1970-01-01T00:00:10Z"},
  };
  for (const auto& [times, message] : bad) {
    req.set_name("bad");
    req.mutable_inline_set()->set_not_before_unix(times.first);
    req.mutable_inline_set()->set_not_after_unix(times.second);
    s = Provision(*stub_, req, &r);
    EXPECT_EQ(s.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT) << message;
    EXPECT_TRUE(absl::StrContains(s.error_message(), message))
        << s.error_message();
  }
}

TEST_F(LargeSetTest, AppendRefusals) {
  v1::ProvisionReferenceValuesRequest req;
  req.set_name("nope");
  req.set_append(true);
  req.set_corim(Vector("corim-cca-realm-2025.cbor"));
  v1::ProvisionReferenceValuesResponse r;
  ::grpc::Status s = Provision(*stub_, req, &r);
  EXPECT_EQ(s.error_code(), ::grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(s.error_message(), "no reference-value set named 'nope'");
  req.set_replace(true);
  s = Provision(*stub_, req, &r);
  EXPECT_EQ(s.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(),
            "append: expected append or replace, found both");
}

}  // namespace
}  // namespace realm_measurements::service
