# Make fragment for the learned page table core (lib/lpt): builds the
# library for tools, runs the unit tests under ASan+UBSan and the libFuzzer
# targets.  It is included by the top-level Makefile and also works alone as
# `make -f mk/lpt.mk <target>` from the repository root, so it assumes
# nothing but the current directory and prefixes every variable with LPT_.
#
#   lpt-lib    build/lpt/liblpt.a (optimised, no sanitizers) for tools
#   lpt-check  unit tests + each fuzzer for FUZZ_SECONDS (20), TAP output
#   lpt-fuzz   each fuzzer for FUZZ_SECONDS (600), reports executions
#   lpt-clean  remove build/lpt

LPT_OUT		:= build/lpt
LPT_CC		?= gcc
LPT_FUZZ_CC	?= clang
LPT_AR		?= ar
LPT_SRCS	:= $(wildcard lib/lpt/*.c)
LPT_HDRS	:= $(wildcard lib/lpt/*.h) $(wildcard include/lpt/*.h)
LPT_WARN	:= -Wall -Wextra -Wshadow -Wstrict-prototypes -Wvla \
		   -Wno-unused-parameter
LPT_CFLAGS	?= -std=gnu11 -O2 -g $(LPT_WARN) -Iinclude -Ilib/lpt
LPT_SAN		:= -fsanitize=address,undefined -fno-sanitize-recover=all \
		   -fno-omit-frame-pointer
LPT_FUZZ_FLAGS	:= -std=gnu11 -O1 -g $(LPT_WARN) -Iinclude -Ilib/lpt \
		   -fsanitize=fuzzer,address,undefined \
		   -fno-sanitize-recover=all
LPT_FUZZERS	:= lpt_fuzz_ops lpt_fuzz_walk
LPT_LIB_OBJS	:= $(patsubst lib/lpt/%.c,$(LPT_OUT)/obj/%.o,$(LPT_SRCS))

.PHONY: lpt-lib lpt-check lpt-fuzz lpt-clean lpt-tests

lpt-lib: $(LPT_OUT)/liblpt.a

$(LPT_OUT)/obj/%.o: lib/lpt/%.c $(LPT_HDRS)
	@mkdir -p $(dir $@)
	$(LPT_CC) $(LPT_CFLAGS) -c -o $@ $<

$(LPT_OUT)/liblpt.a: $(LPT_LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	$(LPT_AR) rcs $@ $^

# Unit tests link the library sources directly, built with sanitizers.
$(LPT_OUT)/lpt_test: tests/lpt/lpt_test.c tests/lpt/lpt_testlib.h \
		$(LPT_SRCS) $(LPT_HDRS)
	@mkdir -p $(dir $@)
	$(LPT_CC) $(LPT_CFLAGS) -O1 $(LPT_SAN) -o $@ tests/lpt/lpt_test.c \
		$(LPT_SRCS)

$(LPT_OUT)/%: tests/lpt/%.c tests/lpt/lpt_testlib.h $(LPT_SRCS) $(LPT_HDRS)
	@mkdir -p $(dir $@)
	$(LPT_FUZZ_CC) $(LPT_FUZZ_FLAGS) -o $@ $< $(LPT_SRCS)

lpt-tests: $(LPT_OUT)/lpt_test $(addprefix $(LPT_OUT)/,$(LPT_FUZZERS))

# Fuzzers print "ok"/"not ok" lines continuing the unit tests' numbering;
# the plan goes last (TAP allows a trailing plan).
lpt-check: FUZZ_SECONDS ?= 20
lpt-check: lpt-tests
	@sh tests/lpt/run.sh check $(LPT_OUT) $(FUZZ_SECONDS) $(LPT_FUZZERS)

lpt-fuzz: FUZZ_SECONDS ?= 600
lpt-fuzz: lpt-tests
	@sh tests/lpt/run.sh fuzz $(LPT_OUT) $(FUZZ_SECONDS) $(LPT_FUZZERS)

lpt-clean:
	rm -rf $(LPT_OUT)
