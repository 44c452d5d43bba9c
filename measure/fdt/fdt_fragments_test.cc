#include "measure/fdt/fdt_fragments.h"

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "measure/fdt/fdt_writer.h"
#include "testing/dtc.h"

namespace realm_measurements::measure::fdt {
namespace {

// The real dtc decompiles the blob; the expected DTS below is written from
// the fragment table of spec-vmm §4 (and §6.10 / §7.5 for the shared nodes).
std::string Decompile(const std::vector<uint8_t>& dtb,
                      const std::string& name) {
  return test::DtcDecompile(dtb, name + ".dtb");
}

TEST(FdtFragments, ConstantsOfSpecVmm4) {
  EXPECT_EQ(kIrqSpi, 0u);
  EXPECT_EQ(kIrqPpi, 1u);
  EXPECT_EQ(kIrqEdgeRising, 1u);
  EXPECT_EQ(kIrqEdgeFalling, 2u);
  EXPECT_EQ(kIrqLevelHigh, 4u);
  EXPECT_EQ(kIrqLevelLow, 8u);
  EXPECT_EQ(kPciSpaceConfig, 0x00000000u);
  EXPECT_EQ(kPciSpaceIo, 0x01000000u);
  EXPECT_EQ(kPciSpaceMmio32, 0x02000000u);
  EXPECT_EQ(kPciSpaceMmio64, 0x03000000u);
  EXPECT_EQ(UnitName("memory", 0x80000000), "memory@80000000");
  EXPECT_EQ(UnitName("pl031", 0x9010000), "pl031@9010000");
}

TEST(FdtFragments, RootPrologueGicTimerPmu) {
  FdtWriter w;
  RootPrologue p;
  p.mem_base = 0x40000000;
  p.mem_size = 0x20000000;
  p.num_cpus = 2;
  p.intc_phandle = 1;
  p.bootargs = "console=ttyAMA0";
  p.initrd = RootPrologue::Initrd{0x48000000, 0x1234};
  absl::StatusOr<FdtNode> root = BeginRootWithPrologue(w, p);
  ASSERT_TRUE(root.ok()) << root.status();
  const uint64_t regs[] = {0x8ff0000, 0x10000, 0x8fb0000, 0x40000};
  ASSERT_TRUE(WriteGicNode(w, regs, 1, GicIts{0x8f90000, 0x20000, 2}).ok());
  ASSERT_TRUE(WriteTimerNode(w, kIrqLevelLow).ok());
  ASSERT_TRUE(WritePmuNode(w, kPmuPpi).ok());
  ASSERT_TRUE(w.EndNode(*root).ok());
  absl::StatusOr<std::vector<uint8_t>> dtb = w.Finish();
  ASSERT_TRUE(dtb.ok()) << dtb.status();
  EXPECT_EQ(Decompile(*dtb, "prologue"), R"(/dts-v1/;

/ {
	compatible = "linux,dummy-virt";
	model = "linux,dummy-virt-realm";
	#address-cells = <0x02>;
	#size-cells = <0x02>;
	interrupt-parent = <0x01>;

	chosen {
		bootargs = "console=ttyAMA0";
		linux,initrd-start = <0x00 0x48000000>;
		linux,initrd-end = <0x00 0x48001234>;
	};

	memory@40000000 {
		device_type = "memory";
		reg = <0x00 0x40000000 0x00 0x20000000>;
	};

	cpus {
		#size-cells = <0x00>;
		#address-cells = <0x01>;

		cpu@0 {
			reg = <0x00>;
			enable-method = "psci";
			compatible = "arm,armv8";
			device_type = "cpu";
		};

		cpu@1 {
			reg = <0x01>;
			enable-method = "psci";
			compatible = "arm,armv8";
			device_type = "cpu";
		};
	};

	psci {
		cpu_on = <0xc4000003>;
		cpu_off = <0x84000002>;
		method = "smc";
		compatible = "arm,psci-1.0\0arm,psci-0.2\0arm,psci";
	};

	intc@8ff0000 {
		phandle = <0x01>;
		reg = <0x00 0x8ff0000 0x00 0x10000 0x00 0x8fb0000 0x00 0x40000>;
		#redistributor-regions = <0x01>;
		compatible = "arm,gic-v3";
		ranges;
		#size-cells = <0x02>;
		#address-cells = <0x02>;
		interrupt-controller;
		#interrupt-cells = <0x03>;

		its@8f90000 {
			phandle = <0x02>;
			reg = <0x00 0x8f90000 0x00 0x20000>;
			#msi-cells = <0x01>;
			msi-controller;
			compatible = "arm,gic-v3-its";
		};
	};

	timer {
		interrupts = <0x01 0x0d 0x08 0x01 0x0e 0x08 0x01 0x0b 0x08>;
		always-on;
		compatible = "arm,armv8-timer\0arm,armv7-timer";
	};

	pmu {
		interrupts = <0x01 0x07 0x04>;
		compatible = "arm,armv8-pmuv3";
	};
};
)");
}

TEST(FdtFragments, PrologueWithoutChosenProperties) {
  FdtWriter w;
  RootPrologue p;
  p.mem_base = 0x80000000;
  p.mem_size = 0x8000000;
  p.num_cpus = 1;
  p.intc_phandle = 0x8002;
  absl::StatusOr<FdtNode> root = BeginRootWithPrologue(w, p);
  ASSERT_TRUE(root.ok()) << root.status();
  // Two redistributor regions, no ITS.
  const uint64_t regs[] = {0x8000000, 0x10000,    0x80a0000,
                           0xf60000,  1ull << 40, 1ull << 26};
  ASSERT_TRUE(WriteGicNode(w, regs, 0x8002, std::nullopt).ok());
  ASSERT_TRUE(w.EndNode(*root).ok());
  absl::StatusOr<std::vector<uint8_t>> dtb = w.Finish();
  ASSERT_TRUE(dtb.ok()) << dtb.status();
  const std::string dts = Decompile(*dtb, "bare");
  EXPECT_NE(dts.find("\tchosen {\n\t};\n"), std::string::npos) << dts;
  EXPECT_NE(dts.find("memory@80000000 {"), std::string::npos) << dts;
  EXPECT_NE(dts.find("#redistributor-regions = <0x02>;"), std::string::npos)
      << dts;
  EXPECT_EQ(dts.find("its@"), std::string::npos) << dts;
}

TEST(FdtFragments, EmptyBootargsIsStillEmitted) {
  FdtWriter w;
  RootPrologue p;
  p.num_cpus = 1;
  p.bootargs = "";
  absl::StatusOr<FdtNode> root = BeginRootWithPrologue(w, p);
  ASSERT_TRUE(root.ok());
  ASSERT_TRUE(w.EndNode(*root).ok());
  absl::StatusOr<std::vector<uint8_t>> dtb = w.Finish();
  ASSERT_TRUE(dtb.ok());
  // dtc shows a lone NUL as bytes.
  EXPECT_NE(Decompile(*dtb, "empty_bootargs").find("bootargs = [00];"),
            std::string::npos);
}

TEST(FdtFragments, GicRejectsMalformedRegs) {
  FdtWriter w;
  const uint64_t regs[] = {0x8000000, 0x10000, 0x80a0000};
  absl::Status s = WriteGicNode(w, regs, 1, std::nullopt);
  EXPECT_EQ(s.message(),
            "GIC reg: expected distributor and redistributor <base, size> "
            "pairs, found 3 cells");
}

TEST(FdtFragments, ClockPrimeCellAndPcie) {
  FdtWriter w;
  absl::StatusOr<FdtNode> root = w.BeginNode("");
  ASSERT_TRUE(root.ok());
  ASSERT_TRUE(WriteApbClockNode(w, 3).ok());
  ASSERT_TRUE(WritePrimeCellNode(w, "pl031", 0x9010000, 0x1000, 3, 8,
                                 kIrqLevelHigh, "arm,pl031")
                  .ok());
  EcamPcieHost host;
  host.unit_address = 0x30000000;
  host.ranges = {kPciSpaceIo, 0, 0, 0, 0x9050000, 0, 0x10000};
  host.reg = {0x30000000, 0x100000};
  host.msi_map = std::vector<uint32_t>{0, 2, 0, 0x100};
  ASSERT_TRUE(WriteEcamPcieNode(w, host).ok());
  EcamPcieHost intx;
  intx.unit_address = 0x10000000;
  intx.interrupt_map = {0, 0, 0, 1, 1, 0, 0, 0, 3, 4};
  intx.interrupt_map_mask = {0x1800, 0, 0, 7};
  intx.ranges = {kPciSpaceMmio32, 0, 0x10000000, 0, 0x10000000, 0, 0x1000};
  intx.reg = {0x4010000000, 0x10000000};
  intx.last_bus = 0xff;
  ASSERT_TRUE(WriteEcamPcieNode(w, intx).ok());
  ASSERT_TRUE(w.EndNode(*root).ok());
  absl::StatusOr<std::vector<uint8_t>> dtb = w.Finish();
  ASSERT_TRUE(dtb.ok()) << dtb.status();
  EXPECT_EQ(Decompile(*dtb, "devices"), R"(/dts-v1/;

/ {

	apb-pclk {
		phandle = <0x03>;
		clock-output-names = "clk24mhz";
		clock-frequency = <0x16e3600>;
		#clock-cells = <0x00>;
		compatible = "fixed-clock";
	};

	pl031@9010000 {
		clock-names = "apb_pclk";
		reg = <0x00 0x9010000 0x00 0x1000>;
		clocks = <0x03>;
		interrupts = <0x00 0x08 0x04>;
		compatible = "arm,pl031\0arm,primecell";
	};

	pcie@30000000 {
		ranges = <0x1000000 0x00 0x00 0x00 0x9050000 0x00 0x10000>;
		reg = <0x00 0x30000000 0x00 0x100000>;
		msi-map = <0x00 0x02 0x00 0x100>;
		dma-coherent;
		bus-range = <0x00 0x00>;
		linux,pci-domain = <0x00>;
		#size-cells = <0x02>;
		#address-cells = <0x03>;
		device_type = "pci";
		compatible = "pci-host-ecam-generic";
	};

	pcie@10000000 {
		interrupt-map = <0x00 0x00 0x00 0x01 0x01 0x00 0x00 0x00 0x03 0x04>;
		interrupt-map-mask = <0x1800 0x00 0x00 0x07>;
		#interrupt-cells = <0x01>;
		ranges = <0x2000000 0x00 0x10000000 0x00 0x10000000 0x00 0x1000>;
		reg = <0x40 0x10000000 0x00 0x10000000>;
		dma-coherent;
		bus-range = <0x00 0xff>;
		linux,pci-domain = <0x00>;
		#size-cells = <0x02>;
		#address-cells = <0x03>;
		device_type = "pci";
		compatible = "pci-host-ecam-generic";
	};
};
)");
}

}  // namespace
}  // namespace realm_measurements::measure::fdt
