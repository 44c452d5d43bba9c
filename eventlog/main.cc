// `eventlog`: print or replay a TCG event log (spec-eventlog).
//
//   eventlog parse LOG [--format text|json] [--lenient]
//   eventlog replay [LOG [--index pcr|mr]] [--firmware-log LOG [--index
//   pcr|mr]]...
//                   [--hash-algo sha256|sha384|sha512] [--catalogue SUMS]...
//                   [--format text|json] [--lenient] [--non-fatal]
//                   [--granule 4096|65536] [--strip-nuls] [--ref-rem]
//                   [--rmm-version 1.0|2.0]
//                   [--synthesize-dtb [--dtb-bootargs S]
//                   [--dtb-no-bootargs] [--dtb-no-its] [--dtb-virtio-mmio N]
//                   [--dtb-qemu-m SIZE[,maxmem=M][,slots=N]]
//                   [--dtb-qemu-smp TOPOLOGY] [--dtb-templates LIST]]
//
// Exit status: 0 success, 1 the log or a catalogue was rejected, 2 usage.
#include <cstdio>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/json_text.h"
#include "base/working_directory.h"
#include "eventlog/dtb_synthesis.h"
#include "eventlog/errors.h"
#include "eventlog/internal/text_file.h"
#include "eventlog/parser.h"
#include "eventlog/replay.h"
#include "measure/vmm/qemu.h"
#include "nlohmann/json.hpp"

