#include "eventlog/replay.h"

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "base/crypto.h"
#include "eventlog/internal/log_builder.h"
#include "eventlog/parser.h"
#include "gtest/gtest.h"

namespace realm_measurements::eventlog {
namespace {

using internal::Blob2;
using internal::Bytes;
using internal::Concat;
using internal::Event2;
using internal::InitRipasData;
using internal::RealmCreateData;
using internal::RecCreateData;
using internal::SpecIdFields;
using internal::SpecIdHeader;
using internal::VmVersionData;

constexpr char kImages[] = "testdata/eventlog/images/";

Bytes ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  return Bytes((std::istreambuf_iterator<char>(in)),
               std::istreambuf_iterator<char>());
}

Bytes FromHex(absl::string_view hex) {
  std::string s = absl::HexStringToBytes(hex);
  return Bytes(s.begin(), s.end());
}

std::string B64ToHex(absl::string_view b64) {
  std::string raw;
  EXPECT_TRUE(absl::Base64Unescape(b64, &raw));
  return absl::BytesToHexString(raw);
}

EventLog ParseOrDie(const Bytes& log) {
  absl::StatusOr<EventLog> r = Parse(log);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *std::move(r) : EventLog{};
}

EventLog ParseFileOrDie(const std::string& name) {
  return ParseOrDie(ReadFileOrDie("testdata/eventlog/" + name));
}

void ExpectError(const absl::Status& s, absl::StatusCode code,
                 absl::string_view substring) {
  ASSERT_FALSE(s.ok()) << "expected an error containing: " << substring;
  EXPECT_EQ(s.code(), code) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), substring))
      << "message: " << s.message() << "\nexpected to contain: " << substring;
}

ImageCatalogue CatalogueFromSums(const std::string& sums) {
  ImageCatalogue c;
  absl::Status s = c.AddChecksumFile(std::string(kImages) + sums);
  EXPECT_TRUE(s.ok()) << s;
  return c;
}

ImageCatalogue CatalogueWithout(const std::string& left_out) {
  ImageCatalogue c;
  for (std::string n : {"fw.bin", "dtb.bin", "initrd.bin", "kernel.bin"}) {
    if (n == left_out) continue;
    EXPECT_TRUE(c.AddImage(n, ReadFileOrDie(kImages + n)).ok());
  }
  return c;
}

const std::string kZero32(64, '0');
const std::string kZero64(128, '0');

// §J.3 T1 and its test-step prefixes (REF asserted values).
TEST(Replay, SyntheticT1ReproducesAssertedRim) {
  ImageCatalogue empty;
  Replayer r(&empty);
  ASSERT_TRUE(r.Replay(ParseFileOrDie("t1-synthetic.bin")).ok());
  EXPECT_EQ(r.RegisterHex(Register::kRim),
            B64ToHex("iWDVaCY3CqpvybOgQdQkBolYK6QeKti7j5rfbSoM1ec="));
  EXPECT_EQ(r.RegisterHex(Register::kRim),
            "8960d56826370aaa6fc9b3a041d4240689582ba41e2ad8bb8f9adf6d2a0cd5e7");
  for (Register reg :
       {Register::kRem0, Register::kRem1, Register::kRem2, Register::kRem3}) {
    EXPECT_EQ(r.RegisterHex(reg), kZero32);
  }
  Bytes t1 = ReadFileOrDie("testdata/eventlog/t1-synthetic.bin");
  for (size_t n : {69, 235}) {
    SCOPED_TRACE(n);
    Replayer p(&empty);
    ASSERT_TRUE(p.Replay(ParseOrDie(Bytes(t1.begin(), t1.begin() + n))).ok());
    EXPECT_EQ(p.engine(), nullptr);
    EXPECT_EQ(p.RegisterHex(Register::kRim), kZero64);
  }
}

struct T2Case {
  const char* log;
  const char* sums;
  const char* rim_after[7];  // E2..E8 (§J.4 tables)
  const char* rem2_tf_rmm;
  const char* rem2_ref;
  const char* ref_final_rim_b64;
  const char* ref_rem2_b64;
};

