#include "corim/realm_index.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "base/hex.h"

namespace realm_measurements::corim {
namespace {

constexpr uint8_t kRpvBit = 1 << 4;
constexpr uint8_t kLegacyBit = 1 << 5;

absl::string_view View(absl::Span<const uint8_t> b) {
  return absl::string_view(reinterpret_cast<const char*>(b.data()), b.size());
}

absl::Status TooManyForRim(absl::Span<const uint8_t> rim, size_t n) {
  return absl::ResourceExhaustedError(absl::StrCat(
      "reference values for RIM ", base::HexOf(rim), ": expected at most ",
      kMaxValuesPerRim, " per set, found ", n));
}

}  // namespace

absl::StatusOr<std::shared_ptr<const RealmIndexSegment>>
RealmIndexSegment::Build(absl::Span<const RealmReferenceValue> values,
                         std::optional<Validity> validity) {
  auto seg = std::shared_ptr<RealmIndexSegment>(new RealmIndexSegment());
  seg->validity_ = validity;
  size_t bytes = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    const RealmReferenceValue& v = values[i];
    if (absl::Status s = ValidateRealm(v); !s.ok()) {
      return absl::Status(s.code(),
                          absl::StrCat("value ", i, ": ", s.message()));
    }
    bytes += v.rim.size() + (v.rpv ? v.rpv->size() : 0) +
             (v.legacy_instance ? v.legacy_instance->size() : 0);
    for (const auto& r : v.rem) bytes += r ? r->size() : 0;
    if (v.legacy_instance &&
        v.legacy_instance->size() > std::numeric_limits<uint16_t>::max()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "value ", i,
          ": legacy instance: expected at most 65535 bytes, found ",
          v.legacy_instance->size()));
    }
  }
  if (bytes > std::numeric_limits<uint32_t>::max() ||
      values.size() > std::numeric_limits<uint32_t>::max()) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "reference values: expected at most 4 GiB in one part, found ", bytes,
        " bytes"));
  }
  seg->arena_.reserve(bytes);
  seg->entries_.reserve(values.size());
  for (const RealmReferenceValue& v : values) {
    Entry e;
    e.offset = static_cast<uint32_t>(seg->arena_.size());
    e.algorithm = static_cast<uint8_t>(v.algorithm);
    e.present = 0;
    e.legacy_size = 0;
    auto put = [&](const std::vector<uint8_t>& b) {
      seg->arena_.insert(seg->arena_.end(), b.begin(), b.end());
    };
    put(v.rim);
    for (int r = 0; r < kRemCount; ++r) {
      if (v.rem[r]) {
        e.present |= 1 << r;
        put(*v.rem[r]);
      }
    }
    if (v.rpv) {
      e.present |= kRpvBit;
      put(*v.rpv);
    }
    if (v.legacy_instance) {
      e.present |= kLegacyBit;
      e.legacy_size = static_cast<uint16_t>(v.legacy_instance->size());
      put(*v.legacy_instance);
    }
    seg->entries_.push_back(e);
  }
  seg->by_rim_.resize(values.size());
  for (uint32_t i = 0; i < values.size(); ++i) seg->by_rim_[i] = i;
  const RealmIndexSegment* s = seg.get();
  std::sort(
      seg->by_rim_.begin(), seg->by_rim_.end(), [s](uint32_t a, uint32_t b) {
        const absl::string_view ra = View(s->Rim(a)), rb = View(s->Rim(b));
        return ra != rb ? ra < rb : a < b;
      });
  absl::Status over;
  s->ForEachRim([&](absl::Span<const uint8_t> rim, size_t n) {
    if (over.ok() && n > kMaxValuesPerRim) over = TooManyForRim(rim, n);
  });
  if (!over.ok()) return over;
  return std::shared_ptr<const RealmIndexSegment>(std::move(seg));
}

size_t RealmIndexSegment::memory_bytes() const {
  return sizeof(*this) + arena_.capacity() +
         entries_.capacity() * sizeof(Entry) +
         by_rim_.capacity() * sizeof(uint32_t);
}

absl::Span<const uint8_t> RealmIndexSegment::Rim(uint32_t i) const {
  const Entry& e = entries_[i];
  return absl::MakeConstSpan(arena_).subspan(
      e.offset, DigestSize(static_cast<RealmHashAlgorithm>(e.algorithm)));
}

RealmReferenceValue RealmIndexSegment::Get(size_t i) const {
  const Entry& e = entries_[i];
  RealmReferenceValue v;
  v.algorithm = static_cast<RealmHashAlgorithm>(e.algorithm);
  const size_t d = DigestSize(v.algorithm);
  const uint8_t* p = arena_.data() + e.offset;
  auto take = [&p](size_t n) {
    std::vector<uint8_t> out(p, p + n);
    p += n;
    return out;
  };
  v.rim = take(d);
  for (int r = 0; r < kRemCount; ++r) {
    if (e.present & (1 << r)) v.rem[r] = take(d);
  }
  if (e.present & kRpvBit) v.rpv = take(kRpvSize);
  if (e.present & kLegacyBit) v.legacy_instance = take(e.legacy_size);
  return v;
}

std::pair<const uint32_t*, const uint32_t*> RealmIndexSegment::Range(
    absl::Span<const uint8_t> rim) const {
  const absl::string_view key = View(rim);
  auto lo = std::lower_bound(
      by_rim_.begin(), by_rim_.end(), key,
      [this](uint32_t a, absl::string_view k) { return View(Rim(a)) < k; });
  auto hi = std::upper_bound(
      lo, by_rim_.end(), key,
      [this](absl::string_view k, uint32_t a) { return k < View(Rim(a)); });
  return {by_rim_.data() + (lo - by_rim_.begin()),
          by_rim_.data() + (hi - by_rim_.begin())};
}

