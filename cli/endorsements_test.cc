// The CBOR CoMID/CoRIM outputs of the command line, in process.
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cli/cli.h"
#include "corim/comid.h"
#include "corim/signed_corim.h"
#include "corim/testing/test_pki.h"
#include "gtest/gtest.h"
#include "measure/vmm/kvmtool.h"
#include "measure/vmm/vmm.h"
#include "nlohmann/json.hpp"
#include "testing/vectors.h"

namespace realm_measurements::measure {
namespace {

using cli::CliEnvironment;
using cli::RunCli;

// Independent vectors: the golden corpus (testdata/golden, recorded from the
// reference tool): "kvm-min-sha256" (test::kSpecCoreA3No4Rim),
// "kvm-k-2cpu-256M-sha512", "kvm-disable-sve-pv-b64" of cases-public.json.
constexpr char kSha512Rim[] =
    "6e56561f82914130f8fa6e42060065ff195af74459ccd7432776ad6fc650e60a"
    "3247a24e265b3543e4679b476a95bdd15231835f052da4efc3258bff42d2388c";
constexpr char kInputs[] = "testdata/golden/inputs/";

template <typename T>
T Must(absl::StatusOr<T> v) {
  EXPECT_TRUE(v.ok()) << v.status();
  return *std::move(v);
}

std::string TmpDir(const std::string& name) {
  const char* d = std::getenv("TEST_TMPDIR");
  std::string dir = absl::StrCat(d != nullptr ? d : "/tmp", "/", name);
  mkdir(dir.c_str(), 0755);
  return dir;
}

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

std::vector<uint8_t> ReadBytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary);
  f << data;
}

size_t CountEntries(const std::string& dir) {
  size_t n = 0;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return 0;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") ++n;
  }
  closedir(d);
  return n;
}

struct Result {
  int rc;
  std::string out;
  std::string err;
};

Result RunTool(const std::vector<std::string>& args) {
  CliEnvironment env;
  env.models["kvmtool"] = &BuildKvmtool;
  std::ostringstream out, err;
  int rc = RunCli(args, env, out, err);
  return {rc, out.str(), err.str()};
}

std::vector<std::string> Args(absl::string_view s) {
  return absl::StrSplit(s, ' ', absl::SkipEmpty());
}

std::string Hex(const std::vector<uint8_t>& b) {
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
}

// "RIM: <hex>" .. "REM3: <hex>" -> the five 128-digit values.
std::vector<std::string> PrintedValues(const std::string& out) {
  std::vector<std::string> v;
  for (absl::string_view line : absl::StrSplit(out, '\n', absl::SkipEmpty())) {
    std::vector<std::string> kv = absl::StrSplit(line, ": ");
    if (kv.size() == 2) v.push_back(kv[1]);
  }
  return v;
}

// The decoded realm equals what the text output printed, cut to `size`.
void ExpectSameAsPrinted(const corim::RealmReferenceValue& realm,
                         const std::string& out, size_t size) {
  std::vector<std::string> printed = PrintedValues(out);
  ASSERT_EQ(printed.size(), 5u) << out;
  EXPECT_EQ(Hex(realm.rim), printed[0].substr(0, 2 * size));
  // The rest of the printed buffer is zero padding.
  EXPECT_EQ(printed[0].substr(2 * size), std::string(128 - 2 * size, '0'));
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(realm.rem[i].has_value());
    EXPECT_EQ(Hex(*realm.rem[i]), printed[i + 1].substr(0, 2 * size));
  }
}

// --- The CLI, in process -------------------------------------------------

