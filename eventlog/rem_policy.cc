#include "eventlog/rem_policy.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/hex.h"
#include "base/json_limits.h"
#include "base/json_text.h"
#include "base/status_macros.h"
#include "nlohmann/json.hpp"

namespace realm_measurements::eventlog {
namespace {

using nlohmann::json;

// AR4SI executables values (spec-token-corim §4.6).
constexpr int kApprovedRuntime = 2;
constexpr int kApprovedBoot = 3;
constexpr int kContraindicated = 96;
// The catalogue is a flat array of flat objects.
constexpr int kMaxCatalogueDepth = 2;

// What the log says an event is, for reports.
std::string Describe(const Event& e) {
  if (const auto* b = std::get_if<FirmwareBlob2>(&e.payload)) {
    std::string d = b->description;
    while (!d.empty() && d.back() == '\0') d.pop_back();
    return d;
  }
  if (const auto* t = std::get_if<EventText>(&e.payload)) return t->text;
  if (const auto* t = std::get_if<LinuxStubTag>(&e.payload)) return t->text;
  if (const auto* v = std::get_if<UefiVariable>(&e.payload)) return v->name;
  return EventTypeName(e.type);
}

}  // namespace

const char* RemPolicyOutcomeName(RemPolicyOutcome outcome) {
  switch (outcome) {
    case RemPolicyOutcome::kApprovedRuntime:
      return "approved-runtime";
    case RemPolicyOutcome::kUnknownEvents:
      return "unknown-events";
    case RemPolicyOutcome::kRimNotReplayed:
      return "rim-not-replayed";
    case RemPolicyOutcome::kRemsNotReplayed:
      return "rems-not-replayed";
    case RemPolicyOutcome::kLogRejected:
      return "log-rejected";
    case RemPolicyOutcome::kUnknownReference:
      return "unknown-reference";
  }
  return "?";
}

absl::StatusOr<EventDigestCatalogue> EventDigestCatalogue::FromJson(
    absl::string_view text) {
  auto fail = [](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("event digest catalogue: ", why));
  };
  if (absl::Status s =
          measure::CheckJsonLimits(text, {kMaxBytes, kMaxCatalogueDepth});
      !s.ok()) {
    return fail(s.message());
  }
  json doc = json::parse(text.begin(), text.end(), nullptr,
                         /*allow_exceptions=*/false);
  if (doc.is_discarded()) return fail("not valid JSON");
  if (!doc.is_array()) {
    return fail(absl::StrCat("expected a JSON array of entries, found ",
                             doc.type_name()));
  }
  if (doc.size() > kMaxEntries) {
    return fail(absl::StrCat(doc.size(), " entries, more than the limit of ",
                             kMaxEntries));
  }
  EventDigestCatalogue c;
  for (size_t i = 0; i < doc.size(); ++i) {
    const json& e = doc[i];
    auto bad = [&](absl::string_view why) {
      return fail(absl::StrCat("entry ", i, ": ", why));
    };
    if (!e.is_object()) {
      return bad(absl::StrCat("expected an object, found ", e.type_name()));
    }
    for (const auto& [key, value] : e.items()) {
      if (key != "digest" && key != "description" && key != "rem") {
        return bad(absl::StrCat("unknown key \"", absl::CHexEscape(key),
                                "\" (expected digest, description, rem)"));
      }
    }
    if (!e.contains("digest") || !e["digest"].is_string()) {
      return bad("expected \"digest\": a hex string");
    }
    if (!e.contains("description") || !e["description"].is_string() ||
        e["description"].get<std::string>().empty()) {
      return bad("expected \"description\": a non-empty string");
    }
    const std::string lower =
        absl::AsciiStrToLower(e["digest"].get<std::string>());
    absl::string_view digest = lower;
    size_t want = 0;
    for (auto [prefix, size] : {std::pair<const char*, size_t>{"sha256:", 64},
                                {"sha384:", 96},
                                {"sha512:", 128}}) {
      if (absl::ConsumePrefix(&digest, prefix)) want = size;
    }
    if (!base::IsHexDigits(digest) ||
        (want != 0 ? digest.size() != want
                   : digest.size() != 64 && digest.size() != 96 &&
                         digest.size() != 128)) {
      return bad(absl::StrCat(
          "digest \"", absl::CHexEscape(e["digest"].get<std::string>()),
          "\" is not ",
          want != 0 ? absl::StrCat(want, " hex digits after its prefix")
                    : std::string("64, 96 or 128 hex digits")));
    }
    Entry entry;
    entry.description = e["description"].get<std::string>();
    if (e.contains("rem")) {
      if (!e["rem"].is_number_integer() || e["rem"].get<int64_t>() < 0 ||
          e["rem"].get<int64_t>() > 3) {
        return bad(absl::StrCat("\"rem\" is ", e["rem"].dump(),
                                ", expected 0, 1, 2 or 3"));
      }
      entry.rem = e["rem"].get<int>();
    }
    c.by_digest_[std::string(digest)].push_back(std::move(entry));
    ++c.entries_;
  }
  return c;
}

