#include "grpc/internal/accept_guard.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "gtest/gtest.h"

namespace realm_measurements::service::accept_guard {
namespace {

// A non-blocking loopback listener and `n` clients waiting in its backlog.
class AcceptGuardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    listener_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ASSERT_GE(listener_, 0);
    sockaddr_in a = {};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    ASSERT_EQ(listen(listener_, 64), 0);
    socklen_t len = sizeof(address_);
    ASSERT_EQ(
        getsockname(listener_, reinterpret_cast<sockaddr*>(&address_), &len),
        0);
  }
  void TearDown() override {
    SetCeiling(0);
    for (int fd : clients_) close(fd);
    for (int fd : accepted_) close(fd);
    close(listener_);
  }
  void Connect(int n) {
    for (int i = 0; i < n; ++i) {
      const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      ASSERT_GE(fd, 0);
      ASSERT_EQ(
          connect(fd, reinterpret_cast<sockaddr*>(&address_), sizeof(address_)),
          0);
      clients_.push_back(fd);
    }
  }
  // What the server did with client i: 0 when it closed it, -1 (EAGAIN)
  // while it is open.
  int Peek(size_t i) {
    char c;
    return static_cast<int>(recv(clients_[i], &c, 1, MSG_DONTWAIT));
  }
  // accept4 as gRPC calls it, through the definition the binary links.
  int AcceptOne() {
    sockaddr_in peer = {};
    socklen_t len = sizeof(peer);
    const int fd = accept4(listener_, reinterpret_cast<sockaddr*>(&peer), &len,
                           SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      accepted_.push_back(fd);
      EXPECT_EQ(len, sizeof(peer));
      EXPECT_EQ(peer.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
    }
    return fd;
  }

  int listener_ = -1;
  sockaddr_in address_ = {};
  std::vector<int> clients_;
  std::vector<int> accepted_;
};

TEST_F(AcceptGuardTest, ConnectionsStayBelowTheCeiling) {
  Connect(5);
  SetCeiling(0);  // opens the reserve
  const absl::StatusOr<int> lowest = LowestFreeDescriptor();
  ASSERT_TRUE(lowest.ok());
  const Refusals before = GetRefusals();
  const int ceiling = *lowest + 2;
  SetCeiling(ceiling);
  EXPECT_EQ(AcceptOne(), ceiling - 2);
  EXPECT_EQ(AcceptOne(), ceiling - 1);
  // The other three would get the ceiling: each is closed, then the
  // backlog is empty.
  EXPECT_EQ(AcceptOne(), -1);
  EXPECT_EQ(errno, EAGAIN);
  EXPECT_EQ(GetRefusals().over_limit, before.over_limit + 3);
  EXPECT_EQ(GetRefusals().no_descriptor, before.no_descriptor);
  EXPECT_EQ(Peek(0), -1);
  EXPECT_EQ(Peek(1), -1);
  for (size_t i = 2; i < 5; ++i) EXPECT_EQ(Peek(i), 0) << "client " << i;

  // A closed connection's descriptor is the next one's. (The client is in
  // this process too: it connects first, so it does not take the slot.)
  Connect(1);
  close(accepted_.back());
  accepted_.pop_back();
  EXPECT_EQ(AcceptOne(), ceiling - 1);
  EXPECT_EQ(Peek(5), -1);
}

TEST_F(AcceptGuardTest, WithoutDescriptorsWaitingConnectionsAreRefused) {
  Connect(3);
  SetCeiling(0);  // opens the reserve
  const Refusals before = GetRefusals();
  rlimit saved;
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  // Every descriptor below 64 in use (this test's own are all below).
  rlimit low = saved;
  low.rlim_cur = 64;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  std::vector<int> fillers;
  for (int fd; (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;) {
    fillers.push_back(fd);
  }
  const int open_error = errno;
  const int fd = AcceptOne();
  const int error = errno;
  for (int f : fillers) close(f);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &saved), 0);
  ASSERT_EQ(open_error, EMFILE);
  // libc's accept4 fails with EMFILE and leaves all three waiting, which
  // gRPC 1.51 answers by never accepting again.
  EXPECT_EQ(fd, -1);
  EXPECT_EQ(error, EAGAIN);
  EXPECT_EQ(GetRefusals().no_descriptor, before.no_descriptor + 3);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(Peek(i), 0) << "client " << i;
  // With descriptors again, the next connection is accepted.
  Connect(1);
  EXPECT_GE(AcceptOne(), 0);
  EXPECT_EQ(Peek(3), -1);
}

TEST_F(AcceptGuardTest, OtherErrorsAreReturned) {
  EXPECT_EQ(AcceptOne(), -1);
  EXPECT_EQ(errno, EAGAIN);
  const int file = open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(file, 0);
  EXPECT_EQ(accept4(file, nullptr, nullptr, 0), -1);
  EXPECT_EQ(errno, ENOTSOCK);
  close(file);
  // EOPNOTSUPP is skipped as one connection's error, but a datagram
  // socket returns it for ever: the skipping ends.
  const int udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(udp, 0);
  EXPECT_EQ(accept4(udp, nullptr, nullptr, 0), -1);
  EXPECT_EQ(errno, EOPNOTSUPP);
  close(udp);
}

}  // namespace
}  // namespace realm_measurements::service::accept_guard
