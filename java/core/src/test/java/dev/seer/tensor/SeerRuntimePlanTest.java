package dev.seer.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seer.SeerOptions;
import dev.seer.tensor.SeerRuntime.Change;
import dev.seer.tensor.SeerRuntime.EnvChange;
import dev.seer.tensor.SeerRuntime.Left;
import dev.seer.tensor.SeerRuntime.MallocChange;
import dev.seer.tensor.SeerRuntime.PropertyChange;
import dev.seer.tensor.SeerRuntime.ThreadsChange;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What Seer changes in the process at start, for given options, environment and system properties. */
class SeerRuntimePlanTest {
    private static final Path DIR = Path.of("/opt/natives");

    private static List<Change> applied(List<Change> plan) {
        return plan.stream().filter(c -> !(c instanceof Left)).toList();
    }

    @Test
    void untouchedChangesNothing() {
        List<Change> plan = SeerRuntime.plan(SeerOptions.untouched(), Map.of(), k -> null, null);
        assertEquals(List.of(), applied(plan), "changes: " + plan);
        assertTrue(plan.size() >= 5, "every setting left alone is logged: " + plan);
    }

    @Test
    void theCliSettings() {
        SeerOptions cli = SeerOptions.builder().threads(2).blasThreads(1).tuneMalloc(true).extractDir(DIR).awtHeadless(true).build();
        List<Change> plan = SeerRuntime.plan(cli, Map.of(), k -> null, DIR);
        assertEquals(List.of(new PropertyChange("java.awt.headless", "true"), new EnvChange("OPENBLAS_NUM_THREADS", "1"),
                new MallocChange(), new PropertyChange("org.bytedeco.javacpp.cachedir", DIR.toString()), new ThreadsChange(2)),
                applied(plan));
    }

    @Test
    void theEnvironmentAndSetPropertiesWin() {
        SeerOptions cli = SeerOptions.builder().threads(2).blasThreads(1).extractDir(DIR).awtHeadless(true).build();
        Map<String, String> props = Map.of("java.awt.headless", "false", "org.bytedeco.javacpp.cachedir", "/mine");
        List<Change> plan = SeerRuntime.plan(cli, Map.of("OPENBLAS_NUM_THREADS", "4"), props::get, DIR);
        // OpenBLAS runs a pool of 4 here: OpenMP must sleep between regions
        assertEquals(List.of(new EnvChange("OMP_WAIT_POLICY", "PASSIVE"), new MallocChange(), new ThreadsChange(2)), applied(plan));
        List<Change> withPolicy = SeerRuntime.plan(cli, Map.of("OPENBLAS_NUM_THREADS", "4", "OMP_WAIT_POLICY", "ACTIVE"),
                props::get, DIR);
        assertEquals(List.of(new MallocChange(), new ThreadsChange(2)), applied(withPolicy));
    }

    @Test
    void aBlasPoolGetsPassiveOpenMpUnlessLeft() {
        SeerOptions auto = SeerOptions.untouched().toBuilder().passiveOpenMpWait(true).build();
        assertEquals(List.of(new EnvChange("OMP_WAIT_POLICY", "PASSIVE")), applied(SeerRuntime.plan(auto, Map.of(), k -> null, null)));
        SeerOptions single = auto.toBuilder().blasThreads(1).build();
        assertEquals(List.of(new EnvChange("OPENBLAS_NUM_THREADS", "1")), applied(SeerRuntime.plan(single, Map.of(), k -> null, null)));
    }
}
