# ds version and install paths
VERSION = 0.1.0
PREFIX = /usr/local
MANPREFIX = $(PREFIX)/share/man

# where objects and binaries go (the sanitizer build uses build/asan)
BUILD = build

PKG_CONFIG ?= pkg-config
PKGS = jansson libbsd-overlay oniguruma
KAFKA_PKGS = rdkafka
MONGO_PKGS = libmongoc-1.0

CC ?= cc
OPT = -O2 -g
CFLAGS = -std=c11 $(OPT) -Wall -Wextra -Wno-unused-parameter $(EXTRA_CFLAGS)
CPPFLAGS = -D_GNU_SOURCE -Ilib $(shell $(PKG_CONFIG) --cflags $(PKGS))
LDFLAGS = $(EXTRA_LDFLAGS)
LIBS = $(shell $(PKG_CONFIG) --libs $(PKGS)) -lm
KAFKA_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(KAFKA_PKGS))
KAFKA_LIBS = $(shell $(PKG_CONFIG) --libs $(KAFKA_PKGS))
MONGO_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(MONGO_PKGS))
MONGO_LIBS = $(shell $(PKG_CONFIG) --libs $(MONGO_PKGS))

SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