const EventDigestCatalogue::Entry* EventDigestCatalogue::Find(
    absl::string_view digest_hex, int rem) const {
  auto it = by_digest_.find(digest_hex);
  if (it == by_digest_.end()) return nullptr;
  for (const Entry& e : it->second) {
    if (!e.rem.has_value() || *e.rem == rem) return &e;
  }
  return nullptr;
}

RemPolicyResult CheckRemPolicy(const ReplayedValues& replayed,
                               const TokenValues& token,
                               const EventDigestCatalogue& catalogue) {
  RemPolicyResult r;
  r.replayed_rim = replayed.rim;
  r.replayed_rems = replayed.rems;
  for (const RemEvent& e : replayed.rem_events) {
    (catalogue.Find(e.digest, e.rem) != nullptr ? r.approved_events
                                                : r.unknown_events)
        .push_back(e);
  }
  if (!token.rim_is_known_reference) {
    // Nothing vouches for the boot: the appraisal's own result stands.
    r.outcome = RemPolicyOutcome::kUnknownReference;
    r.problem =
        "REM policy not applied: the token's RIM is not a known "
        "reference value";
    return r;
  }
  r.applies = true;
  r.executables = kContraindicated;
  if (replayed.rim.has_value() && *replayed.rim != token.rim) {
    r.outcome = RemPolicyOutcome::kRimNotReplayed;
    r.problem =
        absl::StrCat("event log replays to RIM ", base::HexOf(*replayed.rim),
                     ", the token's RIM is ", base::HexOf(token.rim));
    return r;
  }
  for (int k = 0; k < 4; ++k) {
    static const std::vector<uint8_t> kMissing;
    const std::vector<uint8_t>& t =
        k < static_cast<int>(token.rems.size()) ? token.rems[k] : kMissing;
    if (replayed.rems[k] != t) {
      r.outcome = RemPolicyOutcome::kRemsNotReplayed;
      r.problem =
          absl::StrCat("event log replays to REM", k, " ",
                       base::HexOf(replayed.rems[k]), ", the token's REM", k,
                       " is ", t.empty() ? "missing" : base::HexOf(t));
      return r;
    }
  }
  if (!r.unknown_events.empty()) {
    r.outcome = RemPolicyOutcome::kUnknownEvents;
    r.executables = kApprovedBoot;
    const RemEvent& u = r.unknown_events.front();
    r.problem = absl::StrCat(
        r.unknown_events.size(), " event(s) not in the catalogue, first: log ",
        u.log, " event ", u.event, " at offset ", u.offset, " (", u.type, " \"",
        absl::CHexEscape(u.description), "\", REM", u.rem, ") digest ",
        u.digest);
    return r;
  }
  r.outcome = RemPolicyOutcome::kApprovedRuntime;
  r.executables = kApprovedRuntime;
  return r;
}

std::string RemPolicyToJson(const RemPolicyResult& r,
                            measure::HashAlgorithm algorithm) {
  auto events = [](const std::vector<RemEvent>& list) {
    json out = json::array();
    for (const RemEvent& e : list) {
      out.push_back({{"log", e.log},
                     {"event", e.event},
                     {"offset", e.offset},
                     {"rem", e.rem},
                     {"type", e.type},
                     {"description", e.description},
                     {"digest", e.digest}});
    }
    return out;
  };
  json rems = json::array();
  for (const std::vector<uint8_t>& v : r.replayed_rems)
    rems.push_back(base::HexOf(v));
  json j = {{"outcome", RemPolicyOutcomeName(r.outcome)},
            {"applies", r.applies},
            {"executables", r.executables},
            {"problem", r.problem},
            {"hash-algorithm", measure::HashAlgorithmName(algorithm)},
            {"replayed-rim", r.replayed_rim.has_value()
                                 ? json(base::HexOf(*r.replayed_rim))
                                 : json(nullptr)},
            {"replayed-rems", rems},
            {"unknown-events", events(r.unknown_events)},
            {"approved-events", events(r.approved_events)}};
  return base::JsonText(j, -1);
}

std::string RemPolicyToText(const RemPolicyResult& r) {
  std::string out = absl::StrCat(
      "REM policy: ", RemPolicyOutcomeName(r.outcome),
      r.applies ? absl::StrCat(", executables ", r.executables)
                : std::string(", not applied"),
      r.problem.empty() ? "" : absl::StrCat(": ", r.problem), "\n");
  for (const RemEvent& e : r.unknown_events) {
    absl::StrAppend(&out, "  unknown event: log ", e.log, " event ", e.event,
                    " at offset ", e.offset, " ", e.type, " \"",
                    absl::CHexEscape(e.description), "\" REM", e.rem, " ",
                    e.digest, "\n");
  }
  return out;
}

RemPolicyResult RejectedLogPolicy(const absl::Status& error,
                                  const TokenValues& token) {
  RemPolicyResult r;
  r.outcome = RemPolicyOutcome::kLogRejected;
  r.applies = token.rim_is_known_reference;
  r.executables = r.applies ? kContraindicated : 0;
  r.problem = absl::StrCat("event log rejected: ", error.message());
  return r;
}