const T2Case kT2[] = {
    {"t2-qemu-sha256.bin",
     "SHA256SUMS",
     {"db4e96e959e81a89c633f142ceda552e709e6c0cc89828cfab2fc4f10f266055",
      "a0d9e945ca84cb3516db0e6141790b3640fccab7a7cd6e10ff0c8030de4048e1",
      "9c2bd3cf361e70a29ad62eda056e3bae3b267d21f948268632d5efe9f33c1298",
      "96e05ff51b3512c6c819c97532a72ba76f8228061138f4e33394f6819d4b9ab2",
      "b8652c09a049e37580077a4431c22df1f91b46c2498fd9172f554d75522ccb42",
      "7e9f6612bb9bce7f424ff2d9e14c232662488764ba23558262563490a70f09f2",
      "84855690bb1a5bb0381cf10bb6f73f568f7dcaaec0aa81510285d81f85900244"},
     "7ad38f26d2e711c8a073e4eaa3c2a82ef726d793d2c09d2f2bab65261efd5d1f",
     "2deef5d42ba7767f0f9147db8c4d6a7fbbf4f693b3106592f15c2f8c711085f8",
     "hIVWkLsaW7A4HPELtvc/Vo99yq7AqoFRAoXYH4WQAkQ=",
     "Le711Cundn8PkUfbjE1qf7v09pOzEGWS8VwvjHEQhfg="},
    {"t2-qemu-sha512.bin",
     "SHA512SUMS",
     {"7d5b526c7adec8daea05fe7f0f98b3ffadc2e550c4c0f1d140f3bf000ae7659d71198c"
      "2bed3dc1c91f01529a3999eec80e06c4126305975b056117f3752ca0c6",
      "c004139ec3e75fc9ce2119b8d1168f0565eb70cda62984bd508c0eb7e89518a9117daf"
      "420a11045ac86497f05e2129455fb9730555d83620b2c367f2c404464c",
      "8dc4f3c22cc4886ae2d625c14eb23b45fb341b84cb89169c0350cc6ee051fd7c567c94"
      "d5a1809d5a1f30fe67cbafe6e2294c5140da6310ea0b07056e67dbb331",
      "edccaed04671c3a1d1fe1482e223698cbfb55ad2609fad8ba73b96a99be132fc591175"
      "86118491d88fe90286ba80154b492e83b324bdf3f2bd0504461eca0413",
      "975031f2621ef31fccfc06b1cc016d08f816eccace5fe89953f6f5516da26ce5217bbf"
      "a0c6ff62872133bfed8a2af06221fef7118b6e80c09768936eeb08a0b2",
      "0b59b3428e2ee78864d13f0bf705b3656c9d341e5f3e06500eca357fdfd8bce7f7fbd3"
      "3849a36864748e242714aa2f600c0394cc0db079352d2823f891dec089",
      "54d8de89f76fa2406efaa715210792575f192086ecf2a1e80f7a39b8830eae5525cfaa"
      "9983659e8608c7efce2b310f04beedcafa502c164d6b01aa5484b7dc82"},
     "53add38a70d7a0b5582d568b6ef7fd9641816fa2a6e156735db1fcfbcc756c12590962"
     "37c1f06b260a9d9f911e97b18b379b8d5a5ba5ae4aa2f27ba7931cd72c",
     "782d1159d878735c6ca45bd82ef618e7a44534ba20ea1ef28962c8dcb9da76513d012a"
     "d9e9914a4e4d54e18097c6b2323204d6f5eecd3bbbbf080fc403d9ed0c",
     "VNjeifdvokBu+qcVIQeSV18ZIIbs8qHoD3o5uIMOrlUlz6qZg2WehgjH784rMQ8Evu3K+lAs"
     "Fk1rAapUhLfcgg==",
     "eC0RWdh4c1xspFvYLvYY56RFNLog6h7yiWLI3LnadlE9ASrZ6ZFKTk1U4YCXxrIyMgTW9e7N"
     "O7u/CA/EA9ntDA=="},
};

// §J.4: every RIM step, REM2 by the TF-RMM formula (default, K1) and by the
// REF formula (compatibility switch).
TEST(Replay, QemuShapedT2ReproducesSpecValues) {
  for (const T2Case& c : kT2) {
    SCOPED_TRACE(c.log);
    ImageCatalogue cat = CatalogueFromSums(c.sums);
    Replayer r(&cat);
    ASSERT_TRUE(r.Replay(ParseFileOrDie(c.log)).ok());
    const std::vector<ReportEntry>& rep = r.report();
    ASSERT_EQ(rep.size(), 10u);
    for (int i = 0; i < 7; ++i) {
      SCOPED_TRACE(i);
      EXPECT_EQ(rep[1 + i].reg, Register::kRim);
      EXPECT_EQ(rep[1 + i].value_after, c.rim_after[i]);
    }
    EXPECT_EQ(r.RegisterHex(Register::kRim), c.rim_after[6]);
    EXPECT_EQ(r.RegisterHex(Register::kRem2), c.rem2_tf_rmm);
    std::string zero(std::string(c.rem2_tf_rmm).size(), '0');
    EXPECT_EQ(r.RegisterHex(Register::kRem0), zero);
    EXPECT_EQ(r.RegisterHex(Register::kRem1), zero);
    EXPECT_EQ(r.RegisterHex(Register::kRem3), zero);
    // Report: images verified, E9/E10 on REM2.
    EXPECT_EQ(rep[3].match, CatalogueMatch::kVerified);
    EXPECT_EQ(rep[3].image, "fw.bin");
    EXPECT_EQ(rep[5].action, "DATA measured, 3 granules");
    EXPECT_EQ(rep[7].action, "DATA unmeasured, 16 granules");
    EXPECT_EQ(rep[8].reg, Register::kRem2);
    EXPECT_EQ(rep[8].match, CatalogueMatch::kVerified);
    EXPECT_EQ(rep[8].image, "kernel.bin");

    ReplayOptions ref;
    ref.rem_formula = measure::RemFormula::kReferenceTool;
    Replayer rr(&cat);
    ASSERT_TRUE(rr.Replay(ParseFileOrDie(c.log), ref).ok());
    EXPECT_EQ(rr.RegisterHex(Register::kRem2), c.rem2_ref);
    EXPECT_EQ(rr.RegisterHex(Register::kRem2), B64ToHex(c.ref_rem2_b64));
    EXPECT_EQ(rr.RegisterHex(Register::kRim), B64ToHex(c.ref_final_rim_b64));
  }
}

