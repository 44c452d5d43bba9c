#include "grpc/internal/unix_socket.h"

#include <errno.h>
#include <grp.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"

namespace realm_measurements::service {

std::optional<std::string> UnixSocketPath(absl::string_view address) {
  if (!absl::ConsumePrefix(&address, "unix:")) return std::nullopt;
  // "unix://" is followed by an absolute path; "unix:" by any path.
  if (absl::StartsWith(address, "//")) address.remove_prefix(2);
  return std::string(address);
}

absl::StatusOr<mode_t> ParseSocketMode(absl::string_view text) {
  mode_t mode = 0;
  bool octal = !text.empty() && text.size() <= 4;
  for (char c : text) {
    if (c < '0' || c > '7') {
      octal = false;
      break;
    }
    mode = mode * 8 + static_cast<mode_t>(c - '0');
  }
  if (!octal || mode > 0777) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--unix_socket_mode: expected permission bits in octal from 0 to "
        "0777 (e.g. 0660), found '",
        text.substr(0, 16), "'"));
  }
  return mode;
}

absl::StatusOr<gid_t> ResolveGroup(absl::string_view name_or_number,
                                   absl::string_view what) {
  uint32_t number = 0;
  if (!name_or_number.empty() &&
      absl::ascii_isdigit(static_cast<unsigned char>(name_or_number[0])) &&
      absl::SimpleAtoi(name_or_number, &number)) {
    return static_cast<gid_t>(number);
  }
  const std::string name(name_or_number.substr(0, 256));
  std::vector<char> buffer(16384);
  struct group g;
  struct group* found = nullptr;
  const int rc =
      getgrnam_r(name.c_str(), &g, buffer.data(), buffer.size(), &found);
  if (rc != 0 || found == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": expected a group name or number, found '", name, "' (",
        rc != 0 ? std::strerror(rc) : "no such group", ")"));
  }
  return found->gr_gid;
}

absl::Status SetSocketPermissions(const std::string& path, mode_t mode,
                                  std::optional<gid_t> group) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("unix socket ", path, ": ", std::strerror(errno)));
  }
  if (!S_ISSOCK(st.st_mode) || st.st_uid != geteuid()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "unix socket ", path, ": expected the socket this server bound, found ",
        S_ISSOCK(st.st_mode) ? "a socket of another user" : "another file"));
  }
  // lchown does not follow a link; chmod would, but the path was a socket
  // just now and lives in a directory only the operator controls
  // (docs/deploy.md).
  if (group.has_value() && lchown(path.c_str(), -1, *group) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "--unix_socket_group: cannot give ", path, " group ", *group, ": ",
        std::strerror(errno), " (the server's user must be in the group)"));
  }
  if (chmod(path.c_str(), mode) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "--unix_socket_mode: cannot give ", path, " mode ",
        absl::StrFormat("%04o", mode), ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

PrivateUmask::PrivateUmask() : saved_(umask(0177)) {}
PrivateUmask::~PrivateUmask() { umask(saved_); }

}  // namespace realm_measurements::service
