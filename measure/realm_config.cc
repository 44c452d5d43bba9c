#include "measure/realm_config.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/crypto.h"
#include "measure/chain_batch.h"
#include "measure/digest_cache.h"
#include "measure/granule_hasher.h"

namespace realm_measurements::measure {
namespace {

// RMM 1.0 §A2.2: RSI_MEASUREMENT_EXTEND takes at most 64 bytes.
constexpr size_t kMaxRpvSize = kMeasurementWidth;

uint64_t AlignDown(uint64_t v) { return v & ~(kGranuleSize - 1); }

// align_up with the reference's wrapping u64 arithmetic.
uint64_t AlignUp(uint64_t v) {
  return (v + kGranuleSize - 1) & ~(kGranuleSize - 1);
}

// Standard base64 alphabet value, or -1.
int Base64Value(uint8_t c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// RFC 4648 standard alphabet with canonical padding, as the Rust base64 0.22
// STANDARD engine; errors carry that crate's wording (spec-core §7).
absl::StatusOr<std::vector<uint8_t>> DecodeBase64Canonical(
    absl::string_view in) {
  size_t n = 0;  // symbols before the padding
  while (n < in.size() && in[n] != '=') {
    if (Base64Value(static_cast<uint8_t>(in[n])) < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Invalid symbol ", static_cast<uint8_t>(in[n]), ", offset ", n, "."));
    }
    ++n;
  }
  for (size_t i = n; i < in.size(); ++i) {
    if (in[i] != '=') {
      // Data after padding: the first pad is the offending symbol.
      return absl::InvalidArgumentError(absl::StrCat(
          "Invalid symbol ", static_cast<int>('='), ", offset ", n, "."));
    }
  }
  const size_t pad = in.size() - n;
  if (n % 4 == 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("Invalid input length: ", n));
  }
  if (pad != (4 - n % 4) % 4) {
    return absl::InvalidArgumentError("Invalid padding");
  }
  std::vector<uint8_t> out;
  out.reserve(n / 4 * 3 + 2);
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; ++i) {
    acc = (acc << 6) | static_cast<uint32_t>(Base64Value(in[i]));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<uint8_t>(acc >> bits));
      acc &= (1u << bits) - 1;
    }
  }
  if (acc != 0) {
    // Non-zero trailing bits: not the canonical encoding.
    return absl::InvalidArgumentError(
        absl::StrCat("Invalid last symbol ", static_cast<uint8_t>(in[n - 1]),
                     ", offset ", n - 1, "."));
  }
  return out;
}

absl::Status WithPrefix(absl::string_view prefix, const absl::Status& s) {
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat(prefix, s.message()));
}

// Extent of a blob's measured content in whole granules, [start, end).
struct Extent {
  uint64_t start = 0;
  uint64_t end = 0;
  std::string what;
};

std::string Hex(uint64_t v) { return absl::StrFormat("0x%x", v); }

absl::Status ConfigError(absl::string_view text) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid VM configuration: ", text));
}

}  // namespace

absl::Status RealmConfig::SetPersonalizationValue(
    absl::Span<const uint8_t> rpv) {
  if (rpv.size() > kMaxRpvSize) {
    return absl::InvalidArgumentError(
        "Realm Personalization Value is too large");
  }
  rpv_.fill(0);
  std::copy(rpv.begin(), rpv.end(), rpv_.begin());
  return absl::OkStatus();
}

absl::Status RealmConfig::SetPersonalizationValueBase64(absl::string_view b64) {
  absl::StatusOr<std::vector<uint8_t>> bytes = DecodeBase64Canonical(b64);
  if (!bytes.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid Realm Personalization Value: ", bytes.status().message()));
  }
  return SetPersonalizationValue(*bytes);
}

absl::Status RealmConfig::AddRam(uint64_t base, uint64_t size) {
  if (!ram_.emplace(base, size).second) {
    return ConfigError(absl::StrCat("duplicate RAM range at ", base));
  }
  return absl::OkStatus();
}

absl::Status RealmConfig::AddDtb(uint64_t address, std::vector<uint8_t> dtb) {
  Blob blob;
  blob.name = "dtb";
  blob.guest_start = address;
  blob.payload = Payload::FromBytes("DTB", dtb);
  dtb_ = std::move(dtb);
  dtb_address_ = address;
  return AddRimBlob(std::move(blob));
}

