#include "measure/vmm/kernel_blob.h"

#include <cstdint>
#include <vector>

#include "gtest/gtest.h"
#include "testing/files.h"

namespace realm_measurements::measure {
namespace {

void PutLe(std::vector<uint8_t>& b, size_t at, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}

// A 4 KiB arm64 Image whose header (booting.rst: text_offset at 8,
// image_size at 16, "ARM\x64" at 56) asks for 0x80000 and 2 MiB.
std::string WriteImage() {
  std::vector<uint8_t> image(4096, 0);
  PutLe(image, 8, 0x80000, 8);
  PutLe(image, 16, 0x200000, 8);
  image[56] = 'A';
  image[57] = 'R';
  image[58] = 'M';
  image[59] = 0x64;
  return test::WriteTmpFile("kernel_blob_Image", image);
}

TEST(LoadKernelBlobTest, PlacesAtRamBasePlusTextOffset) {
  VmmInputs in;
  in.kernel = WriteImage();
  absl::StatusOr<Blob> b = LoadKernelBlob(in, 0x80000000, "kvmtool --kernel");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->name, "kernel");
  EXPECT_EQ(b->guest_start, 0x80080000u);
  EXPECT_EQ(b->load_size, 0x200000u);
  EXPECT_FALSE(b->in_flash);
}

TEST(LoadKernelBlobTest, WithoutKernelNamesTheGlobalOption) {
  absl::StatusOr<Blob> b = LoadKernelBlob(VmmInputs{}, 0, "cloud-hv --kernel");
  EXPECT_EQ(b.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(b.status().message(),
            NeedImage("kernel", "-k", "cloud-hv --kernel"));
}

TEST(LoadKernelBlobTest, LoaderErrorsPassThrough) {
  VmmInputs in;
  in.kernel = test::WriteTmpFile("kernel_blob_short", absl::string_view("x"));
  absl::StatusOr<Blob> b = LoadKernelBlob(in, 0, "kvmtool --kernel");
  EXPECT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("failed to fill whole buffer"),
            absl::string_view::npos)
      << b.status();
}

}  // namespace
}  // namespace realm_measurements::measure
