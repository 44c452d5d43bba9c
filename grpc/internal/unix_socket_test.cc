#include "grpc/internal/unix_socket.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace realm_measurements::service {
namespace {

using ::testing::HasSubstr;

TEST(UnixSocketPathTest, BothSpellingsAndOthers) {
  EXPECT_EQ(UnixSocketPath("unix:/run/rm/rm.sock"), "/run/rm/rm.sock");
  EXPECT_EQ(UnixSocketPath("unix:rm.sock"), "rm.sock");
  EXPECT_EQ(UnixSocketPath("unix:///run/rm.sock"), "/run/rm.sock");
  EXPECT_EQ(UnixSocketPath("unix-abstract:rm"), std::nullopt);
  EXPECT_EQ(UnixSocketPath("127.0.0.1:50051"), std::nullopt);
  EXPECT_EQ(UnixSocketPath("[::1]:0"), std::nullopt);
}

TEST(ParseSocketModeTest, OctalUpTo0777) {
  EXPECT_EQ(*ParseSocketMode("0660"), 0660u);
  EXPECT_EQ(*ParseSocketMode("660"), 0660u);
  EXPECT_EQ(*ParseSocketMode("0"), 0u);
  EXPECT_EQ(*ParseSocketMode("0777"), 0777u);
  for (const char* bad :
       {"", "0888", "1777", "4755", "rw", "0x1b6", "00660", "-660", " 660"}) {
    absl::StatusOr<mode_t> m = ParseSocketMode(bad);
    EXPECT_FALSE(m.ok()) << bad;
    EXPECT_THAT(m.status().message(),
                HasSubstr("--unix_socket_mode: expected permission bits"))
        << bad;
  }
}

TEST(ResolveGroupTest, NumberNameAndUnknown) {
  EXPECT_EQ(*ResolveGroup("1234", "--g"), 1234u);
  struct group* own = getgrgid(getegid());
  if (own != nullptr) {
    EXPECT_EQ(*ResolveGroup(own->gr_name, "--g"), getegid());
  }
  absl::StatusOr<gid_t> none = ResolveGroup("no-such-group-rm-test", "--g");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().message(),
            "--g: expected a group name or number, found "
            "'no-such-group-rm-test' (no such group)");
}

class SocketFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A relative path keeps the socket's path short whatever TEST_TMPDIR is.
    const char* tmp = std::getenv("TEST_TMPDIR");
    ASSERT_NE(tmp, nullptr);
    ASSERT_EQ(chdir(tmp), 0);
    unlink("s.sock");
    fd_ = socket(AF_UNIX, SOCK_STREAM, 0);
    ASSERT_GE(fd_, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strcpy(a.sun_path, "s.sock");
    PrivateUmask private_umask;
    ASSERT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  }
  void TearDown() override {
    if (fd_ >= 0) close(fd_);
    unlink("s.sock");
  }
  static mode_t ModeOf(const char* path) {
    struct stat st;
    EXPECT_EQ(lstat(path, &st), 0);
    return st.st_mode & 07777;
  }
  int fd_ = -1;
};

TEST_F(SocketFileTest, BoundPrivateThenOpenedUp) {
  EXPECT_EQ(ModeOf("s.sock"), 0600u);  // the umask of PrivateUmask
  ASSERT_TRUE(SetSocketPermissions("s.sock", 0660, getegid()).ok());
  EXPECT_EQ(ModeOf("s.sock"), 0660u);
  struct stat st;
  ASSERT_EQ(lstat("s.sock", &st), 0);
  EXPECT_EQ(st.st_gid, getegid());
  ASSERT_TRUE(SetSocketPermissions("s.sock", 0600, std::nullopt).ok());
  EXPECT_EQ(ModeOf("s.sock"), 0600u);
}

TEST_F(SocketFileTest, UmaskRestored) {
  const mode_t now = umask(022);
  umask(now);
  EXPECT_NE(now, 0177u);
}

TEST_F(SocketFileTest, OtherFilesUntouched) {
  const int f = open("plain", O_CREAT | O_WRONLY | O_TRUNC, 0644);
  ASSERT_GE(f, 0);
  close(f);
  ASSERT_EQ(symlink("plain", "link"), 0);
  for (const char* path : {"plain", "link", "missing"}) {
    absl::Status s = SetSocketPermissions(path, 0666, std::nullopt);
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << path;
    EXPECT_THAT(s.message(), HasSubstr(absl::StrCat("unix socket ", path)));
  }
  EXPECT_EQ(ModeOf("plain"), 0644u);
  EXPECT_THAT(SetSocketPermissions("plain", 0666, std::nullopt).message(),
              HasSubstr("expected the socket this server bound, found "
                        "another file"));
  unlink("link");
  unlink("plain");
}

}  // namespace
}  // namespace realm_measurements::service
