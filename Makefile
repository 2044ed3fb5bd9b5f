# kenbank build.  `make` builds build/kenbank; `make test` runs everything;
# `make run` brings up the demo.  Sources are found by wildcard so that a new
# module pair needs no edit here.

CC       ?= cc
BUILD    ?= build
KENSHIN  ?= ../shared/data/kenshin
PKGS     := sqlite3 libpq libsodium libxml-2.0 icu-uc icu-i18n libmicrohttpd libcjson libzip libdeflate zlib libcrypto pangocairo cairo-pdf fontconfig
WARN     := -Wall -Wextra -Werror -Wno-unused-parameter
# gcc warns when snprintf may truncate; our truncation is deliberate and
# bounded, and clang has no such flag.
WARN     += $(if $(findstring clang,$(shell $(CC) --version 2>/dev/null | head -1)),,-Wno-format-truncation)
CSTD     := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
OPT      ?= -O2 -g
CFLAGS   += $(CSTD) $(OPT) $(WARN) -Isrc -I$(BUILD)/gen $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lzint -lm -lpthread

ifeq ($(SAN),1)
  CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  LDFLAGS += -fsanitize=address,undefined
endif
ifeq ($(SAN),thread)
  CFLAGS  += -fsanitize=thread -fno-omit-frame-pointer
  LDFLAGS += -fsanitize=thread
endif

SRCS     := $(shell find src -name '*.c' | sort)
LIBSRCS  := $(filter-out src/main.c,$(SRCS))
LIBOBJS  := $(LIBSRCS:%.c=$(BUILD)/%.o) $(BUILD)/gen/embedded.o
UNITSRCS := $(wildcard tests/unit/test_*.c)
UNITBINS := $(UNITSRCS:tests/unit/%.c=$(BUILD)/tests/%)
DEPS     := $(LIBOBJS:.o=.d) $(BUILD)/src/main.d

# Data compiled into the binary.  The MHLW item table is read from the shared
# data folder at build time, never copied by hand; our own tables live in data/.
EMBED    := $(KENSHIN)/XMLhc24tab.csv $(wildcard data/*.csv data/*.tsv) scripts/citus/distribute.sql

.PHONY: all test unit integration run bench fuzz deps clean asan tsan npm print-ldlibs lint

all: $(BUILD)/kenbank

$(BUILD)/kenbank: $(BUILD)/src/main.o $(BUILD)/libkenbank.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libkenbank.a: $(LIBOBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/%.o: %.c | $(BUILD)/gen/embedded.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tools/embed: tools/embed.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) -O2 -Wall -Wextra -Werror -o $@ $<

# The list itself is a prerequisite, so adding a file to EMBED regenerates
# the table in an existing build (it once kept an old one without the new file).
EMBED_LIST := $(BUILD)/gen/embed.list
$(shell mkdir -p $(BUILD)/gen && (echo '$(EMBED)' | cmp -s - $(EMBED_LIST) || echo '$(EMBED)' > $(EMBED_LIST)))

$(BUILD)/gen/embedded.c $(BUILD)/gen/embedded.h: $(BUILD)/tools/embed $(EMBED) $(EMBED_LIST)
	@mkdir -p $(BUILD)/gen
	$(BUILD)/tools/embed $(BUILD)/gen/embedded $(EMBED)

$(BUILD)/gen/embedded.o: $(BUILD)/gen/embedded.c
	$(CC) $(CSTD) -O1 -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libkenbank.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libkenbank.a $(LDLIBS) -lcmocka

unit: $(UNITBINS)

deps:
	@bash scripts/deps.sh

npm:
	@bash scripts/npm.sh

# The full suite: gcc build with unit + integration tests, then the same
# again under ASan+UBSan built with clang, so both compilers must stay clean.
test: deps npm
	@bash tests/run.sh

run: deps npm all
	@bash scripts/demo.sh

bench: deps all
	@bash bench/run.sh

fuzz: deps
	@bash tests/fuzz/run.sh

# The architecture's rules (tools/lint.py; exceptions in tools/lint-allow.txt).
# make test runs it through tests/integration/lint.sh, with planted violations.
lint: all
	@python3 tools/lint.py --lib $(BUILD)/libkenbank.a

asan:
	$(MAKE) BUILD=build/asan SAN=1 CC=clang OPT="-O1 -g" all unit

# ThreadSanitizer build for the code that shares state between threads (the
# audit batcher, the token cache, the server's pools); tests/run.sh runs the
# threaded tests with it.
tsan:
	$(MAKE) BUILD=build/tsan SAN=thread CC=clang OPT="-O1 -g" all build/tsan/tests/test_audit_batch build/tsan/tests/test_auth

clean:
	rm -rf build

-include $(DEPS)

# What a program linked against libkenbank.a needs (the benchmarks' own
# programs use it, so the list lives here once).
print-ldlibs:
	@echo $(LDLIBS)