// K9: the DTB is missing from the catalogue; the synthesiser gets the §J.4
// parameters, and its output must hash to the logged digest.
TEST(Replay, DtbSynthesisIsCheckedAgainstTheLoggedDigest) {
  ImageCatalogue cat = CatalogueWithout("dtb.bin");
  EventLog log = ParseFileOrDie("t2-qemu-sha256.bin");

  DtbRequest seen;
  int calls = 0;
  ReplayOptions o;
  o.dtb_synthesizer = [&](const DtbRequest& req) {
    seen = req;
    ++calls;
    return absl::StatusOr<std::vector<uint8_t>>(
        ReadFileOrDie(std::string(kImages) + "dtb.bin"));
  };
  Replayer good(&cat);
  ASSERT_TRUE(good.Replay(log, o).ok());
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(seen.vmm_name, "QEMU");
  EXPECT_EQ(seen.vmm_version, "9.2.0");
  EXPECT_EQ(seen.num_cpus, 2u);
  EXPECT_EQ(seen.ram_size, 0x40000000u);
  ASSERT_TRUE(seen.initrd.has_value());
  EXPECT_EQ(*seen.initrd,
            std::make_pair(uint64_t{0x48000FFC}, uint64_t{0x1068}));
  ASSERT_TRUE(seen.log.has_value());
  EXPECT_EQ(*seen.log, std::make_pair(uint64_t{0x48200000}, uint64_t{0x10000}));
  EXPECT_TRUE(seen.pmu);
  EXPECT_EQ(good.RegisterHex(Register::kRim),
            "84855690bb1a5bb0381cf10bb6f73f568f7dcaaec0aa81510285d81f85900244");
  EXPECT_EQ(good.report()[4].image, "synthesised DTB (QEMU 9.2.0)");

  ReplayOptions bad;
  bad.dtb_synthesizer = [](const DtbRequest&) {
    std::string s = "GENERATED-DTB";
    return absl::StatusOr<std::vector<uint8_t>>(
        std::vector<uint8_t>(s.begin(), s.end()));
  };
  Replayer wrong(&cat);
  ExpectError(wrong.Replay(log, bad), absl::StatusCode::kInvalidArgument,
              "replay: event 4 (EV_POST_CODE2) at offset 382: synthesised DTB "
              "for QEMU 9.2.0 (2 vCPUs, RAM 0x40000000, initrd "
              "0x48000ffc+0x1068, log 0x48200000+0x10000, PMU on; 13 bytes) "
              "has sha256 ");
  EXPECT_EQ(wrong.engine(), nullptr);  // nothing replayed

  Replayer none(&cat);
  ExpectError(none.Replay(log), absl::StatusCode::kNotFound,
              "replay: event 4 (EV_POST_CODE2) at offset 382: no image in the "
              "catalogue has sha256 849782d6");
}

// K5: "DTB\0" triggers synthesis only with NUL stripping.
TEST(Replay, NulTerminatedDescriptionsMatchOnlyWhenStripped) {
  ImageCatalogue cat;
  Bytes dtb_digest(32, 0x5A);
  Bytes log = Concat({
      SpecIdHeader(),
      Event2(0, 3, {{0, Bytes(32, 0)}},
             VmVersionData("kvmtool", "3", 1 << 30, 1)),
      Event2(0, 6, {}, RealmCreateData(0, 40, 0, 5, 3, 0, 0)),
      Event2(0, 0x13, {{0x0B, dtb_digest}},
             Blob2(absl::string_view("DTB\0", 4), 0x80000000, 4)),
  });
  int calls = 0;
  ReplayOptions o;
  o.dtb_synthesizer = [&](const DtbRequest&) {
    ++calls;
    return absl::StatusOr<std::vector<uint8_t>>(std::vector<uint8_t>{1});
  };
  Replayer exact(&cat);
  ExpectError(exact.Replay(ParseOrDie(log), o), absl::StatusCode::kNotFound,
              "no image in the catalogue");
  EXPECT_EQ(calls, 0);
  o.strip_description_nuls = true;
  Replayer stripped(&cat);
  ExpectError(stripped.Replay(ParseOrDie(log), o),
              absl::StatusCode::kInvalidArgument,
              "synthesised DTB for kvmtool 3");
  EXPECT_EQ(calls, 1);
}

// §J.5 and K2.
TEST(Replay, SmallRealmVectors) {
  ImageCatalogue cat;
  auto rim = [&](const Bytes& events) {
    Replayer r(&cat);
    absl::Status s = r.Replay(ParseOrDie(Concat({SpecIdHeader(), events})));
    EXPECT_TRUE(s.ok()) << s;
    return r.RegisterHex(Register::kRim);
  };
  Bytes create = Event2(0, 6, {}, RealmCreateData(0, 48, 0, 5, 3, 0, 0));
  EXPECT_EQ(rim(create),
            B64ToHex("iWDVaCY3CqpvybOgQdQkBolYK6QeKti7j5rfbSoM1ec="));
  EXPECT_EQ(rim(Concat({create, Event2(0, 6, {},
                                       InitRipasData(0x80000000, 0x200000))})),
            B64ToHex("L8Lzf8cHQItay+Z3QW30pqmLbAveQfmB8xy7hpOvDUk="));
  // K2: LPA2 reaches flags bit 0 of RmiRealmParams (SHA-256 of the 4 KiB
  // params with bytes 0x00 = 1, 0x08 = 48, 0x18 = 5, 0x20 = 3; REF drops it).
  EXPECT_EQ(rim(Event2(0, 6, {}, RealmCreateData(1, 48, 0, 5, 3, 0, 0))),
            "855dc42223138827e336f58b234d1dc0284170b1f4542a1d6e364be6612300b2");
}

