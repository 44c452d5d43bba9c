#include <cstdio>
int main() { std::puts("Usage: realm-measurements [OPTIONS] <qemu|kvmtool|cloud-hv|help>"); return 2; }
