#!/bin/sh
echo "coverage reports need Bazel's remote coverage tools, which this offline build does not have" >&2
exit 1
