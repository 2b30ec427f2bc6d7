# ds -- discretized streams for the shell.  GNU make; see config.mk.
include config.mk

TOOLS != ls bin/ds-*.c 2>/dev/null | sed 's,^bin/,,; s,\.c$$,,'
LIBSRC != ls lib/*/*.c
LIBOBJ = $(LIBSRC:lib/%.c=$(BUILD)/lib/%.o)
BINS = $(TOOLS:%=$(BUILD)/bin/%)
MANS != ls man/*.[17] 2>/dev/null
HDRS != ls lib/*.h lib/*/*.h

# tools that talk to servers link their client library
CFLAGS_ds-kafka-cat = $(KAFKA_CFLAGS)
LIBS_ds-kafka-cat = $(KAFKA_LIBS)
CFLAGS_ds-state = $(KAFKA_CFLAGS)
LIBS_ds-state = $(KAFKA_LIBS)
CFLAGS_ds-window = $(KAFKA_CFLAGS)
LIBS_ds-window = $(KAFKA_LIBS)
CFLAGS_ds-sink-mongo = $(MONGO_CFLAGS)
LIBS_ds-sink-mongo = $(MONGO_LIBS) -pthread

all: $(BUILD)/libds.a $(BINS)

# lib files that wrap a client library: lib/kafka/, lib/mongo/
$(BUILD)/lib/kafka/%.o: CPPFLAGS += $(KAFKA_CFLAGS)
$(BUILD)/lib/mongo/%.o: CPPFLAGS += $(MONGO_CFLAGS)

$(BUILD)/lib/%.o: lib/%.c $(HDRS) config.mk
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(CPPFLAGS) -c -o $@ $<

$(BUILD)/libds.a: $(LIBOBJ)
	rm -f $@
	$(AR) rcs $@ $(LIBOBJ)

$(BUILD)/bin/%: bin/%.c $(BUILD)/libds.a $(HDRS) config.mk
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(CPPFLAGS) $(CFLAGS_$*) -o $@ $< $(BUILD)/libds.a \
	    $(LDFLAGS) $(LIBS_$*) $(LIBS)

# the same tools built with AddressSanitizer and UBSan, for the test tier
asan:
	$(MAKE) BUILD=build/asan OPT="-O1 -g" EXTRA_CFLAGS="$(SANFLAGS)" \
	    EXTRA_LDFLAGS="$(SANFLAGS)" all

# fuzz harnesses (test/fuzz): fz-NAME.c with test/fuzz/main.c, a driver
# that runs the files given (the plain tier replays the corpora so), or
# with libFuzzer, ASan and UBSan under clang (build/libfuzzer).  make fuzz
# runs each for FUZZTIME seconds; FUZZ="fz-json ..." picks harnesses.
FUZZERS != ls test/fuzz/fz-*.c 2>/dev/null | sed 's,^test/fuzz/,,; s,\.c$$,,'
FUZZMAIN = test/fuzz/main.c
FUZZTIME = 60

fuzzers: $(FUZZERS:%=$(BUILD)/fuzz/%)

$(BUILD)/fuzz/fz-%: test/fuzz/fz-%.c test/fuzz/fuzz.c test/fuzz/fuzz.h \
    test/fuzz/main.c $(BUILD)/libds.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(CPPFLAGS) $(KAFKA_CFLAGS) -Itest/fuzz -o $@ $< \
	    test/fuzz/fuzz.c $(FUZZMAIN) $(BUILD)/libds.a $(LDFLAGS) \
	    $(KAFKA_LIBS) $(LIBS)

libfuzzers:
	$(MAKE) BUILD=build/libfuzzer CC=clang OPT="-O1 -g" \
	    EXTRA_CFLAGS="$(SANFLAGS) -fsanitize=fuzzer-no-link" \
	    EXTRA_LDFLAGS="$(SANFLAGS)" FUZZMAIN=-fsanitize=fuzzer fuzzers

fuzz: libfuzzers
	test/fuzz/run.sh fuzz $(FUZZTIME) $(FUZZ)

# ds-map against jq on generated programs for JQDIFFTIME seconds, guided
# by the edge coverage of lib/jq (test/jq/jqdiff.py, test/jq/cov.c)
JQDIFFTIME = 600
jqdiff:
	$(MAKE) BUILD=build/jqcov CC=clang EXTRA_LDFLAGS=test/jq/cov.c \
	    EXTRA_CFLAGS="-fsanitize-coverage=trace-pc-guard \
	    -fsanitize-coverage-allowlist=test/jq/cov.allow" build/jqcov/bin/ds-map
	nice python3 test/jq/jqdiff.py -t $(JQDIFFTIME) --cov \
	    --ds build/jqcov/bin/ds-map -r test/jq/corpus.jsonl \
	    -x test/jq/xfail.jsonl -o build/jqdiff.jsonl \
	    --save build/jqdiff-corpus.jsonl

# installs what is missing, builds, starts servers, runs every tier
test:
	test/run.sh

bench: all
	bench/run.sh

# like test: install what is missing first (a new machine has nothing)
demo:
	test/deps.sh
	$(MAKE) all
	PATH="$(CURDIR)/$(BUILD)/bin:$$PATH" examples/demo.sh

lint:
	$(MAKE) BUILD=build/lint EXTRA_CFLAGS=-Werror all
	mandoc -Tlint -Wwarning $(MANS)
	cppcheck --quiet --error-exitcode=1 --std=c11 \
	    --enable=warning,portability --inline-suppr \
	    --suppress=missingIncludeSystem -Ilib lib bin
	test/lint-fnlen.sh

install: all
	mkdir -p $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(MANPREFIX)/man1 \
	    $(DESTDIR)$(MANPREFIX)/man7
	cp -f $(BINS) $(DESTDIR)$(PREFIX)/bin/
	for m in $(MANS); do \
		s=$${m##*.}; cp -f $$m $(DESTDIR)$(MANPREFIX)/man$$s/; \
	done

uninstall:
	for t in $(TOOLS); do rm -f $(DESTDIR)$(PREFIX)/bin/$$t; done
	for m in $(MANS); do \
		s=$${m##*.}; rm -f $(DESTDIR)$(MANPREFIX)/man$$s/$${m#man/}; \
	done

clean:
	rm -rf build bench/results.md

.PHONY: all asan fuzzers libfuzzers fuzz jqdiff test bench demo lint install uninstall clean