// K3 + K11: a firmware CC event log (MR indices) after the VMM log.
TEST(Replay, FirmwareLogAfterVmmLogExtendsRems) {
  ImageCatalogue cat = CatalogueFromSums("SHA256SUMS");
  Replayer r(&cat);
  ASSERT_TRUE(r.Replay(ParseFileOrDie("t2-qemu-sha256.bin")).ok());
  std::string action = "Calling EFI Application from Boot Option";
  Bytes fw = Concat({
      SpecIdHeader(),
      Event2(3, 0x80000007,
             {{0x0B, FromHex("3d6772b4f84ed47595d72a2c4c5ffd15f5bb72c7507fe26f"
                             "2aaee2c69d5633ba")}},
             Bytes(action.begin(), action.end())),
      Event2(4, 0x4,
             {{0x0B, FromHex("df3f619804a92fdb4057192dc43dd748ea778adc52bc498c"
                             "e80524c014b81119")}},
             Bytes(4, 0)),
      Bytes(32, 0xFF),
  });
  ReplayOptions o;
  o.source = LogSource::kFirmware;
  ASSERT_TRUE(r.Replay(ParseOrDie(fw), o).ok());
  // H(REM2_old || d) and H(0^32 || d), computed independently.
  EXPECT_EQ(r.RegisterHex(Register::kRem2),
            "2b96f31ecdab098a5456a84b7d6e73b3ada606dd255129c182ba6e7573b9fda1");
  EXPECT_EQ(r.RegisterHex(Register::kRem3),
            "3d458cfe55cc03ea1f443f1562beec8df51c75e14a9fcf9a7234a13f198e7969");
  EXPECT_EQ(r.RegisterHex(Register::kRim),
            "84855690bb1a5bb0381cf10bb6f73f568f7dcaaec0aa81510285d81f85900244");
  ASSERT_EQ(r.report().size(), 12u);
  EXPECT_EQ(r.report()[10].log, 1u);
  EXPECT_EQ(r.report()[10].match, CatalogueMatch::kUnverified);  // K7

  // The same MR-3 event read as a PCR lands in REM1 (§D.2 mismatch).
  Replayer pcr(&cat);
  ASSERT_TRUE(pcr.Replay(ParseFileOrDie("t2-qemu-sha256.bin")).ok());
  ReplayOptions as_pcr = o;
  as_pcr.index_semantics = IndexSemantics::kPcr;
  ASSERT_TRUE(pcr.Replay(ParseOrDie(fw), as_pcr).ok());
  EXPECT_EQ(pcr.report()[10].reg, Register::kRem1);
}

// A firmware log on its own (no VMM log): the realm's algorithm is given,
// REMs start at zero, the RIM is unknown. Expected REMs: Python hashlib,
// H(0^L || d) over the logged digests.
Bytes FirmwareLog(uint16_t alg, const std::string& hex_action_digest,
                  const std::vector<std::pair<uint16_t, uint16_t>>& spec) {
  std::string action = "Calling EFI Application from Boot Option";
  SpecIdFields f;
  f.algorithms = spec;
  return Concat({
      SpecIdHeader(f),
      Event2(3, 0x80000007, {{alg, FromHex(hex_action_digest)}},
             Bytes(action.begin(), action.end())),
      Bytes(32, 0xFF),
  });
}

TEST(Replay, FirmwareLogOnItsOwnWithTheRealmsAlgorithm) {
  ImageCatalogue cat;
  ReplayOptions o;
  o.source = LogSource::kFirmware;
  o.realm_hash_algorithm = measure::HashAlgorithm::kSha256;
  Replayer r(&cat);
  ASSERT_TRUE(r.Replay(ParseOrDie(FirmwareLog(
                           0x0B,
                           "3d6772b4f84ed47595d72a2c4c5ffd15f5bb72c7507fe26f"
                           "2aaee2c69d5633ba",
                           {{0x0B, 32}})),
                       o)
                  .ok());
  EXPECT_FALSE(r.rim_known());
  EXPECT_EQ(r.RegisterHex(Register::kRim), "");
  EXPECT_EQ(r.RegisterHex(Register::kRem2),
            "3f263b96ccbc33bb53d808771f9ab1e02d4dec8854f9530f749cde853a723273");
  EXPECT_EQ(r.RegisterHex(Register::kRem0), kZero32);
  EXPECT_TRUE(absl::StrContains(r.FormatReport(),
                                "RIM: unknown (no VMM log replayed)"));

  // SHA-512 realm, log with both banks: the SHA-512 digest is used.
  std::string d512 =
      "03020279c5ea3676d6630c82a9931343225e8eab81529b65c786aeb6a445d3852a34dd"
      "193178f938b6b47345a72d4b647df309c971f7c02f0ede296a136a1086";
  o.realm_hash_algorithm = measure::HashAlgorithm::kSha512;
  Replayer r512(&cat);
  ASSERT_TRUE(
      r512.Replay(ParseOrDie(FirmwareLog(0x0D, d512, {{0x0B, 32}, {0x0D, 64}})),
                  o)
          .ok());
  EXPECT_EQ(r512.RegisterHex(Register::kRem2),
            "296526a06e3e47cad8a363184143e06fca18a7fcdf38877534fe805fdfe99de8"
            "2b0fd6c5db675596c6723aabb8699b4bbf2bb4007d85d9ce52df21ae43de2706");

  // SHA-384 realms exist from RMM 2.0 on (K10).
  std::string d384 =
      "77a0dab2312b4e1e57a84d865a21e5b2ee8d677a21012ada819d0a98988078d3d740f6"
      "346bfe0abaa938ca20439a8d71";
  EventLog log384 = ParseOrDie(FirmwareLog(0x0C, d384, {{0x0C, 48}}));
  o.realm_hash_algorithm = measure::HashAlgorithm::kSha384;
  Replayer r384v1(&cat);
  absl::Status s = r384v1.Replay(log384, o);
  ExpectError(s, absl::StatusCode::kUnimplemented, "sha384");
  ASSERT_TRUE(GetLocation(s).has_value());
  EXPECT_EQ(GetLocation(s)->error_class, ErrorClass::kUnsupported);
  EXPECT_FALSE(GetLocation(s)->event.has_value());
  o.rmm_version = measure::RmmVersion::k2_0;
  Replayer r384(&cat);
  ASSERT_TRUE(r384.Replay(log384, o).ok());
  EXPECT_EQ(r384.RegisterHex(Register::kRem2),
            "8032dedfdb8373b9bf18849c61543d2ed4fd555ffb0028634689a13fc4de798f"
            "f904ccded77c2d72259ab9777a17d7bd");
}

