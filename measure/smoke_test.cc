#include <openssl/evp.h>
#include "absl/status/statusor.h"
#include "gtest/gtest.h"
TEST(Smoke, Works) {
  absl::StatusOr<int> s = 3;
  EXPECT_TRUE(s.ok());
  EXPECT_NE(EVP_sha256(), nullptr);
}
