"""cc_grpc_library for the offline build: runs Debian's protoc with
grpc_cpp_plugin over a proto_library and wraps the stubs in a cc_library."""

load("@rules_cc//cc:defs.bzl", "cc_library")

def _grpc_stubs_impl(ctx):
    info = ctx.attr.proto[ProtoInfo]
    outs = []
    for src in info.direct_sources:
        # protoc writes next to the .proto's workspace path (-I.); declare
        # the outputs relative to this package.
        rel = src.short_path[:-len(".proto")]
        prefix = ctx.label.package + "/"
        if not rel.startswith(prefix):
            fail("gRPC protos must live in the package of the rule: " + src.short_path)
        rel = rel[len(prefix):]
        outs.append(ctx.actions.declare_file(rel + ".grpc.pb.h"))
        outs.append(ctx.actions.declare_file(rel + ".grpc.pb.cc"))
    args = ctx.actions.args()
    args.add("--plugin=protoc-gen-grpc=" + ctx.executable._plugin.path)
    args.add("--grpc_out=" + ctx.bin_dir.path)
    args.add_all(info.transitive_proto_path, format_each = "-I%s")
    args.add("-I.")
    args.add_all(info.direct_sources)
    ctx.actions.run(
        inputs = info.transitive_sources,
        outputs = outs,
        tools = [ctx.executable._plugin],
        executable = ctx.executable._protoc,
        arguments = [args],
        mnemonic = "GrpcCppStubs",
        progress_message = "Generating gRPC stubs for %s" % ctx.label,
    )
    return [DefaultInfo(files = depset(outs))]

_grpc_stubs = rule(
    implementation = _grpc_stubs_impl,
    attrs = {
        "proto": attr.label(mandatory = True, providers = [ProtoInfo]),
        "_protoc": attr.label(
            default = "@com_google_protobuf//:protoc",
            executable = True,
            cfg = "exec",
        ),
        "_plugin": attr.label(
            default = "@com_github_grpc_grpc//:grpc_cpp_plugin",
            executable = True,
            cfg = "exec",
        ),
    },
)

def cc_grpc_library(name, proto, cc_proto, visibility = None, **kwargs):
    """gRPC C++ stubs for `proto` (a proto_library in the same package)."""
    _grpc_stubs(name = name + "_stubs", proto = proto)
    cc_library(
        name = name,
        srcs = [":" + name + "_stubs"],
        deps = [
            cc_proto,
            "@com_github_grpc_grpc//:grpc++",
        ],
        visibility = visibility,
        **kwargs
    )
