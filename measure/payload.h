// Blob content for measurement: bytes in memory (a generated DTB), a file
// that is opened lazily and read in bounded chunks, or a stream opened
// again for every pass (a gzip kernel, decompressed on the fly), so
// measuring never needs a payload whole in memory.
//
// Files must be regular files (or directories, which fail on read as the
// reference tool reports them): a character device or a FIFO is refused when
// opened, without blocking and before any byte is read, since /dev/zero or
// a FIFO would be read forever.
#ifndef REALM_MEASUREMENTS_MEASURE_PAYLOAD_H_
#define REALM_MEASUREMENTS_MEASURE_PAYLOAD_H_

#include <sys/stat.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "base/file_reading.h"

namespace realm_measurements::measure {

class Payload {
 public:
  // A sequential source of the content, opened once per pass.
  class Stream {
   public:
    virtual ~Stream() = default;
    // Fills `out` completely unless the content ends first; returns the
    // number of bytes written (0 at the end).
    virtual absl::StatusOr<size_t> Read(absl::Span<uint8_t> out) = 0;
    // What the content is a function of (e.g. "gzip:" + the file identity
    // of the compressed file), for the digest cache.
    virtual std::string identity() const = 0;
  };
  using StreamOpener = std::function<absl::StatusOr<std::unique_ptr<Stream>>()>;

  // `name` is what error messages and reports call it (a path, "DTB", ...).
  static Payload FromBytes(std::string name, std::vector<uint8_t> bytes);
  static Payload FromFile(std::string path);
  // Content of exactly `size` bytes produced by a new stream from `open`
  // for each pass; a pass producing more or fewer bytes fails (the source
  // changed since `size` was established).
  static Payload FromStream(std::string name, uint64_t size, StreamOpener open);

  const std::string& name() const { return name_; }
  // True for files and streams: content read through Open(), not held in
  // memory (bytes() is nullptr).
  bool is_file() const { return bytes_ == nullptr; }

  // Size in bytes (stats the file). File errors read
  // "file <path> error: <strerror> (os error <errno>)".
  absl::StatusOr<uint64_t> Size() const;

  // Calls `chunk` with consecutive pieces of the content (at most
  // `max_chunk` bytes each, in order). Stops at the first error.
  absl::Status Read(
      const std::function<absl::Status(absl::Span<const uint8_t>)>& chunk,
      size_t max_chunk = 1 << 20) const;

  // The in-memory bytes (nullptr for files).
  const std::vector<uint8_t>* bytes() const { return bytes_.get(); }

  // Pull-style sequential reader (granule_hasher.h reads straight into its
  // own bounded buffers with it). Move-only; closes the file when destroyed.
  class Reader {
   public:
    Reader(Reader&& other) noexcept;
    Reader& operator=(Reader&& other) noexcept;
    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;
    ~Reader();

    // Fills `out` completely unless the content ends first; returns the
    // number of bytes written (0 at the end). Errors as Size()/Read().
    absl::StatusOr<size_t> Read(absl::Span<uint8_t> out);
    // Files: "file:<dev>:<inode>:<size>:<mtime ns>:<ctime ns>" from fstat of
    // the open descriptor; streams: their identity(); empty for bytes
    // (identify those by content).
    const std::string& file_identity() const { return file_identity_; }

    // Positional reads, for regular files (pread on the open descriptor)
    // and bytes: several threads may call ReadAt at once, each reading
    // straight into its own buffer (granule_hasher.h). Streams and
    // directories read only sequentially (Read).
    bool can_read_at() const;
    // The content size for can_read_at() readers: fstat of the descriptor
    // when it was opened, or the byte count.
    uint64_t size() const { return size_; }
    // Fills `out` with the content at `offset`; `offset + out.size()` must
    // not pass size(). A file that ends early (it shrank after it was
    // opened) fails with "file <path> error: content ended after <n> bytes,
    // expected <size> (changed while it was read)"; OS errors as Read().
    absl::Status ReadAt(uint64_t offset, absl::Span<uint8_t> out) const;

   private:
    friend class Payload;
    Reader() = default;
    std::string name_;
    int fd_ = -1;
    std::shared_ptr<const std::vector<uint8_t>> bytes_;
    std::unique_ptr<Stream> stream_;
    uint64_t stream_size_ = 0;  // what the stream must produce
    uint64_t pos_ = 0;
    bool regular_ = false;  // fd_ is a regular file
    uint64_t size_ = 0;     // can_read_at() readers
    std::string file_identity_;
  };
  // Opens the file or the stream (or wraps the bytes). A directory opens;
  // reading it fails, as Read() does.
  absl::StatusOr<Reader> Open() const;

 private:
  std::string name_;
  std::shared_ptr<const std::vector<uint8_t>> bytes_;
  // Streams only.
  std::shared_ptr<const StreamOpener> open_stream_;
  uint64_t stream_size_ = 0;
};

}  // namespace realm_measurements::measure

#endif  // REALM_MEASUREMENTS_MEASURE_PAYLOAD_H_