TEST(CliCorim, UnsignedCorim2025DecodesToThePrintedValues) {
  const std::string dir = TmpDir("unsigned2025");
  const std::string path = dir + "/realm.corim";
  Result r =
      RunTool(Args(absl::StrCat("--num-wps 6 --num-bps 6 --corim-output ", path,
                                " kvmtool --realm -c 1 -m 512M")));
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.err, "");
  corim::DecodedCorim d = Must(corim::DecodeCorim(ReadBytes(path)));
  EXPECT_EQ(d.profile, corim::Profile::kCcaRealm2025);
  ASSERT_EQ(d.values.comids.size(), 1u);
  ASSERT_EQ(d.values.comids[0].realms.size(), 1u);
  const corim::RealmReferenceValue& realm = d.values.comids[0].realms[0];
  EXPECT_EQ(realm.algorithm, corim::RealmHashAlgorithm::kSha256);
  EXPECT_EQ(Hex(realm.rim), test::kSpecCoreA3No4Rim);
  ExpectSameAsPrinted(realm, r.out, 32);
  EXPECT_FALSE(realm.rpv.has_value());
  // Only the output file, no temporary left behind.
  EXPECT_EQ(CountEntries(dir), 1u);
}

// kvmtool --firmware: the REMs the firmware extends are not modelled (a
// warning says so); --corim-rems none writes reference values without them.
TEST(CliCorim, FirmwareBootWithoutRems) {
  const std::string dir = TmpDir("corim-rems");
  const std::string path = dir + "/realm.corim";
  const std::string fw = dir + "/fw.bin";
  {
    std::ofstream f(fw, std::ios::binary);
    f << std::string(8192, '\x5a');
  }
  Result r = RunTool(Args(absl::StrCat(
      "--num-wps 6 --num-bps 6 -f ", fw, " --corim-output ", path,
      " --corim-rems none kvmtool --realm -c 1 -m 512M --firmware fw")));
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "WARN kvmtool --firmware: the REMs"))
      << r.err;
  corim::DecodedCorim d = Must(corim::DecodeCorim(ReadBytes(path)));
  const corim::RealmReferenceValue& realm = d.values.comids[0].realms[0];
  EXPECT_EQ(Hex(realm.rim), PrintedValues(r.out)[0].substr(0, 64));
  for (const auto& rem : realm.rem) EXPECT_FALSE(rem.has_value());

  r = RunTool(Args(absl::StrCat("--corim-output ", path,
                                " --corim-rems 4 kvmtool --realm -c 1 -m "
                                "512M")));
  EXPECT_EQ(r.rc, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "--corim-rems: expected all, none"))
      << r.err;
}

TEST(CliCorim, LegacyCorimAndComidSha512FromGoldenInputs) {
  const std::string dir = TmpDir("legacy512");
  const std::string corim_path = dir + "/realm.corim";
  const std::string comid_path = dir + "/realm.comid";
  Result r = RunTool(Args(absl::StrCat(
      "-c ", kInputs, "host-max.conf -c ", kInputs, "rmm.conf -k ", kInputs,
      "Image-a --corim-profile cca-realm-legacy --corim-output ", corim_path,
      " --comid-output ", comid_path, " --corim-tag-id realm-tag",
      " --corim-id realm-corim --corim-entity ACME",
      " kvmtool --realm -c 2 -m 256M -k Image --measurement-algo sha512")));
  ASSERT_EQ(r.rc, 0) << r.err;
  corim::DecodedCorim d = Must(corim::DecodeCorim(ReadBytes(corim_path)));
  EXPECT_EQ(d.profile, corim::Profile::kCcaRealmLegacy);
  EXPECT_EQ(d.values.corim_id, corim::Identifier(std::string("realm-corim")));
  ASSERT_EQ(d.values.entities.size(), 1u);
  EXPECT_EQ(d.values.entities[0].name, "ACME");
  const corim::Comid& comid = d.values.comids.at(0);
  EXPECT_EQ(comid.tag_identity.id, corim::Identifier(std::string("realm-tag")));
  const corim::RealmReferenceValue& realm = comid.realms.at(0);
  EXPECT_EQ(realm.algorithm, corim::RealmHashAlgorithm::kSha512);
  EXPECT_EQ(Hex(realm.rim), kSha512Rim);
  ExpectSameAsPrinted(realm, r.out, 64);
  // The bare CoMID is the one inside the CoRIM.
  corim::Comid bare = Must(corim::DecodeComid(ReadBytes(comid_path),
                                              corim::Profile::kCcaRealmLegacy));
  EXPECT_EQ(bare, comid);
}

