#include "grpc/internal/admission.h"

#include <atomic>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace realm_measurements::service::internal {
namespace {

absl::Time Far() { return absl::Now() + absl::Hours(1); }

TEST(AdmissionClassTest, SlotsThenWaitUntilDeadline) {
  AdmissionClass c("expensive", {/*running=*/2, /*waiting=*/4});
  absl::StatusOr<AdmissionClass::Ticket> a = c.Admit(Far());
  absl::StatusOr<AdmissionClass::Ticket> b = c.Admit(Far());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(c.running(), 2);
  // Full: waits until its deadline, then RESOURCE_EXHAUSTED.
  absl::StatusOr<AdmissionClass::Ticket> late =
      c.Admit(absl::Now() + absl::Milliseconds(30));
  EXPECT_EQ(late.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(absl::StrContains(late.status().message(),
                                "no expensive call slot became free"))
      << late.status();
  EXPECT_EQ(c.waiting(), 0);
  // A released slot goes to a waiter.
  std::thread release([&] {
    absl::SleepFor(absl::Milliseconds(20));
    *a = std::move(*b);  // releases a's slot
  });
  absl::StatusOr<AdmissionClass::Ticket> next = c.Admit(Far());
  release.join();
  EXPECT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(c.running(), 2);
}

TEST(AdmissionClassTest, FullWaitingRoomRefusesAtOnce) {
  AdmissionClass c("expensive", {/*running=*/1, /*waiting=*/1});
  absl::StatusOr<AdmissionClass::Ticket> held = c.Admit(Far());
  ASSERT_TRUE(held.ok());
  std::atomic<bool> stop{false};
  std::thread waiter([&] {
    absl::StatusOr<AdmissionClass::Ticket> t = c.Admit(Far(), [&] {
      return stop ? absl::CancelledError("left") : absl::OkStatus();
    });
    EXPECT_EQ(t.status(), absl::CancelledError("left"));
  });
  while (c.waiting() != 1) absl::SleepFor(absl::Milliseconds(1));
  // The one waiting place is taken: refused without waiting for the
  // (hour-long) deadline.
  absl::StatusOr<AdmissionClass::Ticket> refused = c.Admit(Far());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(absl::StrContains(refused.status().message(),
                                "1 expensive calls running and 1 waiting"))
      << refused.status();
  // A waiter whose hook says stop leaves with the hook's status.
  stop = true;
  waiter.join();
  EXPECT_EQ(c.waiting(), 0);
  EXPECT_EQ(c.running(), 1);
}

TEST(AdmissionClassTest, ClassesAreIndependent) {
  AdmissionClass expensive("expensive", {1, 0});
  AdmissionClass cheap("cheap", {1, 0});
  absl::StatusOr<AdmissionClass::Ticket> e = expensive.Admit(Far());
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(expensive.Admit(Far()).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(cheap.Admit(Far()).ok());
}

// Many threads: never more than `running` inside, every call admitted.
TEST(AdmissionClassTest, BoundHoldsUnderContention) {
  AdmissionClass c("cheap", {/*running=*/3, /*waiting=*/64});
  std::atomic<int> inside{0}, max_inside{0}, admitted{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 32; ++i) {
    threads.emplace_back([&] {
      for (int k = 0; k < 20; ++k) {
        absl::StatusOr<AdmissionClass::Ticket> t = c.Admit(Far());
        ASSERT_TRUE(t.ok()) << t.status();
        const int now = ++inside;
        int seen = max_inside.load();
        while (now > seen && !max_inside.compare_exchange_weak(seen, now)) {
        }
        absl::SleepFor(absl::Microseconds(200));
        --inside;
        ++admitted;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(admitted, 32 * 20);
  EXPECT_LE(max_inside, 3);
  EXPECT_EQ(c.running(), 0);
  EXPECT_EQ(c.waiting(), 0);
}

}  // namespace
}  // namespace realm_measurements::service::internal
