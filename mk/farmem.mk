# Make fragment for the far-memory core (lib/farmem, include/farmem,
# docs/farmem.md): builds the library, runs the unit tests under
# ASan+UBSan, the scope/evacuator race test under ThreadSanitizer and the
# libFuzzer target.  Included by the top-level Makefile; also works alone
# as `make -f mk/farmem.mk <target>` from the repository root, so it
# assumes nothing but the current directory and prefixes every variable
# FARMEM_.
#
#   farmem-lib    build/farmem/libfarmem.a (optimised, no sanitizers)
#   farmem-check  unit tests + TSan race test + each fuzzer for
#                 FUZZ_SECONDS (10), one TAP stream
#   farmem-fuzz   each fuzzer for FUZZ_SECONDS (600)
#   farmem-clean  remove build/farmem
#   farmem-hitpath  the hit path of fm_deref() as compiled, counted

FARMEM_OUT	:= build/farmem
FARMEM_CC	?= gcc
FARMEM_TSAN_CC	?= clang
FARMEM_FUZZ_CC	?= clang
FARMEM_AR	?= ar
FARMEM_SRCS	:= $(wildcard lib/farmem/*.c)
FARMEM_HDRS	:= $(wildcard lib/farmem/*.h) $(wildcard include/farmem/*.h)
FARMEM_THDRS	:= $(wildcard tests/farmem/*.h)
FARMEM_WARN	:= -Wall -Wextra -Wshadow -Wstrict-prototypes -Wvla \
		   -Wno-unused-parameter
FARMEM_CFLAGS	?= -std=gnu11 -O2 -g $(FARMEM_WARN) -Iinclude -Ilib/farmem
FARMEM_SAN	:= -fsanitize=address,undefined -fno-sanitize-recover=all \
		   -fno-omit-frame-pointer
FARMEM_TSAN	:= -std=gnu11 -O1 -g $(FARMEM_WARN) -Iinclude -Ilib/farmem \
		   -fsanitize=thread
FARMEM_FUZZ_FLAGS := -std=gnu11 -O1 -g $(FARMEM_WARN) -Iinclude -Ilib/farmem \
		   -fsanitize=fuzzer,address,undefined \
		   -fno-sanitize-recover=all
FARMEM_FUZZERS	:= fm_fuzz_heap
FARMEM_LIB_OBJS	:= $(patsubst lib/farmem/%.c,$(FARMEM_OUT)/obj/%.o,$(FARMEM_SRCS))
FARMEM_DEPS	:= $(FARMEM_SRCS) $(FARMEM_HDRS) $(FARMEM_THDRS)

.PHONY: farmem-lib farmem-check farmem-fuzz farmem-clean farmem-tests

farmem-lib: $(FARMEM_OUT)/libfarmem.a

$(FARMEM_OUT)/obj/%.o: lib/farmem/%.c $(FARMEM_HDRS)
	@mkdir -p $(dir $@)
	$(FARMEM_CC) $(FARMEM_CFLAGS) -c -o $@ $<

$(FARMEM_OUT)/libfarmem.a: $(FARMEM_LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	$(FARMEM_AR) rcs $@ $^

$(FARMEM_OUT)/fm_test: tests/farmem/fm_test.c $(FARMEM_DEPS)
	@mkdir -p $(dir $@)
	$(FARMEM_CC) $(FARMEM_CFLAGS) -O1 $(FARMEM_SAN) -o $@ $< \
		$(FARMEM_SRCS) -pthread

$(FARMEM_OUT)/fm_race: tests/farmem/fm_race.c $(FARMEM_DEPS)
	@mkdir -p $(dir $@)
	$(FARMEM_TSAN_CC) $(FARMEM_TSAN) -o $@ $< $(FARMEM_SRCS) -pthread

$(FARMEM_OUT)/fm_fuzz_%: tests/farmem/fm_fuzz_%.c $(FARMEM_DEPS)
	@mkdir -p $(dir $@)
	$(FARMEM_FUZZ_CC) $(FARMEM_FUZZ_FLAGS) -o $@ $< $(FARMEM_SRCS) -pthread

farmem-tests: $(FARMEM_OUT)/fm_test $(FARMEM_OUT)/fm_race \
	$(addprefix $(FARMEM_OUT)/,$(FARMEM_FUZZERS))

# One TAP stream: unit tests, race test, one line per fuzzer; plan last.
farmem-check: FUZZ_SECONDS ?= 10
farmem-check: farmem-tests
	@sh tests/farmem/run.sh check $(FARMEM_OUT) $(FUZZ_SECONDS) $(FARMEM_FUZZERS)

farmem-fuzz: FUZZ_SECONDS ?= 600
farmem-fuzz: farmem-tests
	@sh tests/farmem/run.sh fuzz $(FARMEM_OUT) $(FUZZ_SECONDS) $(FARMEM_FUZZERS)

farmem-clean:
	rm -rf $(FARMEM_OUT)

# The dereference hit path as the compiler emits it (docs/farmem.md): the
# instructions of fm_deref() up to the first ret, at -O2.
.PHONY: farmem-hitpath
farmem-hitpath:
	@mkdir -p $(FARMEM_OUT)
	@printf '#include "farmem/farmem.h"\nvoid *fm_probe(fm_ptr_t *p) { return fm_deref(p); }\n' | \
		$(FARMEM_CC) -std=gnu11 -O2 -Iinclude -x c -c -o $(FARMEM_OUT)/hitpath.o -
	@objdump -d --no-show-raw-insn $(FARMEM_OUT)/hitpath.o | \
		awk '/<fm_probe>:/ { on = 1; next } on && NF { print; if ($$2 == "ret") { print n " instructions on the hit path before its ret"; exit } n++ }'