TEST(Replay, FirmwareLogOnItsOwnNeedsTheAlgorithmAndItsDigests) {
  ImageCatalogue cat;
  EventLog fw = ParseOrDie(FirmwareLog(
      0x0B, "3d6772b4f84ed47595d72a2c4c5ffd15f5bb72c7507fe26f2aaee2c69d5633ba",
      {{0x0B, 32}}));
  ReplayOptions o;
  o.source = LogSource::kFirmware;
  Replayer none(&cat);
  absl::Status s = none.Replay(fw, o);
  ExpectError(s, absl::StatusCode::kFailedPrecondition,
              "replay: event 0 (EV_EFI_ACTION) at offset 65: extends REM2 "
              "before any REALM_CREATE");
  ASSERT_TRUE(GetLocation(s).has_value());
  EXPECT_EQ(GetLocation(s)->error_class, ErrorClass::kReplay);
  EXPECT_EQ(GetLocation(s)->event, 0u);
  EXPECT_EQ(GetLocation(s)->entry_offset, 65u);

  o.realm_hash_algorithm = measure::HashAlgorithm::kSha512;
  Replayer wrong(&cat);
  ExpectError(wrong.Replay(fw, o), absl::StatusCode::kInvalidArgument,
              "no sha512 digest to extend REM2 with");

  // With a VMM log, the given algorithm must be the REALM_CREATE one.
  ReplayOptions vmm;
  vmm.realm_hash_algorithm = measure::HashAlgorithm::kSha512;
  ImageCatalogue images = CatalogueFromSums("SHA256SUMS");
  Replayer r(&images);
  ExpectError(r.Replay(ParseFileOrDie("t2-qemu-sha256.bin"), vmm),
              absl::StatusCode::kInvalidArgument,
              "replay: event 1 (EV_EVENT_TAG) at offset 227: REALM_CREATE "
              "hash_algo is sha256, expected the realm's sha512");
  // And a later log may not name another one.
  Replayer two(&images);
  ASSERT_TRUE(two.Replay(ParseFileOrDie("t2-qemu-sha256.bin")).ok());
  o.realm_hash_algorithm = measure::HashAlgorithm::kSha512;
  ExpectError(two.Replay(fw, o), absl::StatusCode::kInvalidArgument,
              "replay: log 1: the realm's hash algorithm is given as sha512, "
              "but the realm (from an earlier log) uses sha256");
}

TEST(Replay, MapIndex) {
  struct Case {
    uint32_t index;
    Register pcr;
    Register mr;  // kNone = error
  };
  const Case cases[] = {
      {0, Register::kRim, Register::kRim},
      {1, Register::kRem0, Register::kRem0},
      {2, Register::kRem1, Register::kRem1},
      {3, Register::kRem1, Register::kRem2},
      {4, Register::kRem1, Register::kRem3},
      {6, Register::kRem1, Register::kNone},
      {7, Register::kRem0, Register::kNone},
      {8, Register::kRem2, Register::kNone},
      {15, Register::kRem2, Register::kNone},
      {16, Register::kRem3, Register::kNone},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.index);
    EXPECT_EQ(*MapIndex(c.index, IndexSemantics::kPcr), c.pcr);
    absl::StatusOr<Register> mr = MapIndex(c.index, IndexSemantics::kCcMrIndex);
    if (c.mr == Register::kNone) {
      ExpectError(mr.status(), absl::StatusCode::kInvalidArgument,
                  "has no register, expected 0..4");
    } else {
      EXPECT_EQ(*mr, c.mr);
    }
  }
}

