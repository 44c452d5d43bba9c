#include "eventlog/internal/text_file.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "testing/files.h"

namespace realm_measurements::eventlog::internal {
namespace {

TEST(TextFile, ReadBoundedFileReadsAndRefusesOversize) {
  const std::string p = test::TmpPath("f.txt");
  std::ofstream(p, std::ios::binary) << "abc";
  absl::StatusOr<std::vector<uint8_t>> got = ReadBoundedFile(p, 3);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, (std::vector<uint8_t>{'a', 'b', 'c'}));
  EXPECT_EQ(ReadBoundedFile(p, 2).status().code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(ReadBoundedFile(test::TmpPath("missing"), 10).status().code(),
            absl::StatusCode::kNotFound);
  const std::string empty = test::TmpPath("empty");
  std::ofstream(empty, std::ios::binary).flush();
  ASSERT_TRUE(ReadBoundedFile(empty, 0).ok());
}

// A FIFO would block the read forever, a device never end, and a
// directory read as empty.
TEST(TextFile, ReadBoundedFileRefusesAllButRegularFiles) {
  const std::string fifo = test::TmpPath("fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  absl::Status s = ReadBoundedFile(fifo, 10).status();
  EXPECT_EQ(s.message(), "file " + fifo + " error: not a regular file (FIFO)");
  s = ReadBoundedFile("/dev/zero", 10).status();
  EXPECT_EQ(s.message(),
            "file /dev/zero error: not a regular file (character device)");
  s = ReadBoundedFile(test::TmpPath(""), 10).status();
  EXPECT_NE(s.message().find("Is a directory"), absl::string_view::npos) << s;
}

TEST(TextFile, DirectoryOf) {
  EXPECT_EQ(DirectoryOf("sums"), ".");
  EXPECT_EQ(DirectoryOf("/sums"), "/");
  EXPECT_EQ(DirectoryOf("a/b/sums"), "a/b");
}

TEST(TextFile, ForEachLineSkipsEmptyLinesAndStripsCr) {
  const std::string text = "one\r\n\ntwo\nthree";
  std::vector<std::pair<int, std::string>> seen;
  absl::Status s = ForEachLine(
      absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(text.data()),
                          text.size()),
      [&](int n, absl::string_view l) {
        seen.emplace_back(n, std::string(l));
        return absl::OkStatus();
      });
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(seen, (std::vector<std::pair<int, std::string>>{
                      {1, "one"}, {3, "two"}, {4, "three"}}));
  int calls = 0;
  s = ForEachLine(
      absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(text.data()),
                          text.size()),
      [&](int, absl::string_view) {
        ++calls;
        return absl::InvalidArgumentError("stop");
      });
  EXPECT_EQ(s.message(), "stop");
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace realm_measurements::eventlog::internal