// spec-rmm2 §2: an RMM 2.0 SHA-384 realm in both profiles. The digests are
// the exact 48 bytes under named-information id 7 (RFC 6920 §9.4): the CBOR
// holds [7, h'<48 bytes>'] = 82 07 58 30 <rim>.
TEST(CliCorim, Sha384RealmInBothProfiles) {
  for (const char* profile : {"cca-realm-2025", "cca-realm-legacy"}) {
    SCOPED_TRACE(profile);
    const std::string dir = TmpDir(absl::StrCat("sha384-", profile));
    const std::string corim_path = dir + "/realm.corim";
    Result r = RunTool(Args(absl::StrCat(
        "--rmm-version 2.0 -c ", kInputs, "host-max.conf -c ", kInputs,
        "rmm.conf -k ", kInputs, "Image-a --corim-profile ", profile,
        " --corim-output ", corim_path,
        " kvmtool --realm -c 2 -m 256M -k Image --measurement-algo sha384")));
    ASSERT_EQ(r.rc, 0) << r.err;
    const std::vector<uint8_t> bytes = ReadBytes(corim_path);
    corim::DecodedCorim d = Must(corim::DecodeCorim(bytes));
    const corim::RealmReferenceValue& realm =
        d.values.comids.at(0).realms.at(0);
    EXPECT_EQ(realm.algorithm, corim::RealmHashAlgorithm::kSha384);
    ASSERT_EQ(realm.rim.size(), 48u);
    ExpectSameAsPrinted(realm, r.out, 48);
    std::vector<uint8_t> digest = {0x82, 0x07, 0x58, 0x30};
    digest.insert(digest.end(), realm.rim.begin(), realm.rim.end());
    EXPECT_NE(
        std::search(bytes.begin(), bytes.end(), digest.begin(), digest.end()),
        bytes.end());
  }
}

TEST(CliCorim, RpvFromTheVmmArgumentsIsEndorsed) {
  const std::string path = TmpDir("rpv") + "/realm.corim";
  Result r = RunTool(Args(
      absl::StrCat("-c ", kInputs, "host-max.conf -c ", kInputs, "rmm.conf -k ",
                   kInputs, "Image-c.gz --corim-output ", path,
                   " kvmtool --realm -c 4 -m 1G -k Image.gz --disable-sve",
                   " --realm-pv golden-personalization")));
  ASSERT_EQ(r.rc, 0) << r.err;
  corim::DecodedCorim d = Must(corim::DecodeCorim(ReadBytes(path)));
  const corim::RealmReferenceValue& realm = d.values.comids.at(0).realms.at(0);
  // kvm-disable-sve-pv-b64 (base64 of the golden RIM buffer).
  std::string rim;
  ASSERT_TRUE(absl::Base64Unescape(
      "gRHDJ8NqjsMP1dnUZB3QVslMJB5T3CN+UMYZNtIdz0YAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
      "AAAAAAAAAAAAAA==",
      &rim));
  EXPECT_EQ(Hex(realm.rim), absl::BytesToHexString(rim.substr(0, 32)));
  // kvmtool --realm-pv: the raw bytes of the value, zero-padded to 64.
  std::vector<uint8_t> rpv(64, 0);
  const std::string pv = "golden-personalization";
  std::copy(pv.begin(), pv.end(), rpv.begin());
  ASSERT_TRUE(realm.rpv.has_value());
  EXPECT_EQ(*realm.rpv, rpv);
}

