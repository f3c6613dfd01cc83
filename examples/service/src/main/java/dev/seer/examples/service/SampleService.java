package dev.seer.examples.service;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.seer.cache.CachePolicy;
import dev.seer.model.dit.DitModel;
import dev.seer.model.dit.DitPipeline;
import dev.seer.model.dit.SampleRequest;
import dev.seer.models.ShippedModels;
import dev.seer.sampling.Cancellation;
import dev.seer.sampling.RunCancelledException;
import dev.seer.sampling.SampleResult;
import dev.seer.tensor.ThreadLimit;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An image service on the JDK's HTTP server: one model and one {@link DitPipeline} shared by a pool of worker
 * threads, each run limited to its share of the cores, every request with a deadline, and a run cancelled when its
 * client goes away.
 *
 * <pre>
 * GET /sample?label=3&amp;seed=7&amp;policy=taylorseer:5:2&amp;steps=50&amp;scale=4&amp;timeout_ms=60000
 *     200 image/png, streamed: the header at once, a "seer-progress" text chunk after every step, then the image
 *         with "seer-latents-sha256" (digest of the float latents) and "seer-stats" text chunks
 *     400 text/plain naming the parameter, the value and what is allowed (nothing runs)
 * GET /stats   completed, cancelled and failed runs
 * </pre>
 *
 * The progress chunks are how the service notices a client that has gone: writing to its closed connection fails,
 * and the run is cancelled at its next step ({@link RunCancelledException}), freeing its memory. A run that fails
 * after the response has started ends the PNG with a "seer-error" text chunk and without its image or IEND chunk.
 */
public final class SampleService implements AutoCloseable {
    private static final Set<String> PARAMETERS = Set.of("label", "seed", "policy", "steps", "scale", "timeout_ms");
    private static final int SIDE = 28;

    private final HttpServer server;
    private final ExecutorService workers;
    private final DitModel model;
    private final DitPipeline pipeline;
    private final int threadsPerRun;
    private final AtomicLong completed = new AtomicLong();
    private final AtomicLong cancelled = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();

    private SampleService(HttpServer server, ExecutorService workers, DitModel model, int threadsPerRun) {
        this.server = server;
        this.workers = workers;
        this.model = model;
        this.pipeline = new DitPipeline(model, ShippedModels.FASHION_DIT_SETTINGS.clipDenoised());
        this.threadsPerRun = threadsPerRun;
    }

    /** Loads the shipped model and serves it on {@code address} with {@code workerCount} worker threads. */
    public static SampleService start(InetSocketAddress address, int workerCount) throws IOException {
        if (workerCount < 1 || workerCount > 256) {
            throw new IllegalArgumentException("workers: " + workerCount + " is not allowed; allowed: 1..256");
        }
        DitModel model = ShippedModels.fashionDit();
        HttpServer server;
        try {
            server = HttpServer.create(address, 64);
        } catch (IOException e) {
            model.close();
            throw e;
        }
        AtomicInteger n = new AtomicInteger();
        ExecutorService workers = Executors.newFixedThreadPool(workerCount,
                r -> new Thread(r, "sample-worker-" + n.incrementAndGet()));
        SampleService service = new SampleService(server, workers, model, ThreadLimit.share(workerCount));
        server.createContext("/sample", service::sample);
        server.createContext("/stats", service::stats);
        server.setExecutor(workers);
        server.start();
        return service;
    }

    public int port() {
        return server.getAddress().getPort();
    }

    public long completed() {
        return completed.get();
    }

    public long cancelled() {
        return cancelled.get();
    }

    public long failed() {
        return failed.get();
    }

