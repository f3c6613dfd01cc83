package dev.seer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Every option of every command, given a value outside what it allows: exit code 2, one message on stderr that
 * names the option, the value found and what is allowed, no stack trace, and no work done (each case fails in
 * validation, before a model or data set is loaded). And --help documents every option with its default.
 */
class OptionValidationTest {
    static final String MISSING = "/nonexistent-seer-dir/missing";

    static Arguments bad(String option, String value, String allowed, String... args) {
        return Arguments.of(String.join(" ", args), args, option, value, allowed);
    }

    static Stream<Arguments> invalidOptions() {
        return Stream.of(
                // bench
                bad("--steps", "0", "1..1000", "bench", "--steps", "0"),
                bad("--samples", "1", "2..60000", "bench", "--samples", "1"),
                bad("--repeats", "0", "1..1000", "bench", "--repeats", "0"),
                bad("--batch", "0", "1..4096", "bench", "--batch", "0"),
                bad("--chunk", "0", "1..10000", "bench", "--chunk", "0"),
                bad("--cfg", "-1.0", ">= 0", "bench", "--cfg", "-1"),
                bad("--sampler", "'euler'", "ddim or ddpm", "bench", "--sampler", "euler"),
                bad("--limit-seconds", "0.0", "(0, 600]", "bench", "--limit-seconds", "0"),
                bad("--threads", "0", "1..1024", "bench", "--threads", "0"),
                bad("--model", "'DiT-S/2'", "--speed-only", "bench", "--model", "DiT-S/2"),
                bad("--weights", "'missing.pt'", "no such file", "bench", "--model", "DiT-S/2", "--weights", "missing.pt"),
                // sample
                bad("--steps", "0", "1..1000", "sample", "--steps", "0"),
                bad("--steps", "1001", "1..1000", "sample", "--steps", "1001"),
                bad("--steps", "abc", "1..1000", "sample", "--steps", "abc"),
                bad("--sampler", "'euler'", "ddim or ddpm", "sample", "--sampler", "euler"),
                bad("--eta", "-1.0", "[0, 1]", "sample", "--eta", "-1"),
                bad("--eta", "NaN", "[0, 1]", "sample", "--eta", "NaN"),
                bad("--eta", "1.5", "[0, 1]", "sample", "--eta", "1.5"),
                bad("--cfg", "-0.5", ">= 0", "sample", "--cfg", "-0.5"),
                bad("--cfg", "Infinity", "finite", "sample", "--cfg", "Infinity"),
                bad("--interval", "0", "1..1000", "sample", "--interval", "0"),
                bad("--order", "5", "0..4", "sample", "--order", "5"),
                bad("--order", "-1", "0..4", "sample", "--order=-1"),
                bad("--cache", "'magic'", "none, fora, taylorseer", "sample", "--cache", "magic"),
                bad("--policy", "'taylorseer:3'", "none, fora:N, taylorseer:N:O", "sample", "--policy", "taylorseer:3"),
                bad("--policy", "'fora:3'", "either --policy or --cache/--interval/--order", "sample", "--policy", "fora:3", "--order", "2"),
                bad("--variant", "'cuda'", "auto, ref, avx2 or avx512", "sample", "--variant", "cuda"),
                bad("--forecast-sums", "'yes'", "auto, on or off", "sample", "--forecast-sums", "yes"),
                bad("--forecast-sums", "'maybe'", "auto, on or off", "bench", "--forecast-sums", "maybe"),
                bad("--factor-dtype", "'int4'", "f32, bf16, f16", "sample", "--factor-dtype", "int4"),
                bad("--factor-dtype", "'fp8'", "f32, bf16, f16", "sample", "--model", "DiT-S/2", "--factor-dtype", "fp8"),
                bad("--factor-dtype", "'bf8'", "f32, bf16, f16", "bench", "--factor-dtype", "f32,bf8"),
                bad("--threads", "0", "1..1024", "sample", "--threads", "0"),
                bad("--threads", "5000", "1..1024", "sample", "--threads", "5000"),
                bad("--threads", "many", "1..1024", "sample", "--threads", "many"),
                bad("--per-class", "0", "1..100", "sample", "--per-class", "0"),
                bad("--per-class", "101", "1..100", "sample", "--per-class", "101"),
                bad("--repeat", "0", "1..1000", "sample", "--repeat", "0"),
                bad("--input-size", "0", "1..1024", "sample", "--model", "DiT-S/2", "--input-size", "0"),
                bad("--input-size", "30", "multiple of DiT-S/4's patch size 4", "sample", "--model", "DiT-S/4", "--input-size", "30"),
                bad("--num-classes", "0", "1..1000000", "sample", "--num-classes", "0"),
                bad("--model", "'DiT-Q/2'", "a preset (DiT-S/2", "sample", "--model", "DiT-Q/2"),
                bad("--labels", "1000", "0..999", "sample", "--labels", "1000"),
                bad("--labels", "-1", "0..999", "sample", "--labels=-1"),
                bad("--labels", "x", "0..num_classes-1", "sample", "--labels", "3,x"),
                bad("--weights", MISSING + ".pt", "no such file", "sample", "--weights", MISSING + ".pt"),
                bad("--noise", MISSING, "no such file", "sample", "--model", "DiT-S/2", "--noise", MISSING),
                bad("--out-latents", MISSING, "writable directory", "sample", "--model", "DiT-S/2", "--out-latents", MISSING),
                bad("--out-image", MISSING, "writable directory", "sample", "--model", "DiT-S/2", "--out-image", MISSING),
                bad("--out-grid", MISSING, "writable directory", "sample", "--out-grid", MISSING),
                bad("--seed", "x", "any integer", "sample", "--seed", "x"),
                // kernels
                bad("--order", "5", "0..4", "kernels", "--order", "5"),
                bad("--threads", "0", "1..1024", "kernels", "--threads", "0"),
                bad("--min-time", "0.0", "(0, 600]", "kernels", "--min-time", "0"),
                bad("--min-time", "601.0", "(0, 600]", "kernels", "--min-time", "601"),
                bad("--min-time", "NaN", "(0, 600]", "kernels", "--min-time", "NaN"),
                bad("--sizes", "'1KiB'", "4KiB to 4096MiB", "kernels", "--sizes", "1KiB"),
                bad("--sizes", "'12x'", "KiB/MiB/GiB", "kernels", "--sizes", "12x"),
                bad("--ops", "'taylor_magic'", "taylor_forecast_residual_multi", "kernels", "--ops", "taylor_magic"),
                bad("--dtypes", "'f64'", "f32, bf16, f16", "kernels", "--dtypes", "f64"),
                bad("--seed", "1.5", "any integer", "kernels", "--seed", "1.5"),
                // train
                bad("--steps", "0", "1..1000000000", "train", "--steps", "0"),
                bad("--batch", "0", "1..60000", "train", "--batch", "0"),
                bad("--batch", "60001", "1..60000", "train", "--batch", "60001"),
                bad("--lr", "0.0", "(0, 1]", "train", "--lr", "0"),
                bad("--lr", "2.0", "(0, 1]", "train", "--lr", "2"),
                bad("--lr", "NaN", "(0, 1]", "train", "--lr", "NaN"),
                bad("--ema-decay", "1.0", "[0, 1)", "train", "--ema-decay", "1"),
                bad("--ema-decay", "-0.1", "[0, 1)", "train", "--ema-decay=-0.1"),
                bad("--checkpoint-every", "0.0", "(0, 86400]", "train", "--checkpoint-every", "0"),
                bad("--model-config", MISSING, "no such file", "train", "--model-config", MISSING),
                bad("--threads", "0", "1..1024", "train", "--threads", "0"),
                // train-probe
                bad("--epochs", "0", "1..1000", "train-probe", "--epochs", "0"),
                bad("--batch", "0", "1..60000", "train-probe", "--batch", "0"),
                bad("--lr", "-1.0", "(0, 1]", "train-probe", "--lr=-1"),
                bad("--threads", "2000", "1..1024", "train-probe", "--threads", "2000"),
                // eval
                bad("--samples", "1", "2..60000", "eval", "--samples", "1"),
                bad("--samples", "60001", "2..60000", "eval", "--samples", "60001"),
                bad("--steps", "0", "1..1000", "eval", "--steps", "0"),
                bad("--cfg", "-1.0", ">= 0", "eval", "--cfg=-1"),
                bad("--chunk", "0", "1..10000", "eval", "--chunk", "0"),
                bad("--policies", "'fora:0'", "N >= 1", "eval", "--policies", "fora:0"),
                bad("--policies", "'taylorseer:3:5'", "O in 0..4", "eval", "--policies", "taylorseer:3:5"),
                bad("--policies", "'magic'", "none, fora:N, taylorseer:N:O", "eval", "--policies", "magic"),
                bad("--model", MISSING, "together with --weights", "eval", "--model", MISSING),
                bad("--weights", MISSING, "together with --model", "eval", "--weights", MISSING),
                bad("--model", MISSING, "no such file", "eval", "--model", MISSING, "--weights", MISSING),
                bad("--probe", MISSING, "no such file", "eval", "--probe", MISSING),
                bad("--threads", "0", "1..1024", "eval", "--threads", "0"),
                // soak
                bad("--samplings", "0", "1..1000000", "soak", "--samplings", "0"),
                bad("--warmup", "300", "0..299", "soak", "--warmup", "300"),
                bad("--warmup", "5", "0..4", "soak", "--samplings", "5", "--warmup", "5"),
                bad("--batch", "0", "1..1000", "soak", "--batch", "0"),
                bad("--steps", "0", "1..1000", "soak", "--steps", "0"),
                bad("--cfg", "-1.0", ">= 0", "soak", "--cfg=-1"),
                bad("--policy", "'taylorseer:0:2'", "N >= 1", "soak", "--policy", "taylorseer:0:2"),
                bad("--uncached-every", "-1", "0..300", "soak", "--uncached-every=-1"),
                bad("--read-every", "0", "1..300", "soak", "--read-every", "0"),
                bad("--max-growth", "-1.0", ">= 0", "soak", "--max-growth=-1"),
                bad("--max-growth", "NaN", ">= 0", "soak", "--max-growth", "NaN"),
                bad("--threads", "0", "1..1024", "soak", "--threads", "0"));
    }

