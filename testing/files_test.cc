#include "testing/files.h"

#include <sys/stat.h>

#include <cstdint>
#include <vector>

#include "gtest/gtest-spi.h"
#include "gtest/gtest.h"

namespace realm_measurements::test {
namespace {

TEST(FilesTest, WriteThenReadBackBothForms) {
  const std::vector<uint8_t> bytes = {0x00, 0xff, 'a', '\n'};
  const std::string p = WriteTmpFile("files_test.bin", bytes);
  EXPECT_EQ(p, TmpPath("files_test.bin"));
  EXPECT_EQ(ReadFileBytes(p), bytes);
  WriteFile(p, absl::string_view("xy"));  // truncates
  EXPECT_EQ(ReadFileText(p), "xy");
}

TEST(FilesTest, NewTmpDirCreatesADirectoryTwice) {
  const std::string d = NewTmpDir("files_test_dir");
  struct stat st;
  ASSERT_EQ(stat(d.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(NewTmpDir("files_test_dir"), d);
}

TEST(FilesTest, MissingFileFailsTheTest) {
  EXPECT_NONFATAL_FAILURE(ReadFileBytes(TmpPath("no-such-file")),
                          "cannot open");
}

TEST(FilesTest, CheckedInTestDataResolvesFromTheWorkspaceRoot) {
  EXPECT_FALSE(ReadFileText("testing/files_test.cc").empty());
}

TEST(FilesTest, FromHex) {
  EXPECT_EQ(FromHex("00aBff"), (std::vector<uint8_t>{0x00, 0xab, 0xff}));
  EXPECT_NONFATAL_FAILURE(FromHex("abc"), "not an even-length hex string");
  EXPECT_NONFATAL_FAILURE(FromHex("zz"), "not an even-length hex string");
}

}  // namespace
}  // namespace realm_measurements::test
