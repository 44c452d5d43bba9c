// Linux arm64 Image loading (spec-vmm §2.2, spec-core §8): the 64-byte
// header of Documentation/arch/arm64/booting.rst, optionally inside a gzip
// member that is decompressed on the fly (constant memory, bounded size).
#ifndef REALM_MEASUREMENTS_MEASURE_LINUX_IMAGE_H_
#define REALM_MEASUREMENTS_MEASURE_LINUX_IMAGE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "base/cancellation.h"
#include "measure/payload.h"

namespace realm_measurements::measure {

// "ARM\x64", little-endian u32 at offset 56 of the header.
inline constexpr uint32_t kArm64ImageMagic = 0x644d5241;
inline constexpr size_t kArm64ImageHeaderSize = 64;
// Bound on a gzip kernel's decompressed size when its header gives no
// image_size (real arm64 Images are tens of MiB); a header's image_size
// lowers it (GzipKernelLimit).
inline constexpr uint64_t kMaxDecompressedKernelSize = uint64_t{1} << 30;
// QEMU 9.1 decompresses an EFI zboot payload into a buffer of this size
// (LOAD_IMAGE_MAX_GUNZIP_BYTES) and fails past it.
inline constexpr uint64_t kQemuMaxDecompressedKernelSize = uint64_t{256} << 20;

// What a VMM's kernel loader understands besides a plain Image and a gzip
// file: QEMU 9.1 (hw/arm/boot.c load_aarch64_image) also unpacks a Linux
// EFI zboot image (CONFIG_EFI_ZBOOT, e.g. Fedora's and Ubuntu's arm64
// kernels) whose payload is gzip, when the file itself is not gzip.
enum class KernelFormats { kImageOrGzip, kQemu };

struct Arm64ImageHeader {
  uint32_t code0 = 0;
  uint32_t code1 = 0;
  uint64_t text_offset = 0;
  uint64_t image_size = 0;
  uint64_t flags = 0;
  uint32_t magic = 0;
};

// Decodes the first 64 bytes (no magic check). `name` is used in messages.
absl::StatusOr<Arm64ImageHeader> ParseArm64ImageHeader(
    absl::Span<const uint8_t> data, const std::string& name);

// The most a gzip kernel with `header` may decompress to: its image_size
// (booting.rst: the whole image including .bss, never less than the file),
// at most `max_decompressed`; `max_decompressed` when image_size is 0.
uint64_t GzipKernelLimit(const Arm64ImageHeader& header,
                         uint64_t max_decompressed);

struct LinuxImage {
  Arm64ImageHeader header;
  // The bytes to measure: the file itself, or for a gzip kernel a stream
  // that decompresses the file again on each read (never held in memory).
  Payload payload;
  // Unpacked from an EFI zboot image (KernelFormats::kQemu).
  bool efi_zboot = false;
};

// Loads `path`: a plain Image (the payload stays a lazily read file) or a
// gzip member whose decompressed content is an Image. A gzip kernel is
// decompressed once here, in 64 KiB pieces, to learn its header and size:
// a wrong magic stops after the first 64 bytes, a size past
// GzipKernelLimit() as soon as it passes it. Errors:
// "file <path> error: <strerror> (os error N)", "file <path> error: not a
// regular file (<type>)", "file <path> error: failed to fill whole buffer"
// (shorter than 64 bytes), "file <path> error: neither an arm64 Image (no
// ARM\x64 magic at 0x38) nor gzip (...)", "file <path> error: <gzip
// problem>",
// "file <path> error: decompressed size exceeds the limit of N bytes (...)"
// (ResourceExhausted), "invalid Linux header" (magic still wrong). With
// KernelFormats::kQemu, also: "file <path> error: EFI zboot image compressed
// with \"zstd\": QEMU 9.1 unpacks gzip only", "file <path> error: corrupt
// EFI zboot image: payload of N bytes at offset M ends past the end of the
// file (L bytes)"; the payload's gzip member is read only within its size.
// `cancel` is polled before every piece of that pass; its non-OK status is
// returned as is (later reads of the payload are polled by the measurement).
absl::StatusOr<LinuxImage> LoadLinuxImage(
    const std::string& path,
    uint64_t max_decompressed = kMaxDecompressedKernelSize,
    const CancelCheck& cancel = {},
    KernelFormats formats = KernelFormats::kImageOrGzip);

// Decompresses the first gzip member of `data` (at most `max_size` bytes of
// output). Messages are the problem only, e.g. "invalid gzip header".
absl::StatusOr<std::vector<uint8_t>> GunzipFirstMember(
    absl::Span<const uint8_t> data, uint64_t max_size);

}  // namespace realm_measurements::measure

#endif  // REALM_MEASUREMENTS_MEASURE_LINUX_IMAGE_H_
