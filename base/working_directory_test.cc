#include "base/working_directory.h"

#include <unistd.h>

#include <cstdlib>
#include <string>

#include "gtest/gtest.h"

namespace realm_measurements {
namespace {

std::string Cwd() {
  char buf[4096];
  return getcwd(buf, sizeof(buf)) ? std::string(buf) : std::string();
}

TEST(EnterBuildWorkingDirectory, UnsetOrEmptyDoesNothing) {
  const std::string before = Cwd();
  unsetenv("BUILD_WORKING_DIRECTORY");
  EXPECT_TRUE(EnterBuildWorkingDirectory().ok());
  setenv("BUILD_WORKING_DIRECTORY", "", 1);
  EXPECT_TRUE(EnterBuildWorkingDirectory().ok());
  EXPECT_EQ(Cwd(), before);
}

TEST(EnterBuildWorkingDirectory, EntersTheDirectory) {
  const std::string before = Cwd();
  const char* tmp = std::getenv("TEST_TMPDIR");
  ASSERT_NE(tmp, nullptr);
  char resolved[4096];
  ASSERT_NE(realpath(tmp, resolved), nullptr);
  setenv("BUILD_WORKING_DIRECTORY", resolved, 1);
  ASSERT_TRUE(EnterBuildWorkingDirectory().ok());
  EXPECT_EQ(Cwd(), std::string(resolved));
  ASSERT_EQ(chdir(before.c_str()), 0);
}

TEST(EnterBuildWorkingDirectory, MissingDirectoryIsAnError) {
  setenv("BUILD_WORKING_DIRECTORY", "/nonexistent/realm-measurements", 1);
  absl::Status s = EnterBuildWorkingDirectory();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("/nonexistent/realm-measurements"),
            std::string::npos);
  unsetenv("BUILD_WORKING_DIRECTORY");
}

}  // namespace
}  // namespace realm_measurements
