# Top-level entry points.  `make run` sets up everything and runs the demo;
# `make check` runs every test and ends with "N passed, N failed".  Big
# builds (kernel, QEMU) are serialized by a lock in scripts/common.sh.
#
#   make deps          install host packages (Debian 12, root)
#   make trees         check out build/linux and build/qemu with the queues applied
#   make qemu          build the patched QEMU
#   make kernel        build the release guest kernel   (build/kernel-release)
#   make kernel-debug  build the debug guest kernel     (build/kernel-debug)
#   make guest         everything a VM boot needs (VARIANT=debug|release)
#   make vm TESTS=...  boot and run selftests (names under build/selftests)
#   make export        write build/{linux,qemu} commits back to patches/
#   make verify        check that the queues apply and re-export identically
#   make bench         benchmarks; figures go to README
#   make drift         the queues on the newest Debian sources, built and booted
SHELL := /bin/bash
TOP := $(CURDIR)
# MMV_BUILD moves the build directory (scripts/drift.sh uses build/drift).
B := $(or $(MMV_BUILD),$(TOP)/build)
VARIANT ?= debug
# Guest-side tools built statically into the initramfs (tools/<name>/Makefile).
GUEST_TOOLS := $(patsubst tools/%/Makefile,%,$(wildcard tools/walkstat/Makefile tools/hsctl/Makefile tools/refclock/Makefile))
SELFTEST_SUITES := $(patsubst selftests/%/Makefile,%,$(wildcard selftests/*/Makefile))
# tests/tooling/splat: a module that causes kernel reports on purpose (tooling self-test).
MODULE_DIRS := $(patsubst %/Kbuild,%,$(wildcard modules/*/Kbuild)) tests/tooling/splat
# Programs copied from the host into the guest for the demo.
GUEST_PROGS ?= xz
DEMO_CMD ?= dd if=/dev/urandom of=/tmp/demo.bin bs=1M count=24 2>/dev/null && walkstat -c 0 -- xz -T1 -6 -k -f /tmp/demo.bin

.PHONY: all deps sources trees qemu kernel kernel-debug selftests guest-tools drift \
	modules initramfs guest vm run check bench export verify checkpatch clean

all: guest

deps:
	@bash scripts/deps.sh

sources: deps
	@bash scripts/fetch.sh linux && bash scripts/fetch.sh qemu

trees: sources
	@bash scripts/tree.sh checkout linux && bash scripts/tree.sh checkout qemu

qemu: sources
	@bash scripts/build-qemu.sh

kernel: sources
	@bash scripts/build-kernel.sh release

kernel-debug: sources
	@bash scripts/build-kernel.sh debug

selftests:
	@set -e; for s in $(SELFTEST_SUITES); do \
		$(MAKE) -s -C selftests/$$s OUT=$(B)/selftests/$$s; done
	@$(MAKE) -s -C tests/tooling/guest OUT=$(B)/selftests/harness

guest-tools:
	@set -e; for t in $(GUEST_TOOLS); do $(MAKE) -s -C tools/$$t OUT=$(B)/guest-tools; done

modules:
	@set -e; mkdir -p $(B)/modules-$(VARIANT); for m in $(MODULE_DIRS); do \
		$(MAKE) -s -C $(B)/kernel-$(VARIANT) M=$(TOP)/$$m modules; \
		cp $(TOP)/$$m/*.ko $(B)/modules-$(VARIANT)/; done

initramfs: selftests guest-tools modules
	@GUEST_PROGS="$(GUEST_PROGS)" bash scripts/mkinitramfs.sh $(VARIANT)

guest: deps qemu
	@$(MAKE) -s $(if $(filter debug,$(VARIANT)),kernel-debug,kernel)
	@$(MAKE) -s initramfs VARIANT=$(VARIANT)

vm:
	@bash scripts/vm.sh --variant $(VARIANT) $(foreach t,$(TESTS),--test $(t))

run:
	@$(MAKE) -s guest VARIANT=release
	@bash scripts/demo.sh

check:
	@bash scripts/check.sh

bench:
	@bash scripts/bench.sh

export:
	@bash scripts/tree.sh export linux && bash scripts/tree.sh export qemu

drift:
	@bash scripts/drift.sh

verify:
	@bash scripts/tree.sh verify linux && bash scripts/tree.sh verify qemu

checkpatch:
	@bash scripts/checkpatch.sh

clean:
	rm -rf $(B)/kernel-* $(B)/qemu-build $(B)/vm $(B)/selftests $(B)/guest-tools $(B)/modules-*

-include mk/*.mk