TEST(CliCorim, MediaTypeOnStderrWithVerboseAndInJson) {
  const std::string dir = TmpDir("mediatype");
  const std::string path = dir + "/realm.corim";
  Result r =
      RunTool(Args(absl::StrCat("-v --num-wps 6 --num-bps 6 --corim-output ",
                                path, " kvmtool --realm -c 1 -m 512M")));
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err,
                                "media type application/rim+cbor; "
                                "profile=\"tag:arm.com,2025:cca_realm#1.0.0\""))
      << r.err;

  const std::string comid = dir + "/realm.comid";
  r = RunTool(Args(absl::StrCat(
      "--format json --num-wps 6 --num-bps 6 --corim-profile cca-realm-legacy"
      " --corim-output ",
      path, " --comid-output ", comid, " kvmtool --realm -c 1 -m 512M")));
  ASSERT_EQ(r.rc, 0) << r.err;
  nlohmann::json doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["measurements"]["rim"].get<std::string>().substr(0, 64),
            test::kSpecCoreA3No4Rim);
  ASSERT_EQ(doc["endorsements"].size(), 2u);
  EXPECT_EQ(doc["endorsements"][0]["kind"], "comid");
  EXPECT_EQ(doc["endorsements"][0]["media_type"], "application/cbor");
  EXPECT_EQ(doc["endorsements"][1]["kind"], "corim");
  EXPECT_EQ(doc["endorsements"][1]["path"], path);
  EXPECT_EQ(doc["endorsements"][1]["size"], ReadBytes(path).size());
  EXPECT_EQ(doc["endorsements"][1]["media_type"],
            "application/corim-unsigned+cbor; "
            "profile=\"http://arm.com/cca/realm/1\"");
}

// A fresh PKI: root -> leaf (P-384, so ES384).
class CliSignedCorim : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        TmpDir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    root_key_ = std::make_unique<crypto::EcPrivateKey>(
        Must(crypto::EcPrivateKey::Generate(crypto::Curve::kP256)));
    leaf_key_ = std::make_unique<crypto::EcPrivateKey>(
        Must(crypto::EcPrivateKey::Generate(crypto::Curve::kP384)));
    std::vector<uint8_t> root_der = Must(corim::testing::MakeCertDer(
        "Test Root", *root_key_, "Test Root", *root_key_, true, 1));
    std::vector<uint8_t> leaf_der = Must(corim::testing::MakeCertDer(
        "Realm Signer", *leaf_key_, "Test Root", *root_key_, false, 2));
    root_ = std::make_unique<crypto::Certificate>(
        Must(crypto::Certificate::FromDer(root_der)));
    key_ = dir_ + "/key.pem";
    chain_ = dir_ + "/chain.pem";
    WriteFile(key_, Must(leaf_key_->ToPem()));
    WriteFile(chain_, corim::testing::DerToPem(leaf_der));
  }

  std::string dir_, key_, chain_;
  std::unique_ptr<crypto::EcPrivateKey> root_key_, leaf_key_;
  std::unique_ptr<crypto::Certificate> root_;
};

TEST_F(CliSignedCorim, VerifiesAgainstTheTestCa) {
  const std::string out_dir = TmpDir("signed-out");
  const std::string path = out_dir + "/realm.cose";
  Result r = RunTool(Args(absl::StrCat(
      "-v --num-wps 6 --num-bps 6 --corim-output ", path, " --corim-sign-key ",
      key_, " --corim-sign-chain ", chain_, " kvmtool --realm -c 1 -m 512M")));
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err,
                                "media type application/rim+cose; "
                                "profile=\"tag:arm.com,2025:cca_realm#1.0.0\""))
      << r.err;
  std::vector<uint8_t> bytes = ReadBytes(path);
  corim::VerifiedCorim v = Must(corim::VerifySignedCorim(bytes, *root_));
  EXPECT_EQ(v.algorithm, corim::CoseAlgorithm::kEs384);
  EXPECT_TRUE(absl::StrContains(v.signer_name, "Realm Signer"))
      << v.signer_name;
  const corim::RealmReferenceValue& realm =
      v.corim.values.comids.at(0).realms.at(0);
  EXPECT_EQ(Hex(realm.rim), test::kSpecCoreA3No4Rim);
  ExpectSameAsPrinted(realm, r.out, 32);

  // A flipped payload byte no longer verifies.
  bytes[bytes.size() - 100] ^= 1;
  EXPECT_FALSE(corim::VerifySignedCorim(bytes, *root_).ok());
}

