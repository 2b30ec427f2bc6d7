/*
 * The Spark Streaming peer of make bench: JVM Spark (the Java API of
 * spark-streaming_2.13), local[2].  bench/run.sh builds it with Maven.
 *
 *	Stream [--check DIR] DATA WORKLOAD...
 *	Stream kafka BROKERS TOPIC RECORDS BATCH_MS RATE [CHECK_TSV]
 *
 * WORKLOAD is w3 (reduceByKey), w4 (reduceByKeyAndWindow with an
 * inverse function), w5 (updateStateByKey) or w6 (NetworkWordCount's
 * flatMap + mapToPair + reduceByKey).  DATA is the bench's access log
 * (w3-w5) or its text file (w6).
 *
 * The driver pre-splits the data into the batches ds sees: the 2 s
 * event-time batches of ds-batch -T ts -i 2s (ts / 2000, empty batches
 * between two full ones kept), or 10000 lines a batch for text.  Each
 * batch is one RDD of raw lines in a queueStream (one RDD a batch
 * interval), so Spark parses the JSON itself as ds does.  The interval
 * is 100 ms: Spark falls behind the clock and runs the queued batches
 * back to back, which measures throughput, not the wall clock.  Window
 * and slide are 3 and 1 intervals, ds-window -w 6s -s 2s on 2 s batches.
 * Timing runs from ssc.start() to the output of the last data batch,
 * after a warm-up run of the same workload on the first 5 batches (the
 * JIT compiles Spark's code there); JVM start-up and the driver's
 * reading of the file are left out.
 *
 * kafka: a direct stream (spark-streaming-kafka-0-10) from the start of
 * TOPIC, reduceByKey per batch of BATCH_MS, output collected; it stops
 * when RECORDS records went through.  RATE is maxRatePerPartition
 * (records/s, 0 for none).  Latency per batch is Spark's total
 * delay (batch time to end of output) of the batches that held records.
 *
 * Prints one JSON line per run on stdout:
 * {"workload":"w3","records":N,"batches":B,"seconds":S,"rss_mb":M,...}
 * With --check DIR, also writes DIR/WORKLOAD.tsv, one line per output
 * record, "batch<TAB>key<TAB>values...", batches counted from 1 (w6 and
 * kafka: totals over all batches, batch 0), for bench/check.py.
 */
package ds.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.Optional;
import org.apache.spark.streaming.Duration;
import org.apache.spark.streaming.Durations;
import org.apache.spark.streaming.api.java.JavaDStream;
import org.apache.spark.streaming.api.java.JavaInputDStream;
import org.apache.spark.streaming.api.java.JavaPairDStream;
import org.apache.spark.streaming.api.java.JavaStreamingContext;
import org.apache.spark.streaming.kafka010.ConsumerStrategies;
import org.apache.spark.streaming.kafka010.KafkaUtils;
import org.apache.spark.streaming.kafka010.LocationStrategies;
import org.apache.spark.streaming.scheduler.BatchInfo;
import org.apache.spark.streaming.scheduler.StreamingListener;
import org.apache.spark.streaming.scheduler.StreamingListenerBatchCompleted;
import scala.Tuple2;

public final class Stream {
	static final int TEXT_BATCH = 10000;
	static final long BATCH_MS = 100;
	static final ObjectMapper JSON = new ObjectMapper();

	/* the output sink's state: static, so no checkpoint carries it */
	static int want;		/* data batches (or records) to wait for */
	static boolean keep;
	static int seen;
	static long end;
	static long records;
	static final List<long[]> lat = new ArrayList<>();
	static final List<List<Tuple2<String, long[]>>> results =
	    new ArrayList<>();
	static CountDownLatch done;
	static int gen;			/* the run; a stopped one's late output is ignored */

	static Tuple2<String, long[]> userBytes(String line) throws IOException {
		JsonNode d = JSON.readTree(line);
		return new Tuple2<>(d.get("user").asText(),
		    new long[] { d.get("bytes").asLong(), 1 });
	}