// §I.1 rows that only replay can judge, plus the §I.2 replay rules.
TEST(Replay, RejectsMeaninglessLogs) {
  Bytes create = Event2(0, 6, {}, RealmCreateData(0, 40, 0, 5, 3, 0, 0));
  Bytes kernel = Event2(9, 0x13, {{0x0B, Bytes(32, 7)}}, Blob2("KERNEL", 0, 1));
  struct Case {
    const char* name;
    Bytes events;
    ReplayOptions options;
    absl::StatusCode code;
    const char* message;
  };
  ReplayOptions firmware;
  firmware.source = LogSource::kFirmware;
  ReplayOptions granule_8k;
  granule_8k.population_granule = 0x2000;
  const Case cases[] = {
      {"M15 INIT_RIPAS before REALM_CREATE",
       Event2(0, 6, {}, InitRipasData(0, 0x1000)),
       {},
       absl::StatusCode::kFailedPrecondition,
       "replay: event 0 (EV_EVENT_TAG) at offset 65: changes the RIM before "
       "any REALM_CREATE"},
      {"M35 second REALM_CREATE",
       Concat({create, Event2(0, 6, {}, InitRipasData(0, 0x1000)), create}),
       {},
       absl::StatusCode::kInvalidArgument,
       "event 2 (EV_EVENT_TAG) at offset 145: second REALM_CREATE (first at "
       "event 0)"},
      {"M19 INIT_RIPAS base 2^63",
       Concat({create,
               Event2(0, 6, {}, InitRipasData(uint64_t{1} << 63, 0x1000))}),
       {},
       absl::StatusCode::kInvalidArgument,
       "top exceeds the protected IPA space"},
      {"M39 REM image event without digest",
       Concat({create, Event2(9, 0x13, {}, Blob2("KERNEL", 0, 1))}),
       {},
       absl::StatusCode::kInvalidArgument,
       "no sha256 digest to extend REM2 with"},
      {"RIM image before REALM_CREATE",
       Event2(0, 0x13, {{0x0B, Bytes(32, 1)}}, Blob2("KERNEL", 0, 1)),
       {},
       absl::StatusCode::kFailedPrecondition,
       "before any REALM_CREATE"},
      {"REM event before REALM_CREATE",
       kernel,
       {},
       absl::StatusCode::kFailedPrecondition,
       "extends REM2 before any REALM_CREATE"},
      {"K11 REALM_CREATE in a firmware log", create, firmware,
       absl::StatusCode::kInvalidArgument, "REALM_CREATE in a firmware log"},
      {"MR index 5",
       Concat({Event2(5, 4, {{0x0B, Bytes(32, 0)}}, Bytes(4, 0))}), firmware,
       absl::StatusCode::kInvalidArgument, "CC MR index 5 has no register"},
      {"separator on the RIM",
       Concat({create, Event2(0, 4, {{0x0B, Bytes(32, 0)}}, Bytes(4, 0))}),
       {},
       absl::StatusCode::kInvalidArgument,
       "EV_SEPARATOR cannot change the RIM"},
      {"unmeasured blob beyond the IPA space",
       Concat({create,
               Event2(0, 0x13, {}, Blob2("LOG", uint64_t{1} << 39, 0x1000))}),
       {},
       absl::StatusCode::kInvalidArgument,
       "lies outside the 40-bit realm's protected IPA space"},
      {"unmeasured blob too large",
       Concat(
           {create, Event2(0, 0x13, {}, Blob2("LOG", 0, uint64_t{1} << 34))}),
       {},
       absl::StatusCode::kInvalidArgument,
       "blob covers 4194304 granules, more than the limit of 1048576"},
      {"blob overflow",
       Concat(
           {create, Event2(0, 0x13, {}, Blob2("LOG", ~uint64_t{0} - 5, 10))}),
       {},
       absl::StatusCode::kInvalidArgument,
       "overflows"},
      {"bad granule option", create, granule_8k,
       absl::StatusCode::kInvalidArgument,
       "population granule 8192 bytes, expected 4096 or 65536"},
  };
  ImageCatalogue cat;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Replayer r(&cat);
    ExpectError(
        r.Replay(ParseOrDie(Concat({SpecIdHeader(), c.events})), c.options),
        c.code, c.message);
  }
}

// K10: a SHA-384-only log.
TEST(Replay, RejectsSha384LogsForRmm1) {
  SpecIdFields f;
  f.algorithms = {{0x000C, 48}};
  ImageCatalogue cat;
  Replayer r(&cat);
  ExpectError(r.Replay(ParseOrDie(SpecIdHeader(f))),
              absl::StatusCode::kUnimplemented,
              "neither SHA-256 nor SHA-512 (SHA-384 realms need RMM 2.0; "
              "replaying for RMM 1.0)");
  // A SHA-384 REALM_CREATE in a log that also has a SHA-256 bank: the
  // engine refuses it, naming the version.
  f.algorithms = {{0x000B, 32}, {0x000C, 48}};
  Replayer r2(&cat);
  ExpectError(r2.Replay(ParseOrDie(Concat(
                  {SpecIdHeader(f),
                   Event2(0, 6, {}, RealmCreateData(0, 40, 0, 5, 3, 0, 2))}))),
              absl::StatusCode::kInvalidArgument,
              "hash algorithm sha384 is not available in RMM 1.0");
  // Under RMM 2.0 the SHA-384-only header is accepted; SHA-1 alone is not.
  ReplayOptions v2;
  v2.rmm_version = measure::RmmVersion::k2_0;
  f.algorithms = {{0x000C, 48}};
  Replayer r3(&cat);
  EXPECT_TRUE(r3.Replay(ParseOrDie(SpecIdHeader(f)), v2).ok());
  f.algorithms = {{0x0004, 20}};
  Replayer r4(&cat);
  ExpectError(r4.Replay(ParseOrDie(SpecIdHeader(f)), v2),
              absl::StatusCode::kUnimplemented,
              "neither SHA-256 nor SHA-512 nor SHA-384");
}

