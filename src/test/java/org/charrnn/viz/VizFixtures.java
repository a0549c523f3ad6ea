package org.charrnn.viz;

import java.nio.file.Path;
import java.util.SplittableRandom;
import org.charrnn.backend.BackendOptions;
import org.charrnn.model.CellType;
import org.charrnn.model.ModelSpec;
import org.charrnn.testutil.TestData;
import org.charrnn.train.TrainConfig;
import org.charrnn.train.Trainer;

/** A C-like corpus with quotes, comments, nesting and if conditions, and small models trained on it. */
final class VizFixtures {
    private VizFixtures() {}

    /** Deterministic C-like code of about {@code n} characters (balanced braces, comments, strings, ifs). */
    static String code(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        StringBuilder sb = new StringBuilder();
        while (sb.length() < n) {
            sb.append("int f").append(r.nextInt(10)).append("(int a, char *s)\n{\n");
            body(sb, r, 1);
            sb.append("}\n\n");
        }
        return sb.toString();
    }

    private static void body(StringBuilder sb, SplittableRandom r, int depth) {
        int lines = 2 + r.nextInt(3);
        for (int i = 0; i < lines; i++) {
            String ind = "\t".repeat(depth);
            switch (r.nextInt(depth < 3 ? 7 : 5)) {
                case 0 ->
                    sb.append(ind)
                            .append("x = a[")
                            .append(r.nextInt(9))
                            .append("] + ")
                            .append(r.nextInt(99))
                            .append(";\n");
                case 1 ->
                    sb.append(ind)
                            .append("printf(\"n = %d & m < ")
                            .append(r.nextInt(9))
                            .append("\\n\", a);\n");
                case 2 ->
                    sb.append(ind)
                            .append("/* check the ")
                            .append(r.nextBoolean() ? "count" : "size")
                            .append(" (twice) */\n");
                case 3 -> sb.append(ind).append("s[i] = 'q'; // keep \"it\"\n");
                case 4 ->
                    sb.append(ind)
                            .append("return g(h(a), s[")
                            .append(r.nextInt(9))
                            .append("]);\n");
                default -> {
                    sb.append(ind).append("if (a < ").append(r.nextInt(9)).append(" && s[a] != 0) {\n");
                    body(sb, r, depth + 1);
                    sb.append(ind).append("}\n");
                }
            }
        }
    }

    /** Trains a one-layer model of 16 cells on {@link #code} for {@code iters} iterations into {@code dir}. */
    static void train(Path dir, CellType cell, int iters, Trainer.Options extra) {
        Trainer.Data data = TestData.split(code(6000, 3), 0.1);
        TrainConfig cfg = TrainConfig.defaults()
                .withModel(new ModelSpec(cell, 1, 16, 8, 0.0))
                .withBatching(new TrainConfig.Batching(4, 20))
                .withValidation(new TrainConfig.Validation(10, 0))
                .withCheckpointing(new TrainConfig.Checkpointing(dir, 10, 10))
                .withReporting(new TrainConfig.Reporting(10, 40, 0.8))
                .withLimits(new TrainConfig.Limits(100, iters))
                .withSeed(5);
        Trainer.Options o = (extra != null ? extra : Trainer.Options.defaults())
                .withBackend("reference", BackendOptions.defaults().withThreads(2));
        try (Trainer t = new Trainer(cfg, data, o)) {
            t.run();
        }
    }
}
