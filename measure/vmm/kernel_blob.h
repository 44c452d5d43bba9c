// The kernel blob of the kvmtool and cloud-hypervisor models: the same
// loading and placement in both (issue 13: it was written twice). QEMU
// places its kernel with an overflow check of its own (spec-vmm §6.8).
#ifndef REALM_MEASUREMENTS_MEASURE_VMM_KERNEL_BLOB_H_
#define REALM_MEASUREMENTS_MEASURE_VMM_KERNEL_BLOB_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "measure/realm_config.h"
#include "measure/vmm/vmm.h"

namespace realm_measurements::measure {

// Loads inputs.kernel as a Linux arm64 Image (LoadLinuxImage, polled by
// inputs.cancel) into a blob named "kernel" at ram_base + text_offset that
// reserves image_size (spec-vmm §5.6, §7.5; RealmConfig::Validate() refuses
// a blob outside RAM). Without -k: InvalidArgument NeedImage("kernel", "-k",
// vmm_option).
absl::StatusOr<Blob> LoadKernelBlob(const VmmInputs& inputs, uint64_t ram_base,
                                    absl::string_view vmm_option);

}  // namespace realm_measurements::measure

#endif  // REALM_MEASUREMENTS_MEASURE_VMM_KERNEL_BLOB_H_