// spec-rmm2 §2: a SHA-384 RMM 2.0 log. INIT_RIPAS is reported but leaves the
// RIM as it was; DATA is reported as RTT_DATA_MAP_INIT; REM events extend
// with the SHA-384 bank (48-byte values).
TEST(Replay, Rmm2Sha384Log) {
  SpecIdFields f;
  f.algorithms = {{0x000B, 32}, {0x000C, 48}};
  const Bytes image = {'R', 'M', 'M', '2'};
  ImageCatalogue cat;
  ASSERT_TRUE(cat.AddImage("blob", image).ok());
  auto hash = [](crypto::DigestAlgorithm a, const Bytes& b) {
    absl::StatusOr<std::vector<uint8_t>> d = crypto::HashOnce(a, b);
    EXPECT_TRUE(d.ok());
    return d.ok() ? *d : Bytes();
  };
  auto sha384 = [&](const Bytes& b) {
    return hash(crypto::DigestAlgorithm::kSha384, b);
  };
  const Bytes d256 = hash(crypto::DigestAlgorithm::kSha256, image);
  const Bytes log = Concat({
      SpecIdHeader(f),
      Event2(0, 6, {}, RealmCreateData(0, 40, 0, 5, 3, 0, 2)),
      Event2(0, 6, {}, InitRipasData(0x80000000, 0x200000)),
      Event2(0, 0x13, {{0x000B, d256}, {0x000C, sha384(image)}},
             Blob2("KERNEL", 0x80000000, image.size())),
      Event2(0, 0x13, {}, Blob2("LOG", 0x80100000, 0x2000)),
      Event2(1, 0x80000007, {{0x000B, d256}, {0x000C, sha384(image)}},
             Bytes{'x'}),
  });
  ReplayOptions v2;
  v2.rmm_version = measure::RmmVersion::k2_0;
  Replayer r(&cat);
  absl::Status s = r.Replay(ParseOrDie(log), v2);
  ASSERT_TRUE(s.ok()) << s;
  const std::vector<ReportEntry>& rep = r.report();
  ASSERT_EQ(rep.size(), 5u);
  EXPECT_EQ(rep[1].action,
            "INIT_RIPAS [0x80000000, 0x80200000) not measured (RMM 2.0)");
  EXPECT_EQ(rep[1].value_after, rep[0].value_after);  // RIM unchanged
  EXPECT_EQ(rep[0].value_after.size(), 96u);          // 48 bytes
  EXPECT_EQ(rep[2].action, "RTT_DATA_MAP_INIT measured, 1 granules");
  const Bytes v = sha384(image);
  const std::string v_hex =
      absl::BytesToHexString(std::string(v.begin(), v.end()));
  EXPECT_EQ(rep[4].digest, "sha384:" + v_hex);
  EXPECT_EQ(rep[3].action, "RTT_DATA_MAP_INIT unmeasured, 2 granules");
  // REM0 = SHA-384(48 zero bytes || SHA-384(image)).
  Bytes input(48, 0);
  input.insert(input.end(), v.begin(), v.end());
  const Bytes want = sha384(input);
  EXPECT_EQ(r.RegisterHex(Register::kRem0),
            absl::BytesToHexString(std::string(want.begin(), want.end())));

  // The same log for RMM 1.0 is refused at REALM_CREATE.
  Replayer v1(&cat);
  ExpectError(v1.Replay(ParseOrDie(log)), absl::StatusCode::kInvalidArgument,
              "RMM 1.0");
  // K11: a second log on the realm must name the same RMM version.
  ExpectError(r.Replay(ParseOrDie(SpecIdHeader(f))),
              absl::StatusCode::kInvalidArgument,
              "replayed for RMM 1.0, but the realm (from an earlier log) runs "
              "RMM 2.0");
}

// Under RMM 2.0 the SHA-256 RIM of a log equals the RMM 1.0 RIM of the same
// log without its INIT_RIPAS events (spec-rmm2 §1 row 1).
TEST(Replay, Rmm2RimEqualsRmm1WithoutInitRipas) {
  ImageCatalogue cat = CatalogueFromSums("SHA256SUMS");
  EventLog log = ParseFileOrDie("t2-qemu-sha256.bin");
  ReplayOptions v2;
  v2.rmm_version = measure::RmmVersion::k2_0;
  Replayer r2(&cat);
  ASSERT_TRUE(r2.Replay(log, v2).ok());
  EventLog stripped = log;
  size_t removed = 0;
  for (size_t i = 0; i < stripped.events.size();) {
    if (std::holds_alternative<InitRipasTag>(stripped.events[i].payload)) {
      stripped.events.erase(stripped.events.begin() + i);
      ++removed;
    } else {
      ++i;
    }
  }
  ASSERT_GT(removed, 0u);
  Replayer r1(&cat);
  ASSERT_TRUE(r1.Replay(stripped).ok());
  EXPECT_EQ(r2.RegisterHex(Register::kRim), r1.RegisterHex(Register::kRim));
  Replayer with_ripas(&cat);
  ASSERT_TRUE(with_ripas.Replay(log).ok());
  EXPECT_NE(r2.RegisterHex(Register::kRim),
            with_ripas.RegisterHex(Register::kRim));
}

// M33 / K7: an uncatalogued REM digest is extended and flagged.
TEST(Replay, UncataloguedRemEventIsUnverified) {
  ImageCatalogue cat;
  Replayer r(&cat);
  Bytes log = Concat(
      {SpecIdHeader(), Event2(0, 6, {}, RealmCreateData(0, 40, 0, 5, 3, 0, 0)),
       Event2(9, 0x13, {{0x0B, Bytes(32, 7)}}, Blob2("KERNEL", 0, 1))});
  ASSERT_TRUE(r.Replay(ParseOrDie(log)).ok());
  EXPECT_EQ(r.report()[1].match, CatalogueMatch::kUnverified);
  EXPECT_NE(r.RegisterHex(Register::kRem2), kZero32);
  EXPECT_TRUE(absl::StrContains(r.FormatReport(), "UNVERIFIED"));
}