absl::Status RealmConfig::AddRimBlob(Blob blob) {
  const uint64_t start = blob.guest_start;
  if (!rim_blobs_.emplace(start, std::move(blob)).second) {
    return ConfigError(absl::StrCat("duplicate blob at ", start));
  }
  return absl::OkStatus();
}

void RealmConfig::AddRimUnmeasured(uint64_t base, uint64_t size) {
  unmeasured_.push_back(MemoryRange{base, size});
}

void RealmConfig::AddRemBlob(int index, Blob blob) {
  rem_blobs_.emplace_back(index, std::move(blob));
}

absl::Status RealmConfig::AddRec(const RecParams& rec) {
  if (rec_.has_value()) return ConfigError("only one REC is supported");
  rec_ = rec;
  return absl::OkStatus();
}

std::vector<std::string> RealmConfig::warnings() const {
  std::vector<std::string> out = warnings_;
  // TF-RMM 476d5f71 stops offering the PMU to realms; REALM_CREATE with the
  // PMU flag fails there. The value is still computed as asked.
  if (rmm_version() == RmmVersion::k2_0 && caps_.pmu.value_or(false)) {
    out.push_back(
        "the realm has a PMU: TF-RMM 2.0 (as of 2026-07) refuses realms with "
        "PMU (RMI_REALM_CREATE fails); the values are computed as asked");
  }
  return out;
}

