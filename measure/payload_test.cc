#include "measure/payload.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace realm_measurements::measure {
namespace {

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
}

void WriteFile(const std::string& path, const std::string& data) {
  FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(std::fwrite(data.data(), 1, data.size(), f), data.size());
  std::fclose(f);
}

// Collects the chunks of a payload.
std::vector<std::string> Chunks(const Payload& p, size_t max_chunk,
                                absl::Status* status) {
  std::vector<std::string> out;
  *status = p.Read(
      [&](absl::Span<const uint8_t> c) {
        out.emplace_back(c.begin(), c.end());
        return absl::OkStatus();
      },
      max_chunk);
  return out;
}

TEST(Payload, BytesAreChunkedInOrder) {
  Payload p = Payload::FromBytes("DTB", {1, 2, 3, 4, 5, 6, 7});
  EXPECT_EQ(p.name(), "DTB");
  EXPECT_FALSE(p.is_file());
  ASSERT_NE(p.bytes(), nullptr);
  EXPECT_EQ(*p.Size(), 7u);
  absl::Status s;
  std::vector<std::string> c = Chunks(p, 3, &s);
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0], std::string("\x01\x02\x03"));
  EXPECT_EQ(c[2], std::string("\x07"));
}

TEST(Payload, EmptyBytesCallNothing) {
  Payload p = Payload::FromBytes("empty", {});
  absl::Status s;
  EXPECT_TRUE(Chunks(p, 16, &s).empty());
  EXPECT_TRUE(s.ok());
}

TEST(Payload, FileIsReadInBoundedChunks) {
  const std::string path = TempPath("payload-file");
  std::string data;
  for (int i = 0; i < 10000; ++i) data.push_back(static_cast<char>(i * 7));
  WriteFile(path, data);
  Payload p = Payload::FromFile(path);
  EXPECT_TRUE(p.is_file());
  EXPECT_EQ(p.bytes(), nullptr);
  EXPECT_EQ(*p.Size(), 10000u);
  absl::Status s;
  std::vector<std::string> c = Chunks(p, 4096, &s);
  ASSERT_TRUE(s.ok()) << s;
  std::string joined;
  for (const std::string& x : c) {
    EXPECT_LE(x.size(), 4096u);
    joined += x;
  }
  EXPECT_EQ(joined, data);
}

TEST(Payload, MissingFileIsOpenedLazilyWithRustStyleError) {
  // Creating the payload never touches the file.
  Payload p = Payload::FromFile("nonexistent-file");
  absl::StatusOr<uint64_t> size = p.Size();
  ASSERT_FALSE(size.ok());
  EXPECT_EQ(size.status().message(),
            "file nonexistent-file error: No such file or directory (os error "
            "2)");
  absl::Status s;
  Chunks(p, 16, &s);
  EXPECT_EQ(s.message(),
            "file nonexistent-file error: No such file or directory (os error "
            "2)");
}

TEST(Payload, DirectoryIsAnError) {
  const char* dir = std::getenv("TEST_TMPDIR");
  Payload p = Payload::FromFile(dir != nullptr ? dir : "/tmp");
  absl::StatusOr<uint64_t> size = p.Size();
  ASSERT_FALSE(size.ok());
  EXPECT_NE(size.status().message().find("Is a directory (os error 21)"),
            std::string::npos)
      << size.status();
}

TEST(Payload, CallbackErrorStopsReading) {
  Payload p = Payload::FromBytes("x", std::vector<uint8_t>(100, 1));
  int calls = 0;
  absl::Status s = p.Read(
      [&](absl::Span<const uint8_t>) {
        ++calls;
        return absl::CancelledError("stop");
      },
      10);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(s.message(), "stop");
}

}  // namespace
}  // namespace realm_measurements::measure