	static long[] add2(long[] a, long[] b) {
		return new long[] { a[0] + b[0], a[1] + b[1] };
	}

	static long[] sub2(long[] a, long[] b) {
		return new long[] { a[0] - b[0], a[1] - b[1] };
	}

	/* peak RSS of this JVM in MB (local mode: no other process) */
	static double hwmMb() throws IOException {
		for (String l : Files.readAllLines(Paths.get("/proc/self/status")))
			if (l.startsWith("VmHWM:"))
				return Long.parseLong(l.replaceAll("[^0-9]", "")) /
				    1024.0;
		return 0;
	}

	/* lines grouped by 2 s event-time batch, gaps kept as empty lists */
	static List<List<String>> splitLog(String path) throws IOException {
		List<List<String>> b = new ArrayList<>();
		long cur = Long.MIN_VALUE;
		try (BufferedReader r = Files.newBufferedReader(Paths.get(path),
		    StandardCharsets.UTF_8)) {
			for (String line; (line = r.readLine()) != null;) {
				int i = line.indexOf("\"ts\":") + 5, j = i;
				while (Character.isDigit(line.charAt(j)))
					j++;
				long k = Long.parseLong(line.substring(i, j)) / 2000;
				if (cur == Long.MIN_VALUE) {
					cur = k;
					b.add(new ArrayList<>());
				}
				for (; k > cur; cur++)
					b.add(new ArrayList<>());
				b.get(b.size() - 1).add(line);
			}
		}
		return b;
	}

	static List<List<String>> splitText(String path) throws IOException {
		List<List<String>> b = new ArrayList<>();
		int n = 0;
		try (BufferedReader r = Files.newBufferedReader(Paths.get(path),
		    StandardCharsets.UTF_8)) {
			for (String line; (line = r.readLine()) != null; n++) {
				if (n % TEXT_BATCH == 0)
					b.add(new ArrayList<>());
				b.get(b.size() - 1).add(line);
			}
		}
		return b;
	}

	static JavaPairDStream<String, long[]> workload(String w,
	    JavaDStream<String> lines, JavaStreamingContext ssc, String ck) {
		Duration iv = Durations.milliseconds(BATCH_MS);

		switch (w) {
		case "w3":
			return lines.mapToPair(Stream::userBytes)
			    .reduceByKey(Stream::add2, 2);
		case "w4":
			ssc.checkpoint(ck);
			return lines.mapToPair(Stream::userBytes)
			    .reduceByKeyAndWindow(Stream::add2, Stream::sub2,
			    iv.times(3), iv, 2, kv -> kv._2()[1] > 0)
			    .mapValues(v -> new long[] { v[0] });
		case "w5":
			/* W5 in ds runs on ds-reduce's per-batch sums: so here */
			ssc.checkpoint(ck);
			return lines.mapToPair(Stream::userBytes)
			    .reduceByKey(Stream::add2, 2)
			    .updateStateByKey((List<long[]> vs,
			    Optional<long[]> st) -> {
				long s = st.isPresent() ? st.get()[0] : 0;
				for (long[] v : vs)
					s += v[0];
				return Optional.of(new long[] { s });
			    }, 2);
		case "w6":
			return lines.flatMap(l -> Arrays.asList(l.split(" "))
			    .iterator())
			    .mapToPair(x -> new Tuple2<>(x, new long[] { 1 }))
			    .reduceByKey((a, b) -> new long[] { a[0] + b[0] }, 2);
		default:
			throw new IllegalArgumentException("unknown workload " + w);
		}
	}

	/* run ssc until the sink says done: {seconds, peak RSS in MB} */
	static double[] timed(JavaStreamingContext ssc) throws Exception {
		long t0 = System.nanoTime();

		ssc.start();
		done.await();
		double[] t = { (end - t0) / 1e9, hwmMb() };
		ssc.stop(false, false);
		return t;
	}

