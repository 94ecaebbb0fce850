# Make fragment for the machine-model core (lib/mmodel, docs/mmodel.md):
# builds the library for tools, runs the unit tests under ASan+UBSan, the
# freestanding build check and the libFuzzer targets, and the throughput
# bench.  Included by the top-level Makefile; also works alone as
# `make -f mk/mmodel.mk <target>` from the repository root, so it assumes
# nothing but the current directory and prefixes every variable MMODEL_.
#
#   mmodel-lib    build/mmodel/libmmodel.a (optimised, no sanitizers)
#   mmodel-check  unit tests + freestanding check + each fuzzer for
#                 FUZZ_SECONDS (10), TAP output
#   mmodel-fuzz   each fuzzer for FUZZ_SECONDS (600)
#   mmodel-bench  accesses per second of the per-access path
#   mmodel-clean  remove build/mmodel

MMODEL_OUT	:= build/mmodel
MMODEL_CC	?= gcc
MMODEL_FUZZ_CC	?= clang
MMODEL_AR	?= ar
MMODEL_SRCS	:= $(wildcard lib/mmodel/*.c)
MMODEL_HDRS	:= $(wildcard lib/mmodel/*.h)
MMODEL_THDRS	:= $(wildcard tests/mmodel/*.h)
MMODEL_WARN	:= -Wall -Wextra -Wshadow -Wstrict-prototypes -Wvla \
		   -Wno-unused-parameter
MMODEL_CFLAGS	?= -std=gnu11 -O2 -g $(MMODEL_WARN) -Ilib/mmodel
MMODEL_SAN	:= -fsanitize=address,undefined -fno-sanitize-recover=all \
		   -fno-omit-frame-pointer
MMODEL_FUZZ_FLAGS := -std=gnu11 -O1 -g $(MMODEL_WARN) -Ilib/mmodel \
		   -fsanitize=fuzzer,address,undefined \
		   -fno-sanitize-recover=all
MMODEL_FUZZERS	:= mmodel_fuzz_parse mmodel_fuzz_access
MMODEL_LIB_OBJS	:= $(patsubst lib/mmodel/%.c,$(MMODEL_OUT)/obj/%.o,$(MMODEL_SRCS))

.PHONY: mmodel-lib mmodel-check mmodel-fuzz mmodel-bench mmodel-clean \
	mmodel-tests

mmodel-lib: $(MMODEL_OUT)/libmmodel.a

$(MMODEL_OUT)/obj/%.o: lib/mmodel/%.c $(MMODEL_HDRS)
	@mkdir -p $(dir $@)
	$(MMODEL_CC) $(MMODEL_CFLAGS) -c -o $@ $<

$(MMODEL_OUT)/libmmodel.a: $(MMODEL_LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	$(MMODEL_AR) rcs $@ $^

$(MMODEL_OUT)/mmodel_test: tests/mmodel/mmodel_test.c $(MMODEL_SRCS) \
		$(MMODEL_HDRS) $(MMODEL_THDRS)
	@mkdir -p $(dir $@)
	$(MMODEL_CC) $(MMODEL_CFLAGS) -O1 $(MMODEL_SAN) -o $@ $< $(MMODEL_SRCS)

$(MMODEL_OUT)/mmodel_bench: tests/mmodel/mmodel_bench.c $(MMODEL_THDRS) \
		$(MMODEL_OUT)/libmmodel.a
	@mkdir -p $(dir $@)
	$(MMODEL_CC) $(MMODEL_CFLAGS) -o $@ $< $(MMODEL_OUT)/libmmodel.a

$(MMODEL_OUT)/mmodel_fuzz_%: tests/mmodel/mmodel_fuzz_%.c $(MMODEL_SRCS) \
		$(MMODEL_HDRS) $(MMODEL_THDRS)
	@mkdir -p $(dir $@)
	$(MMODEL_FUZZ_CC) $(MMODEL_FUZZ_FLAGS) -o $@ $< $(MMODEL_SRCS)

mmodel-tests: $(MMODEL_OUT)/mmodel_test $(addprefix $(MMODEL_OUT)/,$(MMODEL_FUZZERS))

# One TAP stream: unit tests, the freestanding check, one line per fuzzer.
mmodel-check: FUZZ_SECONDS ?= 10
mmodel-check: mmodel-tests
	@sh tests/mmodel/run.sh check $(MMODEL_OUT) $(FUZZ_SECONDS) $(MMODEL_FUZZERS)

mmodel-fuzz: FUZZ_SECONDS ?= 600
mmodel-fuzz: mmodel-tests
	@sh tests/mmodel/run.sh fuzz $(MMODEL_OUT) $(FUZZ_SECONDS) $(MMODEL_FUZZERS)

mmodel-bench: $(MMODEL_OUT)/mmodel_bench
	@$(MMODEL_OUT)/mmodel_bench

mmodel-clean:
	rm -rf $(MMODEL_OUT)