TEST_F(CliSignedCorim, EntityNamesTheSigner) {
  const std::string path = TmpDir("signed-entity") + "/realm.cose";
  Result r = RunTool(Args(absl::StrCat(
      "--num-wps 6 --num-bps 6 --corim-entity ACME --corim-output ", path,
      " --corim-sign-key ", key_, " --corim-sign-chain ", chain_,
      " kvmtool --realm -c 1 -m 512M")));
  ASSERT_EQ(r.rc, 0) << r.err;
  corim::VerifiedCorim v =
      Must(corim::VerifySignedCorim(ReadBytes(path), *root_));
  EXPECT_EQ(v.signer_name, "ACME");
}

TEST_F(CliSignedCorim, BadKeyFileFailsWithoutWritingAnything) {
  const std::string out_dir = TmpDir("signed-bad");
  const std::string path = out_dir + "/realm.cose";
  const std::string comid = out_dir + "/realm.comid";
  const std::string bad_key = dir_ + "/bad.pem";
  WriteFile(bad_key,
            "-----BEGIN PRIVATE KEY-----\nnot a key\n"
            "-----END PRIVATE KEY-----\n");
  Result r = RunTool(Args(absl::StrCat(
      "--num-wps 6 --num-bps 6 --comid-output ", comid, " --corim-output ",
      path, " --corim-sign-key ", bad_key, " --corim-sign-chain ", chain_,
      " kvmtool --realm -c 1 -m 512M")));
  EXPECT_EQ(r.rc, 1);
  EXPECT_TRUE(absl::StartsWith(r.err,
                               "ERROR Failed to compute measurements: "
                               "cannot sign the CoRIM with "
                               "--corim-sign-key "))
      << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, bad_key)) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(CountEntries(out_dir), 0u);

  // A key that is not the leaf's.
  const std::string other_key = dir_ + "/other.pem";
  WriteFile(other_key, Must(root_key_->ToPem()));
  r = RunTool(
      Args(absl::StrCat("--num-wps 6 --num-bps 6 --corim-output ", path,
                        " --corim-sign-key ", other_key, " --corim-sign-chain ",
                        chain_, " kvmtool --realm -c 1 -m 512M")));
  EXPECT_EQ(r.rc, 1);
  EXPECT_TRUE(absl::StrContains(r.err, "leaf certificate")) << r.err;
  EXPECT_EQ(CountEntries(out_dir), 0u);

  // A missing file names the option and the path.
  r = RunTool(Args(absl::StrCat("--num-wps 6 --num-bps 6 --corim-output ", path,
                                " --corim-sign-key ", dir_, "/missing.pem",
                                " --corim-sign-chain ", chain_,
                                " kvmtool --realm -c 1 -m 512M")));
  EXPECT_EQ(r.rc, 1);
  EXPECT_TRUE(absl::StrContains(r.err, "--corim-sign-key: file ")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "missing.pem")) << r.err;
  EXPECT_EQ(CountEntries(out_dir), 0u);
}