absl::Status RealmConfig::Validate() const {
  // docs/deviations.md "Validation instead of silent nonsense".
  if (hash_algorithm_.has_value()) {
    if (absl::Status s = CheckRmmSupports(rmm_version(), *hash_algorithm_);
        !s.ok()) {
      return s;
    }
  }
  if (ram_.empty()) return ConfigError("the VM has no RAM");
  uint64_t prev_end = 0;
  bool first = true;
  uint64_t ram_top = 0;  // highest RAM end, exclusive
  for (const auto& [base, size] : ram_) {
    if (size == 0) {
      return ConfigError(
          absl::StrCat("RAM range at ", Hex(base), " has size 0"));
    }
    if (base + size < base) {
      return ConfigError(absl::StrCat("RAM range at ", Hex(base), " of size ",
                                      Hex(size),
                                      " overflows the 64-bit address space"));
    }
    if (!first && base < prev_end) {
      return ConfigError(absl::StrCat("RAM range at ", Hex(base),
                                      " overlaps the previous one, which ends "
                                      "at ",
                                      Hex(prev_end)));
    }
    first = false;
    prev_end = base + size;
    ram_top = std::max(ram_top, prev_end);
  }
  auto in_ram = [this](uint64_t start, uint64_t end) {
    // The range must lie inside one RAM range (ranges do not overlap).
    auto it = ram_.upper_bound(start);
    if (it == ram_.begin()) return false;
    --it;
    return start >= it->first && end <= it->first + it->second;
  };

  std::vector<Extent> extents;
  uint64_t mem_top = ram_top;
  for (const auto& [start, blob] : rim_blobs_) {
    absl::StatusOr<uint64_t> size = blob.payload.Size();
    // An unreadable file is reported when it is measured (spec-core §8: the
    // reference opens firmware files lazily); nothing to check here.
    if (!size.ok()) continue;
    if (*size == 0 && start == AlignDown(start)) continue;  // measures nothing
    const uint64_t end = start + *size;
    if (end < start || AlignUp(end) < end) {
      return ConfigError(absl::StrCat(blob.name, " at ", Hex(start),
                                      " of size ", *size,
                                      " overflows the 64-bit address space"));
    }
    Extent e{AlignDown(start), AlignUp(end),
             absl::StrCat(blob.name, " [", Hex(start), ", ", Hex(end), ")")};
    if (blob.in_flash) {
      if (end > kFlashLimit) {
        return ConfigError(absl::StrCat(
            e.what, " does not fit in the flash area, which ends at ",
            Hex(kFlashLimit)));
      }
    } else if (!in_ram(start, end)) {
      return ConfigError(absl::StrCat(e.what, " lies outside guest RAM"));
    }
    mem_top = std::max(mem_top, end);
    extents.push_back(std::move(e));
  }
  for (const MemoryRange& r : unmeasured_) {
    const uint64_t end = r.base + r.size;
    if (end < r.base || AlignUp(end) < end) {
      return ConfigError(absl::StrCat("unmeasured range at ", Hex(r.base),
                                      " of size ", r.size,
                                      " overflows the 64-bit address space"));
    }
    if (r.size == 0 && r.base == AlignDown(r.base)) continue;
    Extent e{
        AlignDown(r.base), AlignUp(end),
        absl::StrCat("unmeasured range [", Hex(r.base), ", ", Hex(end), ")")};
    if (!in_ram(r.base, end)) {
      return ConfigError(absl::StrCat(e.what, " lies outside guest RAM"));
    }
    extents.push_back(std::move(e));
  }
  // One granule can only be created once (RMI_DATA_CREATE on a granule that
  // is already DATA fails): compare at granule granularity.
  std::sort(extents.begin(), extents.end(),
            [](const Extent& a, const Extent& b) { return a.start < b.start; });
  for (size_t i = 1; i < extents.size(); ++i) {
    if (extents[i].start < extents[i - 1].end) {
      return ConfigError(absl::StrCat(extents[i].what, " overlaps ",
                                      extents[i - 1].what,
                                      " (granule granularity)"));
    }
  }

  if (caps_.ipa_bits.has_value()) {
    const int bits = *caps_.ipa_bits;
    if (required_ipa_bits_.has_value() && bits < *required_ipa_bits_) {
      return ConfigError(absl::StrCat(
          "IPA width ", bits,
          " bits (after host capabilities) is too small: the VMM memory map "
          "needs ",
          static_cast<int>(*required_ipa_bits_), " bits"));
    }
    // The protected half of the IPA space, [0, 2^(bits-1)), must hold all
    // guest memory (RMM 1.0 §A2.1.3: the top IPA bit selects unprotected).
    if (bits >= 1 && bits <= 64) {
      const uint64_t limit =
          bits - 1 >= 64 ? ~0ull : (uint64_t{1} << (bits - 1));
      if (bits - 1 < 64 && mem_top > limit) {
        return ConfigError(absl::StrCat(
            "IPA width ", bits, " bits is too small: guest memory ends at ",
            Hex(mem_top), ", above the protected IPA limit ", Hex(limit)));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<RealmCreateParams> RealmConfig::ResolveParams() const {
  // Each message names the option and the config key that supply the
  // value (measure/host_caps.h), with an example.
  auto unknown = [](absl::string_view name, absl::string_view fix) {
    return absl::FailedPreconditionError(
        absl::StrCat(name, " is not known: ", fix));
  };
  auto cap_unknown = [&](absl::string_view key, absl::string_view option,
                         absl::string_view what) {
    return unknown(key, absl::StrCat("give the host's ", what, " with --",
                                     option, " N or `", key,
                                     " = N` in a -c config file (e.g. -c "
                                     "configs/fvp.conf)"));
  };
  // spec-core §4.2: hash algorithm, ipa_bits, num_wps, num_bps, then
  // pmu_num_ctrs when the PMU is on.
  if (!hash_algorithm_.has_value()) {
    return unknown("hash algorithm",
                   "the VMM arguments select it (e.g. kvmtool "
                   "--measurement-algo sha256)");
  }
  if (!caps_.ipa_bits.has_value()) {
    return cap_unknown("ipa_bits", "ipa-bits", "IPA width in bits");
  }
  if (!caps_.num_wps.has_value()) {
    return cap_unknown("num_wps", "num-wps", "watchpoint count");
  }
  if (!caps_.num_bps.has_value()) {
    return cap_unknown("num_bps", "num-bps", "breakpoint count");
  }
  RealmCreateParams p;
  p.rmm_version = rmm_version();
  p.hash_algorithm = *hash_algorithm_;
  p.ipa_bits = *caps_.ipa_bits;
  p.num_wps = *caps_.num_wps;
  p.num_bps = *caps_.num_bps;
  p.sve_vl = caps_.sve_vl.value_or(0);
  p.lpa2 = caps_.lpa2.value_or(false);
  p.pmu = caps_.pmu.value_or(false);
  if (p.pmu) {
    if (!caps_.pmu_num_ctrs.has_value()) {
      return cap_unknown("pmu_num_ctrs", "pmu-num-ctrs",
                         "PMU counter count (the PMU is on)");
    }
    p.pmu_num_ctrs = *caps_.pmu_num_ctrs;
  }
  return p;
}

namespace {

// Granules between two polls of MeasureOptions::cancel (1 MiB of content,
// about a millisecond of hashing).
constexpr uint64_t kCancelPollGranules = 256;

// Feeds one RIM blob to the engine granule by granule (spec-core §4.5): the
// content sits at offset start - align_down(start) in a zero-filled run of
// granules. Digests come from the cache or from the parallel hasher (which
// keeps bounded memory in flight); the RIM chain consumes them in order.
absl::Status MeasureBlob(Engine& engine, uint64_t start, const Blob& blob,
                         GranuleHasher& hasher, DigestCache* cache,
                         ChainBatch* batch,
                         const std::function<void(uint64_t)>& on_hashed,
                         const CancelCheck& cancel) {
  const uint64_t first_ipa = AlignDown(start);
  const size_t lead = static_cast<size_t>(start - first_ipa);
  const HashAlgorithm algorithm = engine.hash_algorithm();
  const size_t hash_size = HashSize(algorithm);
  absl::Status engine_status;  // distinguishes engine from file errors
  auto feed = [&](uint64_t index, const Measurement& digest) -> absl::Status {
    // Every 1 MiB: stop early when the caller asks (see MeasureOptions).
    if (index % kCancelPollGranules == 0) {
      engine_status = PollCancel(cancel);
      if (!engine_status.ok()) return engine_status;
    }
    const uint64_t ipa = first_ipa + index * kGranuleSize;
    if (index > 0 && ipa == 0) {
      engine_status = absl::InvalidArgumentError(
          absl::StrCat("blob ", blob.payload.name(),
                       " extends past the end of the address space"));
      return engine_status;
    }
    engine_status = engine.DataCreateMeasured(ipa, digest);
    return engine_status;
  };

  std::optional<DigestKey> key;
  std::optional<ChainKey> chain_key;
  std::optional<Payload::Reader> reader;
  if (cache != nullptr) {
    // Files are identified through the descriptor that is then read, so
    // the digests stored belong to the identity stored.
    if (blob.payload.is_file()) {
      absl::StatusOr<Payload::Reader> r = blob.payload.Open();
      if (!r.ok()) return WithPrefix("VMM: ", r.status());
      key =
          DigestKey{r->file_identity(), static_cast<uint32_t>(lead), algorithm};
      reader.emplace(*std::move(r));
    } else {
      absl::StatusOr<std::string> id = PayloadIdentity(blob.payload);
      if (!id.ok()) return id.status();
      key = DigestKey{*id, static_cast<uint32_t>(lead), algorithm};
    }
    chain_key = ChainKey{
        engine.rim(), key->payload_id,          key->lead,           first_ipa,
        algorithm,    engine.params().ipa_bits, engine.rmm_version()};
    if (std::shared_ptr<const Engine> after = cache->FindChain(*chain_key)) {
      engine = *after;  // the whole segment is known
      return absl::OkStatus();
    }
    if (std::shared_ptr<const GranuleDigests> hit = cache->Find(*key)) {
      const size_t count = hit->size() / hash_size;
      // A range the engine would refuse takes the granule-by-granule path
      // below, which reports the first granule refused.
      if (batch != nullptr && engine.CheckDataGranules(first_ipa, count).ok()) {
        // The segment is cached before any other shape goes on.
        return batch->Measure(engine, first_ipa, hit->data(), count, cancel,
                              [&] { cache->InsertChain(*chain_key, engine); });
      }
      Measurement digest = {};
      for (size_t i = 0; i < count; ++i) {
        std::memcpy(digest.data(), hit->data() + i * hash_size, hash_size);
        absl::Status s = feed(i, digest);
        if (!s.ok()) return s;
      }
      cache->InsertChain(*chain_key, engine);
      return absl::OkStatus();
    }
  }
  if (!reader.has_value()) {
    absl::StatusOr<Payload::Reader> r = blob.payload.Open();
    if (!r.ok()) return WithPrefix("VMM: ", r.status());
    reader.emplace(*std::move(r));
  }

  // Record for the cache only what it can keep (the size is known up
  // front for a file; bytes are small or already in memory).
  std::shared_ptr<GranuleDigests> record;
  if (key.has_value()) {
    absl::StatusOr<uint64_t> size = blob.payload.Size();
    if (size.ok()) {
      const uint64_t granules =
          (lead + *size + kGranuleSize - 1) / kGranuleSize;
      if (granules <= cache->max_granules(hash_size)) {
        record = std::make_shared<GranuleDigests>();
        record->reserve(granules * hash_size);
      }
    }
  }
  absl::Status s = hasher.Run(
      *reader, lead, algorithm,
      [&](uint64_t index, const Measurement& digest) -> absl::Status {
        if (record != nullptr) {
          if (!cache->Fits(record->size() + hash_size)) {
            record.reset();  // the file grew: stop recording
          } else {
            record->insert(record->end(), digest.begin(),
                           digest.begin() + hash_size);
          }
        }
        if (on_hashed) on_hashed(kGranuleSize);
        return feed(index, digest);
      });
  if (!s.ok()) {
    // File errors are VMM errors in the reference ("VMM: file ...").
    return engine_status.ok() ? WithPrefix("VMM: ", s) : engine_status;
  }
  if (record != nullptr) cache->Insert(*key, std::move(record));
  if (chain_key.has_value()) cache->InsertChain(*chain_key, engine);
  return absl::OkStatus();
}

// H(blob content) truncated to the algorithm's size, streamed; `cancel` is
// polled before every 1 MiB chunk and a stop it asks for lands in
// `*cancelled` (returned as is, without the "VMM: " prefix).
absl::StatusOr<std::vector<uint8_t>> DigestBlob(
    HashAlgorithm algorithm, const Payload& payload,
    const std::function<void(uint64_t)>& on_hashed, const CancelCheck& cancel,
    absl::Status* cancelled) {
  absl::StatusOr<crypto::Digest> digest =
      crypto::Digest::Create(ToDigestAlgorithm(algorithm));
  if (!digest.ok()) return digest.status();
  absl::Status s = payload.Read([&](absl::Span<const uint8_t> chunk) {
    *cancelled = PollCancel(cancel);
    if (!cancelled->ok()) return *cancelled;
    if (on_hashed) on_hashed(chunk.size());
    return digest->Update(chunk);
  });
  if (!s.ok()) return s;
  return digest->Finish();
}

}  // namespace

absl::StatusOr<Measurements> ComputeMeasurements(const RealmConfig& config) {
  return ComputeMeasurements(config, MeasureOptions{});
}

absl::StatusOr<Measurements> ComputeMeasurements(
    const RealmConfig& config, const MeasureOptions& options) {
  std::optional<GranuleHasher> own_hasher;
  GranuleHasher* hasher = options.hasher;
  if (hasher == nullptr) hasher = &own_hasher.emplace();
  absl::StatusOr<RealmCreateParams> params = config.ResolveParams();
  if (!params.ok()) return params.status();
  absl::StatusOr<Engine> engine = Engine::RealmCreate(*params);
  if (!engine.ok()) return engine.status();

  for (const auto& [addr, size] : config.ram()) {
    // spec-core §6.4: top from the aligned-down base plus the original size.
    const uint64_t base = AlignDown(addr);
    const uint64_t top = AlignUp(base + size - 1);
    absl::Status s = engine->InitRipas(base, top);
    if (!s.ok()) return s;
  }
  for (const auto& [addr, blob] : config.rim_blobs()) {
    absl::Status s =
        MeasureBlob(*engine, addr, blob, *hasher, options.cache,
                    options.chain_batch, options.on_hashed, options.cancel);
    if (!s.ok()) return s;
  }
  if (config.rec().has_value()) {
    absl::Status s = engine->RecCreate(*config.rec());
    if (!s.ok()) return s;
  }
  for (const MemoryRange& r : config.rim_unmeasured()) {
    absl::Status s = engine->DataCreateUnmeasuredRange(r.base, r.size);
    if (!s.ok()) return s;
  }
  // deviations.md C1: v = H(blob)[0:L], REM = H(REM_old[0:L] || v).
  for (const auto& [index, blob] : config.rem_blobs()) {
    absl::Status cancelled;
    absl::StatusOr<std::vector<uint8_t>> v =
        DigestBlob(params->hash_algorithm, blob.payload, options.on_hashed,
                   options.cancel, &cancelled);
    if (!cancelled.ok()) return cancelled;
    if (!v.ok()) return WithPrefix("VMM: ", v.status());
    absl::Status s = engine->ExtendRem(index, *v, RemFormula::kTfRmm);
    if (!s.ok()) return s;
  }

  Measurements m;
  m.rmm_version = params->rmm_version;
  m.hash_algorithm = params->hash_algorithm;
  m.rim = engine->rim();
  for (int i = 0; i < 4; ++i) m.rem[i] = engine->rem(i);
  return m;
}

}  // namespace realm_measurements::measure
