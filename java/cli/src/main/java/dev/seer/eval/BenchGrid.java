package dev.seer.eval;

import dev.seer.cache.CachePolicy;
import dev.seer.model.dit.DitFlops;
import dev.seer.cache.TaylorSeerSchedule;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The rows of a policy bench, from grid specs such as {@code fora:2..6} or {@code taylorseer:2..6:1..3} (a number or
 * an inclusive range a..b for each parameter). The uncached row always comes first; with {@code fewerSteps} each
 * distinct equal-FLOPs step count of a cached row adds an uncached row with that many steps.
 */
public final class BenchGrid {
    /** The full grid: FORA N=2..6 and TaylorSeer N=2..6 at orders 1..3. */
    public static final List<String> FULL = List.of("fora:2..6", "taylorseer:2..6:1..3");
    /** The quick grid. */
    public static final List<String> QUICK = List.of("fora:5", "taylorseer:3:2", "taylorseer:5:2");

    private BenchGrid() {
    }

    /**
     * Parses grid specs into cached policies, in order, without duplicates: each spec is a policy in
     * {@link CachePolicy#parse}'s syntax whose numbers may be ranges a..b. Rejects unknown names and empty grids.
     */
    public static List<CachePolicy> parse(List<String> specs) {
        if (specs == null || specs.isEmpty()) {
            throw new IllegalArgumentException("--policies: the grid is empty; give at least one of fora:N, taylorseer:N:O, taylorseer-lite:N:O "
                    + "(N and O may be ranges a..b)");
        }
        Set<CachePolicy> out = new LinkedHashSet<>();
        for (String spec : specs) {
            String[] f = spec.trim().split(":", -1);
            List<String> expanded = List.of(f[0]);
            for (int i = 1; i < f.length; i++) {
                List<String> next = new ArrayList<>();
                for (String prefix : expanded) {
                    for (int v : range(spec, f[i], i == 1 ? "N" : "O")) {
                        next.add(prefix + ":" + v);
                    }
                }
                expanded = next;
            }
            for (String one : expanded) {
                CachePolicy p;
                try {
                    p = CachePolicy.parse(one);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("--policies: '" + spec + "': " + e.getMessage()
                            + " (N and O may be ranges a..b)");
                }
                if (p instanceof CachePolicy.None) {
                    throw new IllegalArgumentException("--policies: '" + spec + "': the uncached row is always the first;"
                            + " give cached policies only");
                }
                out.add(p);
            }
        }
        return List.copyOf(out);
    }

    /**
     * The bench's rows: uncached at {@code steps}, then the cached policies, then (if asked) the fewer-steps rows
     * whose uncached FLOPs match each cached row's official FLOPs (rounded to whole steps), in decreasing steps.
     */
    public static List<BenchRow> rows(List<CachePolicy> policies, int steps, boolean fewerSteps, DitFlops.Config flops) {
        List<BenchRow> rows = new ArrayList<>();
        rows.add(BenchRow.uncached(steps));
        Set<Integer> equalFlopsSteps = new java.util.TreeSet<>(java.util.Comparator.reverseOrder());
        for (CachePolicy p : policies) {
            rows.add(BenchRow.cached(p, steps));
            int s = equalFlopsSteps(p, steps, flops);
            if (s < steps) {
                equalFlopsSteps.add(s);
            }
        }
        if (fewerSteps) {
            for (int s : equalFlopsSteps) {
                rows.add(BenchRow.fewerSteps(s));
            }
        }
        return rows;
    }

    /** Uncached steps with the official FLOPs of {@code p} at {@code steps}: steps / official speed-up, rounded, >= 1. */
    public static int equalFlopsSteps(CachePolicy p, int steps, DitFlops.Config flops) {
        List<TaylorSeerSchedule.StepPlan> plan = TaylorSeerSchedule.plan(steps, p.interval(), p.maxOrder());
        double speedup = DitFlops.officialUncached(steps, flops) / DitFlops.officialTotal(plan, flops, p.forecastsStackOutput());
        return (int) Math.max(1, Math.round(steps / speedup));
    }

    private static List<Integer> range(String spec, String s, String what) {
        int from;
        int to;
        try {
            int dots = s.indexOf("..");
            if (dots >= 0) {
                from = Integer.parseInt(s.substring(0, dots));
                to = Integer.parseInt(s.substring(dots + 2));
            } else {
                from = to = Integer.parseInt(s);
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--policies: '" + spec + "': " + what + " must be a number or a range a..b, found '" + s + "'");
        }
        if (to < from) {
            throw new IllegalArgumentException("--policies: '" + spec + "': the range " + what + " = " + s + " is empty");
        }
        if (from < (what.equals("N") ? 1 : 0)) {
            throw new IllegalArgumentException("--policies: '" + spec + "': " + what + " must be >= " + (what.equals("N") ? 1 : 0)
                    + ", found " + from);
        }
        if (to - from > 1000) {
            throw new IllegalArgumentException("--policies: '" + spec + "': the range " + what + " = " + s + " is too large (at most 1000 values)");
        }
        List<Integer> out = new ArrayList<>();
        for (int v = from; v <= to; v++) {
            out.add(v);
        }
        return out;
    }
}
