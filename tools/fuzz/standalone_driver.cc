// Replays corpus files through a libFuzzer entry point, so every fuzz target
// is also an ordinary regression test under `bazel test`.
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  int ran = 0;
  for (int i = 1; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "cannot open corpus file %s\n", argv[i]);
      return 1;
    }
    std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
    LLVMFuzzerTestOneInput(data.data(), data.size());
    ++ran;
  }
  // An empty input too: parsers must reject it cleanly.
  LLVMFuzzerTestOneInput(nullptr, 0);
  std::printf("replayed %d corpus files\n", ran);
  return 0;
}
