// The QEMU command-line tokenizer of the `qemu` model (spec-vmm §6.1): the
// option loop (`-opt value`, `-opt=value`, unknown options that do not
// consume a value) and QEMU's `key=value,...` lists (`,,` escapes a comma,
// a bare item is the option's implied key). The option table is the single
// source of truth for docs/vmm-qemu.md (checked by a test).
#ifndef REALM_MEASUREMENTS_MEASURE_VMM_QEMU_ARGS_H_
#define REALM_MEASUREMENTS_MEASURE_VMM_QEMU_ARGS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace realm_measurements::measure::qemu {

// What the model does with an option (spec-vmm §6.1).
enum class OptionUse {
  kSupported,      // interpreted
  kIgnored,        // accepted silently, no effect
  kIgnoredWarned,  // accepted, a warning names what is ignored
  kRejected,       // an error (sub-options only, e.g. -machine highmem)
};

struct OptionInfo {
  const char* name;  // exact spelling, e.g. "-machine"
  bool takes_value;
  OptionUse use;
  const char* summary;  // one line for docs/vmm-qemu.md
};

// Every option the model knows, in documentation order. Anything else is
// an unknown option: warned ("Parameter <t> ignored") and its value, if
// any, is then read as the next option.
absl::Span<const OptionInfo> QemuOptionTable();
const OptionInfo* FindQemuOption(absl::string_view name);

// The keys of the list-valued options (-m, -smp, -object rme-guest,
// -machine, -cpu). "" as key = the bare (implied-key) item, `pattern`
// ending in '*' = a prefix. Used by the model's dispatch and by the docs.
struct SubOptionInfo {
  const char* option;  // "-machine"
  const char* key;
  OptionUse use;
  const char* summary;
};
absl::Span<const SubOptionInfo> QemuSubOptionTable();
// The entry for `key` of `option` (exact, then prefix), or nullptr.
const SubOptionInfo* FindQemuSubOption(absl::string_view option,
                                       absl::string_view key);

// One element of the argument list after tokenizing.
struct QemuArg {
  std::string name;                  // "-m", or the unknown token
  std::optional<std::string> value;  // for options that take one
  bool known = false;
};

// Bound on the number of argument tokens (each one can at most split once
// on '='); protects the loop against absurd input.
inline constexpr size_t kMaxQemuArgs = 1 << 16;

// Runs the §6.1 loop. Errors: "<name> needs a value" (the option name as
// the reference spells it; "-machine" also for "-M"), too many arguments.
absl::StatusOr<std::vector<QemuArg>> TokenizeQemuArgs(
    absl::Span<const std::string> args);

// One item of a QEMU list: "key=value" (has_value) or a bare "item".
struct QemuListItem {
  std::string key;
  std::string value;
  bool has_value = false;
};

// Splits `text` on ',' where ",," is a literal comma (QEMU's QemuOpts
// escape); each item is split at its first '='.
std::vector<QemuListItem> SplitQemuList(absl::string_view text);

// QEMU's boolean spelling (spec-vmm §6.4): on/yes/true/y -> true,
// off/no/false/n -> false, auto -> nullopt (unchanged). Else
// "expected on/off/auto, got '<v>'".
absl::StatusOr<std::optional<bool>> ParseQemuBool(absl::string_view v);

}  // namespace realm_measurements::measure::qemu

#endif  // REALM_MEASUREMENTS_MEASURE_VMM_QEMU_ARGS_H_
