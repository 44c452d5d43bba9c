// The server's Unix socket file (--listen=unix:PATH): its path, and the
// owner-group and permission bits it gets, since connecting to a Unix
// socket needs write permission on it (unix(7)). No gRPC.
#ifndef REALM_MEASUREMENTS_GRPC_INTERNAL_UNIX_SOCKET_H_
#define REALM_MEASUREMENTS_GRPC_INTERNAL_UNIX_SOCKET_H_

#include <sys/stat.h>
#include <sys/types.h>

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace realm_measurements::service {

// The socket path of a gRPC listen address: "unix:PATH" (relative or
// absolute) or "unix:///ABSOLUTE" (gRPC's naming doc). nullopt for any other
// address, including "unix-abstract:" (no file).
std::optional<std::string> UnixSocketPath(absl::string_view address);

// Permission bits as octal text, "0660" or "660": 1-4 octal digits, at most
// 0777 (no setuid, setgid or sticky bits on a socket).
absl::StatusOr<mode_t> ParseSocketMode(absl::string_view text);

// A group name, or a number, to its id (getgrnam_r); `what` names the flag.
absl::StatusOr<gid_t> ResolveGroup(absl::string_view name_or_number,
                                   absl::string_view what);

// Gives the socket at `path` its group (when set) and mode. The file must be
// a socket owned by this process's user: the path is checked with lstat
// first, so a symbolic link or another file put there is never changed.
absl::Status SetSocketPermissions(const std::string& path, mode_t mode,
                                  std::optional<gid_t> group);

// While alive, the process creates files with no permission beyond the
// owner's read and write (umask 0177): the socket is bound 0600 and only
// then opened up, so it is never reachable with wider bits. Process-wide:
// use only around the server's start.
class PrivateUmask {
 public:
  PrivateUmask();
  ~PrivateUmask();
  PrivateUmask(const PrivateUmask&) = delete;
  PrivateUmask& operator=(const PrivateUmask&) = delete;

 private:
  mode_t saved_;
};

}  // namespace realm_measurements::service

#endif  // REALM_MEASUREMENTS_GRPC_INTERNAL_UNIX_SOCKET_H_
