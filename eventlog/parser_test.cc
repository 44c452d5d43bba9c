#include "eventlog/parser.h"

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "eventlog/internal/log_builder.h"
#include "gtest/gtest.h"

namespace realm_measurements::eventlog {
namespace {

using internal::Blob2;
using internal::Bytes;
using internal::Concat;
using internal::Event2;
using internal::InitRipasData;
using internal::LegacyEvent;
using internal::PutU32;
using internal::RealmCreateData;
using internal::RecCreateData;
using internal::SpecIdFields;
using internal::SpecIdHeader;
using internal::Tag;
using internal::VmVersionData;

Bytes ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  return Bytes((std::istreambuf_iterator<char>(in)),
               std::istreambuf_iterator<char>());
}

std::string Hex(const std::vector<uint8_t>& v) {
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(v.data()), v.size()));
}

ParseOptions Lenient() {
  ParseOptions o;
  o.allow_truncation = true;
  return o;
}

Bytes Sha256Zero() { return Bytes(32, 0); }
Bytes Header() { return SpecIdHeader(); }

void ExpectError(const absl::StatusOr<EventLog>& r, absl::StatusCode code,
                 absl::string_view substring) {
  ASSERT_FALSE(r.ok()) << "expected an error containing: " << substring;
  EXPECT_EQ(r.status().code(), code) << r.status();
  EXPECT_TRUE(absl::StrContains(r.status().message(), substring))
      << "message: " << r.status().message()
      << "\nexpected to contain: " << substring;
}

// §J.1: realm-bootlog.bin, field by field.
TEST(Parse, RealmBootlogDecodesToSpecFields) {
  Bytes log = ReadFileOrDie("testdata/eventlog/realm-bootlog.bin");
  ASSERT_EQ(log.size(), 512u);
  absl::StatusOr<EventLog> r = Parse(log);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->format, LogFormat::kCryptoAgile);
  ASSERT_TRUE(r->spec_id.has_value());
  const SpecId& id = *r->spec_id;
  EXPECT_EQ(id.platform_class, 0u);
  EXPECT_EQ(id.family_version_minor, 0);
  EXPECT_EQ(id.family_version_major, 2);
  EXPECT_EQ(id.spec_errata, 106);
  EXPECT_EQ(id.uintn_size, 2);
  ASSERT_EQ(id.algorithms.size(), 1u);
  EXPECT_EQ(id.algorithms[0].algorithm, TpmAlgorithm::kSha256);
  EXPECT_EQ(id.algorithms[0].digest_size, 32);
  EXPECT_TRUE(id.vendor_info.empty());

  struct Want {
    size_t offset, size;
    const char* digest;
    std::string description;
    uint64_t base, length;
  };
  const Want want[] = {
      {0x041, 74,
       "e17254af7ac253a2dfbd68038c255cf99bfcb810cdbbfde85cf9aaaf98b9c33c",
       std::string("KERNEL\0", 7), 0x80000000, 0x02BA9A00},
      {0x08B, 74,
       "51424b93c2a6d7f8eb76dccc1f245a61205002f066a7a583450c881bb06fa6d2",
       std::string("INITRD\0", 7), 0x8ADDD3FC, 0x05022C00},
      {0x0D5, 71,
       "ea79003662af29170a038d52ea545fa77bd0ec9120b6d9bc374b7ef1c09faf0c",
       std::string("DTB\0", 4), 0x8FE00000, 0x10000},
  };
  ASSERT_EQ(r->events.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    const Event& e = r->events[i];
    EXPECT_EQ(e.index, i);
    EXPECT_EQ(e.offset, want[i].offset);
    EXPECT_EQ(e.size, want[i].size);
    EXPECT_EQ(e.pcr_index, 0u);
    EXPECT_EQ(e.type, static_cast<uint32_t>(EventType::kPostCode2));
    ASSERT_EQ(e.digests.size(), 1u);
    EXPECT_EQ(e.digests[0].algorithm, TpmAlgorithm::kSha256);
    EXPECT_EQ(e.digests[0].Hex(), want[i].digest);
    const auto* b = std::get_if<FirmwareBlob2>(&e.payload);
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->description, want[i].description);
    EXPECT_EQ(b->base, want[i].base);
    EXPECT_EQ(b->length, want[i].length);
  }
  EXPECT_EQ(r->end, LogEnd::kZeroTerminator);
  EXPECT_EQ(r->end_offset, 0x11Cu);
}

