// Parse() over a 64 KiB crypto-agile log holding 1,000 events of the kinds
// VMM and firmware logs contain (blobs, CCA tags, EFI actions, separators).
#include <cstdio>
#include <string>

#include "benchmark/benchmark.h"
#include "eventlog/internal/log_builder.h"
#include "eventlog/parser.h"

namespace {

namespace el = realm_measurements::eventlog;
namespace b = realm_measurements::eventlog::internal;

constexpr size_t kLogSize = 64 * 1024;
constexpr int kEvents = 1000;

b::Bytes MakeLog() {
  b::Bytes log = b::SpecIdHeader();
  b::Bytes digest(32, 0xA5);
  size_t fixed = 0;
  std::vector<b::Bytes> events;
  int texts = 0;
  for (int i = 0; i < kEvents; ++i) {
    switch (i % 4) {
      case 0:
        events.push_back(
            b::Event2(0, 0x13, {{0x0B, digest}},
                      b::Blob2("KERNEL", 0x80000000 + i * 0x1000, 0x1000)));
        break;
      case 1:
        events.push_back(b::Event2(0, 6, {}, b::InitRipasData(0, 0x1000)));
        break;
      case 2:
        events.push_back(b::Event2(1, 4, {{0x0B, digest}}, b::Bytes(4, 0)));
        break;
      case 3:
        events.emplace_back();  // EV_EFI_ACTION text, sized below
        ++texts;
        break;
    }
    fixed += events.back().size();
  }
  // Spread the remaining bytes over the text events (each has a 50-byte head).
  size_t room = kLogSize - log.size() - fixed - texts * 50;
  size_t each = room / texts, extra = room % texts;
  for (int i = 3; i < kEvents; i += 4) {
    size_t n = each + (extra > 0 ? 1 : 0);
    if (extra > 0) --extra;
    events[i] =
        b::Event2(2, 0x80000007, {{0x0B, digest}}, b::Bytes(n, 'a' + i % 26));
  }
  for (const b::Bytes& e : events) log.insert(log.end(), e.begin(), e.end());
  return log;
}

void BM_ParseLog64K1000Events(benchmark::State& state) {
  const b::Bytes log = MakeLog();
  if (log.size() != kLogSize) {
    state.SkipWithError("generated log is not 64 KiB");
    return;
  }
  size_t events = 0;
  for (auto _ : state) {
    absl::StatusOr<el::EventLog> r = el::Parse(log);
    if (!r.ok()) {
      state.SkipWithError(std::string(r.status().message()).c_str());
      return;
    }
    events = r->events.size();
    benchmark::DoNotOptimize(r);
  }
  if (events != kEvents) state.SkipWithError("wrong event count");
  state.SetBytesProcessed(state.iterations() * log.size());
  state.counters["events"] = events;
  state.counters["log_bytes"] = log.size();
}
BENCHMARK(BM_ParseLog64K1000Events)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
