"""cc_fuzz_target: a libFuzzer target that is also a regression test.

    cc_fuzz_target(name = "x_fuzz", srcs = ["x_fuzz.cc"], deps = [...],
                   corpus = glob(["testdata/x_corpus/*"]), data = [...])

(`data`: files the target reads while it runs, for both binaries.)

defines
  :x_fuzz          cc_test replaying `corpus` (every `bazel test //...`)
  :x_fuzz_fuzzer   cc_binary; with --config=fuzz it is a libFuzzer binary:
                   bazel run --config=fuzz //pkg:x_fuzz_fuzzer -- -max_total_time=300
"""

load("@rules_cc//cc:defs.bzl", "cc_binary", "cc_test")

def cc_fuzz_target(name, srcs, deps = [], corpus = [], tags = [], data = [], **kwargs):
    cc_binary(
        name = name + "_fuzzer",
        srcs = srcs,
        data = data,
        deps = deps + select({
            "//tools/fuzz:fuzzing": [],
            "//conditions:default": ["//tools/fuzz:standalone_driver"],
        }),
        linkopts = select({
            "//tools/fuzz:fuzzing": ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
        tags = tags + ["fuzz"],
        **kwargs
    )
    cc_test(
        name = name,
        srcs = srcs,
        deps = deps + ["//tools/fuzz:standalone_driver"],
        data = data + corpus,
        args = ["$(locations %s)" % c for c in corpus],
        tags = tags,
        **kwargs
    )