	static void reset(int n, boolean k) {
		gen++;
		want = n;
		keep = k;
		seen = 0;
		records = 0;
		end = 0;
		lat.clear();
		results.clear();
		done = new CountDownLatch(1);
	}

	/* foreachRDD of the queueStream runs: count batches */
	static synchronized void sinkBatch(int g,
	    List<Tuple2<String, long[]>> res) {
		if (g != gen)
			return;
		seen++;
		if (keep && seen <= want)
			results.add(res);
		if (seen == want) {
			end = System.nanoTime();
			done.countDown();
		}
	}

	static void run(JavaSparkContext sc, String w, List<List<String>> batches,
	    String ck, String check, boolean print) throws Exception {
		JavaStreamingContext ssc = new JavaStreamingContext(sc,
		    Durations.milliseconds(BATCH_MS));
		Queue<JavaRDD<String>> q = new ArrayDeque<>();
		long n = 0;

		for (List<String> b : batches) {
			q.add(sc.parallelize(b, 2));
			n += b.size();
		}
		JavaDStream<String> lines = ssc.queueStream(q, true);
		reset(batches.size(), check != null);
		int g = gen;
		workload(w, lines, ssc, ck).foreachRDD(rdd ->
		    sinkBatch(g, rdd.collect()));
		double[] t = timed(ssc);
		if (!print)
			return;
		System.out.printf("{\"workload\":\"%s\",\"records\":%d," +
		    "\"batches\":%d,\"seconds\":%.3f,\"rss_mb\":%.1f}%n",
		    w, n, batches.size(), t[0], t[1]);
		System.out.flush();
		if (check != null)
			writeCheck(Paths.get(check, w + ".tsv"), w.equals("w6"));
	}

	/* results as "batch<TAB>key<TAB>values..."; totals: one batch 0 */
	static void writeCheck(Path p, boolean totals) throws IOException {
		try (PrintWriter f = new PrintWriter(Files.newBufferedWriter(p,
		    StandardCharsets.UTF_8))) {
			if (totals) {
				Map<String, long[]> t = new HashMap<>();
				for (List<Tuple2<String, long[]>> res : results)
					for (Tuple2<String, long[]> kv : res)
						t.merge(kv._1(), kv._2(), Stream::addAll);
				for (Map.Entry<String, long[]> e : t.entrySet())
					f.println("0\t" + e.getKey() + tabs(e.getValue()));
				return;
			}
			int i = 0;
			for (List<Tuple2<String, long[]>> res : results) {
				i++;
				for (Tuple2<String, long[]> kv : res)
					f.println(i + "\t" + kv._1() + tabs(kv._2()));
			}
		}
	}

	static long[] addAll(long[] a, long[] b) {
		long[] s = a.clone();
		for (int i = 0; i < s.length; i++)
			s[i] += b[i];
		return s;
	}

	static String tabs(long[] v) {
		StringBuilder s = new StringBuilder();
		for (long x : v)
			s.append('\t').append(x);
		return s.toString();
	}