// §J.1 with REF's non-fatal mode: three image events skipped and reported.
TEST(Replay, RealmBootlogNeedsARealm) {
  ImageCatalogue cat;
  EventLog log = ParseFileOrDie("realm-bootlog.bin");
  Replayer fatal(&cat);
  ExpectError(fatal.Replay(log), absl::StatusCode::kFailedPrecondition,
              "replay: event 0 (EV_POST_CODE2) at offset 65: changes the RIM "
              "before any REALM_CREATE");
  std::optional<ErrorLocation> where = GetLocation(fatal.Replay(log));
  ASSERT_TRUE(where.has_value());
  EXPECT_EQ(where->error_class, ErrorClass::kReplay);
  EXPECT_EQ(where->event, 0u);
  EXPECT_EQ(where->entry_offset, 65u);
}

TEST(Replay, NonFatalModeRecordsErrorsAndContinues) {
  ImageCatalogue cat;
  Bytes log = Concat(
      {SpecIdHeader(), Event2(0, 6, {}, RealmCreateData(0, 48, 0, 5, 3, 0, 0)),
       Event2(0, 0x13, {{0x0B, Bytes(32, 1)}}, Blob2("KERNEL", 0, 1)),
       Event2(0, 6, {}, InitRipasData(0x80000000, 0x200000))});
  ReplayOptions o;
  o.fatal = false;
  Replayer r(&cat);
  ASSERT_TRUE(r.Replay(ParseOrDie(log), o).ok());
  ASSERT_EQ(r.report().size(), 3u);
  EXPECT_TRUE(
      absl::StrContains(r.report()[1].error, "no image in the catalogue"));
  EXPECT_EQ(r.RegisterHex(Register::kRim),
            B64ToHex("L8Lzf8cHQItay+Z3QW30pqmLbAveQfmB8xy7hpOvDUk="));
}

// K8: with 64 KiB host pages the 10-byte firmware fills a whole 64 KiB page.
TEST(Replay, PopulationGranuleIsConfigurable) {
  ImageCatalogue cat = CatalogueFromSums("SHA256SUMS");
  ReplayOptions o;
  o.population_granule = 0x10000;
  Replayer r(&cat);
  ASSERT_TRUE(r.Replay(ParseFileOrDie("t2-qemu-sha256.bin"), o).ok());
  EXPECT_EQ(r.report()[3].action, "DATA measured, 16 granules");
  EXPECT_EQ(r.report()[5].action, "DATA measured, 16 granules");
  EXPECT_NE(r.RegisterHex(Register::kRim),
            "84855690bb1a5bb0381cf10bb6f73f568f7dcaaec0aa81510285d81f85900244");
}

TEST(ImageCatalogue, ChecksumFilesAreChecked) {
  ImageCatalogue cat = CatalogueFromSums("SHA512SUMS");
  EXPECT_EQ(cat.size(), 4u);
  const ImageCatalogue::Image* kernel = cat.Find(
      "7e84159705320753b645ebad998561f93b4a80c94e1a8791e280894aebbb4ebb");
  EXPECT_EQ(kernel, nullptr);  // only SHA-512 keys from a sha512sum file

  std::string dir = ::testing::TempDir();
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir + "/" + name, std::ios::binary) << text;
    return dir + "/" + name;
  };
  write("a.bin", "KERNEL CONTENT");
  struct Case {
    const char* text;
    absl::StatusCode code;
    const char* message;
  };
  const Case cases[] = {
      {"7e84159705320753b645ebad998561f93b4a80c94e1a8791e280894aebbb4ebb "
       "a.bin\n",
       absl::StatusCode::kInvalidArgument, "line 1: expected \"<hex digest>"},
      {"zz84159705320753b645ebad998561f93b4a80c94e1a8791e280894aebbb4ebb  "
       "a.bin\n",
       absl::StatusCode::kInvalidArgument, "is not 40, 64, 96 or 128 hex"},
      {"\n0084159705320753b645ebad998561f93b4a80c94e1a8791e280894aebbb4ebb  "
       "a.bin\n",
       absl::StatusCode::kInvalidArgument, "line 2: a.bin has sha256 7e841597"},
      {"7e84159705320753b645ebad998561f93b4a80c94e1a8791e280894aebbb4ebb  "
       "missing.bin\n",
       absl::StatusCode::kInvalidArgument, "line 1: file "},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    ImageCatalogue bad;
    ExpectError(bad.AddChecksumFile(write("sums", c.text)), c.code, c.message);
  }
  ImageCatalogue good;
  ASSERT_TRUE(good.AddChecksumFile(
                      write("ok",
                            "7E84159705320753B645EBAD998561F93B4A80C94E1A8791E"
                            "280894AEBBB4EBB *a.bin\r\n"))
                  .ok());
  ASSERT_NE(good.Find("7e84159705320753b645ebad998561f93b4a80c94e1a8791e280894"
                      "aebbb4ebb"),
            nullptr);
  ImageCatalogue capped;
  ExpectError(capped.AddChecksumFile(
                  write("ok2",
                        "7e84159705320753b645ebad998561f93b4a80c94e1a87"
                        "91e280894aebbb4ebb  a.bin\n"),
                  /*max_image_size=*/4),
              absl::StatusCode::kInvalidArgument,
              "is 14 bytes, more than the limit of 4");
}

}  // namespace
}  // namespace realm_measurements::eventlog
