// The argument tables of the three VMM models rendered two ways: as the
// Markdown tables of docs/vmm-*.md (tests check the pages contain exactly
// these) and as the text of `realm-measurements <vmm> --help`. Both come
// from the models' own tables (kvmtool::Arguments(), qemu::QemuOptionTable(),
// qemu::QemuSubOptionTable(), cloud_hv::Arguments()), so neither can drift.
#ifndef REALM_MEASUREMENTS_MEASURE_VMM_VMM_HELP_H_
#define REALM_MEASUREMENTS_MEASURE_VMM_VMM_HELP_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace realm_measurements::measure {

// One row of an argument table. Cells are Markdown (backticks for code).
struct VmmArgRow {
  std::string option;  // "`-c`, `--cpus`"
  std::string value;   // "usize", "yes", "list", ...
  std::string use;     // "supported", "ignored", "ignored (warning)", ...
  std::string effect;  // one line, may be empty
};

// A titled table: its Markdown header names the four columns.
struct VmmArgTable {
  std::string title;                 // "Arguments", "List keys"
  std::vector<std::string> columns;  // 4 column names
  std::vector<VmmArgRow> rows;
};

// Options the kvmtool and cloud-hv parsers must reject (usage error), for
// the docs' "rejected" rows and the tests that check them.
absl::Span<const char* const> KvmtoolRejectedExamples();
struct RejectedArg {
  const char* name;
  const char* why;
};
absl::Span<const RejectedArg> CloudHvRejectedArgs();

// The tables of `vmm` ("kvmtool", "qemu", "cloud-hv"), empty if unknown.
std::vector<VmmArgTable> VmmArgTables(absl::string_view vmm);

// The Markdown of one table (header, separator, rows; each line ends in
// '\n'), as docs/vmm-<vmm>.md contains it.
std::string RenderMarkdownTable(const VmmArgTable& table);

// `realm-measurements <vmm> --help`: usage, what the model is, its
// defaults and required arguments, and every table as aligned text.
// nullopt for an unknown VMM.
std::optional<std::string> VmmHelpText(absl::string_view vmm);

// Whether the VMM arguments ask for help: `--help` or `-h` as an option
// (for qemu also `-help`; a value of a QEMU option is not an option).
bool VmmArgsAskForHelp(absl::string_view vmm,
                       absl::Span<const std::string> args);

}  // namespace realm_measurements::measure

#endif  // REALM_MEASUREMENTS_MEASURE_VMM_VMM_HELP_H_
