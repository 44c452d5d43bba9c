// The one bounds-checked reader for all binary parsing (event logs, DTBs,
// kernel headers, CBOR-adjacent framing). Every read checks what remains
// first; errors name the field, the offset and what was expected.
#ifndef REALM_MEASUREMENTS_BASE_BYTE_READER_H_
#define REALM_MEASUREMENTS_BASE_BYTE_READER_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace realm_measurements {

class ByteReader {
 public:
  // `what` names the input in messages ("event log", "DTB template", ...).
  ByteReader(absl::Span<const uint8_t> data, std::string what)
      : data_(data), what_(std::move(what)) {}

  size_t offset() const { return offset_; }
  size_t remaining() const { return data_.size() - offset_; }
  size_t size() const { return data_.size(); }
  bool empty() const { return remaining() == 0; }
  absl::Span<const uint8_t> rest() const { return data_.subspan(offset_); }
  const std::string& what() const { return what_; }

  absl::StatusOr<uint8_t> U8(absl::string_view field);
  absl::StatusOr<uint16_t> U16Le(absl::string_view field);
  absl::StatusOr<uint32_t> U32Le(absl::string_view field);
  absl::StatusOr<uint64_t> U64Le(absl::string_view field);
  absl::StatusOr<uint16_t> U16Be(absl::string_view field);
  absl::StatusOr<uint32_t> U32Be(absl::string_view field);
  absl::StatusOr<uint64_t> U64Be(absl::string_view field);
  // `n` bytes, without copying. Checks `n` against what remains before
  // anything is allocated by the caller.
  absl::StatusOr<absl::Span<const uint8_t>> Bytes(size_t n,
                                                  absl::string_view field);
  absl::Status Skip(size_t n, absl::string_view field);
  // Moves to an absolute offset (<= size()).
  absl::Status Seek(size_t offset, absl::string_view field);

  // "<what>: truncated <field> at offset <o>: expected <n> bytes, found <r>".
  absl::Status Truncated(absl::string_view field, size_t needed) const;
  // "<what>: <message> at offset <o>" (kInvalidArgument).
  absl::Status Error(absl::string_view message) const;
  absl::Status ErrorAt(size_t offset, absl::string_view message) const;

 private:
  absl::Span<const uint8_t> data_;
  size_t offset_ = 0;
  std::string what_;
};

}  // namespace realm_measurements

#endif  // REALM_MEASUREMENTS_BASE_BYTE_READER_H_
