#include "base/byte_reader.h"

#include "absl/strings/str_cat.h"

namespace realm_measurements {
namespace {

template <typename T, bool kBigEndian>
absl::StatusOr<T> ReadInt(ByteReader& r, absl::string_view field) {
  absl::StatusOr<absl::Span<const uint8_t>> b = r.Bytes(sizeof(T), field);
  if (!b.ok()) return b.status();
  T v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) {
    size_t k = kBigEndian ? i : sizeof(T) - 1 - i;
    v = static_cast<T>((v << 8) | (*b)[k]);
  }
  return v;
}

}  // namespace

absl::StatusOr<uint8_t> ByteReader::U8(absl::string_view field) {
  return ReadInt<uint8_t, false>(*this, field);
}
absl::StatusOr<uint16_t> ByteReader::U16Le(absl::string_view field) {
  return ReadInt<uint16_t, false>(*this, field);
}
absl::StatusOr<uint32_t> ByteReader::U32Le(absl::string_view field) {
  return ReadInt<uint32_t, false>(*this, field);
}
absl::StatusOr<uint64_t> ByteReader::U64Le(absl::string_view field) {
  return ReadInt<uint64_t, false>(*this, field);
}
absl::StatusOr<uint16_t> ByteReader::U16Be(absl::string_view field) {
  return ReadInt<uint16_t, true>(*this, field);
}
absl::StatusOr<uint32_t> ByteReader::U32Be(absl::string_view field) {
  return ReadInt<uint32_t, true>(*this, field);
}
absl::StatusOr<uint64_t> ByteReader::U64Be(absl::string_view field) {
  return ReadInt<uint64_t, true>(*this, field);
}

absl::StatusOr<absl::Span<const uint8_t>> ByteReader::Bytes(
    size_t n, absl::string_view field) {
  if (n > remaining()) return Truncated(field, n);
  absl::Span<const uint8_t> out = data_.subspan(offset_, n);
  offset_ += n;
  return out;
}

absl::Status ByteReader::Skip(size_t n, absl::string_view field) {
  if (n > remaining()) return Truncated(field, n);
  offset_ += n;
  return absl::OkStatus();
}

absl::Status ByteReader::Seek(size_t offset, absl::string_view field) {
  if (offset > data_.size()) {
    return Error(absl::StrCat(field, " points to offset ", offset,
                              " beyond the end (size ", data_.size(), ")"));
  }
  offset_ = offset;
  return absl::OkStatus();
}

absl::Status ByteReader::Truncated(absl::string_view field,
                                   size_t needed) const {
  return absl::InvalidArgumentError(
      absl::StrCat(what_, ": truncated ", field, " at offset ", offset_,
                   ": expected ", needed, " bytes, found ", remaining()));
}

absl::Status ByteReader::Error(absl::string_view message) const {
  return ErrorAt(offset_, message);
}

absl::Status ByteReader::ErrorAt(size_t offset,
                                 absl::string_view message) const {
  return absl::InvalidArgumentError(
      absl::StrCat(what_, ": ", message, " at offset ", offset));
}

}  // namespace realm_measurements
