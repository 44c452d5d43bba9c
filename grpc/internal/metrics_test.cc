// The Prometheus text of grpc/internal/metrics.h: numbers exact (a counter
// past a million used to be printed with 6 significant digits), callback
// counters and gauges typed as such.
#include "grpc/internal/metrics.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace realm_measurements::service {
namespace {

TEST(MetricsTest, CallbackValuesAreExactAndTyped) {
  Metrics m;
  m.SetCounterSource([] {
    return std::vector<std::pair<std::string, double>>{
        {"big_total", 172800001.0}, {"small_total", 3.0}};
  });
  m.SetGaugeSource([] {
    return std::vector<std::pair<std::string, double>>{
        {"expiry_seconds", 2335219200.0}, {"fraction", 0.1}};
  });
  const std::string text = m.Render();
  for (const char* want : {"# TYPE realm_measurements_big_total counter\n"
                           "realm_measurements_big_total 172800001\n",
                           "realm_measurements_small_total 3\n",
                           "# TYPE realm_measurements_expiry_seconds gauge\n"
                           "realm_measurements_expiry_seconds 2335219200\n",
                           "# TYPE realm_measurements_fraction gauge\n"
                           "realm_measurements_fraction 0.1\n"}) {
    EXPECT_TRUE(absl::StrContains(text, want)) << want << "\n" << text;
  }
  m.SetGaugeSource(nullptr);
  EXPECT_FALSE(absl::StrContains(m.Render(), "expiry_seconds"));
}

TEST(MetricsTest, HistogramBoundsKeepTheirShortForm) {
  Metrics m;
  m.CallFinished("AppraiseToken", "OK", 0.003);
  const std::string text = m.Render();
  EXPECT_TRUE(absl::StrContains(text, "le=\"0.005\"} 1\n")) << text;
  EXPECT_TRUE(absl::StrContains(text, "le=\"+Inf\"} 1\n")) << text;
}

}  // namespace
}  // namespace realm_measurements::service
