#include "base/file_reading.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "testing/files.h"

namespace realm_measurements::measure {
namespace {

TEST(OsFileErrorTest, RustIoErrorTextAndCodes) {
  const absl::Status missing = OsFileError("a.bin", ENOENT);
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(missing.message(),
            "file a.bin error: No such file or directory (os error 2)");
  EXPECT_EQ(OsFileError("a", EACCES).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(OsFileError("a", EPERM).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(OsFileError("a", EIO).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(ReadSmallRegularFileTest, ReadsAFileUpToTheLimit) {
  const std::string path = test::WriteTmpFile("small.txt", "0123456789");
  absl::StatusOr<std::string> text = ReadSmallRegularFile(path, 10);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, "0123456789");
  const std::string empty = test::WriteTmpFile("empty.txt", "");
  text = ReadSmallRegularFile(empty, 0);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, "");
}

TEST(ReadSmallRegularFileTest, RefusesAFileOverTheLimitBeforeReading) {
  const std::string path = test::WriteTmpFile("big.txt", "0123456789");
  const absl::StatusOr<std::string> text = ReadSmallRegularFile(path, 9);
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().message(),
            absl::StrCat("file ", path,
                         " error: 10 bytes, more than the limit of 9 bytes"));
}

TEST(ReadSmallRegularFileTest, RefusesDevicesFifosAndDirectories) {
  // A character device never ends; a FIFO would block the open.
  absl::StatusOr<std::string> dev = ReadSmallRegularFile("/dev/zero", 1 << 20);
  ASSERT_FALSE(dev.ok());
  EXPECT_EQ(dev.status().message(),
            "file /dev/zero error: not a regular file (character device)");

  const std::string fifo = test::TmpPath("a.fifo");
  unlink(fifo.c_str());
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0) << errno;
  absl::StatusOr<std::string> f = ReadSmallRegularFile(fifo, 1 << 20);
  ASSERT_FALSE(f.ok());
  EXPECT_TRUE(
      absl::StrContains(f.status().message(), "not a regular file (FIFO)"))
      << f.status();

  const std::string dir = test::NewTmpDir("a-directory");
  absl::StatusOr<std::string> d = ReadSmallRegularFile(dir, 1 << 20);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().message(),
            absl::StrCat("file ", dir, " error: Is a directory (os error 21)"));
}

TEST(ReadSmallRegularFileTest, MissingFileIsNotFound) {
  const std::string path = test::TmpPath("does-not-exist");
  const absl::StatusOr<std::string> text = ReadSmallRegularFile(path, 10);
  EXPECT_EQ(text.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(text.status().message(),
            absl::StrCat("file ", path,
                         " error: No such file or directory (os error 2)"));
}

TEST(OpenPayloadFileTest, OpensRegularFilesInBlockingMode) {
  const std::string path = test::WriteTmpFile("payload.bin", "abc");
  absl::StatusOr<int> fd = OpenPayloadFile(path);
  ASSERT_TRUE(fd.ok()) << fd.status();
  Fd owned(*fd);
  EXPECT_EQ(fcntl(owned.get(), F_GETFL) & O_NONBLOCK, 0);
  char buf[4] = {};
  EXPECT_EQ(read(owned.get(), buf, sizeof(buf)), 3);
  EXPECT_EQ(std::string(buf, 3), "abc");
}

TEST(FdTest, ClosesUnlessReleased) {
  const std::string path = test::WriteTmpFile("fd.bin", "x");
  int raw = open(path.c_str(), O_RDONLY);
  ASSERT_GE(raw, 0);
  { Fd fd(raw); }
  EXPECT_EQ(fcntl(raw, F_GETFD), -1);  // closed
  EXPECT_EQ(errno, EBADF);

  raw = open(path.c_str(), O_RDONLY);
  ASSERT_GE(raw, 0);
  int kept = -1;
  {
    Fd fd(raw);
    kept = fd.release();
    EXPECT_EQ(fd.get(), -1);
  }
  EXPECT_NE(fcntl(kept, F_GETFD), -1);  // still open
  close(kept);
}

TEST(FileIdentityTest, NamesDeviceInodeSizeAndTimes) {
  const std::string path = test::WriteTmpFile("id.bin", "12345");
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  const std::string id = FileIdentity(st);
  EXPECT_TRUE(absl::StartsWith(
      id, absl::StrCat("file:", st.st_dev, ":", st.st_ino, ":5:")))
      << id;
  // Growing the file changes its identity.
  test::WriteFile(path, "123456");
  struct stat st2;
  ASSERT_EQ(stat(path.c_str(), &st2), 0);
  EXPECT_NE(FileIdentity(st2), id);
}

TEST(FileTypeNameTest, NamesTheTypes) {
  EXPECT_STREQ(FileTypeName(S_IFCHR), "character device");
  EXPECT_STREQ(FileTypeName(S_IFIFO), "FIFO");
}

}  // namespace
}  // namespace realm_measurements::measure
