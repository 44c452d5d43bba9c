#include "eventlog/compare.h"

#include <algorithm>
#include <cctype>
#include <utility>
#include <variant>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/types/span.h"
#include "base/crypto.h"
#include "base/hex.h"
#include "eventlog/replay.h"

namespace realm_measurements::eventlog {
namespace {

using measure::HashAlgorithm;

// One side of a step: its kind, its name, a one-line summary and the fields
// that are compared, by name. Steps of the same kind are compared field by
// field: "REALM_CREATE", "INIT_RIPAS", "DATA" (any image), "DATA unmeasured",
// "REC_CREATE", "REM0".."REM3".
struct Side {
  std::string kind;
  std::string step;
  std::string summary;
  std::vector<std::pair<std::string, std::string>> fields;
  std::string hint;  // which input decides it (computed side only)
  std::optional<size_t> event, offset;
};

std::string Hex(uint64_t v) { return absl::StrFormat("0x%x", v); }

std::string Range(uint64_t base, uint64_t size) {
  return absl::StrFormat("[0x%x, 0x%x)", base, base + size);
}

// Digests are compared in full; summaries show the first 16 digits.
std::string Short(const std::string& hex) {
  return hex.size() > 16 ? hex.substr(0, 16) + "..." : hex;
}

std::vector<std::pair<std::string, std::string>> ParamFields(
    const measure::RealmCreateParams& p) {
  return {{"hash algorithm", measure::HashAlgorithmName(p.hash_algorithm)},
          {"IPA bits (s2sz)", absl::StrCat(p.ipa_bits)},
          {"breakpoints", absl::StrCat(p.num_bps)},
          {"watchpoints", absl::StrCat(p.num_wps)},
          {"SVE vector length",
           p.sve_vl == 0 ? std::string("off") : absl::StrCat(p.sve_vl)},
          {"PMU", p.pmu ? absl::StrCat("on, ", p.pmu_num_ctrs, " counters")
                        : std::string("off")},
          {"LPA2", p.lpa2 ? "on" : "off"}};
}

std::string ParamSummary(const measure::RealmCreateParams& p) {
  return absl::StrCat(
      measure::HashAlgorithmName(p.hash_algorithm), ", ", p.ipa_bits,
      " IPA bits, ", p.num_bps, " BPs, ", p.num_wps, " WPs, SVE ",
      p.sve_vl == 0 ? std::string("off") : absl::StrCat(p.sve_vl), ", PMU ",
      p.pmu ? absl::StrCat(p.pmu_num_ctrs, " counters") : std::string("off"),
      ", LPA2 ", p.lpa2 ? "on" : "off");
}

Side CreateSide(const measure::RealmCreateParams& p) {
  return Side{"REALM_CREATE", "REALM_CREATE", ParamSummary(p), ParamFields(p)};
}

// INIT_RIPAS or unmeasured DATA.
Side RangeSide(const std::string& step, uint64_t base, uint64_t size) {
  return Side{step, step, Range(base, size), {{"range", Range(base, size)}}};
}

Side RecSide(uint64_t flags, uint64_t pc, absl::Span<const uint64_t> gprs) {
  std::vector<std::string> x;
  for (uint64_t g : gprs) x.push_back(Hex(g));
  return Side{"REC_CREATE",
              "REC_CREATE",
              absl::StrCat("pc ", Hex(pc), ", x0 ", Hex(gprs[0])),
              {{"flags", Hex(flags)},
               {"pc", Hex(pc)},
               {"x0-x7", absl::StrJoin(x, " ")}}};
}

Side DataSide(const std::string& name, uint64_t ipa, uint64_t size,
              const std::string& digest_hex, const std::string& alg) {
  return Side{"DATA",
              absl::StrCat("DATA ", name),
              absl::StrCat(Hex(ipa), ", ", size, " bytes, ", alg, ":",
                           Short(digest_hex)),
              {{"address", Hex(ipa)},
               {"length", absl::StrCat(size)},
               {alg, digest_hex}}};
}

// An extension of REM `rem` by an image (or event) `name`.
Side RemSide(int rem, const std::string& name, const std::string& digest_hex,
             const std::string& alg) {
  const std::string reg = absl::StrCat("REM", rem);
  return Side{reg,
              absl::StrCat(reg, " ", name),
              absl::StrCat(alg, ":", Short(digest_hex)),
              {{"register", reg}, {alg, digest_hex}}};
}

std::vector<Side> ComputedSteps(const ExpectedRealm& x,
                                const std::string& alg) {
  std::vector<Side> out;
  Side create = CreateSide(x.params);
  create.hint =
      "the host capabilities (-c config files, --ipa-bits, --num-bps, "
      "--num-wps, --sve-vl, --pmu-num-ctrs, --lpa2) and the VMM's CPU and "
      "measurement options";
  out.push_back(std::move(create));
  for (const ExpectedRealm::Range& r : x.ram) {
    Side s = RangeSide("INIT_RIPAS", r.base, r.size);
    s.hint = "the guest RAM: the VMM's memory size and base (-m)";
    out.push_back(std::move(s));
  }
  for (const ExpectedRealm::Blob& b : x.rim_blobs) {
    Side s = DataSide(b.name, b.ipa, b.size, base::HexOf(b.digest), alg);
    s.hint =
        b.name == "dtb"
            ? "the DTB: vCPUs, memory, devices and the VMM version shape it "
              "(--output-dtb writes the computed one; dtc -I dtb shows both)"
            : absl::StrCat("the ", b.name, " image (computed from ", b.source,
                           ") and where the VMM loads it");
    out.push_back(std::move(s));
  }
  if (x.rec.has_value()) {
    Side s = RecSide(x.rec->flags, x.rec->pc, x.rec->gprs);
    s.hint =
        "the boot vCPU's entry: kernel or firmware boot, and the DTB "
        "address in x0";
    out.push_back(std::move(s));
  }
  for (const ExpectedRealm::Range& r : x.unmeasured) {
    Side s = RangeSide("DATA unmeasured", r.base, r.size);
    s.hint = "the VMM's measurement log region (QEMU measurement-log=on)";
    out.push_back(std::move(s));
  }
  for (const auto& [rem, b] : x.rem_blobs) {
    Side s = RemSide(rem, b.name, base::HexOf(b.digest), alg);
    s.hint = absl::StrCat("the ", b.name, " image (computed from ", b.source,
                          ") the firmware measures");
    out.push_back(std::move(s));
  }
  return out;
}

// The image a blob event names: its description, lower case, without
// trailing NULs ("KERNEL\0" -> "kernel").
std::string BlobName(const FirmwareBlob2& b) {
  std::string d = b.description;
  while (!d.empty() && d.back() == '\0') d.pop_back();
  std::string lower;
  for (char c : d) lower += static_cast<char>(std::tolower(c));
  return lower;
}

struct Logged {
  std::vector<Side> steps;
  std::string vmm;
  std::optional<uint64_t> ram_size;
  std::optional<size_t> vm_event, vm_offset;
};

Logged LoggedSteps(const EventLog& log, const measure::RealmCreateParams& x,
                   const std::string& alg) {
  Logged out;
  std::vector<Side> unmeasured, rems;
  std::vector<Side> rim;
  for (const Event& e : log.events) {
    auto add = [&](std::vector<Side>& into, Side s) {
      s.event = e.index;
      s.offset = e.offset;
      into.push_back(std::move(s));
    };
    if (const auto* v = std::get_if<VmVersion>(&e.payload)) {
      out.vmm = absl::StrCat(v->name, " ", v->version);
      out.ram_size = v->ram_size;
      out.vm_event = e.index;
      out.vm_offset = e.offset;
      continue;
    }
    if (e.type == static_cast<uint32_t>(EventType::kNoAction)) continue;
    if (const auto* t = std::get_if<RealmCreateTag>(&e.payload)) {
      add(rim, CreateSide(RealmCreateParamsOf(*t, x.rmm_version)));
      continue;
    }
    if (const auto* t = std::get_if<InitRipasTag>(&e.payload)) {
      add(rim, RangeSide("INIT_RIPAS", t->base, t->size));
      continue;
    }
    if (const auto* t = std::get_if<RecCreateTag>(&e.payload)) {
      add(rim, RecSide(t->flags, t->pc, t->gprs));
      continue;
    }
    absl::StatusOr<Register> reg = MapIndex(e.pcr_index, IndexSemantics::kPcr);
    if (!reg.ok() || *reg == Register::kNone) continue;
    const Digest* d = e.FindDigest(RealmTpmAlgorithm(x.hash_algorithm));
    const auto* blob = std::get_if<FirmwareBlob2>(&e.payload);
    if (*reg == Register::kRim) {
      if (blob == nullptr) continue;  // replay refuses these; not a step
      if (e.digests.empty()) {
        add(unmeasured, RangeSide("DATA unmeasured", blob->base, blob->length));
      } else {
        add(rim,
            DataSide(BlobName(*blob), blob->base, blob->length,
                     d != nullptr ? d->Hex() : std::string("(none)"), alg));
      }
      continue;
    }
    const int rem = static_cast<int>(*reg) - static_cast<int>(Register::kRem0);
    add(rems,
        RemSide(rem, blob != nullptr ? BlobName(*blob) : EventTypeName(e.type),
                d != nullptr ? d->Hex() : std::string("(none)"), alg));
  }
  // Replay's order: the RIM steps as logged (unmeasured DATA is logged
  // last by the VMMs), then the REM extensions.
  out.steps = std::move(rim);
  for (Side& s : unmeasured) out.steps.push_back(std::move(s));
  for (Side& s : rems) out.steps.push_back(std::move(s));
  return out;
}

}  // namespace

absl::StatusOr<ExpectedRealm> ExpectedRealmOf(
    const measure::RealmConfig& config, const measure::CancelCheck& cancel) {
  ExpectedRealm x;
  if (!config.hash_algorithm().has_value()) {
    return absl::FailedPreconditionError(
        "compare with an event log: the realm has no hash algorithm yet");
  }
  const crypto::DigestAlgorithm algorithm =
      measure::ToDigestAlgorithm(*config.hash_algorithm());
  auto blob =
      [&](const measure::Blob& b) -> absl::StatusOr<ExpectedRealm::Blob> {
    absl::StatusOr<crypto::Digest> d = crypto::Digest::Create(algorithm);
    if (!d.ok()) return d.status();
    absl::Status read = b.payload.Read([&](absl::Span<const uint8_t> chunk) {
      if (absl::Status stop = measure::PollCancel(cancel); !stop.ok()) {
        return stop;
      }
      return d->Update(chunk);
    });
    if (!read.ok()) return read;
    absl::StatusOr<std::vector<uint8_t>> digest = d->Finish();
    if (!digest.ok()) return digest.status();
    absl::StatusOr<uint64_t> size = b.payload.Size();
    if (!size.ok()) return size.status();
    return ExpectedRealm::Blob{b.name, b.payload.name(), b.guest_start, *size,
                               *std::move(digest)};
  };
  for (const auto& [base, size] : config.ram()) x.ram.push_back({base, size});
  for (const auto& [addr, b] : config.rim_blobs()) {
    absl::StatusOr<ExpectedRealm::Blob> e = blob(b);
    if (!e.ok()) return e.status();
    x.rim_blobs.push_back(*std::move(e));
  }
  x.rec = config.rec();
  for (const measure::MemoryRange& r : config.rim_unmeasured()) {
    x.unmeasured.push_back({r.base, r.size});
  }
  for (const auto& [index, b] : config.rem_blobs()) {
    absl::StatusOr<ExpectedRealm::Blob> e = blob(b);
    if (!e.ok()) return e.status();
    x.rem_blobs.emplace_back(index, *std::move(e));
  }
  return x;
}

std::function<absl::Status(const measure::RealmConfig&,
                           const measure::CancelCheck&)>
ExpectedRealmBeside(ExpectedRealm* out) {
  return [out](const measure::RealmConfig& config,
               const measure::CancelCheck& cancel) -> absl::Status {
    absl::StatusOr<ExpectedRealm> x = ExpectedRealmOf(config, cancel);
    if (!x.ok()) return x.status();
    *out = *std::move(x);
    return absl::OkStatus();
  };
}

absl::StatusOr<LogComparison> CompareWithLog(const EventLog& log,
                                             const ExpectedRealm& expected) {
  const measure::RealmCreateParams& x = expected.params;
  const TpmAlgorithm tpm = RealmTpmAlgorithm(x.hash_algorithm);
  const std::string alg = TpmAlgorithmName(tpm);
  bool has_create = false, has_alg = false;
  for (const Event& e : log.events) {
    has_create |= std::holds_alternative<RealmCreateTag>(e.payload);
  }
  if (log.spec_id.has_value()) {
    for (const SpecId::Algorithm& a : log.spec_id->algorithms) {
      has_alg |= a.algorithm == tpm;
    }
  }
  if (!has_create) {
    return absl::InvalidArgumentError(
        "event log: expected a VMM log with a REALM_CREATE event to compare "
        "with, found none (a firmware CC event log has no RIM steps)");
  }
  if (!has_alg) {
    return absl::InvalidArgumentError(absl::StrCat(
        "event log: expected ", alg,
        " digests (the computed realm's algorithm), the log has none; the "
        "realm the log records uses another algorithm (check the VMM's "
        "measurement algorithm option)"));
  }

  const std::vector<Side> computed = ComputedSteps(expected, alg);
  const Logged logged = LoggedSteps(log, x, alg);
  LogComparison out;
  out.vmm = logged.vmm;
  out.algorithm = alg;
  if (logged.ram_size.has_value()) {
    uint64_t ram = 0;
    for (const ExpectedRealm::Range& r : expected.ram) ram += r.size;
    StepComparison s;
    s.step = "VM VERSION";
    s.expected = absl::StrCat("RAM ", ram, " bytes");
    s.logged = absl::StrCat(logged.vmm, ", RAM ", *logged.ram_size, " bytes");
    s.event = logged.vm_event;
    s.offset = logged.vm_offset;
    if (ram != *logged.ram_size) {
      s.same = false;
      s.differences.push_back(absl::StrCat("RAM size: computed ", ram,
                                           ", logged ", *logged.ram_size));
      s.hint = "the guest RAM: the VMM's memory size (-m)";
    }
    out.steps.push_back(std::move(s));
  }
  const size_t n = std::max(computed.size(), logged.steps.size());
  for (size_t i = 0; i < n; ++i) {
    const Side* c = i < computed.size() ? &computed[i] : nullptr;
    const Side* l = i < logged.steps.size() ? &logged.steps[i] : nullptr;
    StepComparison s;
    s.step = c != nullptr ? c->step : l->step;
    if (c != nullptr) s.expected = absl::StrCat(c->step, " ", c->summary);
    if (l != nullptr) {
      s.logged = absl::StrCat(l->step, " ", l->summary);
      s.event = l->event;
      s.offset = l->offset;
    }
    if (c == nullptr || l == nullptr) {
      s.same = false;
      s.differences.push_back(
          c == nullptr ? absl::StrCat("the log has one more step: ", s.logged)
                       : absl::StrCat("the log ends before this step"));
      s.hint = c != nullptr ? c->hint
                            : "a VMM option, device or image the command "
                              "line does not have";
    } else if (c->kind != l->kind) {
      s.same = false;
      s.differences.push_back(
          absl::StrCat("computed ", c->step, ", logged ", l->step));
      s.hint = c->hint;
    } else {
      for (const auto& [name, value] : c->fields) {
        auto it = std::find_if(
            l->fields.begin(), l->fields.end(),
            [&name = name](const auto& f) { return f.first == name; });
        const std::string other =
            it == l->fields.end() ? std::string("(none)") : it->second;
        if (other != value) {
          s.same = false;
          s.differences.push_back(
              absl::StrCat(name, ": computed ", value, ", logged ", other));
        }
      }
      if (!s.same) s.hint = c->hint;
    }
    out.steps.push_back(std::move(s));
  }
  for (size_t i = 0; i < out.steps.size(); ++i) {
    if (!out.steps[i].same) {
      out.first_difference = i;
      break;
    }
  }
  return out;
}

std::string ComparisonToText(const LogComparison& c) {
  std::string out = absl::StrCat(
      "event log", c.vmm.empty() ? "" : absl::StrCat(" of ", c.vmm), ", ",
      c.algorithm, " digests; step by step against the computed realm:\n");
  for (size_t i = 0; i < c.steps.size(); ++i) {
    const StepComparison& s = c.steps[i];
    const std::string where =
        s.event.has_value()
            ? absl::StrFormat("event %d @0x%04x", *s.event, *s.offset)
            : std::string("-");
    absl::StrAppendFormat(
        &out, "%3d  %-18s %-9s %s\n", i + 1, where,
        s.same ? "same" : "DIFFERENT",
        s.same ? (s.logged.empty() ? s.expected : s.logged) : s.step);
    if (!s.same) {
      for (const std::string& d : s.differences) {
        absl::StrAppend(&out, "       ", d, "\n");
      }
    }
  }
  if (!c.first_difference.has_value()) {
    // The one input of the RIM a VMM log does not record.
    absl::StrAppend(&out, "all ", c.steps.size(),
                    " steps are the same as computed; if the Realm's RIM "
                    "still differs, so does its RMM version (not in the log: "
                    "--rmm-version)\n");
  } else {
    const StepComparison& s = c.steps[*c.first_difference];
    absl::StrAppend(&out, "first difference: step ", *c.first_difference + 1,
                    " (", s.step, "): ", s.differences.front(), "\n",
                    "  decided by ", s.hint, "\n");
  }
  return out;
}

}  // namespace realm_measurements::eventlog
