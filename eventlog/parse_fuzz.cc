// libFuzzer entry point: Parse() in strict and lenient mode. Any input must
// give a value or a clean error (never a crash, hang or huge allocation).
#include <cstddef>
#include <cstdint>

#include "eventlog/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using realm_measurements::eventlog::Parse;
  using realm_measurements::eventlog::ParseOptions;
  absl::Span<const uint8_t> in(data, size);
  (void)Parse(in);
  ParseOptions lenient;
  lenient.allow_truncation = true;
  (void)Parse(in, lenient);
  return 0;
}
