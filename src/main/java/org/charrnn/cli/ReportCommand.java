package org.charrnn.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.charrnn.util.AtomicFile;
import org.charrnn.viz.ReportPage;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code charrnn report}: a self-contained HTML page of a training run. */
@Command(
        name = "report",
        mixinStandardHelpOptions = true,
        showDefaultValues = true,
        description =
                "Write a self-contained HTML report of a training run: loss (nats and bits/char) against iterations and "
                        + "wall time, learning rate, gradient norm, chars/s, configuration, checkpoints and their samples.")
public final class ReportCommand implements Callable<Integer> {
    @Option(
            names = "--run",
            description = "The run directory (the --out of charrnn train; default: the run under runs/ that wrote"
                    + " last).")
    Path run;

    @Option(names = "--out", description = "The HTML page to write (default: report.html in the run directory).")
    Path out;

    @Override
    public Integer call() {
        if (run == null) {
            run = RunDirectories.newest(RunDirectories.ROOT);
            System.err.println("report of " + run + " (the run under " + RunDirectories.ROOT + " that wrote last)");
        }
        Path target = out != null ? out : run.resolve("report.html");
        ReportPage.requireRunDirectory(run);
        AtomicFile.requireFileTarget("--out", target);
        ReportPage.write(run, target);
        System.err.println("wrote " + target);
        return 0;
    }
}
