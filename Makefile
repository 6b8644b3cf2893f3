# SPDX-License-Identifier: GPL-2.0
#
# vcanbus: the module, the userspace programs and the tests.
#
#   make                 module (against KDIR) and userspace programs
#   make install         install the module for KDIR's kernel, run depmod
#   make run             a bus with nodes exchanging frames (here or in a VM)
#   make check           lint, host unit tests, dkms, VM tests on 6.1, 6.12
#                        and the newest Debian kernel (7.3 in November 2026)
#   make check-debug     VM tests on a debug kernel (lockdep, KASAN, kmemleak,
#                        UBSAN) built from linux-source-6.12, 10 min of chaos
#   make lint            checkpatch --strict and sparse over driver/
#   make fuzz            the bridge's fuzz targets, BRIDGE_FUZZ_SECONDS (300)
#                        each; what reaches new code joins userspace/fuzz/corpus
#   make bench           benchmarks in a guest (BENCH_KERNEL): vcanbus
#                        against vxcan/vcan, wire timing, the bridge; first,
#                        in a guest of the newest kernel, a saturated CAN XL
#                        bus; writes docs/bench.md and its plots (20-25
#                        min, alone)
#
# Variables: KDIR (kernel headers), KERNELS (kernel series: "6.1 6.12 newest";
# make run boots the last), BENCH_KERNEL (6.12), TESTS (test names, default
# all), VCANBUS_CACHE (kernels and sources), CHAOS_SECONDS / FUZZ_SECONDS
# (check-debug: 600 / 120), CHAOS_SEED / FUZZ_SEED.

KVER		?= $(shell uname -r)
KDIR		?= /lib/modules/$(KVER)/build
KERNELS		?= 6.1 6.12 newest
# make bench stays on 6.12: every run pooled in docs/bench.md was measured
# there, and another kernel would move the figures.
BENCH_KERNEL	?= 6.12
TESTS		?=
VCANBUS_CACHE	?= $(if $(HOME),$(HOME)/.cache/vcanbus,/var/cache/vcanbus)
export VCANBUS_CACHE

top		:= $(CURDIR)
VM		:= $(top)/selftests/vm
kdir_abs	= $(abspath $(KDIR))
krel		= $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"/\1/p' $(kdir_abs)/include/generated/utsrelease.h 2>/dev/null)
kbuild_dir	= $(top)/build/kmod/$(krel)
driver_src	:= $(wildcard driver/*.c driver/*.h)

CHAOS_SECONDS	?= 600
FUZZ_SECONDS	?= 120
CHAOS_SEED	?= 1
FUZZ_SEED	?= 1
# KASAN and lockdep make every frame ~20x dearer in TCG: the total-order
# test sends 20000 per sender there instead of 100000.
ORDER_FRAMES	?= 20000

BRIDGE_FUZZ_SECONDS ?= 300

.PHONY: all module userspace install run check check-debug lint sparse \
	checkpatch check-vm check-unit check-dkms clean help fuzz bench

all: module userspace

help:
	@sed -n '3,24s/^# \{0,1\}//p' Makefile

# Kbuild writes objects beside the sources, so each kernel gets its own
# folder of links to them: builds for 6.1 and 6.12 never share an object.
module:
	@if [ ! -e "$(kdir_abs)/Makefile" ]; then \
		echo "error: no kernel headers in $(KDIR)" >&2; \
		echo "       install them: apt-get install linux-headers-$(KVER)" >&2; \
		echo "       or point KDIR at a headers tree: make KDIR=/path/to/headers" >&2; \
		exit 1; \
	fi
	@mkdir -p $(kbuild_dir)/driver
	@ln -sf $(top)/Kbuild $(kbuild_dir)/Kbuild
	@for f in $(driver_src); do ln -sf $(top)/$$f $(kbuild_dir)/$$f; done
	$(MAKE) -C $(kdir_abs) M=$(kbuild_dir) W=1 modules

userspace:
	$(MAKE) -C userspace

install: module
	$(MAKE) -C $(kdir_abs) M=$(kbuild_dir) modules_install
	depmod -a $(krel)

# On a host that can load modules (and has headers) the demo runs right
# here; elsewhere (no modules, no CAN, not root) in a guest.
run:
	@if [ -e /proc/modules ] && [ -e "$(kdir_abs)/Makefile" ] && \
	    [ "$$(id -u)" = 0 ]; then \
		$(MAKE) -s module && \
		VCB_MODULE=$(kbuild_dir)/vcanbus.ko bash selftests/demo.sh; \
	else \
		echo "This host cannot load modules: running the demo in a QEMU guest."; \
		$(VM)/run.sh --demo --kernels "$(lastword $(KERNELS))"; \
	fi

check:
	@mkdir -p build
	@KERNELS="$(KERNELS)" TESTS="$(TESTS)" selftests/check.sh

# The debug kernel is built once (about 15 min on 2 cores) and cached.
check-debug:
	@mkdir -p build
	@VCB_CHAOS_SECONDS=$(CHAOS_SECONDS) VCB_CHAOS_SEED=$(CHAOS_SEED) \
	 VCB_ORDER_FRAMES=$(ORDER_FRAMES) \
	 VCB_FUZZ_SECONDS=$(FUZZ_SECONDS) VCB_FUZZ_SEED=$(FUZZ_SEED) \
	 VCB_TIMEOUT=$$(( $(CHAOS_SECONDS) + 600 )) \
	 $(VM)/run.sh --kernels debug --tests "$(TESTS)"

# One kernel is enough: the figures compare vcanbus with vxcan and vcan
# (and with the theory) inside one boot.
# The XL part needs a kernel with CAN XL: its own guest, first; the main
# run's report takes its results from there.
bench:
	@mkdir -p build
	@VCB_BENCH_PARTS=xl VCB_OUT_BASE=$(top)/build/vm-bench-xl \
	 $(VM)/run.sh --bench --kernels newest
	@VCB_BENCH_XL_OUT=$(top)/build/vm-bench-xl \
	 $(VM)/run.sh --bench --kernels "$(BENCH_KERNEL)"

check-vm:
	@$(VM)/run.sh --kernels "$(KERNELS)" --tests "$(TESTS)"

check-unit: userspace
	$(MAKE) -C userspace check

fuzz:
	@$(VM)/deps.sh
	$(MAKE) -C userspace fuzz FUZZ_SECONDS=$(BRIDGE_FUZZ_SECONDS)

check-dkms:
	@$(VM)/check-dkms.sh $(KERNELS)

lint: checkpatch sparse

checkpatch:
	@$(VM)/lint.sh checkpatch

sparse:
	@$(VM)/lint.sh sparse $(KERNELS)

clean:
	rm -rf build
	$(MAKE) -C userspace clean
