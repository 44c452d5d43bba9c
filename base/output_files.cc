#include "base/output_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/file_reading.h"

namespace realm_measurements::measure {
namespace {

absl::Status FileError(const std::string& name, int err) {
  return absl::FailedPreconditionError(absl::StrCat(
      "file ", name, " error: ", std::strerror(err), " (os error ", err, ")"));
}

std::string Dirname(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string Basename(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

absl::Status Refuse(const NamedPath& p, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat(p.option, " ", p.path, ": ", why));
}

// Outputs use the CLI's wording for an unwritable output.
absl::Status RefuseOutput(const NamedPath& p, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("cannot write output ", p.option, " ", p.path, ": ", why));
}

std::string OsText(int err) {
  return absl::StrCat(std::strerror(err), " (os error ", err, ")");
}

// Where an output lands: the file it replaces, or (absent) its directory
// and name.
struct Place {
  bool exists = false;
  dev_t dev = 0;
  ino_t ino = 0;
  std::string name;  // absent only
  bool operator==(const Place& o) const {
    return exists == o.exists && dev == o.dev && ino == o.ino && name == o.name;
  }
};

// Destination rules shared by the check and the commit.
absl::StatusOr<Place> OutputPlace(const NamedPath& out) {
  if (out.path.empty()) return RefuseOutput(out, "empty path");
  struct stat st;
  if (lstat(out.path.c_str(), &st) == 0) {
    if (S_ISLNK(st.st_mode)) {
      return RefuseOutput(
          out,
          "is a symbolic link; outputs are written only to a new "
          "file or over a regular file");
    }
    if (!S_ISREG(st.st_mode)) {
      return RefuseOutput(out,
                          absl::StrCat("is a ", FileTypeName(st.st_mode),
                                       "; outputs are written only to a new "
                                       "file or over a regular file"));
    }
    Place p;
    p.exists = true;
    p.dev = st.st_dev;
    p.ino = st.st_ino;
    return p;
  }
  if (errno != ENOENT && errno != ENOTDIR) {
    return RefuseOutput(out, OsText(errno));
  }
  const std::string dir = Dirname(out.path);
  struct stat dst;
  if (stat(dir.c_str(), &dst) != 0) {
    return RefuseOutput(out, OsText(errno));
  }
  if (!S_ISDIR(dst.st_mode)) {
    return RefuseOutput(out, OsText(ENOTDIR));
  }
  Place p;
  p.dev = dst.st_dev;
  p.ino = dst.st_ino;
  p.name = Basename(out.path);
  return p;
}

}  // namespace

absl::Status CheckInputPaths(absl::Span<const NamedPath> inputs) {
  for (const NamedPath& in : inputs) {
    struct stat st;
    if (stat(in.path.c_str(), &st) != 0) continue;  // reported when read
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
      return Refuse(
          in, absl::StrCat("not a regular file (", FileTypeName(st.st_mode),
                           "); inputs must be regular files"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckOutputPaths(absl::Span<const NamedPath> inputs,
                              absl::Span<const NamedPath> outputs) {
  std::vector<Place> places;
  for (const NamedPath& out : outputs) {
    absl::StatusOr<Place> place = OutputPlace(out);
    if (!place.ok()) return place.status();
    for (size_t i = 0; i < places.size(); ++i) {
      if (places[i] == *place) {
        return RefuseOutput(
            out, absl::StrCat("the same file as the output ", outputs[i].option,
                              " ", outputs[i].path));
      }
    }
    places.push_back(*place);
    if (!place->exists) continue;
    for (const NamedPath& in : inputs) {
      struct stat st;  // links resolved: the file the input reads
      if (stat(in.path.c_str(), &st) != 0) continue;
      if (st.st_dev == place->dev && st.st_ino == place->ino) {
        return RefuseOutput(out, absl::StrCat("the same file as the input ",
                                              in.option, " ", in.path,
                                              "; an output never overwrites an "
                                              "input"));
      }
    }
  }
  return absl::OkStatus();
}

void OutputSet::Add(std::string path, std::string data, mode_t mode) {
  files_.push_back(File{std::move(path), std::move(data), mode});
}

const std::string* OutputSet::Find(absl::string_view path) const {
  for (const File& f : files_) {
    if (f.path == path) return &f.data;
  }
  return nullptr;
}

absl::Status OutputSet::Commit() {
  std::vector<std::string> temps;
  auto remove_temps = [&] {
    for (const std::string& t : temps) unlink(t.c_str());
  };
  mode_t mask = umask(0);
  umask(mask);
  for (const File& f : files_) {
    const std::string dir = Dirname(f.path);
    std::string tmpl = absl::StrCat(dir, "/.", Basename(f.path), ".tmp-XXXXXX");
    int fd = mkstemp(tmpl.data());
    if (fd < 0) {
      const int e = errno;
      remove_temps();
      return FileError(f.path, e);
    }
    temps.push_back(tmpl);
    auto fail = [&](int e) {
      close(fd);
      remove_temps();
      return FileError(f.path, e);
    };
    // mkstemp creates 0600; give the file the usual mode & ~umask.
    if (fchmod(fd, f.mode & ~mask) != 0) return fail(errno);
    size_t off = 0;
    while (off < f.data.size()) {
      ssize_t n = write(fd, f.data.data() + off, f.data.size() - off);
      if (n < 0) {
        if (errno == EINTR) continue;
        return fail(errno);
      }
      off += static_cast<size_t>(n);
    }
    if (fsync(fd) != 0) return fail(errno);
    if (close(fd) != 0) {
      const int e = errno;
      remove_temps();
      return FileError(f.path, e);
    }
  }
  // Everything is written; the destinations may have changed since the
  // checks before the run.
  for (const File& f : files_) {
    absl::StatusOr<Place> place = OutputPlace(NamedPath{"output", f.path});
    if (!place.ok()) {
      remove_temps();
      return place.status();
    }
  }
  for (size_t i = 0; i < files_.size(); ++i) {
    if (rename(temps[i].c_str(), files_[i].path.c_str()) != 0) {
      const int e = errno;
      for (size_t j = i; j < temps.size(); ++j) unlink(temps[j].c_str());
      return FileError(files_[i].path, e);
    }
  }
  return absl::OkStatus();
}

}  // namespace realm_measurements::measure