// §J.3 T1 and its prefixes: 69 and 307 bytes are complete logs; 115 ends
// inside the EV_NO_ACTION entry (strict: error; lenient: dropped), 235 ends
// exactly after the VM VERSION event.
TEST(Parse, SyntheticT1AndPrefixes) {
  Bytes t1 = ReadFileOrDie("testdata/eventlog/t1-synthetic.bin");
  ASSERT_EQ(t1.size(), 307u);
  absl::StatusOr<EventLog> full = Parse(t1);
  ASSERT_TRUE(full.ok()) << full.status();
  ASSERT_EQ(full->spec_id->algorithms.size(), 2u);
  ASSERT_EQ(full->events.size(), 2u);
  const auto* vm = std::get_if<VmVersion>(&full->events[0].payload);
  ASSERT_NE(vm, nullptr);
  EXPECT_EQ(vm->name, "kvmtool");
  EXPECT_EQ(vm->data_size, 116u);
  // K6: producers' offsets, so the documented log_start/log_size land here.
  EXPECT_EQ(vm->ram_size, 0x200000u);
  EXPECT_EQ(vm->num_cpus, 1024u);
  const auto* rc = std::get_if<RealmCreateTag>(&full->events[1].payload);
  ASSERT_NE(rc, nullptr);
  EXPECT_EQ(rc->flags, 0u);
  EXPECT_EQ(rc->s2sz, 48);
  EXPECT_EQ(rc->num_bps, 5);
  EXPECT_EQ(rc->num_wps, 3);
  EXPECT_EQ(rc->hash_algo, 0);
  EXPECT_EQ(full->end, LogEnd::kEndOfData);

  Bytes p69(t1.begin(), t1.begin() + 69);
  absl::StatusOr<EventLog> h = Parse(p69);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_TRUE(h->events.empty());

  Bytes p115(t1.begin(), t1.begin() + 115);
  ExpectError(Parse(p115), absl::StatusCode::kInvalidArgument,
              "truncated eventSize at offset 115");
  absl::StatusOr<EventLog> lenient = Parse(p115, Lenient());
  ASSERT_TRUE(lenient.ok()) << lenient.status();
  EXPECT_TRUE(lenient->events.empty());
  EXPECT_EQ(lenient->end, LogEnd::kTruncated);
  EXPECT_EQ(lenient->end_offset, 69u);

  Bytes p235(t1.begin(), t1.begin() + 235);
  absl::StatusOr<EventLog> v = Parse(p235);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->events.size(), 1u);
}

// §J.4 entry offsets of T2-SHA256.
TEST(Parse, QemuShapedT2Layout) {
  Bytes t2 = ReadFileOrDie("testdata/eventlog/t2-qemu-sha256.bin");
  absl::StatusOr<EventLog> r = Parse(t2);
  ASSERT_TRUE(r.ok()) << r.status();
  const size_t starts[] = {0x041, 0x0E3, 0x10B, 0x133, 0x17E,
                           0x1C4, 0x20D, 0x275, 0x299, 0x2E2};
  const size_t ends[] = {0x0E2, 0x10A, 0x132, 0x17D, 0x1C3,
                         0x20C, 0x274, 0x298, 0x2E1, 0x32A};
  ASSERT_EQ(r->events.size(), 10u);
  for (size_t i = 0; i < 10; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(r->events[i].offset, starts[i]);
    EXPECT_EQ(r->events[i].offset + r->events[i].size - 1, ends[i]);
  }
  EXPECT_EQ(r->end, LogEnd::kZeroTerminator);
  EXPECT_EQ(r->end_offset, 0x32Bu);
  const auto* vm = std::get_if<VmVersion>(&r->events[0].payload);
  ASSERT_NE(vm, nullptr);
  EXPECT_EQ(vm->name, "QEMU");
  EXPECT_EQ(vm->version, "9.2.0");
  EXPECT_EQ(vm->ram_size, 0x40000000u);
  EXPECT_EQ(vm->num_cpus, 2u);
  const auto* rec = std::get_if<RecCreateTag>(&r->events[6].payload);
  ASSERT_NE(rec, nullptr);
  EXPECT_EQ(rec->flags, 1u);
  EXPECT_EQ(rec->gprs[0], 0x40000000u);
  const auto* log = std::get_if<FirmwareBlob2>(&r->events[7].payload);
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->description, "LOG");
  EXPECT_TRUE(r->events[7].digests.empty());
  EXPECT_EQ(r->events[8].pcr_index, 9u);
  EXPECT_EQ(r->events[8].digests[0].Hex(),
            "7e84159705320753b645ebad998561f93b4a80c94e1a8791e280894aebbb4ebb");
}

