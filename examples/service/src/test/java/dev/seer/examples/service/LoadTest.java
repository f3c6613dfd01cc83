package dev.seer.examples.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Loopback load: 4 client threads against 4 workers, requests mixing none / FORA / TaylorSeer, in rounds. Every
 * answer is a complete PNG whose latents are bit for bit those of the same request served alone, and the process's
 * resident memory stays flat from round to round. About a minute on 2 cores.
 */
@Tag("slow")
class LoadTest {
    private static final String[] POLICIES = {"none", "fora:3", "taylorseer:5:2", "taylorseer:3:1"};
    private static final int ROUNDS = 4;

    @Test
    void concurrentRequestsAreCorrectAndMemoryStaysFlat() throws Exception {
        List<String> queries = new ArrayList<>();
        for (int label = 0; label < 10; label++) {
            for (String policy : POLICIES) {
                queries.add("/sample?label=" + label + "&seed=" + (label * 31 + policy.length()) + "&steps=25&policy=" + policy);
            }
        }
        HttpClient client = HttpClient.newHttpClient();
        try (SampleService service = SampleService.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4)) {
            String base = "http://127.0.0.1:" + service.port();
            Map<String, String> alone = new ConcurrentHashMap<>();
            for (String q : queries) {
                alone.put(q, digestOf(client, base + q));
            }
            List<Long> rss = new ArrayList<>();
            try (ExecutorService clients = Executors.newFixedThreadPool(4)) {
                for (int round = 0; round < ROUNDS; round++) {
                    List<Future<?>> answers = new ArrayList<>();
                    for (String q : queries) {
                        answers.add(clients.submit(() -> {
                            assertEquals(alone.get(q), digestOf(client, base + q), "concurrent vs alone: " + q);
                            return null;
                        }));
                    }
                    for (Future<?> f : answers) {
                        f.get();
                    }
                    rss.add(residentBytes());
                }
            }
            assertEquals(0, service.failed() + service.cancelled(), "no run failed or was cancelled");
            assertEquals((long) queries.size() * (ROUNDS + 1), service.completed());
            // Round 1 warms the pipeline's kept factor memory and the model's conditioning memo; after it, flat.
            long first = rss.getFirst();
            for (int i = 1; i < rss.size(); i++) {
                assertTrue(rss.get(i) <= first * 1.05 + (16 << 20), "resident memory by round: " + rss);
            }
            System.out.printf("load: %d requests in %d rounds, resident MB by round %s%n", queries.size() * ROUNDS,
                    ROUNDS, rss.stream().map(b -> b >> 20).toList());
        }
    }

    private static String digestOf(HttpClient client, String url) throws Exception {
        HttpResponse<byte[]> r = client.send(HttpRequest.newBuilder(URI.create(url)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, r.statusCode(), url);
        Png png = Png.read(r.body());
        assertTrue(png.complete(), url + ": " + png.chunkTypes() + " " + png.texts().get("seer-error"));
        assertTrue(ImageIO.read(new ByteArrayInputStream(r.body())) != null, url + ": not a PNG");
        return png.texts().get("seer-latents-sha256");
    }

    private static long residentBytes() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }
}