// --corim-not-before/--corim-not-after write CoRIM key 4 as RFC 8949 tag-1
// epoch seconds, {0: 1(not-before), 1: 1(not-after)}; the bytes are spelled
// out here (values from python3 datetime: 2027-01-01T00:00:00Z =
// 1798761600 = 0x6B36EC80,
// 2028-01-01T00:00:00+01:00 = 1830294000 = 0x6D1811F0).
TEST(CliCorim, ValidityWindowIsWrittenAsTag1Epochs) {
  const std::string dir = TmpDir("validity");
  const std::string corim_path = dir + "/realm.corim";
  Result r = RunTool(
      Args(absl::StrCat("-c ", kInputs, "host-max.conf -c ", kInputs,
                        "rmm.conf -k ", kInputs, "Image-a --corim-output ",
                        corim_path, " --corim-not-before 2027-01-01T00:00:00Z",
                        " --corim-not-after 2028-01-01T00:00:00+01:00",
                        " kvmtool --realm -c 2 -m 256M -k Image")));
  ASSERT_EQ(r.rc, 0) << r.err;
  const std::vector<uint8_t> bytes = ReadBytes(corim_path);
  EXPECT_TRUE(absl::StrContains(Hex(bytes), "04a200c11a6b36ec8001c11a6d1811f0"))
      << Hex(bytes);
  corim::DecodedCorim d = Must(corim::DecodeCorim(bytes));
  EXPECT_EQ(d.values.validity, (corim::Validity{1798761600, 1830294000}));
  // Unix seconds and no not-before: only key 1.
  r = RunTool(Args(absl::StrCat(
      "-c ", kInputs, "host-max.conf -c ", kInputs, "rmm.conf -k ", kInputs,
      "Image-a --corim-output ", corim_path, " --corim-not-after 1798761600",
      " kvmtool --realm -c 2 -m 256M -k Image")));
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(
      absl::StrContains(Hex(ReadBytes(corim_path)), "04a101c11a6b36ec80"));
  // Usage errors, before any work: nothing written.
  const std::string none = dir + "/none.corim";
  for (const auto& [args, error] :
       std::vector<std::pair<std::string, std::string>>{
           {"--corim-output " + none + " --corim-not-before 1",
            "--corim-not-before needs --corim-not-after"},
           {"--comid-output " + none + " --corim-not-after 1",
            "they need --corim-output"},
           {"--corim-output " + none + " --corim-not-after tomorrow",
            "--corim-not-after: expected an RFC 3339 time "
            "(2026-01-31T00:00:00Z) or Unix seconds, found \"tomorrow\""},
           {"--corim-output " + none +
                " --corim-not-before 2028-01-01T00:00:00Z"
                " --corim-not-after 2027-01-01T00:00:00Z",
            "--corim-not-before/--corim-not-after: expected not-before <= "
            "not-after, found not-before 2028-01-01T00:00:00Z after "
            "not-after 2027-01-01T00:00:00Z"}}) {
    r = RunTool(Args(absl::StrCat("-c ", kInputs, "host-max.conf -c ", kInputs,
                                  "rmm.conf -k ", kInputs, "Image-a ", args,
                                  " kvmtool --realm -c 2 -m 256M -k Image")));
    EXPECT_EQ(r.rc, 2) << args;
    EXPECT_TRUE(absl::StrContains(r.err, error)) << args << "\n" << r.err;
    EXPECT_FALSE(Exists(none)) << args;
  }
}

TEST(CliCorim, UsageErrors) {
  Result r =
      RunTool(Args("--corim-output x --corim-profile nope kvmtool --realm "
                   "-c 1 -m 512M"));
  EXPECT_EQ(r.rc, 2);
  EXPECT_TRUE(absl::StrContains(r.err,
                                "possible values: cca-realm-2025, "
                                "cca-realm-legacy"))
      << r.err;
  r =
      RunTool(Args("--corim-output x --no-measurements kvmtool --realm -c 1 "
                   "-m 512M"));
  EXPECT_EQ(r.rc, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "--no-measurements")) << r.err;
  r = RunTool(
      Args("--corim-output x --corim-sign-key k.pem kvmtool --realm -c 1 "
           "-m 512M"));
  EXPECT_EQ(r.rc, 2);
  EXPECT_FALSE(Exists("x"));
  r = RunTool(Args("--corim-output kvmtool --realm"));
  EXPECT_EQ(r.rc, 2);  // the value is "kvmtool"; then no command
}

TEST(CliCorim, HelpDocumentsTheOptions) {
  Result r = RunTool({"--help"});
  for (const char* opt :
       {"--corim-output <CORIM_OUTPUT>", "--comid-output <COMID_OUTPUT>",
        "--corim-profile <CORIM_PROFILE>", "--corim-sign-key <KEY_PEM>",
        "--corim-sign-chain <CHAIN_PEM>", "--corim-tag-id <TAG_ID>",
        "--corim-id <CORIM_ID>", "--corim-entity <NAME>", "cca-realm-legacy",
        "--corim-not-before <TIME>", "--corim-not-after <TIME>",
        "--corim-rems <LIST>"}) {
    EXPECT_TRUE(absl::StrContains(r.out, opt)) << opt;
  }
}

}  // namespace
}  // namespace realm_measurements::measure