// Valid inputs of §I.1 that must parse (with the payload left alone where
// REF crashed on it).
TEST(Parse, AcceptsOddButValidInputs) {
  struct Case {
    const char* name;
    Bytes log;
    size_t events;
    LogEnd end;
  };
  Bytes gpt(92 + 8, 0);  // a GPT header whose partition-entry size is 0
  Bytes var10(10, 0x41);
  const Case cases[] = {
      {"M01 empty", {}, 0, LogEnd::kEndOfData},
      {"M20 EV_IPL on PCR 8 'x: '",
       Concat({Header(), Event2(8, 0x0D, {{0x0B, Sha256Zero()}},
                                Bytes{'x', ':', ' '})}),
       1, LogEnd::kEndOfData},
      {"M21 variable event with 10 bytes",
       Concat({Header(), Event2(1, 0x80000001, {{0x0B, Sha256Zero()}}, var10)}),
       1, LogEnd::kEndOfData},
      {"M22 GPT entry size 0",
       Concat({Header(), Event2(5, 0x80000006, {{0x0B, Sha256Zero()}}, gpt)}),
       1, LogEnd::kEndOfData},
      {"M24b Linux initrd tag",
       Concat({Header(),
               Event2(9, 6, {{0x0B, Sha256Zero()}},
                      Tag(0x8F3B22EC, Bytes{'L', 'i', 'n', 'u', 'x', ' ', 'i',
                                            'n', 'i', 't', 'r', 'd', 0}))}),
       1, LogEnd::kEndOfData},
      {"M25 VM VERSION cloudhv",
       Concat({Header(), Event2(0, 3, {{0, Sha256Zero()}},
                                VmVersionData("cloudhv", "1", 1 << 30, 1))}),
       1, LogEnd::kEndOfData},
      {"M26b StartupLocality",
       [] {
         Bytes d;
         internal::PutStr(d, absl::string_view("StartupLocality\0", 16));
         d.push_back(3);
         return Concat({Header(), Event2(0, 3, {{0, Sha256Zero()}}, d)});
       }(),
       1, LogEnd::kEndOfData},
      {"M27 LPA2 flag",
       Concat({Header(), Event2(0, 6, {}, RealmCreateData(1, 52, 0, 5, 3, 0, 0))}),
       1, LogEnd::kEndOfData},
      {"M34 garbage after a zero terminator",
       Concat({Header(), Bytes(16, 0), Bytes(40, 0xAB)}), 0,
       LogEnd::kZeroTerminator},
      {"M37 0xFF tail",
       Concat({Header(), Event2(0, 6, {}, InitRipasData(0, 0x1000)),
               Bytes(64, 0xFF)}),
       1, LogEnd::kFfTail},
      {"short 0xFF tail", Concat({Header(), Bytes(5, 0xFF)}), 0,
       LogEnd::kFfTail},
      {"M36 legacy SHA-1 log",
       Concat({LegacyEvent(0, 0x13, Bytes(20, 0x11), Blob2("KERNEL", 0, 4)),
               LegacyEvent(0, 0x13, Bytes(20, 0x22), Blob2("DTB", 0, 4))}),
       2, LogEnd::kEndOfData},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<EventLog> r = Parse(c.log);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->events.size(), c.events);
    EXPECT_EQ(r->end, c.end);
  }
}

TEST(Parse, LegacyEventsCarryOneSha1Digest) {
  Bytes log =
      Concat({LegacyEvent(0, 0x13, Bytes(20, 0x11), Blob2("KERNEL", 8, 4))});
  absl::StatusOr<EventLog> r = Parse(log);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->format, LogFormat::kLegacySha1);
  ASSERT_EQ(r->events[0].digests.size(), 1u);
  EXPECT_EQ(r->events[0].digests[0].algorithm, TpmAlgorithm::kSha1);
  EXPECT_EQ(Hex(r->events[0].digests[0].value), std::string(40, '1'));
}