    /** Stops accepting requests, ends the runs in progress at their next step, and frees the model. */
    @Override
    public void close() {
        server.stop(0);
        pipeline.close();
        workers.shutdown();
        try {
            workers.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        model.close();
    }

    private void stats(HttpExchange exchange) throws IOException {
        try (exchange) {
            answer(exchange, 200, "completed " + completed + "\ncancelled " + cancelled + "\nfailed " + failed + "\n");
        }
    }

    private void sample(HttpExchange exchange) throws IOException {
        try (exchange) {
            if (!exchange.getRequestMethod().equals("GET")) {
                answer(exchange, 405, "only GET is served\n");
                return;
            }
            Map<String, String> query;
            SampleRequest.Builder request;
            int scale;
            Cancellation cancellation;
            try {
                query = query(exchange.getRequestURI().getRawQuery());
                int label = intParam(query, "label", 0, 0, 9);
                int steps = intParam(query, "steps", ShippedModels.FASHION_DIT_SETTINGS.steps(), 1, 1000);
                scale = intParam(query, "scale", 4, 1, 16);
                int timeoutMs = intParam(query, "timeout_ms", 60_000, 1, 3_600_000);
                long seed = longParam(query, "seed", 0);
                CachePolicy policy = CachePolicy.parse(query.getOrDefault("policy", "taylorseer:5:2"));
                cancellation = Cancellation.withDeadline(Duration.ofMillis(timeoutMs));
                request = SampleRequest.builder(label).settings(ShippedModels.FASHION_DIT_SETTINGS).steps(steps)
                        .policy(policy).seed(seed).threads(threadsPerRun).cancellation(cancellation);
                request.build(); // every value checked before the response starts
            } catch (IllegalArgumentException e) {
                answer(exchange, 400, e.getMessage() + "\n");
                return;
            }
            exchange.getResponseHeaders().set("Content-Type", "image/png");
            exchange.sendResponseHeaders(200, 0); // chunked: the image follows the run
            OutputStream body = exchange.getResponseBody();
            ProgressivePng png = new ProgressivePng(body, SIDE * scale, SIDE * scale);
            request.listener((done, total, full) -> {
                try {
                    png.text("seer-progress", "step " + done + "/" + total + (full ? " full" : " forecast"));
                } catch (IOException gone) {
                    cancellation.cancel(); // the client has gone: stop at the next step
                }
            });
            SampleResult result;
            try {
                result = pipeline.sample(request.build());
            } catch (RunCancelledException e) {
                cancelled.incrementAndGet();
                endWithError(png, e.getMessage());
                return;
            } catch (RuntimeException e) {
                failed.incrementAndGet();
                endWithError(png, e.toString());
                return;
            }
            if (!result.stats().finite()) {
                failed.incrementAndGet();
                endWithError(png, "the samples are not finite");
                return;
            }
            try {
                png.text("seer-latents-sha256", sha256(result.latents()));
                png.text("seer-stats", String.format("full steps %d, forecast steps %d, %.1f ms",
                        result.stats().fullSteps().size(), result.stats().forecastSteps().size(),
                        result.stats().seconds() * 1e3));
                png.finish(pixels(result.latents(), scale));
                completed.incrementAndGet();
            } catch (IOException gone) {
                cancelled.incrementAndGet();
            }
        }
    }

    private static void endWithError(ProgressivePng png, String message) {
        try {
            png.text("seer-error", message.replaceAll("[^\\x20-\\x7e]", "?"));
        } catch (IOException gone) {
            // the client is gone; nothing to tell it
        }
    }

    private static void answer(HttpExchange exchange, int status, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
    }

    static Map<String, String> query(String raw) {
        Map<String, String> out = new LinkedHashMap<>();
        if (raw == null || raw.isEmpty()) {
            return out;
        }
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            if (!PARAMETERS.contains(key)) {
                throw new IllegalArgumentException("unknown parameter '" + key + "'; allowed: " + PARAMETERS);
            }
            if (out.put(key, value) != null) {
                throw new IllegalArgumentException("parameter '" + key + "' given twice");
            }
        }
        return out;
    }

    private static int intParam(Map<String, String> q, String key, int dflt, int min, int max) {
        return (int) longParam(q, key, dflt, min, max);
    }

    private static long longParam(Map<String, String> q, String key, long dflt) {
        return longParam(q, key, dflt, Long.MIN_VALUE, Long.MAX_VALUE);
    }

    private static long longParam(Map<String, String> q, String key, long dflt, long min, long max) {
        String v = q.get(key);
        if (v == null) {
            return dflt;
        }
        try {
            long n = Long.parseLong(v.trim());
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        String allowed = min == Long.MIN_VALUE ? "an integer" : min + ".." + max;
        throw new IllegalArgumentException(key + ": '" + v + "' is not allowed; allowed: " + allowed);
    }

    /** (1, 1, 28, 28) pixels in [-1, 1] to 8-bit gray, each pixel a scale x scale square. */
    static byte[] pixels(float[] latents, int scale) {
        int side = SIDE * scale;
        byte[] out = new byte[side * side];
        for (int y = 0; y < side; y++) {
            for (int x = 0; x < side; x++) {
                float v = latents[(y / scale) * SIDE + x / scale];
                out[y * side + x] = (byte) Math.round(Math.clamp((v + 1f) * 127.5f, 0f, 255f));
            }
        }
        return out;
    }

    static String sha256(float[] values) {
        ByteBuffer bytes = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(values);
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes.array()));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /** {@code java ... SampleService [port] [workers]}: serves on the loopback interface until stopped. */
    public static void main(String[] args) throws Exception {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 8080;
        int workers = args.length > 1 ? Integer.parseInt(args[1]) : Math.max(1, Runtime.getRuntime().availableProcessors());
        SampleService service = start(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), workers);
        Runtime.getRuntime().addShutdownHook(new Thread(service::close));
        System.out.println("serving on http://127.0.0.1:" + service.port() + "/sample?label=3&seed=7 with " + workers
                + " workers (Ctrl-C stops)");
    }
}
