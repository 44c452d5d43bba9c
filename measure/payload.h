// Blob content for measurement: bytes in memory (a generated DTB, a
// decompressed kernel) or a file that is opened lazily and read in bounded
// chunks, so measuring never needs the whole file in memory.
#ifndef REALM_MEASUREMENTS_MEASURE_PAYLOAD_H_
#define REALM_MEASUREMENTS_MEASURE_PAYLOAD_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace realm_measurements::measure {

class Payload {
 public:
  // `name` is what error messages and reports call it (a path, "DTB", ...).
  static Payload FromBytes(std::string name, std::vector<uint8_t> bytes);
  static Payload FromFile(std::string path);

  const std::string& name() const { return name_; }
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

 private:
  std::string name_;
  std::shared_ptr<const std::vector<uint8_t>> bytes_;
};

}  // namespace realm_measurements::measure

#endif  // REALM_MEASUREMENTS_MEASURE_PAYLOAD_H_