// §C.4 / §H: firmware and EFI-stub events decode for display.
TEST(Parse, DecodesEdk2AndLinuxStubEvents) {
  Bytes crtm;  // UTF-16 "v1\0"
  for (char c : std::string("v1")) {
    crtm.push_back(c);
    crtm.push_back(0);
  }
  crtm.push_back(0);
  crtm.push_back(0);
  Bytes sep = {0, 0, 0, 0};
  Bytes action;
  internal::PutStr(action, "Calling EFI Application from Boot Option");
  Bytes var;
  var.insert(var.end(), 16, 0x61);
  internal::PutU64(var, 2);
  internal::PutU64(var, 1);
  internal::PutStr(var, absl::string_view("S\0B\0", 4));
  var.push_back(1);
  Bytes image;
  internal::PutU64(image, 0x1000);
  internal::PutU64(image, 0x2000);
  internal::PutU64(image, 0);
  internal::PutU64(image, 4);
  internal::PutU32(image, 0x7fff0004);
  Bytes load_opts;
  internal::PutStr(load_opts,
                   absl::string_view("LOADED_IMAGE::LoadOptions\0", 26));
  Bytes log = Concat({
      Header(),
      Event2(1, 0x8, {{0x0B, Sha256Zero()}}, crtm),
      Event2(1, 0x4, {{0x0B, Sha256Zero()}}, sep),
      Event2(2, 0x80000007, {{0x0B, Sha256Zero()}}, action),
      Event2(1, 0x80000001, {{0x0B, Sha256Zero()}}, var),
      Event2(2, 0x80000003, {{0x0B, Sha256Zero()}}, image),
      Event2(3, 0x6, {{0x0B, Sha256Zero()}}, Tag(0x8F3B22ED, load_opts)),
      Bytes(16, 0xFF),
  });
  absl::StatusOr<EventLog> r = Parse(log);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->events.size(), 6u);
  EXPECT_EQ(std::get<EventText>(r->events[0].payload).text, "v1");
  EXPECT_EQ(std::get<Separator>(r->events[1].payload).value, 0u);
  EXPECT_EQ(std::get<EventText>(r->events[2].payload).text,
            "Calling EFI Application from Boot Option");
  EXPECT_EQ(std::get<UefiVariable>(r->events[3].payload).name, "SB");
  EXPECT_EQ(std::get<UefiVariable>(r->events[3].payload).data_size, 1u);
  EXPECT_EQ(std::get<UefiImageLoad>(r->events[4].payload).length, 0x2000u);
  EXPECT_EQ(std::get<LinuxStubTag>(r->events[5].payload).text,
            "LOADED_IMAGE::LoadOptions");
  EXPECT_EQ(r->end, LogEnd::kFfTail);
}

