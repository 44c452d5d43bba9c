#include "measure/vmm/kernel_blob.h"

#include <utility>

#include "measure/linux_image.h"

namespace realm_measurements::measure {

absl::StatusOr<Blob> LoadKernelBlob(const VmmInputs& inputs, uint64_t ram_base,
                                    absl::string_view vmm_option) {
  if (!inputs.kernel.has_value()) {
    return absl::InvalidArgumentError(NeedImage("kernel", "-k", vmm_option));
  }
  absl::StatusOr<LinuxImage> image =
      LoadLinuxImage(*inputs.kernel, kMaxDecompressedKernelSize, inputs.cancel);
  if (!image.ok()) return image.status();
  Blob blob;
  blob.name = "kernel";
  // Wrapping as in the reference; Validate() rejects what leaves RAM.
  blob.guest_start = ram_base + image->header.text_offset;
  blob.load_size = image->header.image_size;
  blob.payload = std::move(image->payload);
  return blob;
}

}  // namespace realm_measurements::measure
