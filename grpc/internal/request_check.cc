#include "grpc/internal/request_check.h"

#include <google/protobuf/descriptor.h>

#include <vector>

#include "absl/strings/str_cat.h"

namespace realm_measurements::service::internal {
namespace {

using ::google::protobuf::EnumDescriptor;
using ::google::protobuf::FieldDescriptor;
using ::google::protobuf::Message;
using ::google::protobuf::Reflection;

absl::Status UnknownEnum(const std::string& path, const EnumDescriptor& e,
                         int number) {
  std::string known;
  for (int i = 0; i < e.value_count(); ++i) {
    absl::StrAppend(&known, i ? ", " : "", e.value(i)->name(), "=",
                    e.value(i)->number());
  }
  return absl::InvalidArgumentError(absl::StrCat(
      path, ": expected a ", e.name(), " (", known, "), found ", number));
}

// Depth is bounded by the decoder's recursion limit (the message exists).
absl::Status Check(const Message& m, const std::string& prefix) {
  const Reflection* r = m.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  r->ListFields(m, &fields);  // set fields only, in field-number order
  for (const FieldDescriptor* f : fields) {
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_ENUM) {
      const EnumDescriptor& e = *f->enum_type();
      if (f->is_repeated()) {
        for (int i = 0; i < r->FieldSize(m, f); ++i) {
          const int v = r->GetRepeatedEnumValue(m, f, i);
          if (e.FindValueByNumber(v) == nullptr) {
            return UnknownEnum(FieldPath(prefix, f->name(), i), e, v);
          }
        }
      } else {
        const int v = r->GetEnumValue(m, f);
        if (e.FindValueByNumber(v) == nullptr) {
          return UnknownEnum(FieldPath(prefix, f->name()), e, v);
        }
      }
    } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (f->is_repeated()) {
        for (int i = 0; i < r->FieldSize(m, f); ++i) {
          absl::Status s = Check(r->GetRepeatedMessage(m, f, i),
                                 FieldPath(prefix, f->name(), i));
          if (!s.ok()) return s;
        }
      } else {
        absl::Status s =
            Check(r->GetMessage(m, f), FieldPath(prefix, f->name()));
        if (!s.ok()) return s;
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string FieldPath(absl::string_view parent, absl::string_view field,
                      int index) {
  std::string out =
      parent.empty() ? std::string(field) : absl::StrCat(parent, ".", field);
  if (index >= 0) absl::StrAppend(&out, "[", index, "]");
  return out;
}

absl::Status CheckEnumValues(const Message& message) {
  return Check(message, "");
}

}  // namespace realm_measurements::service::internal