// Every malformed input of §I.1 (and the §I.2 rules) rejected with a
// specific error.
TEST(Parse, RejectsMalformedInputs) {
  struct Case {
    const char* name;
    Bytes log;
    absl::StatusCode code;
    const char* message;
  };
  auto spec = [](auto mutate) {
    SpecIdFields f;
    mutate(f);
    return SpecIdHeader(f);
  };
  Bytes one_ff_event =
      Event2(0, 0x13, {{0x0B, Sha256Zero()}}, Blob2("KERNEL", 0, 4));
  Bytes huge_count;
  PutU32(huge_count, 0);
  PutU32(huge_count, 0x13);
  PutU32(huge_count, 0xFFFFFFF0);
  Bytes huge_size = Concat({Header(), [] {
                              Bytes b;
                              PutU32(b, 0);
                              PutU32(b, 0x13);
                              PutU32(b, 0);
                              PutU32(b, 0xFFFFFFFF);
                              b.insert(b.end(), {1, 2, 3});
                              return b;
                            }()});
  const Bytes header = Header();
  Bytes blob_extra = Blob2("KERNEL", 0, 4);
  blob_extra.push_back(0);
  Bytes vm_big_cpus = VmVersionData("QEMU", "9.2.0", 1 << 30, 0x10001);
  const Case cases[] = {
      {"M02 header cut after 20 bytes",
       Bytes(header.begin(), header.begin() + 20),
       absl::StatusCode::kInvalidArgument,
       "event log: Spec ID header (entry at offset 0): truncated digest at "
       "offset 8: expected 20 bytes, found 12"},
      {"M03 signature Event02", spec([](SpecIdFields& f) {
         f.signature = std::string("Spec ID Event02\0", 16);
       }),
       absl::StatusCode::kInvalidArgument, "signature is \"Spec ID Event02"},
      {"M04 uintnSize 1", spec([](SpecIdFields& f) { f.uintn_size = 1; }),
       absl::StatusCode::kInvalidArgument,
       "uintnSize is 1, expected 2 at offset 55"},
      {"M05 no vendorInfoSize byte",
       spec([](SpecIdFields& f) { f.omit_vendor_info_size = true; }),
       absl::StatusCode::kInvalidArgument,
       // 32 bytes into the Spec ID data, which starts at file offset 32.
       "truncated vendorInfoSize at offset 64"},
      {"M06 numberOfAlgorithms 0x40000000",
       spec([](SpecIdFields& f) { f.number_of_algorithms = 0x40000000; }),
       absl::StatusCode::kInvalidArgument,
       "numberOfAlgorithms is 1073741824, expected 1..8"},
      {"M06b Spec ID trailing byte",
       spec([](SpecIdFields& f) { f.trailing = {0}; }),
       absl::StatusCode::kInvalidArgument, "1 trailing bytes after vendorInfo"},
      {"M07 hashAlg 0x0012",
       Concat({Header(), Event2(0, 0x13, {{0x0012, Sha256Zero()}},
                                Blob2("KERNEL", 0, 4))}),
       absl::StatusCode::kUnimplemented, "unsupported digest algorithm 0x0012"},
      {"M07b undeclared SHA-512",
       Concat({Header(), Event2(0, 0x13, {{0x000D, Bytes(64, 0)}},
                                Blob2("KERNEL", 0, 4))}),
       absl::StatusCode::kInvalidArgument,
       "digest algorithm sha512 is not declared in the Spec ID"},
      {"M08 SHA-256 declared with size 20", spec([](SpecIdFields& f) {
         f.algorithms = {{0x000B, 20}};
       }),
       absl::StatusCode::kInvalidArgument,
       "digestSize of sha256 is 20, expected 32"},
      {"M09 eventSize 0xFFFFFFFF", huge_size,
       absl::StatusCode::kInvalidArgument,
       "eventSize 4294967295 exceeds the limit of 1048576 bytes"},
      {"M12 BLOB2 with one extra byte",
       Concat({Header(), Event2(0, 0x13, {{0x0B, Sha256Zero()}}, blob_extra)}),
       absl::StatusCode::kInvalidArgument,
       "event data is 24 bytes, expected 1 + 6 + 16 = 23"},
      {"M13 INIT_RIPAS unaligned base",
       Concat({Header(), Event2(0, 6, {}, InitRipasData(0x800, 0x1000))}),
       absl::StatusCode::kInvalidArgument,
       "INIT_RIPAS base 0x800 size 0x1000: expected a non-empty 4 KiB "
       "aligned range"},
      {"M14 INIT_RIPAS overflow",
       Concat({Header(),
               Event2(0, 6, {}, InitRipasData(0xFFFFFFFFFFFFF000, 0x2000))}),
       absl::StatusCode::kInvalidArgument,
       "INIT_RIPAS base 0xfffffffffffff000 + size 0x2000 overflows"},
      {"M16 s2sz 60",
       Concat(
           {Header(), Event2(0, 6, {}, RealmCreateData(0, 60, 0, 5, 3, 0, 0))}),
       absl::StatusCode::kInvalidArgument,
       "REALM_CREATE s2sz is 60, expected 17..48 (no LPA2)"},
      {"M17 s2sz 8",
       Concat(
           {Header(), Event2(0, 6, {}, RealmCreateData(0, 8, 0, 5, 3, 0, 0))}),
       absl::StatusCode::kInvalidArgument, "REALM_CREATE s2sz is 8"},
      {"M17b s2sz 16",
       Concat(
           {Header(), Event2(0, 6, {}, RealmCreateData(0, 16, 0, 5, 3, 0, 0))}),
       absl::StatusCode::kInvalidArgument, "REALM_CREATE s2sz is 16"},
      {"M18 num_bps 255",
       Concat({Header(),
               Event2(0, 6, {}, RealmCreateData(0, 40, 0, 255, 3, 0, 0))}),
       absl::StatusCode::kInvalidArgument,
       "REALM_CREATE num_bps is 255 (256 breakpoints), expected 1..63"},
      {"M18b num_bps 64",
       Concat({Header(),
               Event2(0, 6, {}, RealmCreateData(0, 40, 0, 64, 3, 0, 0))}),
       absl::StatusCode::kInvalidArgument,
       "REALM_CREATE num_bps is 64 (65 breakpoints)"},
      {"unknown realm flags",
       Concat(
           {Header(), Event2(0, 6, {}, RealmCreateData(8, 40, 0, 5, 3, 0, 0))}),
       absl::StatusCode::kInvalidArgument, "unknown bits 0x8"},
      {"sve_vl 16",
       Concat({Header(),
               Event2(0, 6, {}, RealmCreateData(2, 40, 16, 5, 3, 0, 0))}),
       absl::StatusCode::kInvalidArgument, "REALM_CREATE sve_vl is 16"},
      {"pmu counters 32",
       Concat({Header(),
               Event2(0, 6, {}, RealmCreateData(4, 40, 0, 5, 3, 32, 0))}),
       absl::StatusCode::kInvalidArgument, "REALM_CREATE pmu_num_ctrs is 32"},
      {"hash_algo 3",
       Concat(
           {Header(), Event2(0, 6, {}, RealmCreateData(0, 40, 0, 5, 3, 0, 3))}),
       absl::StatusCode::kInvalidArgument,
       "REALM_CREATE hash_algo is 3, expected 0 (SHA-256), 1 (SHA-512) or 2 "
       "(SHA-384)"},
      {"hash_algo 7",
       Concat(
           {Header(), Event2(0, 6, {}, RealmCreateData(0, 40, 0, 5, 3, 0, 7))}),
       absl::StatusCode::kInvalidArgument, "REALM_CREATE hash_algo is 7"},
      {"M24 tag event with 3 data bytes",
       Concat({Header(), Event2(0, 6, {}, Bytes{1, 0, 0})}),
       absl::StatusCode::kInvalidArgument,
       "tagged event data is 3 bytes, expected at least 8"},
      {"tag size disagrees with data",
       Concat({Header(), Event2(0, 6, {},
                                [] {
                                  Bytes b = InitRipasData(0, 0x1000);
                                  b.push_back(0);
                                  return b;
                                }())}),
       absl::StatusCode::kInvalidArgument,
       "taggedEventDataSize is 16, but 17 bytes of tag data follow"},
      {"REC_CREATE short",
       Concat({Header(), Event2(0, 6, {}, Tag(3, Bytes(72, 0)))}),
       absl::StatusCode::kInvalidArgument,
       "REC_CREATE taggedEventDataSize is 72, expected at least 80"},
      {"M26 num_cpus 0x10001",
       Concat({Header(), Event2(0, 3, {{0, Sha256Zero()}}, vm_big_cpus)}),
       absl::StatusCode::kInvalidArgument,
       "VM VERSION num_cpus is 65537, expected 1..65536"},
      {"VM VERSION 100 bytes",
       Concat({Header(),
               Event2(0, 3, {{0, Sha256Zero()}},
                      Bytes(vm_big_cpus.begin(), vm_big_cpus.begin() + 100))}),
       absl::StatusCode::kInvalidArgument,
       "VM VERSION data is 100 bytes, expected 112 (or 116)"},
      {"M29 SHA-256 listed twice", spec([](SpecIdFields& f) {
         f.algorithms = {{0x0B, 32}, {0x0B, 48}};
       }),
       absl::StatusCode::kInvalidArgument, "digestSize of sha256 is 48"},
      {"SHA-256 listed twice, same size", spec([](SpecIdFields& f) {
         f.algorithms = {{0x0B, 32}, {0x0B, 32}};
       }),
       absl::StatusCode::kInvalidArgument, "algorithm sha256 listed twice"},
      {"M31 2 algorithms, NO_ACTION count 1 alg 0",
       Concat({spec([](SpecIdFields& f) {
                 f.algorithms = {{0x0B, 32}, {0x0D, 64}};
               }),
               Event2(0, 3, {{0, Sha256Zero()}},
                      VmVersionData("QEMU", "9", 1 << 30, 1))}),
       absl::StatusCode::kUnimplemented, "unsupported digest algorithm 0x0000"},
      {"M32 REC_CREATE flags 2",
       Concat({Header(), Event2(0, 6, {}, RecCreateData(2, 0, 0))}),
       absl::StatusCode::kInvalidArgument,
       "REC_CREATE flags 0x2 have unknown bits"},
      {"M38 digests.count 0xFFFFFFF0", Concat({Header(), huge_count}),
       absl::StatusCode::kInvalidArgument,
       "digests.count is 4294967280, expected at most the 1 algorithms"},
      {"M40 BLOB2 description FF FE",
       Concat({Header(), Event2(0, 0x13, {{0x0B, Sha256Zero()}},
                                Blob2("\xff\xfe", 0, 4))}),
       absl::StatusCode::kInvalidArgument,
       "blob description \"\\xff\\xfe\" is not printable ASCII"},
      {"NUL inside a description",
       Concat({Header(), Event2(0, 0x13, {{0x0B, Sha256Zero()}},
                                Blob2(absl::string_view("IN\0RD", 5), 0, 4))}),
       absl::StatusCode::kInvalidArgument, "is not printable ASCII"},
      {"two digests of one algorithm",
       Concat({spec([](SpecIdFields& f) {
                 f.algorithms = {{0x0B, 32}, {0x0D, 64}};
               }),
               Event2(0, 0x13, {{0x0B, Sha256Zero()}, {0x0B, Sha256Zero()}},
                      Blob2("KERNEL", 0, 4))}),
       absl::StatusCode::kInvalidArgument,
       "event 0 (EV_POST_CODE2) at offset 69: two sha256 digests at offset "
       "115"},
      {"truncated digest",
       Concat(
           {Header(), Bytes(one_ff_event.begin(), one_ff_event.begin() + 30)}),
       absl::StatusCode::kInvalidArgument,
       "event 0 (EV_POST_CODE2) at offset 65: truncated digest at offset 79: "
       "expected 32 bytes, found 16"},
      {"truncated event data",
       Concat({Header(), Bytes(one_ff_event.begin(), one_ff_event.end() - 1)}),
       absl::StatusCode::kInvalidArgument,
       "event 0 (EV_POST_CODE2) at offset 65: truncated data at offset 115: "
       "expected 23 bytes, found 22"},
      {"short zero tail (a cut-off entry)", Concat({Header(), Bytes(5, 0)}),
       absl::StatusCode::kInvalidArgument,
       "truncated eventType at offset 69: expected 4 bytes, found 1"},
      {"stray bytes at the end", Concat({Header(), Bytes{1, 2, 3}}),
       absl::StatusCode::kInvalidArgument, "truncated pcrIndex at offset 65"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<EventLog> r = Parse(c.log);
    ExpectError(r, c.code, c.message);
    if (r.ok()) continue;
    // Every error names its entry: the event index and the offset where the
    // entry starts (or the Spec ID header at 0), in the message and in the
    // attached location.
    std::optional<ErrorLocation> where = GetLocation(r.status());
    ASSERT_TRUE(where.has_value()) << r.status();
    ASSERT_TRUE(where->entry_offset.has_value());
    if (where->event.has_value()) {
      EXPECT_TRUE(absl::StrContains(r.status().message(),
                                    absl::StrCat("event ", *where->event)))
          << r.status();
      EXPECT_TRUE(absl::StrContains(
          r.status().message(),
          absl::StrCat("at offset ", *where->entry_offset, ":")))
          << r.status();
    } else {
      EXPECT_EQ(*where->entry_offset, 0u);
      EXPECT_TRUE(
          absl::StartsWith(r.status().message(),
                           "event log: Spec ID header (entry at offset 0): "))
          << r.status();
    }
    EXPECT_EQ(where->error_class,
              c.code == absl::StatusCode::kUnimplemented
                  ? ErrorClass::kUnsupported
              // A field missing inside complete Spec ID data is a malformed
              // header, not a log that ends early.
              : absl::StrContains(c.message, "truncated") &&
                      !absl::StrContains(c.message, "vendorInfoSize")
                  ? ErrorClass::kTruncated
              : absl::StrContains(c.message, "exceeds the limit")
                  ? ErrorClass::kLimit
                  : ErrorClass::kMalformed)
        << r.status();
  }
}

TEST(Parse, EnforcesLimits) {
  Bytes ev = Event2(0, 6, {}, InitRipasData(0, 0x1000));
  Bytes log = Header();
  for (int i = 0; i < 5; ++i) log.insert(log.end(), ev.begin(), ev.end());
  ParseOptions few;
  few.max_events = 4;
  ExpectError(Parse(log, few), absl::StatusCode::kInvalidArgument,
              "more than 4 events");
  ParseOptions small;
  small.max_log_size = 100;
  ExpectError(Parse(log, small), absl::StatusCode::kInvalidArgument,
              "bytes exceed the limit of 100");
  EXPECT_TRUE(Parse(log).ok());

  // Each limit error is classed as such; the event-count one names the
  // entry that would be event 4 (65 + 4 * 36 bytes into the log).
  std::optional<ErrorLocation> where = GetLocation(Parse(log, few).status());
  ASSERT_TRUE(where.has_value());
  EXPECT_EQ(where->error_class, ErrorClass::kLimit);
  EXPECT_EQ(where->event, 4u);
  EXPECT_EQ(where->entry_offset, 65u + 4 * ev.size());
  ExpectError(Parse(log, few), absl::StatusCode::kInvalidArgument,
              absl::StrCat("event 4 at offset ", 65 + 4 * ev.size(),
                           ": more than 4 events"));
  where = GetLocation(Parse(log, small).status());
  ASSERT_TRUE(where.has_value());
  EXPECT_EQ(where->error_class, ErrorClass::kLimit);
  EXPECT_FALSE(where->event.has_value());
  EXPECT_FALSE(where->entry_offset.has_value());
}

// Offsets in messages count from the start of the file: the Spec ID's
// fields (its data starts at 32) and the fields of an event's payload.
TEST(Parse, ErrorOffsetsCountFromTheStartOfTheFile) {
  SpecIdFields f;
  f.signature = std::string("Spec ID Event02\0", 16);
  ExpectError(Parse(SpecIdHeader(f)), absl::StatusCode::kInvalidArgument,
              "event log: Spec ID header (entry at offset 0): signature is");
  ExpectError(Parse(SpecIdHeader(f)), absl::StatusCode::kInvalidArgument,
              "expected \"Spec ID Event03\\000\" at offset 32");
  SpecIdFields n;
  n.number_of_algorithms = 0;
  // numberOfAlgorithms is at 0x18 in the data, 32 + 24 = 56 in the file.
  ExpectError(Parse(SpecIdHeader(n)), absl::StatusCode::kInvalidArgument,
              "numberOfAlgorithms is 0, expected 1..8 at offset 56");
  SpecIdFields a;
  a.algorithms = {{0x0012, 32}};
  ExpectError(Parse(SpecIdHeader(a)), absl::StatusCode::kUnimplemented,
              "unsupported digest algorithm 0x0012 at offset 60");

  // An empty BLOB2 payload: its first field is read at the data offset
  // (event at 65, data after 4 + 4 + 4 + 2 + 32 + 4 bytes = 115).
  Bytes log = Concat({Header(), Event2(1, 0x13, {{0x0B, Sha256Zero()}}, {})});
  ExpectError(Parse(log), absl::StatusCode::kInvalidArgument,
              "event log: event 0 (EV_POST_CODE2) at offset 65: BLOB2 data: "
              "truncated BlobDescriptionSize at offset 115");
  // An informational payload's note uses file offsets too.
  Bytes var = Bytes(16, 0);
  PutU32(var, 1);  // UnicodeNameLength, low half
  PutU32(var, 0);
  PutU32(var, 0);  // VariableDataLength, low half
  PutU32(var, 0);
  absl::StatusOr<EventLog> r = Parse(
      Concat({Header(), Event2(1, 0x80000001, {{0x0B, Sha256Zero()}}, var)}));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->events.size(), 1u);
  EXPECT_EQ(r->events[0].data_offset, 115u);
  // The name needs 2 bytes at 115 + 32 = 147.
  EXPECT_TRUE(absl::StrContains(r->events[0].payload_note,
                                "truncated UnicodeName at offset 147"))
      << r->events[0].payload_note;
}