    @ParameterizedTest(name = "seer {0}")
    @MethodSource("invalidOptions")
    void anInvalidValueIsAUsageErrorNamingOptionValueAndAllowedRange(String shown, String[] args, String option,
                                                                     String value, String allowed) {
        CliRun r = CliRun.of(args);
        assertEquals(2, r.exit(), "exit code of seer " + shown + "; stderr: " + r.err());
        String err = r.err();
        assertTrue(err.contains(option), "names " + option + ": " + err);
        assertTrue(err.contains(value), "names the value " + value + ": " + err);
        assertTrue(err.contains(allowed), "says what is allowed (" + allowed + "): " + err);
        assertFalse(err.contains("\tat ") || err.contains("Exception"), "no stack trace: " + err);
        assertEquals("", r.out(), "nothing on stdout");
    }

    @Test
    void aMisspelledOptionIsAUsageErrorWithASuggestion() {
        CliRun r = CliRun.of("sample", "--stepz");
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().contains("Unknown option: '--stepz'") && r.err().contains("Possible solutions: --steps"), r.err());
    }

    @Test
    void guidanceIsRefusedForAModelWithoutANullClass(@TempDir Path dir) throws Exception {
        Path config = dir.resolve("no-null.json");
        Files.writeString(config, "{\"input_size\": 8, \"hidden_size\": 32, \"depth\": 1, \"num_heads\": 2, \"num_classes\": 5, "
                + "\"class_dropout_prob\": 0.0}");
        CliRun r = CliRun.of("sample", "--model", config.toString(), "--cfg", "1.5");
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().contains("--cfg: 1.5 is not allowed; allowed: 0 for this model"), r.err());
    }

    /** Every option of every command says what it allows and what it defaults to, in --help. */
    @Test
    void helpDocumentsEveryOptionWithItsDefault() {
        CommandLine root = new CommandLine(new SeerCli());
        List<String> undocumented = new ArrayList<>();
        for (CommandLine sub : root.getSubcommands().values()) {
            CommandSpec spec = sub.getCommandSpec();
            if (spec.name().equals("help")) {
                continue;
            }
            CliRun help = CliRun.of(spec.name(), "--help");
            assertEquals(0, help.exit(), spec.name() + " --help: " + help.err());
            for (OptionSpec o : spec.options()) {
                if (o.usageHelp() || o.versionHelp()) {
                    continue;
                }
                String description = String.join(" ", o.renderedDescription());
                if (!help.out().contains(o.longestName()) || !description.contains("Default")) {
                    undocumented.add(spec.name() + " " + o.longestName() + ": " + description);
                }
            }
        }
        assertTrue(undocumented.isEmpty(), "options without a documented default: " + undocumented);
    }
}