namespace {

namespace el = realm_measurements::eventlog;
using nlohmann::json;

constexpr char kUsage[] =
    "usage: eventlog parse LOG [--format text|json] [--lenient]\n"
    "       eventlog replay [LOG [--index pcr|mr]]\n"
    "                [--firmware-log LOG [--index pcr|mr]]...\n"
    "                [--hash-algo sha256|sha384|sha512] [--catalogue SUMS]...\n"
    "                [--format text|json] [--lenient] [--non-fatal]\n"
    "                [--granule 4096|65536] [--strip-nuls] [--ref-rem]\n"
    "                [--rmm-version 1.0|2.0]\n"
    "                [--synthesize-dtb [--dtb-bootargs S]\n"
    "                [--dtb-no-bootargs] [--dtb-no-its] [--dtb-virtio-mmio N]\n"
    "                [--dtb-qemu-m SIZE[,maxmem=M][,slots=N]]\n"
    "                [--dtb-qemu-smp TOPOLOGY] [--dtb-templates LIST]]\n";

// --help: the usage, then what the commands and options do.
constexpr char kHelp[] =
    "Prints (parse) or replays (replay) the TCG event log a Realm's VMM or\n"
    "firmware wrote, recomputing the RIM and REM0-REM3 and checking each\n"
    "image against catalogues of known-good files.\n"
    "\n"
    "Options:\n"
    "  --format text|json     output format (default text); with json, errors\n"
    "                         are a JSON object on stdout too (log, event,\n"
    "                         entry_offset, class, message)\n"
    "  --lenient              a log ending inside an entry drops that entry\n"
    "                         instead of failing\n"
    "  --catalogue SUMS       a sha256sum/sha512sum file; the images it names\n"
    "                         are read and checked (repeatable)\n"
    "  --firmware-log LOG     a CC event log (EDK2 CCEL) replayed after LOG\n"
    "                         (repeatable); without LOG it is replayed on its\n"
    "                         own and needs --hash-algo\n"
    "  --hash-algo ALG        the realm's hash algorithm (sha256, sha384 with\n"
    "                         --rmm-version 2.0, sha512): REMs of firmware "
    "logs\n"
    "                         replayed without LOG (the RIM is then unknown);\n"
    "                         with LOG, its REALM_CREATE must use ALG\n"
    "  --non-fatal            per-event errors are reported and the event\n"
    "                         skipped (the values are then not reference "
    "values)\n"
    "  --granule 65536        images populated in 64 KiB host pages\n"
    "  --strip-nuls           compare descriptions without trailing NULs\n"
    "  --ref-rem              the Rust tool's REM formula instead of TF-RMM's\n"
    "  --index pcr|mr         the index semantics of the log named just\n"
    "                         before it (defaults: pcr for LOG, mr for\n"
    "                         firmware logs)\n"
    "  --rmm-version 1.0|2.0  the RMM the realm ran on (default 1.0); 2.0:\n"
    "                         INIT_RIPAS not measured, RTT_DATA_MAP_INIT,\n"
    "                         SHA-384 realms\n"
    "  --synthesize-dtb       rebuild an unknown DTB with the QEMU or kvmtool\n"
    "                         model from the log and accept it only if it "
    "hashes\n"
    "                         to the logged digest; --dtb-bootargs S,\n"
    "                         --dtb-no-bootargs, --dtb-no-its, "
    "--dtb-virtio-mmio N\n"
    "                         and --dtb-templates LIST give what the log "
    "lacks\n"
    "  --dtb-qemu-m VALUE     QEMU: the realm's -m value as it was passed\n"
    "                         (e.g. 1G,maxmem=4G,slots=2): maxmem and slots\n"
    "                         move the high memory map; a size must equal\n"
    "                         the log's RAM size\n"
    "  --dtb-qemu-smp VALUE   QEMU: the realm's -smp value (e.g.\n"
    "                         4,sockets=2,cores=2): the CPU topology a\n"
    "                         template's cpu-map gets; its CPU count must\n"
    "                         equal the log's\n"
    "  -h, --help             print this help\n"
    "\n"
    "Errors name the log, the event index and the offset (from the start of\n"
    "the file) where the event's entry starts.\n"
    "Exit status: 0 success, 1 the log or a catalogue was rejected, 2 usage.\n"
    "Details: eventlog/README.md.\n";

int Usage(const std::string& why) {
  std::fprintf(stderr, "eventlog: %s\n%s", why.c_str(), kUsage);
  return 2;
}

// A rejected input: which log (0 = LOG or the first firmware log given
// alone, then the firmware logs in order), or none for a catalogue.
struct Failure {
  absl::Status status;
  std::optional<size_t> log;
  std::string path;
  // Used when `status` carries no ErrorLocation (files, catalogues).
  el::ErrorClass fallback = el::ErrorClass::kIo;
};

json ErrorJson(const Failure& f) {
  std::optional<el::ErrorLocation> where = el::GetLocation(f.status);
  el::ErrorLocation l = where.value_or(el::ErrorLocation{f.fallback, {}, {}});
  auto opt = [](const std::optional<size_t>& v) {
    return v.has_value() ? json(*v) : json(nullptr);
  };
  return {{"log", opt(f.log)},
          {"path", f.path},
          {"event", opt(l.event)},
          {"entry_offset", opt(l.entry_offset)},
          {"class", el::ErrorClassName(l.error_class)},
          {"code", absl::StatusCodeToString(f.status.code())},
          {"message", std::string(f.status.message())}};
}

// The one-line message on stderr; for a firmware log, which one.
int Fail(const Failure& f, bool as_json) {
  if (as_json) {
    std::printf("%s\n", realm_measurements::base::JsonText(
                            json{{"error", ErrorJson(f)}}, 2)
                            .c_str());
  }
  std::string where = f.log.has_value() && *f.log > 0
                          ? absl::StrCat("log ", *f.log, " (", f.path, "): ")
                          : "";
  std::fprintf(stderr, "eventlog: %s%s\n", where.c_str(),
               std::string(f.status.message()).c_str());
  return 1;
}

// The log's bytes: a regular file of at most `cap` bytes
// (eventlog/internal/text_file.h); too large is a limit error, anything
// else (missing, a FIFO, a directory) an I/O error.
absl::StatusOr<std::vector<uint8_t>> ReadLog(const std::string& path,
                                             size_t cap) {
  absl::StatusOr<std::vector<uint8_t>> bytes =
      el::internal::ReadBoundedFile(path, cap);
  if (bytes.status().code() == absl::StatusCode::kOutOfRange) {
    return el::WithLocation(bytes.status(), {el::ErrorClass::kLimit, {}, {}});
  }
  return bytes;
}

std::string Printable(const std::string& s) { return absl::CHexEscape(s); }

json PayloadJson(const el::Event& e) {
  json j;
  std::visit(
      [&](const auto& p) {
        using T = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<T, el::RawPayload>) {
          j["kind"] = "raw";
        } else if constexpr (std::is_same_v<T, el::FirmwareBlob2>) {
          j = {{"kind", "firmware_blob2"},
               {"description", Printable(p.description)},
               {"base", p.base},
               {"length", p.length}};
        } else if constexpr (std::is_same_v<T, el::FirmwareBlob>) {
          j = {{"kind", "firmware_blob"},
               {"base", p.base},
               {"length", p.length}};
        } else if constexpr (std::is_same_v<T, el::VmVersion>) {
          j = {{"kind", "vm_version"},   {"name", p.name},
               {"version", p.version},   {"ram_size", p.ram_size},
               {"num_cpus", p.num_cpus}, {"data_size", p.data_size}};
        } else if constexpr (std::is_same_v<T, el::StartupLocality>) {
          j = {{"kind", "startup_locality"}, {"locality", p.locality}};
        } else if constexpr (std::is_same_v<T, el::OtherNoAction>) {
          j = {{"kind", "no_action"}, {"signature", p.signature}};
        } else if constexpr (std::is_same_v<T, el::RealmCreateTag>) {
          j = {{"kind", "realm_create"},
               {"flags", p.flags},
               {"s2sz", p.s2sz},
               {"sve_vl", p.sve_vl},
               {"num_bps", p.num_bps},
               {"num_wps", p.num_wps},
               {"pmu_num_ctrs", p.pmu_num_ctrs},
               {"hash_algo", p.hash_algo}};
        } else if constexpr (std::is_same_v<T, el::InitRipasTag>) {
          j = {{"kind", "init_ripas"}, {"base", p.base}, {"size", p.size}};
        } else if constexpr (std::is_same_v<T, el::RecCreateTag>) {
          j = {{"kind", "rec_create"},
               {"flags", p.flags},
               {"pc", p.pc},
               {"gprs", p.gprs}};
        } else if constexpr (std::is_same_v<T, el::LinuxStubTag>) {
          j = {{"kind", "linux_stub_tag"}, {"id", p.id}, {"text", p.text}};
        } else if constexpr (std::is_same_v<T, el::OtherTag>) {
          j = {{"kind", "tag"}, {"id", p.id}, {"size", p.size}};
        } else if constexpr (std::is_same_v<T, el::Separator>) {
          j = {{"kind", "separator"}, {"value", p.value}};
        } else if constexpr (std::is_same_v<T, el::EventText>) {
          j = {{"kind", "text"}, {"text", p.text}};
        } else if constexpr (std::is_same_v<T, el::UefiVariable>) {
          j = {{"kind", "uefi_variable"},
               {"name", p.name},
               {"data_size", p.data_size}};
        } else if constexpr (std::is_same_v<T, el::UefiImageLoad>) {
          j = {{"kind", "uefi_image_load"},
               {"location", p.location},
               {"length", p.length}};
        }
      },
      e.payload);
  if (!e.payload_note.empty()) j["note"] = e.payload_note;
  return j;
}