	/* the end-to-end row: a direct stream from Kafka, reduceByKey */
	static void kafka(JavaSparkContext sc, String[] a) throws Exception {
		String brokers = a[1], topic = a[2];
		long n = Long.parseLong(a[3]);
		long ms = Long.parseLong(a[4]);
		String check = a.length > 6 ? a[6] : null;
		JavaStreamingContext ssc = new JavaStreamingContext(sc,
		    Durations.milliseconds(ms));
		Map<String, Object> kp = new HashMap<>();

		kp.put("bootstrap.servers", brokers);
		kp.put("key.deserializer", StringDeserializer.class);
		kp.put("value.deserializer", StringDeserializer.class);
		kp.put("group.id", "ds-bench-spark-" + ProcessHandle.current().pid());
		kp.put("auto.offset.reset", "earliest");
		kp.put("enable.auto.commit", false);
		JavaInputDStream<ConsumerRecord<String, String>> in =
		    KafkaUtils.createDirectStream(ssc,
		    LocationStrategies.PreferConsistent(),
		    ConsumerStrategies.<String, String>Subscribe(List.of(topic), kp));
		reset(0, check != null);
		ssc.addStreamingListener(new StreamingListener() {
			@Override
			public void onBatchCompleted(StreamingListenerBatchCompleted e) {
				batchDone(e.batchInfo(), n);
			}
		});
		in.mapToPair(r -> userBytes(r.value()))
		    .reduceByKey(Stream::add2, 2)
		    .foreachRDD(rdd -> {
			    List<Tuple2<String, long[]>> res = rdd.collect();
			    if (keep && !res.isEmpty())
				    results.add(res);
		    });
		double[] t = timed(ssc);
		long tot = 0, max = 0;
		for (long[] l : lat) {
			tot += l[0];
			max = Math.max(max, l[0]);
		}
		System.out.printf("{\"workload\":\"kafka\",\"records\":%d," +
		    "\"batches\":%d,\"seconds\":%.3f,\"rss_mb\":%.1f," +
		    "\"lat_ms_mean\":%d,\"lat_ms_max\":%d}%n", records, lat.size(),
		    t[0], t[1], lat.isEmpty() ? 0 : tot / lat.size(), max);
		System.out.flush();
		if (check != null)
			writeCheck(Paths.get(check), true);
	}

	/* listener: the total delay of each batch that held records */
	static synchronized void batchDone(BatchInfo b, long n) {
		if (b.numRecords() == 0 || records >= n)
			return;
		records += b.numRecords();
		lat.add(new long[] { (Long) b.totalDelay().get() });
		if (records >= n) {
			end = System.nanoTime();
			done.countDown();
		}
	}

	public static void main(String[] args) throws Exception {
		SparkConf conf = new SparkConf().setMaster("local[2]")
		    .setAppName("ds-bench")
		    .set("spark.ui.enabled", "false")
		    .set("spark.streaming.concurrentJobs", "1");
		if (args.length >= 6 && args[0].equals("kafka") &&
		    !args[5].equals("0"))
			conf.set("spark.streaming.kafka.maxRatePerPartition",
			    args[5]);
		JavaSparkContext sc = new JavaSparkContext(conf);
		sc.setLogLevel("ERROR");
		/* warm-up: class loading and the first job before the clock */
		sc.parallelize(Arrays.asList(1, 2, 3, 4), 2).map(x -> x * 2).count();
		Path ck = null;
		try {
			if (args.length >= 6 && args[0].equals("kafka")) {
				kafka(sc, args);
				return;
			}
			int i = 0;
			String check = null;
			if (args.length > 1 && args[0].equals("--check")) {
				check = args[1];
				i = 2;
			}
			if (args.length - i < 2)
				throw new IllegalArgumentException("usage: Stream " +
				    "[--check DIR] DATA WORKLOAD... | Stream kafka " +
				    "BROKERS TOPIC RECORDS BATCH_MS RATE [CHECK_TSV]");
			String data = args[i];
			List<String> ws = Arrays.asList(args).subList(i + 1,
			    args.length);
			if (ws.contains("w6") && ws.size() > 1)
				throw new IllegalArgumentException("w6 reads the " +
				    "text file: run it on its own");
			List<List<String>> batches = ws.equals(List.of("w6")) ?
			    splitText(data) : splitLog(data);
			ck = Files.createTempDirectory("ds-bench-spark-");
			for (String w : ws) {
				/* warm-up: the JIT compiles on a few batches first */
				run(sc, w, batches.subList(0, Math.min(5,
				    batches.size())), ck.resolve(w + "-warm")
				    .toString(), null, false);
				run(sc, w, batches, ck.resolve(w).toString(), check,
				    true);
			}
		} finally {
			sc.stop();
			if (ck != null)
				try (java.util.stream.Stream<Path> s = Files.walk(ck)) {
					s.sorted(java.util.Comparator.reverseOrder())
					    .forEach(f -> f.toFile().delete());
				}
		}
	}
}
