package dev.seer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seer.tensor.SeerRuntime;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** The options Seer starts with: defaults from system properties, each setting can be left alone, and configure's rules. */
class SeerOptionsTest {

    /** Runs {@code body} with the given system properties set (null: cleared), restoring them afterwards. */
    private static <T> T withProperties(Map<String, String> props, Supplier<T> body) {
        Map<String, String> saved = new HashMap<>();
        for (String k : props.keySet()) {
            saved.put(k, System.getProperty(k));
        }
        try {
            props.forEach((k, v) -> {
                if (v == null) {
                    System.clearProperty(k);
                } else {
                    System.setProperty(k, v);
                }
            });
            return body.get();
        } finally {
            saved.forEach((k, v) -> {
                if (v == null) {
                    System.clearProperty(k);
                } else {
                    System.setProperty(k, v);
                }
            });
        }
    }

    @Test
    void defaultsComeFromSystemProperties() {
        Map<String, String> props = new HashMap<>();
        props.put(SeerOptions.THREADS_PROPERTY, "3");
        props.put(SeerOptions.BLAS_THREADS_PROPERTY, "2");
        props.put(SeerOptions.MALLOC_TUNE_PROPERTY, "false");
        props.put(SeerOptions.EXTRACT_DIR_PROPERTY, "/opt/seer-natives");
        SeerOptions o = withProperties(props, SeerOptions::defaults);
        assertEquals(OptionalInt.of(3), o.threads());
        assertEquals(OptionalInt.of(2), o.blasThreads());
        assertFalse(o.tuneMalloc());
        assertEquals(Optional.of(Path.of("/opt/seer-natives")), o.extractDir());
        assertTrue(o.passiveOpenMpWait());
        assertFalse(o.awtHeadless(), "a library leaves AWT alone unless asked");

        props.put(SeerOptions.BLAS_THREADS_PROPERTY, "auto");
        props.put(SeerOptions.EXTRACT_DIR_PROPERTY, null);
        props.put(SeerOptions.JAVACPP_CACHE_DIR_PROPERTY, "/var/cache/javacpp");
        SeerOptions auto = withProperties(props, SeerOptions::defaults);
        assertEquals(OptionalInt.empty(), auto.blasThreads(), "auto leaves OpenBLAS to its environment");
        if (System.getenv(SeerOptions.EXTRACT_DIR_ENV) == null) {
            assertEquals(Optional.of(Path.of("/var/cache/javacpp")), auto.extractDir(), "JavaCPP's own property is the fallback");
        }
    }

    @Test
    void badPropertiesNameThePropertyAndTheValue() {
        IllegalArgumentException threads = assertThrows(IllegalArgumentException.class,
                () -> withProperties(Map.of(SeerOptions.THREADS_PROPERTY, "many"), SeerOptions::defaults));
        assertEquals("seer.threads: 'many' is not allowed; allowed: an integer in 1..1024", threads.getMessage());
        IllegalArgumentException blas = assertThrows(IllegalArgumentException.class,
                () -> withProperties(Map.of(SeerOptions.BLAS_THREADS_PROPERTY, "0"), SeerOptions::defaults));
        assertEquals("seer.blas.threads: '0' is not allowed; allowed: an integer in 1..1024 or 'auto'", blas.getMessage());
        IllegalArgumentException builder = assertThrows(IllegalArgumentException.class, () -> SeerOptions.builder().threads(0));
        assertEquals("threads: 0 is not allowed; allowed: 1..1024", builder.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SeerOptions.builder().blasThreads(1025));
        assertThrows(IllegalArgumentException.class, () -> SeerOptions.builder().extractDir(null));
    }

    @Test
    void everySettingCanBeLeftAlone() {
        SeerOptions none = SeerOptions.untouched();
        assertEquals(OptionalInt.empty(), none.threads());
        assertEquals(OptionalInt.empty(), none.blasThreads());
        assertFalse(none.passiveOpenMpWait());
        assertFalse(none.tuneMalloc());
        assertEquals(Optional.empty(), none.extractDir());
        assertFalse(none.awtHeadless());
        SeerOptions some = SeerOptions.builder().leaveThreads().leaveBlasThreads().leaveExtractDir().tuneMalloc(false)
                .passiveOpenMpWait(false).build();
        assertEquals(none, some);
        assertEquals(none.hashCode(), some.hashCode());
        assertTrue(none.toString().contains("threads=leave"), none.toString());
        assertEquals(none, none.toBuilder().build());
    }

    @Test
    void configureAfterStartOnlyAcceptsTheOptionsInForce() {
        SeerRuntime.init();
        assertTrue(Seer.started());
        Seer.configure(Seer.options()); // the same options again: allowed
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Seer.configure(Seer.options().toBuilder().tuneMalloc(!Seer.options().tuneMalloc()).build()));
        assertTrue(e.getMessage().contains("has already started") && e.getMessage().contains("before Seer's first use"),
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Seer.configure(null));
    }
}
