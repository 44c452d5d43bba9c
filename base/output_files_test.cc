#include "base/output_files.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "testing/files.h"

namespace realm_measurements::measure {
namespace {

std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  while (dirent* e = d != nullptr ? readdir(d) : nullptr) {
    const std::string n = e->d_name;
    if (n != "." && n != "..") out.push_back(n);
  }
  if (d != nullptr) closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

TEST(CheckInputPaths, RefusesDevicesAndFifosOnly) {
  const std::string dir = test::NewTmpDir("inputs");
  test::WriteFile(dir + "/regular", "x");
  const std::string fifo = dir + "/fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_TRUE(CheckInputPaths({{"--kernel", dir + "/regular"},
                               {"--initrd", dir + "/missing"},
                               {"--firmware", dir}})
                  .ok());
  absl::Status s =
      CheckInputPaths({{"--kernel", dir + "/regular"}, {"--initrd", fifo}});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "--initrd " + fifo +
                             ": not a regular file (FIFO); inputs must be "
                             "regular files");
  s = CheckInputPaths({{"--firmware", "/dev/zero"}});
  EXPECT_EQ(s.message(),
            "--firmware /dev/zero: not a regular file (character device); "
            "inputs must be regular files");
}

TEST(CheckOutputPaths, DestinationRules) {
  const std::string dir = test::NewTmpDir("outputs");
  test::WriteFile(dir + "/existing", "old");
  const std::string link = dir + "/link";
  symlink((dir + "/existing").c_str(), link.c_str());
  symlink((dir + "/nowhere").c_str(), (dir + "/dangling").c_str());
  EXPECT_TRUE(
      CheckOutputPaths({}, {{"--a", dir + "/new"}, {"--b", dir + "/existing"}})
          .ok());
  const std::string tail =
      "; outputs are written only to a new file or over a regular file";
  const std::pair<std::string, std::string> refused[] = {
      {link, "is a symbolic link" + tail},
      {dir + "/dangling", "is a symbolic link" + tail},
      {"/dev/null", "is a character device" + tail},
      {dir, "is a directory" + tail},
      {dir + "/missing/x", "No such file or directory (os error 2)"},
      {dir + "/existing/x", "Not a directory (os error 20)"},
      {"", "empty path"},
  };
  for (const auto& [path, why] : refused) {
    SCOPED_TRACE(path);
    absl::Status s = CheckOutputPaths({}, {{"--out", path}});
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(s.message(), "cannot write output --out " + path + ": " + why);
  }
  EXPECT_EQ(test::ReadFileText(dir + "/existing"), "old");
}

TEST(CheckOutputPaths, SameFileAsAnInputOrAnotherOutput) {
  const std::string dir = test::NewTmpDir("same");
  test::WriteFile(dir + "/kernel", "K");
  link((dir + "/kernel").c_str(), (dir + "/hard").c_str());
  symlink((dir + "/kernel").c_str(), (dir + "/kernel-link").c_str());
  // Same path, a hard link, and an input given through a symbolic link.
  const std::pair<std::string, std::string> cases[] = {
      {dir + "/kernel", dir + "/kernel"},
      {dir + "/hard", dir + "/kernel"},
      {dir + "/kernel", dir + "/kernel-link"},
      {dir + "/../same/kernel", dir + "/kernel"},
  };
  for (const auto& [out, in] : cases) {
    SCOPED_TRACE(out + " / " + in);
    absl::Status s =
        CheckOutputPaths({{"--initrd", dir + "/missing"}, {"--kernel", in}},
                         {{"--output-dtb", out}});
    EXPECT_EQ(s.message(), "cannot write output --output-dtb " + out +
                               ": the same file as the input --kernel " + in +
                               "; an output never overwrites an input");
  }
  // Two outputs at one place, existing or not.
  absl::Status s = CheckOutputPaths(
      {}, {{"--corim-output", dir + "/c"}, {"--comid-output", dir + "/./c"}});
  EXPECT_EQ(s.message(), "cannot write output --comid-output " + dir +
                             "/./c: the same file as the output "
                             "--corim-output " +
                             dir + "/c");
  s = CheckOutputPaths({}, {{"--a", dir + "/hard"}, {"--b", dir + "/kernel"}});
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(
      CheckOutputPaths({}, {{"--a", dir + "/c"}, {"--b", dir + "/d"}}).ok());
}

TEST(OutputSet, CommitsAllWithModes) {
  const std::string dir = test::NewTmpDir("commit");
  test::WriteFile(dir + "/b", "old b");
  OutputSet set;
  set.Add(dir + "/a", "A");
  set.Add(dir + "/b", "B", 0755);
  ASSERT_NE(set.Find(dir + "/b"), nullptr);
  EXPECT_EQ(*set.Find(dir + "/b"), "B");
  EXPECT_EQ(set.Find(dir + "/c"), nullptr);
  const mode_t mask = umask(022);
  ASSERT_TRUE(set.Commit().ok());
  umask(mask);
  EXPECT_EQ(test::ReadFileText(dir + "/a"), "A");
  EXPECT_EQ(test::ReadFileText(dir + "/b"), "B");
  struct stat st;
  ASSERT_EQ(stat((dir + "/a").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  ASSERT_EQ(stat((dir + "/b").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0755u);
  EXPECT_EQ(Entries(dir), (std::vector<std::string>{"a", "b"}));
}

TEST(OutputSet, FailureBeforeTheRenamesChangesNothing) {
  const std::string dir = test::NewTmpDir("commit-fail");
  test::WriteFile(dir + "/a", "old a");
  OutputSet set;
  set.Add(dir + "/a", "new a");
  set.Add(dir + "/missing/b", "B");
  absl::Status s = set.Commit();
  EXPECT_EQ(s.message(), "file " + dir +
                             "/missing/b error: No such file or directory "
                             "(os error 2)");
  EXPECT_EQ(test::ReadFileText(dir + "/a"), "old a");
  EXPECT_EQ(Entries(dir), std::vector<std::string>{"a"});  // no temporaries
}

TEST(OutputSet, DestinationTurnedIntoALinkIsRefusedAtCommit) {
  const std::string dir = test::NewTmpDir("commit-race");
  test::WriteFile(dir + "/target", "T");
  OutputSet set;
  set.Add(dir + "/a", "A");
  set.Add(dir + "/out", "O");
  ASSERT_TRUE(CheckOutputPaths({}, {{"--out", dir + "/out"}}).ok());
  symlink((dir + "/target").c_str(), (dir + "/out").c_str());
  EXPECT_FALSE(set.Commit().ok());
  EXPECT_EQ(test::ReadFileText(dir + "/target"), "T");
  EXPECT_EQ(Entries(dir), (std::vector<std::string>{"out", "target"}));
}

}  // namespace
}  // namespace realm_measurements::measure