std::string PayloadText(const el::Event& e) {
  json j = PayloadJson(e);
  j.erase("kind");
  return j.empty() ? "" : realm_measurements::base::JsonText(j, -1);
}

const char* EndName(el::LogEnd end) {
  switch (end) {
    case el::LogEnd::kEndOfData:
      return "end of data";
    case el::LogEnd::kZeroTerminator:
      return "zero terminator";
    case el::LogEnd::kFfTail:
      return "0xFF tail";
    case el::LogEnd::kTruncated:
      return "truncated";
  }
  return "?";
}

void PrintLog(const el::EventLog& log, bool as_json) {
  if (as_json) {
    json j;
    j["format"] = log.format == el::LogFormat::kCryptoAgile  ? "crypto-agile"
                  : log.format == el::LogFormat::kLegacySha1 ? "legacy-sha1"
                                                             : "empty";
    if (log.spec_id.has_value()) {
      for (const auto& a : log.spec_id->algorithms) {
        j["algorithms"].push_back(el::TpmAlgorithmName(a.algorithm));
      }
    }
    j["events"] = json::array();
    for (const el::Event& e : log.events) {
      json ev = {{"index", e.index},
                 {"offset", e.offset},
                 {"pcr_index", e.pcr_index},
                 {"type", e.type},
                 {"type_name", el::EventTypeName(e.type)}};
      ev["digests"] = json::array();
      for (const el::Digest& d : e.digests) {
        ev["digests"].push_back(
            {{"algorithm", el::TpmAlgorithmName(d.algorithm)},
             {"hex", d.Hex()}});
      }
      ev["payload"] = PayloadJson(e);
      j["events"].push_back(ev);
    }
    j["end"] = EndName(log.end);
    j["end_offset"] = log.end_offset;
    if (!log.truncation.empty()) j["truncation"] = log.truncation;
    std::printf("%s\n", realm_measurements::base::JsonText(j, 2).c_str());
    return;
  }
  for (const el::Event& e : log.events) {
    std::printf("%4zu @0x%04zx idx %-2u %s %s\n", e.index, e.offset,
                e.pcr_index, el::EventTypeName(e.type).c_str(),
                PayloadText(e).c_str());
    for (const el::Digest& d : e.digests) {
      std::printf("       %s:%s\n", el::TpmAlgorithmName(d.algorithm),
                  d.Hex().c_str());
    }
  }
  std::printf("end: %s at offset %zu%s%s\n", EndName(log.end), log.end_offset,
              log.truncation.empty() ? "" : ": ", log.truncation.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  if (absl::Status s = realm_measurements::EnterBuildWorkingDirectory();
      !s.ok()) {
    return Usage(std::string(s.message()));
  }
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--help" || std::string(argv[i]) == "-h") {
      std::printf("%s\n%s", kUsage, kHelp);
      return 0;
    }
  }
  if (argc < 2) return Usage("expected a subcommand and a log");
  std::string cmd = argv[1];
  if (cmd != "parse" && cmd != "replay") {
    return Usage(absl::StrCat("unknown subcommand '", cmd, "'"));
  }
  // The logs in replay order: LOG (the VMM log) first when given, then the
  // firmware logs; each with its own index semantics (K3).
  struct LogArg {
    std::string path;
    el::LogSource source = el::LogSource::kVmm;
    std::optional<el::IndexSemantics> index;
  };
  std::vector<LogArg> logs;
  int first_option = 2;
  if (argc > 2 && !absl::StartsWith(argv[2], "-")) {
    logs.push_back({argv[2]});
    first_option = 3;
  } else if (cmd == "parse") {
    return Usage("expected a subcommand and a log");
  }
  bool as_json = false;
  el::ParseOptions parse_options;
  el::ReplayOptions replay_options;
  std::vector<std::string> catalogues, dtb_templates;
  bool synthesize_dtb = false, dtb_option = false;
  el::DtbSynthesisOptions dtb_options;
  for (int i = first_option; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    std::string v;
    if (a == "--format") {
      if (!value(&v) || (v != "json" && v != "text")) {
        return Usage("--format takes text or json");
      }
      as_json = v == "json";
    } else if (a == "--lenient") {
      parse_options.allow_truncation = true;
    } else if (cmd == "replay" && a == "--catalogue") {
      if (!value(&v)) return Usage("--catalogue needs a file");
      catalogues.push_back(v);
    } else if (cmd == "replay" && a == "--firmware-log") {
      if (!value(&v)) return Usage("--firmware-log needs a file");
      logs.push_back({v, el::LogSource::kFirmware});
    } else if (cmd == "replay" && a == "--hash-algo") {
      absl::StatusOr<realm_measurements::measure::HashAlgorithm> h =
          value(&v) ? realm_measurements::measure::ParseHashAlgorithm(v)
                    : absl::InvalidArgumentError("");
      if (!h.ok()) {
        return Usage(
            absl::StrCat("--hash-algo takes sha256, sha384 or sha512, found '",
                         absl::CHexEscape(v), "'"));
      }
      replay_options.realm_hash_algorithm = *h;
    } else if (cmd == "replay" && a == "--non-fatal") {
      replay_options.fatal = false;
    } else if (cmd == "replay" && a == "--strip-nuls") {
      replay_options.strip_description_nuls = true;
    } else if (cmd == "replay" && a == "--ref-rem") {
      replay_options.rem_formula =
          realm_measurements::measure::RemFormula::kReferenceTool;
    } else if (cmd == "replay" && a == "--granule") {
      uint64_t g = 0;
      if (!value(&v) || !absl::SimpleAtoi(v, &g) || (g != 4096 && g != 65536)) {
        return Usage("--granule takes 4096 or 65536");
      }
      replay_options.population_granule = g;
    } else if (cmd == "replay" && a == "--index") {
      if (!value(&v) || (v != "pcr" && v != "mr")) {
        return Usage("--index takes pcr or mr");
      }
      // K3 per log: the log named just before.
      if (logs.empty()) return Usage("--index must follow the log it is for");
      if (logs.back().index.has_value()) {
        return Usage(
            absl::StrCat("--index given twice for ", logs.back().path));
      }
      logs.back().index = v == "pcr" ? el::IndexSemantics::kPcr
                                     : el::IndexSemantics::kCcMrIndex;
    } else if (cmd == "replay" && a == "--rmm-version") {
      // spec-rmm2 §2: the RMM the realm ran on (default 1.0).
      if (!value(&v)) return Usage("--rmm-version takes 1.0 or 2.0");
      absl::StatusOr<realm_measurements::measure::RmmVersion> version =
          realm_measurements::measure::ParseRmmVersion(v);
      if (!version.ok()) {
        return Usage(absl::StrCat("--rmm-version takes 1.0 or 2.0, found '",
                                  absl::CHexEscape(v), "'"));
      }
      replay_options.rmm_version = *version;
    } else if (cmd == "replay" && a == "--synthesize-dtb") {
      synthesize_dtb = true;
    } else if (cmd == "replay" && a == "--dtb-bootargs") {
      if (!value(&v)) return Usage("--dtb-bootargs needs a string");
      dtb_options.bootargs = v;
      dtb_option = true;
    } else if (cmd == "replay" && a == "--dtb-no-bootargs") {
      dtb_options.no_bootargs = true;
      dtb_option = true;
    } else if (cmd == "replay" && a == "--dtb-no-its") {
      dtb_options.its = false;
      dtb_option = true;
    } else if (cmd == "replay" && a == "--dtb-virtio-mmio") {
      if (!value(&v) ||
          !absl::SimpleAtoi(v, &dtb_options.kvmtool_virtio_mmio)) {
        return Usage("--dtb-virtio-mmio takes a number");
      }
      dtb_option = true;
    } else if (cmd == "replay" && a == "--dtb-qemu-m") {
      if (!value(&v)) return Usage("--dtb-qemu-m needs a QEMU -m value");
      absl::StatusOr<realm_measurements::measure::QemuMemoryOption> m =
          realm_measurements::measure::ParseQemuMemoryOption(v);
      if (!m.ok())
        return Usage(absl::StrCat("--dtb-qemu-m: ", m.status().message()));
      dtb_options.qemu_ram_size = m->size;
      dtb_options.qemu_max_mem = m->max_mem;
      dtb_options.qemu_slots = m->slots.value_or(0);
      dtb_option = true;
    } else if (cmd == "replay" && a == "--dtb-qemu-smp") {
      if (!value(&v)) return Usage("--dtb-qemu-smp needs a QEMU -smp value");
      absl::StatusOr<realm_measurements::measure::QemuSmpSpec> smp =
          realm_measurements::measure::ParseQemuSmpOption(v);
      absl::StatusOr<realm_measurements::measure::QemuTopology> topology =
          smp.ok() ? realm_measurements::measure::ResolveQemuTopology(*smp)
                   : smp.status();
      if (!topology.ok()) {
        return Usage(
            absl::StrCat("--dtb-qemu-smp: ", topology.status().message()));
      }
      dtb_options.qemu_topology = *topology;
      dtb_option = true;
    } else if (cmd == "replay" && a == "--dtb-templates") {
      if (!value(&v)) return Usage("--dtb-templates needs a file");
      dtb_templates.push_back(v);
      dtb_option = true;
    } else {
      return Usage(absl::StrCat("unexpected argument '", a, "'"));
    }
  }
  if (logs.empty()) return Usage("expected a log or --firmware-log");
  if (logs.front().source == el::LogSource::kFirmware &&
      !replay_options.realm_hash_algorithm.has_value()) {
    return Usage(
        "a firmware log replayed without the VMM log needs --hash-algo (the "
        "realm's hash algorithm, e.g. from its attestation token)");
  }
  if (dtb_option && !synthesize_dtb) {
    return Usage("--dtb-* options need --synthesize-dtb");
  }

  auto load = [&](size_t n) -> absl::StatusOr<el::EventLog> {
    absl::StatusOr<std::vector<uint8_t>> bytes =
        ReadLog(logs[n].path, parse_options.max_log_size);
    if (!bytes.ok()) return bytes.status();
    return el::Parse(*bytes, parse_options);
  };
  auto log_failure = [&](size_t n, absl::Status s) {
    return Fail(Failure{std::move(s), n, logs[n].path}, as_json);
  };
  if (cmd == "parse") {
    absl::StatusOr<el::EventLog> log = load(0);
    if (!log.ok()) return log_failure(0, log.status());
    PrintLog(*log, as_json);
    return 0;
  }

  // Everything is read and parsed before anything is replayed, so an input
  // error is reported as such (and in JSON) rather than as a partial replay.
  std::vector<el::EventLog> parsed;
  for (size_t n = 0; n < logs.size(); ++n) {
    absl::StatusOr<el::EventLog> log = load(n);
    if (!log.ok()) return log_failure(n, log.status());
    parsed.push_back(*std::move(log));
  }
  el::ImageCatalogue catalogue;
  for (const std::string& c : catalogues) {
    absl::Status s = catalogue.AddChecksumFile(c);
    if (!s.ok()) {
      return Fail(Failure{s, std::nullopt, c, el::ErrorClass::kCatalogue},
                  as_json);
    }
  }
  for (const std::string& t : dtb_templates) {
    absl::Status s = el::LoadDtbTemplates(t, dtb_options);
    if (!s.ok()) {
      return Fail(Failure{s, std::nullopt, t, el::ErrorClass::kCatalogue},
                  as_json);
    }
  }
  if (synthesize_dtb) {
    replay_options.dtb_synthesizer =
        el::MakeDtbSynthesizer(std::move(dtb_options));
  }
  el::Replayer replayer(&catalogue);
  absl::Status s;
  size_t failed_log = 0;
  for (size_t n = 0; s.ok() && n < logs.size(); ++n) {
    el::ReplayOptions o = replay_options;
    o.source = logs[n].source;
    o.index_semantics = logs[n].index;
    s = replayer.Replay(parsed[n], o);
    failed_log = n;
  }
  if (as_json) {
    json j;
    j["logs"] = json::array();
    for (size_t n = 0; n < logs.size(); ++n) {
      el::IndexSemantics sem =
          logs[n].index.value_or(logs[n].source == el::LogSource::kVmm
                                     ? el::IndexSemantics::kPcr
                                     : el::IndexSemantics::kCcMrIndex);
      j["logs"].push_back(
          {{"log", n},
           {"path", logs[n].path},
           {"source",
            logs[n].source == el::LogSource::kVmm ? "vmm" : "firmware"},
           {"index", sem == el::IndexSemantics::kPcr ? "pcr" : "mr"}});
    }
    j["report"] = json::array();
    for (const el::ReportEntry& r : replayer.report()) {
      json e = {
          {"log", r.log},
          {"event", r.event},
          {"offset", r.offset},
          {"index", r.index},
          {"type", r.type},
          {"register", el::RegisterName(r.reg)},
          {"action", r.action},
          {"digest", r.digest},
          {"match", r.match == el::CatalogueMatch::kVerified     ? "verified"
                    : r.match == el::CatalogueMatch::kUnverified ? "unverified"
                                                                 : "n/a"},
          {"image", r.image},
          {"value_after", r.value_after}};
      if (!r.error.empty()) e["error"] = r.error;
      j["report"].push_back(e);
    }
    j["rmm_version"] =
        realm_measurements::measure::RmmVersionName(replay_options.rmm_version);
    if (const realm_measurements::measure::Engine* e = replayer.engine()) {
      j["hash_algorithm"] =
          realm_measurements::measure::HashAlgorithmName(e->hash_algorithm());
    }
    for (el::Register reg :
         {el::Register::kRim, el::Register::kRem0, el::Register::kRem1,
          el::Register::kRem2, el::Register::kRem3}) {
      j[el::RegisterName(reg)] =
          reg == el::Register::kRim && !replayer.rim_known()
              ? json(nullptr)
              : json(replayer.RegisterHex(reg));
    }
    if (!s.ok()) {
      j["error"] = ErrorJson(Failure{s, failed_log, logs[failed_log].path,
                                     el::ErrorClass::kReplay});
    }
    std::printf("%s\n", realm_measurements::base::JsonText(j, 2).c_str());
  } else {
    std::printf("%s", replayer.FormatReport().c_str());
  }
  if (s.ok()) return 0;
  return Fail(Failure{s, failed_log, logs[failed_log].path}, false);
}
