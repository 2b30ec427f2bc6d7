# ds -- discretized streams for the shell.  Plain make; see config.mk.
include config.mk

TOOLS != ls bin/ds-*.c 2>/dev/null | sed 's,^bin/,,; s,\.c$$,,'
LIBSRC != ls lib/*.c
LIBOBJ = $(LIBSRC:lib/%.c=$(BUILD)/lib/%.o)
BINS = $(TOOLS:%=$(BUILD)/bin/%)
MANS != ls man/*.[17] 2>/dev/null
HDRS != ls lib/*.h

# tools that talk to servers link their client library
CFLAGS_ds-kafka-cat = $(KAFKA_CFLAGS)
LIBS_ds-kafka-cat = $(KAFKA_LIBS)
CFLAGS_ds-sink-mongo = $(MONGO_CFLAGS)
LIBS_ds-sink-mongo = $(MONGO_LIBS) -pthread

all: $(BUILD)/libds.a $(BINS)

# lib files that wrap a client library: lib/kafka*.c, lib/mongo*.c
$(BUILD)/lib/kafka%.o: CPPFLAGS += $(KAFKA_CFLAGS)
$(BUILD)/lib/mongo%.o: CPPFLAGS += $(MONGO_CFLAGS)

$(BUILD)/lib/%.o: lib/%.c $(HDRS) config.mk
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(CPPFLAGS) -c -o $@ $<

$(BUILD)/libds.a: $(LIBOBJ)
	rm -f $@
	$(AR) rcs $@ $(LIBOBJ)

$(BUILD)/bin/%: bin/%.c $(BUILD)/libds.a lib/ds.h config.mk
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(CPPFLAGS) $(CFLAGS_$*) -o $@ $< $(BUILD)/libds.a \
	    $(LDFLAGS) $(LIBS_$*) $(LIBS)

# the same tools built with AddressSanitizer and UBSan, for the test tier
asan:
	$(MAKE) BUILD=build/asan OPT="-O1 -g" EXTRA_CFLAGS="$(SANFLAGS)" \
	    EXTRA_LDFLAGS="$(SANFLAGS)" all

# installs what is missing, builds, starts servers, runs every tier
test:
	test/run.sh

bench: all
	bench/run.sh

# like test: install what is missing first (a new machine has nothing)
demo:
	test/deps.sh
	$(MAKE) all
	examples/demo.sh

lint:
	$(MAKE) BUILD=build/lint EXTRA_CFLAGS=-Werror all
	mandoc -Tlint -Wwarning $(MANS)
	cppcheck --quiet --error-exitcode=1 --std=c11 \
	    --enable=warning,portability --inline-suppr \
	    --suppress=missingIncludeSystem -Ilib lib bin
	@# a bare wait in a test also waits for bats' timeout watchdog
	! grep -nE '^[[:space:]]*wait[[:space:]]*($$|[;&|])' test/*.bats

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

.PHONY: all asan test bench demo lint install uninstall clean
