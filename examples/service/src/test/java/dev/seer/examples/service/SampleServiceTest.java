package dev.seer.examples.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seer.cache.CachePolicy;
import dev.seer.model.dit.DitModel;
import dev.seer.model.dit.DitPipeline;
import dev.seer.model.dit.SampleRequest;
import dev.seer.models.ShippedModels;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class SampleServiceTest {
    private static SampleService service;
    private static final HttpClient CLIENT = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        service = SampleService.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 2);
    }

    @AfterAll
    static void stop() {
        service.close();
    }

    static HttpResponse<byte[]> get(String pathAndQuery) throws Exception {
        return CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + service.port() + pathAndQuery)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }

    @Test
    void aPngOfTheSamplesThePipelineDrawsInProcess() throws Exception {
        HttpResponse<byte[]> r = get("/sample?label=3&seed=7&steps=20&policy=taylorseer:4:2&scale=2");
        assertEquals(200, r.statusCode());
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(r.body()));
        assertEquals(56, img.getWidth());
        assertEquals(56, img.getHeight());
        Png png = Png.read(r.body());
        assertTrue(png.complete(), png.chunkTypes().toString());
        assertEquals("step 20/20 forecast", png.texts().get("seer-progress"), "the last progress chunk");

        try (DitModel model = ShippedModels.fashionDit();
             DitPipeline pipeline = new DitPipeline(model, ShippedModels.FASHION_DIT_SETTINGS.clipDenoised())) {
            float[] expected = pipeline.sample(SampleRequest.builder(3).settings(ShippedModels.FASHION_DIT_SETTINGS)
                    .steps(20).policy(CachePolicy.parse("taylorseer:4:2")).seed(7).build()).latents();
            assertEquals(SampleService.sha256(expected), png.texts().get("seer-latents-sha256"), "bit for bit");
            byte[] pixels = SampleService.pixels(expected, 2);
            for (int y = 0; y < 56; y++) {
                for (int x = 0; x < 56; x++) {
                    assertEquals(pixels[y * 56 + x] & 0xff, img.getRaster().getSample(x, y, 0), "pixel " + x + "," + y);
                }
            }
        }
    }

    @Test
    void badParametersAreRefusedBeforeAnythingRuns() throws Exception {
        long before = service.completed() + service.cancelled() + service.failed();
        assertRefused("/sample?label=12", "label: '12' is not allowed; allowed: 0..9");
        assertRefused("/sample?steps=0", "steps: '0' is not allowed; allowed: 1..1000");
        assertRefused("/sample?seed=x", "seed: 'x' is not allowed; allowed: an integer");
        assertRefused("/sample?policy=taylorseer:0:2", "taylorseer");
        assertRefused("/sample?colour=red", "unknown parameter 'colour'");
        assertRefused("/sample?label=1&label=2", "parameter 'label' given twice");
        assertEquals(before, service.completed() + service.cancelled() + service.failed(), "no run started");
    }

    private static void assertRefused(String query, String message) throws Exception {
        HttpResponse<byte[]> r = get(query);
        assertEquals(400, r.statusCode(), query);
        String text = new String(r.body(), StandardCharsets.UTF_8);
        assertTrue(text.contains(message), query + " -> " + text);
    }

    @Test
    void aClientThatGoesAwayCancelsItsRun() throws Exception {
        long cancelledBefore = service.cancelled();
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), service.port())) {
            s.getOutputStream().write(("GET /sample?label=1&steps=1000&policy=none HTTP/1.1\r\nHost: x\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            String seen = "";
            while (!seen.contains("seer-progress")) { // the run has started
                byte[] buf = new byte[256];
                int n = in.read(buf);
                assertTrue(n > 0, "the response ended early: " + seen);
                seen += new String(buf, 0, n, StandardCharsets.ISO_8859_1);
            }
        }
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (service.cancelled() == cancelledBefore && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(cancelledBefore + 1, service.cancelled(), "the run of the client that left was cancelled");
    }

    @Test
    void aRunPastItsDeadlineEndsWithoutAnImage() throws Exception {
        HttpResponse<byte[]> r = get("/sample?label=2&steps=1000&policy=none&timeout_ms=300");
        assertEquals(200, r.statusCode(), "the response had started");
        Png png = Png.read(r.body());
        assertTrue(!png.complete() && !png.chunkTypes().contains("IDAT"), png.chunkTypes().toString());
        assertTrue(png.texts().get("seer-error").contains("deadline"), png.texts().toString());
    }
}