absl::StatusOr<ReplayedValues> ReplayForPolicy(absl::Span<const PolicyLog> logs,
                                               measure::HashAlgorithm algorithm,
                                               measure::RmmVersion rmm_version,
                                               const ImageCatalogue& images) {
  if (logs.empty()) {
    return absl::InvalidArgumentError("event logs: expected at least one");
  }
  std::vector<EventLog> parsed;
  for (size_t n = 0; n < logs.size(); ++n) {
    if (n > 0 && logs[n].source == LogSource::kVmm) {
      return absl::InvalidArgumentError(
          absl::StrCat("event log ", n, ": a VMM log must come first (K11)"));
    }
    absl::StatusOr<EventLog> log = Parse(logs[n].bytes);
    if (!log.ok()) {
      return absl::Status(
          log.status().code(),
          absl::StrCat("event log ", n, ": ", log.status().message()));
    }
    parsed.push_back(*std::move(log));
  }
  Replayer replayer(&images);
  for (size_t n = 0; n < logs.size(); ++n) {
    ReplayOptions o;
    o.source = logs[n].source;
    o.index_semantics = logs[n].index;
    o.rmm_version = rmm_version;
    o.realm_hash_algorithm = algorithm;
    absl::Status s = replayer.Replay(parsed[n], o);
    if (!s.ok()) {
      return absl::Status(s.code(),
                          absl::StrCat("event log ", n, ": ", s.message()));
    }
  }
  ReplayedValues v;
  v.hash_algorithm = algorithm;
  const size_t size = measure::HashSize(algorithm);
  const measure::Engine* engine = replayer.engine();
  if (engine == nullptr) {
    return absl::InvalidArgumentError("event logs: no realm was replayed");
  }
  if (replayer.rim_known()) {
    v.rim = std::vector<uint8_t>(engine->rim().begin(),
                                 engine->rim().begin() + size);
  }
  for (int k = 0; k < 4; ++k) {
    v.rems[k].assign(engine->rem(k).begin(), engine->rem(k).begin() + size);
  }
  for (const ReportEntry& e : replayer.report()) {
    if (e.reg < Register::kRem0 || e.digest.empty()) continue;
    RemEvent r;
    r.log = e.log;
    r.event = e.event;
    r.offset = e.offset;
    r.rem = static_cast<int>(e.reg) - 1;
    r.type = e.type;
    r.description = Describe(parsed[e.log].events[e.event]);
    // "sha256:<hex>".
    r.digest = e.digest.substr(e.digest.find(':') + 1);
    v.rem_events.push_back(std::move(r));
  }
  return v;
}

RemPolicyResult EvaluateRemPolicy(absl::Span<const PolicyLog> logs,
                                  absl::string_view token_hash_algorithm,
                                  const TokenValues& token,
                                  measure::RmmVersion rmm_version,
                                  const ImageCatalogue& images,
                                  const EventDigestCatalogue& catalogue,
                                  measure::HashAlgorithm* algorithm) {
  absl::StatusOr<measure::HashAlgorithm> alg =
      TokenHashAlgorithm(token_hash_algorithm);
  if (!alg.ok()) return RejectedLogPolicy(alg.status(), token);
  if (algorithm != nullptr) *algorithm = *alg;
  absl::StatusOr<ReplayedValues> replayed =
      ReplayForPolicy(logs, *alg, rmm_version, images);
  if (!replayed.ok()) return RejectedLogPolicy(replayed.status(), token);
  return CheckRemPolicy(*replayed, token, catalogue);
}

absl::StatusOr<measure::HashAlgorithm> TokenHashAlgorithm(
    absl::string_view claim) {
  if (claim == "sha-256") return measure::HashAlgorithm::kSha256;
  if (claim == "sha-384") return measure::HashAlgorithm::kSha384;
  if (claim == "sha-512") return measure::HashAlgorithm::kSha512;
  return absl::InvalidArgumentError(
      absl::StrCat("realm hash algorithm claim is \"", absl::CHexEscape(claim),
                   "\", expected sha-256, sha-384 or sha-512"));
}

RemPolicyResult ApplyRemPolicy(absl::Span<const PolicyLog> logs,
                               const corim::CcaToken& token,
                               measure::RmmVersion rmm_version,
                               const ImageCatalogue& images,
                               const EventDigestCatalogue& catalogue,
                               corim::AppraisalResult& result,
                               measure::HashAlgorithm* algorithm) {
  TokenValues values;
  values.rim = token.realm.initial_measurement;
  values.rems = token.realm.extensible_measurements;
  values.rim_is_known_reference = result.matched.has_value();
  RemPolicyResult p =
      EvaluateRemPolicy(logs, token.realm.hash_algorithm, values, rmm_version,
                        images, catalogue, algorithm);
  if (p.applies) {
    result.realm.vector.executables = p.executables;
    result.realm.policy_id = "policy:ARM_CCA/rem-event-log";
    if (!p.problem.empty()) result.realm.problem = p.problem;
  }
  return p;
}

}  // namespace realm_measurements::eventlog
