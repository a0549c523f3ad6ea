package org.charrnn.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.charrnn.data.Corpus;
import org.charrnn.data.CorpusOptions;
import org.charrnn.data.CorpusStats;
import org.charrnn.data.Datasets;
import org.charrnn.data.DirectoryCorpus;
import org.charrnn.data.LinuxCorpus;
import org.charrnn.data.PathSelection;
import org.charrnn.data.Vocabulary;
import org.charrnn.data.VocabularyListing;
import org.charrnn.util.ProgressBar;
import org.charrnn.util.UserError;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code charrnn corpus}: build and inspect training corpora. */
@Command(
        name = "corpus",
        mixinStandardHelpOptions = true,
        description = "Build and inspect training corpora.",
        subcommands = {CorpusCommand.Linux.class, CorpusCommand.Dir.class, CorpusCommand.Info.class})
public final class CorpusCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand (linux, dir, info)");
    }

    /** {@code charrnn corpus linux --source PATH --out FILE}. */
    @Command(
            name = "linux",
            mixinStandardHelpOptions = true,
            description = {
                "Concatenate every .c and .h file of a Linux kernel source tree, in sorted path order, into one corpus file.",
                "PATH is a source directory or a .tar.xz/.tar.gz archive of one, read without unpacking "
                        + "(e.g. /usr/src/linux-source-6.1.tar.xz from 'apt-get install linux-source-6.1')."
            })
    public static final class Linux implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(
                names = "--source",
                required = true,
                paramLabel = "PATH",
                description = "Kernel source tree or .tar.xz/.tar.gz archive.")
        Path source;

        @Option(
                names = "--out",
                required = true,
                paramLabel = "FILE",
                description = "Corpus file to write (replaced if it exists).")
        Path out;

        @Option(
                names = {"-q", "--quiet"},
                description = "No progress bar.")
        boolean quiet;

        @Override
        public Integer call() {
            ProgressBar bar = new ProgressBar(System.err, "linux corpus", !quiet && ProgressBar.interactive());
            CorpusStats s = LinuxCorpus.build(source, out, bar);
            PrintWriter o = spec.commandLine().getOut();
            o.println(s.summary());
            o.flush();
            return 0;
        }
    }

    /** {@code charrnn corpus dir --source DIR --include GLOB [--exclude GLOB] --out FILE}. */
    @Command(
            name = "dir",
            mixinStandardHelpOptions = true,
            description = {
                "Concatenate the files of a directory tree that match an --include and no --exclude, in sorted path order, "
                        + "into one UTF-8 corpus file. Binary files (with NUL bytes) and files that are not valid UTF-8 "
                        + "are skipped and counted; a leading byte-order mark is dropped.",
                "A GLOB without '/' matches file names (and, for --exclude, directory names: --exclude .git); "
                        + "one with '/' matches paths relative to DIR, where * stays within a directory and ** crosses them. "
                        + "Quote globs so that the shell leaves them alone: --include '*.tex'."
            })
    public static final class Dir implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(
                names = "--source",
                required = true,
                paramLabel = "DIR",
                description = "Directory to collect files from.")
        Path source;

        @Option(
                names = "--include",
                required = true,
                paramLabel = "GLOB",
                description = "Files to collect, e.g. '*.tex' (repeatable).")
        List<String> include;

        @Option(
                names = "--exclude",
                paramLabel = "GLOB",
                description = "Files or directories to leave out, e.g. 'old/**' or build (repeatable).")
        List<String> exclude;

        @Option(
                names = "--out",
                required = true,
                paramLabel = "FILE",
                description = "Corpus file to write (replaced if it exists).")
        Path out;

        @Option(
                names = {"-q", "--quiet"},
                description = "No progress bar.")
        boolean quiet;

        @Override
        public Integer call() {
            PathSelection selection = PathSelection.of(include, exclude);
            ProgressBar bar = new ProgressBar(System.err, "corpus", !quiet && ProgressBar.interactive());
            CorpusStats s = DirectoryCorpus.build(source, out, selection, bar);
            PrintWriter o = spec.commandLine().getOut();
            o.println(s.summary());
            o.flush();
            return 0;
        }
    }

    /** {@code charrnn corpus info --data FILE|shakespeare}: encode (or load from the cache) and describe a corpus. */
    @Command(
            name = "info",
            mixinStandardHelpOptions = true,
            description = "Encode a corpus (or load it from the cache) and print its size, vocabulary and splits.")
    public static final class Info implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(
                names = "--data",
                required = true,
                paramLabel = "FILE|shakespeare",
                description = "Corpus file, or 'shakespeare' for tiny-shakespeare.")
        String data;

        @Mixin
        DataOptionsMixin dataOptions;

        @Option(
                names = "--val-frac",
                defaultValue = "0.05",
                description = "Validation fraction (default: ${DEFAULT-VALUE}).")
        double valFrac;

        @Option(names = "--test-frac", defaultValue = "0", description = "Test fraction (default: ${DEFAULT-VALUE}).")
        double testFrac;

        @Option(names = "--no-cache", description = "Encode on the heap and write no cache file.")
        boolean noCache;

        @Option(
                names = "--vocab",
                arity = "0..1",
                defaultValue = "freq",
                fallbackValue = "freq",
                paramLabel = "ORDER",
                description = "List the vocabulary with each symbol's count: by frequency (freq, the default), "
                        + "by code point (code) or not at all (none). Wrapped to $COLUMNS (default 80).")
        String vocab;

        @Option(
                names = {"-q", "--quiet"},
                description = "No progress bar.")
        boolean quiet;

        // the resource is the corpus; System.err is only handed to its progress bar
        @Override
        @SuppressWarnings("ClosingStandardOutputStreams")
        public Integer call() {
            VocabularyListing.Order order = switch (vocab) {
                case "freq" -> VocabularyListing.Order.FREQUENCY;
                case "code" -> VocabularyListing.Order.CODE_POINT;
                case "none" -> null;
                default -> throw new UserError("--vocab must be freq, code or none, not '" + vocab + "'");
            };
            boolean bars = !quiet && ProgressBar.interactive();
            Path file = Datasets.resolve(data, dataOptions.cacheDir(), new ProgressBar(System.err, "download", bars));
            CorpusOptions opt = dataOptions.options(valFrac, testFrac);
            // a corpus file read with --no-cache puts nothing in the cache directory (a download does)
            if (noCache
                    && dataOptions.cacheDir != null
                    && !file.toAbsolutePath().startsWith(dataOptions.cacheDir.toAbsolutePath()))
                throw new UserError(
                        "--cache-dir does not apply with --no-cache to a corpus file: nothing is " + "written there");
            if (noCache) opt = opt.withCacheDir(null);
            PrintWriter o = spec.commandLine().getOut();
            try (Corpus c = Corpus.open(file, opt, new ProgressBar(System.err, "encoding", bars))) {
                o.println(c.summary());
                o.println(String.format(
                        Locale.ROOT,
                        "%s in %.3f s; encoded form: %s",
                        c.fromCache() ? "loaded from the cache" : "encoded",
                        c.openSeconds(),
                        c.storage()));
                if (order != null) {
                    Vocabulary v = c.vocabulary();
                    long[] counts = VocabularyListing.counts(c.tokens(), v.size());
                    o.println(
                            order == VocabularyListing.Order.FREQUENCY
                                    ? "vocabulary by frequency:"
                                    : "vocabulary by code point:");
                    int width = VocabularyListing.terminalWidth(System.getenv("COLUMNS"));
                    for (String line : VocabularyListing.lines(v, counts, order, width)) o.println(line);
                }
            }
            o.flush();
            return 0;
        }
    }
}
