// Measurement oracles recorded outside this code base, one definition each
// with its origin, for the tests of every package. Hex, the significant
// bytes only. Test-only.
#ifndef REALM_MEASUREMENTS_TESTING_VECTORS_H_
#define REALM_MEASUREMENTS_TESTING_VECTORS_H_

namespace realm_measurements::test {

// spec-core Appendix A.3 #4, recorded from the reference tool:
// `--num-wps 6 --num-bps 6 kvmtool --realm -c 1 -m 512M` (SHA-256, no
// payload, REMs zero). The golden corpus's case kvm-min-sha256 is the same
// realm (vectors_test checks they agree).
inline constexpr char kSpecCoreA3No4Rim[] =
    "998dfdf6401d69f73ed88ac53d62d5ea2cfac6320b887ce4599aa8671791d4d0";

// spec-core Appendix A.5 #8, recorded from the reference tool: `--num-wps 6
// --num-bps 6 --ipa-bits 52 --pmu-num-ctrs 6 qemu -cpu pmu=on` (SHA-512).
inline constexpr char kSpecCoreA5No8Rim[] =
    "8120ef921a987a3f8b9d4bb5e40f8489e2b4fc69c5e1b17b1a9b040884a1211d99b2bddc"
    "3fddcc99ec99f4244743fe3dcd3d9020583b47f7b66a2ec66bb897b9";

// spec-core Appendix A.5 #10: the same with `-cpu pmu=on,num-pmu-counters=2`
// (the realm gets 2 PMU counters, as with `--pmu-num-ctrs 2`).
inline constexpr char kSpecCoreA5No10Rim[] =
    "ef4e6f78ea9630f66146b33a405a07b669ef94dd9aca6935d4fd23fea32f98f964241a2f"
    "9a9c20c9fcd74e20031c51c4beb8e577873e0348e891ee2d727e2807";

}  // namespace realm_measurements::test

#endif  // REALM_MEASUREMENTS_TESTING_VECTORS_H_
