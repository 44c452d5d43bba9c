// Fuzzes the gzip member decoder, the arm64 Image header parser and the
// streaming gzip kernel loader (issue 14), with QEMU's EFI zboot unpacking
// too: no crash, no hang, bounded output, one-line errors, and a loaded
// kernel reads back exactly the size it was loaded with, never more than
// its limit.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

#include "measure/linux_image.h"

namespace {

void CheckOneLine(const absl::Status& s) {
  if (!s.ok() && s.message().find('\n') != absl::string_view::npos) abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace realm_measurements::measure;  // NOLINT
  constexpr uint64_t kLimit = 1 << 24;
  absl::Span<const uint8_t> in(data, size);
  absl::StatusOr<std::vector<uint8_t>> out = GunzipFirstMember(in, kLimit);
  CheckOneLine(out.status());
  if (out.ok() && out->size() > kLimit) abort();
  absl::StatusOr<Arm64ImageHeader> h = ParseArm64ImageHeader(in, "fuzz");
  if (h.ok() != (size >= kArm64ImageHeaderSize)) abort();
  if (out.ok()) (void)ParseArm64ImageHeader(*out, "fuzz");

  // The file loader, on an in-memory file, with a small bound so that
  // every iteration stays fast.
  constexpr uint64_t kFileLimit = 1 << 20;
  const int fd = memfd_create("kernel", MFD_CLOEXEC);
  if (fd < 0) abort();
  if (size > 0 && write(fd, data, size) != static_cast<ssize_t>(size)) abort();
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  std::optional<uint64_t> plain_size;
  for (KernelFormats formats :
       {KernelFormats::kImageOrGzip, KernelFormats::kQemu}) {
    absl::StatusOr<LinuxImage> img =
        LoadLinuxImage(path, kFileLimit, {}, formats);
    CheckOneLine(img.status());
    // What the plain loader accepts (an Image or gzip) loads alike for
    // QEMU: zboot starts with "MZ", neither 1f 8b nor a plain Image.
    if (formats == KernelFormats::kQemu && plain_size.has_value() &&
        (!img.ok() || img->efi_zboot || *img->payload.Size() != *plain_size)) {
      abort();
    }
    if (!img.ok()) continue;
    if (img->efi_zboot && formats != KernelFormats::kQemu) abort();
    if (formats == KernelFormats::kImageOrGzip) {
      plain_size = *img->payload.Size();
    }
    const uint64_t want = *img->payload.Size();
    if (img->payload.bytes() != nullptr) abort();  // never held in memory
    const bool gzip =
        img->payload.Open()->file_identity().rfind("gzip", 0) == 0;
    if (gzip && want > GzipKernelLimit(img->header, kFileLimit)) abort();
    uint64_t got = 0;
    absl::Status s = img->payload.Read([&](absl::Span<const uint8_t> c) {
      got += c.size();
      return absl::OkStatus();
    });
    if (!s.ok() || got != want) abort();
  }
  close(fd);
  return 0;
}
