/*
 * gen -- the bench's data generator: seeded, deterministic, fast.
 *
 *	gen log N [KEYS [cover]]	access-log NDJSON records
 *	gen text N			text lines (word count input)
 *
 * Log records look like the seeds' access logs (~140 bytes):
 *
 *	{"user":"u0421","app":"live","stream":"s07","bytes":48213,
 *	 "ip":"10.12.3.77","ts":1732255200000,"msg":"GET /live/... 200 ok"}
 *
 * KEYS (default 1000) users, drawn at random, or with "cover" in a
 * fixed stride so that the first KEYS records hold every user once (the
 * W9 memory rows: the same set of keys whatever the record count).  Four
 * apps (live 40%, vod 30%, hls 20%, rtmp 10%), 50 streams.  ts is epoch
 * milliseconds starting on a multiple of 2 s and advancing 1 ms every 5
 * records: 5000 records per simulated second, exactly 10000 records per
 * 2 s event-time batch.
 *
 * Built by bench/run.sh with cc; the same N gives the same bytes on every
 * machine (a private xorshift generator, no libc rand).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TS0	1732255200000LL		/* a multiple of 2000 */

static uint64_t rs = 0x9e3779b97f4a7c15ULL;

/* xorshift64*: fast and identical everywhere. */
static uint64_t
rnd(void)
{
	rs ^= rs >> 12;
	rs ^= rs << 25;
	rs ^= rs >> 27;
	return rs * 0x2545f4914f6cdd1dULL;
}

static const char *words[] = {
	"hello", "world", "spark", "stream", "batch", "window", "state",
	"kafka", "mongo", "live", "video", "play", "pause", "seek", "buffer",
	"error", "ok", "user", "click", "view", "course", "hadoop", "flume",
	"storm", "log", "access", "china", "beijing", "shanghai", "mobile",
	"pc", "android", "ios", "cdn", "edge", "origin", "hd", "sd", "4k",
	"audio", "chat", "gift", "like", "share", "follow", "search", "home",
	"list", "detail", "login", "logout", "pay", "order", "cart", "item",
	"brand", "shop", "coupon", "vip", "free", "trial", "ad", "skip",
	"rank", "top", "new", "hot", "music", "game", "sport", "news", "movie",
	"drama", "anime", "kids", "learn", "code", "data", "big", "small",
	"fast", "slow", "up", "down", "in", "out", "on", "off", "yes", "no",
	"a", "the", "of", "to", "and", "is", "it", "for", "with", "from",
};
#define NWORDS	(sizeof(words) / sizeof(words[0]))

static const char *msgs[] = {
	"GET /live/index.m3u8 200 ok",
	"GET /vod/seg-000123.ts 200 ok",
	"POST /api/heartbeat 204 ok",
	"GET /hls/master.m3u8 304 cached",
	"PLAY rtmp://edge/app/stream ok",
	"GET /vod/seg-000124.ts 206 partial",
	"GET /live/chunk.flv 200 buffering",
	"GET /api/user/profile 500 error",
};
#define NMSGS	(sizeof(msgs) / sizeof(msgs[0]))

static void
usage(void)
{
	fprintf(stderr, "usage: gen log N [KEYS [cover]] | gen text N\n");
	exit(2);
}

static void
genlog(long long n, long long keys, int cover)
{
	static const char *apps[] = { "live", "vod", "hls", "rtmp" };
	char line[512];
	long long i, u;
	uint64_t r;
	int len, a, w;

	w = keys > 100000 ? 7 : 4;	/* user id width */
	for (i = 0; i < n; i++) {
		r = rnd();
		u = cover ? (i * 7919) % keys : (long long)(r % (uint64_t)keys);
		a = (int)((r >> 20) % 10);
		a = a < 4 ? 0 : a < 7 ? 1 : a < 9 ? 2 : 3;
		len = snprintf(line, sizeof(line),
		    "{\"user\":\"u%0*lld\",\"app\":\"%s\",\"stream\":\"s%02d\","
		    "\"bytes\":%d,\"ip\":\"10.%d.%d.%d\",\"ts\":%lld,"
		    "\"msg\":\"%s\"}\n",
		    w, u, apps[a], (int)((r >> 24) % 50),
		    (int)((r >> 30) % 100000),
		    (int)((r >> 47) % 256), (int)((r >> 55) % 256),
		    (int)(rnd() % 254) + 1, TS0 + i / 5,
		    msgs[(r >> 40) % NMSGS]);
		fwrite(line, 1, (size_t)len, stdout);
	}
}

static void
gentext(long long n)
{
	long long i;
	int k, nw;
	uint64_t r;

	for (i = 0; i < n; i++) {
		r = rnd();
		nw = 4 + (int)(r % 7);
		for (k = 0; k < nw; k++) {
			r = rnd();
			/* skewed: low indexes are more frequent */
			fputs(words[(r % NWORDS) * ((r >> 32) % NWORDS) / NWORDS],
			    stdout);
			putchar(k + 1 < nw ? ' ' : '\n');
		}
	}
}

int
main(int argc, char **argv)
{
	long long n, keys = 1000;
	int cover = 0;

	if (argc < 3)
		usage();
	n = atoll(argv[2]);
	if (n < 0)
		usage();
	if (argc > 3 && (keys = atoll(argv[3])) <= 0)
		usage();
	if (argc > 4)
		cover = strcmp(argv[4], "cover") == 0;
	if (strcmp(argv[1], "log") == 0)
		genlog(n, keys, cover);
	else if (strcmp(argv[1], "text") == 0)
		gentext(n);
	else
		usage();
	if (fflush(stdout) == EOF || ferror(stdout)) {
		perror("gen: stdout");
		return 1;
	}
	return 0;
}
