# Make fragment for tools/lptsim, the learned / radix / ECPT page-table
# simulator.  Included by the top-level Makefile or used alone as
# `make -f mk/lptsim.mk TARGET` from the repository root; it assumes only
# that the current directory is the repository root and prefixes all its
# variables with LPTSIM_ so it cannot collide with other fragments.
#
#   lptsim         build/lptsim/lptsim (links build/lpt/liblpt.a, built by
#                  `make -f mk/lpt.mk lpt-lib`)
#   lptsim-check   unit, malformed-input, capture and end-to-end tests under
#                  ASan+UBSan; TAP on stdout, non-zero exit on failure
#   lptsim-bench   capture real programs + generated snapshots, print the
#                  side-by-side table, write build/lptsim/bench.json
#   lptsim-clean   remove build/lptsim
#
# Without lib/lpt/*.c (or with LPTSIM_WITHOUT_LPT=1) the tool links
# lptm_none.c and prints the learned-page-table columns as n/a.

# A build without the library goes elsewhere so the two never mix.
LPTSIM_OUT	:= build/lptsim$(if $(LPTSIM_WITHOUT_LPT),-nolpt,)
LPTSIM_CC	?= gcc
LPTSIM_WARN	:= -Wall -Wextra -Wshadow -Wstrict-prototypes -Wvla
LPTSIM_CFLAGS	?= -std=c11 -D_GNU_SOURCE -O2 -g $(LPTSIM_WARN)
LPTSIM_SAN	:= -fsanitize=address,undefined -fno-sanitize-recover=all \
		   -fno-omit-frame-pointer
LPTSIM_CORE	:= util snapshot gen capture trace lru radix ecpt sim report
LPTSIM_CORE_SRCS := $(patsubst %,tools/lptsim/%.c,$(LPTSIM_CORE))
LPTSIM_HDRS	:= $(wildcard tools/lptsim/*.h)
LPTSIM_LPT_SRCS	:= $(if $(LPTSIM_WITHOUT_LPT),,$(wildcard lib/lpt/*.c))
LPTSIM_LPT_HDRS	:= $(wildcard lib/lpt/*.h) $(wildcard include/lpt/*.h)
LPTSIM_LIBLPT	:= build/lpt/liblpt.a
# The library is written to mk/lpt.mk's warning set, which allows unused parameters.
LPTSIM_LPT_WARN	:= $(if $(LPTSIM_LPT_SRCS),-Wno-unused-parameter,)
# With the core library: the real adapter and the archive; without: the stub.
LPTSIM_SEAM	:= $(if $(LPTSIM_LPT_SRCS),tools/lptsim/lptm.c,tools/lptsim/lptm_none.c)
LPTSIM_LINK	:= $(if $(LPTSIM_LPT_SRCS),$(LPTSIM_LIBLPT),)
LPTSIM_BIN	:= $(LPTSIM_OUT)/lptsim
LPTSIM_ASAN_BIN	:= $(LPTSIM_OUT)/lptsim-asan
LPTSIM_UNIT	:= $(LPTSIM_OUT)/lptsim_unit_test

.PHONY: lptsim lptsim-check lptsim-bench lptsim-clean lptsim-liblpt

lptsim: lptsim-liblpt
	@$(MAKE) --no-print-directory -f mk/lptsim.mk $(LPTSIM_BIN)

# The library has its own fragment; ask it rather than duplicating its rules.
lptsim-liblpt:
ifneq ($(LPTSIM_LPT_SRCS),)
	@$(MAKE) --no-print-directory -f mk/lpt.mk lpt-lib
endif

$(LPTSIM_BIN): tools/lptsim/main.c $(LPTSIM_CORE_SRCS) $(LPTSIM_SEAM) $(LPTSIM_HDRS) \
		$(LPTSIM_LPT_HDRS) $(LPTSIM_LINK)
	@mkdir -p $(dir $@)
	$(LPTSIM_CC) $(LPTSIM_CFLAGS) -o $@ tools/lptsim/main.c $(LPTSIM_CORE_SRCS) \
		$(LPTSIM_SEAM) $(LPTSIM_LINK)

# Test builds compile the library sources too, so they are sanitized as well.
$(LPTSIM_ASAN_BIN): tools/lptsim/main.c $(LPTSIM_CORE_SRCS) $(LPTSIM_SEAM) $(LPTSIM_HDRS) \
		$(LPTSIM_LPT_SRCS) $(LPTSIM_LPT_HDRS)
	@mkdir -p $(dir $@)
	$(LPTSIM_CC) $(LPTSIM_CFLAGS) -O1 $(LPTSIM_SAN) $(LPTSIM_LPT_WARN) -o $@ tools/lptsim/main.c \
		$(LPTSIM_CORE_SRCS) $(LPTSIM_SEAM) $(LPTSIM_LPT_SRCS)

$(LPTSIM_UNIT): tests/lptsim/lptsim_unit_test.c $(LPTSIM_CORE_SRCS) $(LPTSIM_SEAM) \
		$(LPTSIM_HDRS) $(LPTSIM_LPT_SRCS) $(LPTSIM_LPT_HDRS)
	@mkdir -p $(dir $@)
	$(LPTSIM_CC) $(LPTSIM_CFLAGS) -O1 $(LPTSIM_SAN) $(LPTSIM_LPT_WARN) -Itools/lptsim -o $@ \
		tests/lptsim/lptsim_unit_test.c $(LPTSIM_CORE_SRCS) $(LPTSIM_SEAM) \
		$(LPTSIM_LPT_SRCS)

lptsim-check: $(LPTSIM_ASAN_BIN) $(LPTSIM_UNIT)
	@sh tests/lptsim/run_tests.sh $(LPTSIM_UNIT) $(LPTSIM_ASAN_BIN) $(LPTSIM_OUT)/check

lptsim-bench: lptsim
	@sh tools/lptsim/bench.sh $(LPTSIM_BIN) $(LPTSIM_OUT)/bench $(LPTSIM_OUT)/bench.json

lptsim-clean:
	rm -rf $(LPTSIM_OUT)
