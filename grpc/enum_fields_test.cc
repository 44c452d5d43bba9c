// Every enum field of every request message of RealmMeasurementsService,
// found by walking the descriptors (a new enum field is covered without
// touching this test), set to a number its enum does not define and sent
// over a real loopback call: the server answers INVALID_ARGUMENT naming the
// field path and the number, before any other check.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpc/internal/request_check.h"
#include "grpc/internal/test_util.h"
#include "grpc/service.h"
#include "gtest/gtest.h"
#include "proto/realm_measurements/v1/service.grpc.pb.h"

namespace realm_measurements::service {
namespace {

using ::google::protobuf::Descriptor;
using ::google::protobuf::FieldDescriptor;
using ::google::protobuf::Message;
using ::google::protobuf::MethodDescriptor;
using ::realm_measurements::service::testing::MakeTempDir;
using ::realm_measurements::service::testing::TestServer;

// One enum field reachable from a request: the fields leading to it.
struct EnumField {
  const MethodDescriptor* method;
  std::vector<const FieldDescriptor*> chain;
  std::string path;  // as the server names it (repeated: element 0)
};

void Collect(const MethodDescriptor* method, const Descriptor* d,
             std::vector<const FieldDescriptor*> chain, const std::string& path,
             std::set<const Descriptor*> open, std::vector<EnumField>* out) {
  if (!open.insert(d).second) return;  // recursive type: walked once
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    std::vector<const FieldDescriptor*> c = chain;
    c.push_back(f);
    const std::string p =
        internal::FieldPath(path, f->name(), f->is_repeated() ? 0 : -1);
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_ENUM) {
      out->push_back({method, c, p});
    } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      Collect(method, f->message_type(), c, p, open, out);
    }
  }
}

// The request of `field.method` with only that enum field set to `number`.
std::unique_ptr<Message> RequestWith(const EnumField& field, int number) {
  const Message* prototype =
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(
          field.method->input_type());
  std::unique_ptr<Message> root(prototype->New());
  Message* m = root.get();
  for (size_t i = 0; i < field.chain.size(); ++i) {
    const FieldDescriptor* f = field.chain[i];
    const google::protobuf::Reflection* r = m->GetReflection();
    if (i + 1 < field.chain.size()) {
      m = f->is_repeated() ? r->AddMessage(m, f) : r->MutableMessage(m, f);
    } else if (f->is_repeated()) {
      r->AddEnumValue(m, f, number);
    } else {
      r->SetEnumValue(m, f, number);
    }
  }
  return root;
}

// Sends `request` to `method` through the generic stub (any arity) and
// returns the call's status.
::grpc::Status Call(::grpc::GenericStub& stub, const MethodDescriptor* method,
                    const Message& request) {
  ::grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  ::grpc::CompletionQueue cq;
  const std::string name =
      absl::StrCat("/", method->service()->full_name(), "/", method->name());
  std::unique_ptr<::grpc::GenericClientAsyncReaderWriter> call =
      stub.PrepareCall(&ctx, name, &cq);
  void* tag;
  bool ok;
  int t = 0;
  auto step = [&]() {
    EXPECT_TRUE(cq.Next(&tag, &ok));
    return ok;
  };
  call->StartCall(&t);
  if (step()) {
    const std::string bytes = request.SerializeAsString();
    ::grpc::Slice slice(bytes);
    ::grpc::ByteBuffer buffer(&slice, 1);
    call->Write(buffer, &t);
    if (step()) {
      call->WritesDone(&t);
      step();
    }
    ::grpc::ByteBuffer response;
    call->Read(&response, &t);
    step();
  }
  ::grpc::Status status;
  call->Finish(&status, &t);
  step();
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  return status;
}

TEST(EnumFieldsTest, EveryRequestEnumRejectsUnknownNumbers) {
  TestServer ts;
  ts.Start(MakeTempDir());
  ::grpc::GenericStub stub(ts.Channel());

  const google::protobuf::ServiceDescriptor* service =
      v1::RealmMeasurementsService::service_full_name() ==
              std::string("realm_measurements.v1.RealmMeasurementsService")
          ? v1::GetServiceInfoRequest::descriptor()->file()->FindServiceByName(
                "RealmMeasurementsService")
          : nullptr;
  ASSERT_NE(service, nullptr);
  std::vector<EnumField> fields;
  for (int i = 0; i < service->method_count(); ++i) {
    const MethodDescriptor* m = service->method(i);
    Collect(m, m->input_type(), {}, "", {}, &fields);
  }
  // The walk is not vacuous: today's requests carry these (and more).
  std::set<std::string> seen;
  for (const EnumField& f : fields) {
    seen.insert(absl::StrCat(f.method->name(), " ", f.path));
  }
  for (const char* must :
       {"ReplayEventLog source", "ComputeMeasurements vmm",
        "SweepMeasurements base.vmm", "ExportEndorsements format",
        "AppraiseToken inline_set.realms[0].hash_algorithm",
        // The only check of rmm_version (FromProto trusts it).
        "ComputeMeasurements rmm_version", "ReplayEventLog rmm_version",
        "SweepMeasurements base.rmm_version"}) {
    EXPECT_EQ(seen.count(must), 1u) << must;
  }

  for (const EnumField& f : fields) {
    for (int number : {99, -7}) {
      SCOPED_TRACE(absl::StrCat(f.method->name(), " ", f.path, " = ", number));
      std::unique_ptr<Message> request = RequestWith(f, number);
      ::grpc::Status s = Call(stub, f.method, *request);
      EXPECT_EQ(s.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT)
          << s.error_message();
      EXPECT_TRUE(absl::StartsWith(
          s.error_message(),
          f.path + ": expected a " + f.chain.back()->enum_type()->name()))
          << s.error_message();
      EXPECT_TRUE(
          absl::EndsWith(s.error_message(), absl::StrCat("found ", number)))
          << s.error_message();
    }
  }
  std::printf("%zu enum fields in %d methods checked\n", fields.size(),
              service->method_count());
}

}  // namespace
}  // namespace realm_measurements::service