TEST(Parse, TruncationIsClassedAndLocated) {
  Bytes t2 = ReadFileOrDie("testdata/eventlog/t2-qemu-sha256.bin");
  // Cut inside E4 (0x133-0x17D, event 3).
  Bytes p(t2.begin(), t2.begin() + 0x140);
  absl::StatusOr<EventLog> r = Parse(p);
  ASSERT_FALSE(r.ok());
  std::optional<ErrorLocation> where = GetLocation(r.status());
  ASSERT_TRUE(where.has_value());
  EXPECT_EQ(where->error_class, ErrorClass::kTruncated);
  EXPECT_EQ(where->event, 3u);
  EXPECT_EQ(where->entry_offset, 0x133u);
  EXPECT_TRUE(absl::StartsWith(
      r.status().message(),
      "event log: event 3 (EV_EFI_PLATFORM_FIRMWARE_BLOB2) at offset 307: "))
      << r.status();
  // Cut inside the head: the type is not known yet.
  Bytes q(t2.begin(), t2.begin() + 0x133 + 6);
  ExpectError(Parse(q), absl::StatusCode::kInvalidArgument,
              "event log: event 3 at offset 307: truncated eventType at "
              "offset 311");
}

// Lenient mode (K4 compatibility) accepts every truncation point of T2 and
// keeps exactly the complete events; strict mode rejects all but the entry
// boundaries.
TEST(Parse, EveryPrefixOfT2IsCleanlyHandled) {
  Bytes t2 = ReadFileOrDie("testdata/eventlog/t2-qemu-sha256.bin");
  absl::StatusOr<EventLog> full = Parse(t2);
  ASSERT_TRUE(full.ok());
  for (size_t n = 0; n <= 0x32B; ++n) {
    SCOPED_TRACE(n);
    Bytes p(t2.begin(), t2.begin() + n);
    size_t complete = 0;
    bool boundary = n == 0 || n == 0x41;
    for (const Event& e : full->events) {
      if (e.offset + e.size <= n) ++complete;
      if (e.offset + e.size == n) boundary = true;
    }
    absl::StatusOr<EventLog> strict = Parse(p);
    EXPECT_EQ(strict.ok(), boundary) << strict.status();
    absl::StatusOr<EventLog> lenient = Parse(p, Lenient());
    ASSERT_TRUE(lenient.ok()) << lenient.status();
    EXPECT_EQ(lenient->events.size(), complete);
  }
}

}  // namespace
}  // namespace realm_measurements::eventlog