void RealmIndexSegment::Find(absl::Span<const uint8_t> rim,
                             std::vector<uint32_t>* out) const {
  auto [lo, hi] = Range(rim);
  out->insert(out->end(), lo, hi);
}

void RealmIndexSegment::ForEachRim(
    const std::function<void(absl::Span<const uint8_t>, size_t)>& f) const {
  for (size_t i = 0; i < by_rim_.size();) {
    size_t j = i + 1;
    while (j < by_rim_.size() &&
           View(Rim(by_rim_[j])) == View(Rim(by_rim_[i]))) {
      ++j;
    }
    f(Rim(by_rim_[i]), j - i);
    i = j;
  }
}

size_t RealmIndexSegment::Count(absl::Span<const uint8_t> rim) const {
  auto [lo, hi] = Range(rim);
  return static_cast<size_t>(hi - lo);
}

RealmIndex::RealmIndex(
    std::vector<std::shared_ptr<const RealmIndexSegment>> segments)
    : segments_(std::move(segments)) {
  for (const auto& s : segments_) {
    starts_.push_back(size_);
    size_ += s->size();
    memory_bytes_ += s->memory_bytes();
  }
}

absl::StatusOr<std::shared_ptr<const RealmIndex>> RealmIndex::With(
    std::shared_ptr<const RealmIndexSegment> more) const {
  // Each distinct RIM of the new segment, against the whole set.
  absl::Status over;
  more->ForEachRim([&](absl::Span<const uint8_t> rim, size_t in_more) {
    if (!over.ok()) return;
    size_t n = in_more;
    for (const auto& s : segments_) n += s->Count(rim);
    if (n > kMaxValuesPerRim) over = TooManyForRim(rim, n);
  });
  if (!over.ok()) return over;
  std::vector<std::shared_ptr<const RealmIndexSegment>> segs = segments_;
  segs.push_back(std::move(more));
  return std::make_shared<const RealmIndex>(std::move(segs));
}

std::vector<size_t> RealmIndex::Lookup(absl::Span<const uint8_t> rim,
                                       std::optional<int64_t> time,
                                       size_t* excluded) const {
  std::vector<size_t> out;
  std::vector<uint32_t> local;
  for (size_t k = 0; k < segments_.size(); ++k) {
    if (time && !ValidAt(segments_[k]->validity(), *time)) {
      if (excluded != nullptr) *excluded += segments_[k]->Count(rim);
      continue;
    }
    local.clear();
    segments_[k]->Find(rim, &local);
    for (uint32_t i : local) out.push_back(starts_[k] + i);
  }
  return out;
}

std::vector<size_t> RealmIndex::First(size_t n,
                                      std::optional<int64_t> time) const {
  std::vector<size_t> out;
  for (size_t k = 0; k < segments_.size() && out.size() < n; ++k) {
    if (time && !ValidAt(segments_[k]->validity(), *time)) continue;
    for (size_t i = 0; i < segments_[k]->size() && out.size() < n; ++i) {
      out.push_back(starts_[k] + i);
    }
  }
  return out;
}

RealmReferenceValue RealmIndex::Get(size_t position) const {
  const size_t k = std::upper_bound(starts_.begin(), starts_.end(), position) -
                   starts_.begin() - 1;
  return segments_[k]->Get(position - starts_[k]);
}

IndexedAppraisal AppraiseIndexed(const CcaToken& token, const RealmIndex& index,
                                 AppraisalOptions opts,
                                 size_t max_near_misses) {
  IndexedAppraisal out;
  out.reference_count = index.size();
  size_t excluded = 0;
  std::vector<size_t> positions =
      index.Lookup(token.realm.initial_measurement,
                   opts.validity ? std::optional<int64_t>(opts.validity->time)
                                 : std::nullopt,
                   &excluded);
  if (opts.validity) opts.validity->realm_values += excluded;
  out.candidate_count = positions.size();
  if (positions.empty()) {
    // No value has the token's RIM: the near misses asked for are the
    // set's first values, each compared field by field (their RIM differs,
    // so none is a candidate and the outcome is unchanged).
    positions =
        index.First(max_near_misses,
                    opts.validity ? std::optional<int64_t>(opts.validity->time)
                                  : std::nullopt);
  }
  std::vector<RealmReferenceValue> refs;
  refs.reserve(positions.size());
  for (size_t p : positions) refs.push_back(index.Get(p));
  AppraisalResult r = AppraiseCcaToken(token, refs, opts);
  for (CandidateReport& c : r.candidates) c.index = positions[c.index];

  // The deciding candidate: the matched one, else the first that set the
  // executables claim (an RPV mismatch, §4.5 step 3).
  std::optional<size_t> deciding = r.matched;
  if (!deciding) {
    for (size_t i = 0; i < r.candidates.size(); ++i) {
      if (r.candidates[i].executables != 0) {
        deciding = i;
        break;
      }
    }
  }
  std::vector<CandidateReport> kept;
  if (deciding) kept.push_back(std::move(r.candidates[*deciding]));
  for (size_t i = 0; i < r.candidates.size() &&
                     kept.size() < (deciding ? 1 : 0) + max_near_misses;
       ++i) {
    if (deciding && i == *deciding) continue;
    kept.push_back(std::move(r.candidates[i]));
  }
  r.candidates = std::move(kept);
  if (r.matched) r.matched = 0;
  out.result = std::move(r);
  return out;
}

}  // namespace realm_measurements::corim
