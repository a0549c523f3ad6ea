package org.charrnn.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.charrnn.data.CorpusOptions;
import org.charrnn.data.Encoding;
import org.charrnn.testutil.CliRun;
import org.charrnn.util.UserError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Errors of the library name the setting (record component or parameter) a caller gave, and the
 * command line renders the same error with its option names: no class of the library writes an
 * option like "--batch" into an exception. The library is what the README's example uses (model,
 * data, backends, training, sampling, checkpoints); the packages and classes in {@link #COMMANDS}
 * implement one command each (bench, caption, the pages of cells and report, the corpus builders),
 * whose parameters are that command's options, and may name them.
 */
class LibraryErrorsTest {
    private static final Path MAIN = Path.of(System.getProperty("charrnn.basedir"), "src/main/java/org/charrnn");
    private static final Pattern SETTING = Pattern.compile("\\{([A-Z][A-Za-z0-9]+\\.[a-z][A-Za-z0-9]+)}");
    /** A string literal that names an option: a quote, anything but a quote, then "--" and a letter. */
    private static final Pattern OPTION_IN_LITERAL = Pattern.compile("\"[^\"\\n]*(?<![-\\w])--[a-z][^\"\\n]*\"");

    private static final List<String> COMMANDS = List.of(
            "cli",
            "bench",
            "caption",
            "viz",
            "data/CorpusBuild.java",
            "data/DirectoryCorpus.java",
            "data/PathSelection.java",
            "data/LinuxCorpus.java");
    /** Settings of the library that no option sets. */
    private static final Set<String> LIBRARY_ONLY =
            Set.of("OptimizerConfig.beta1", "OptimizerConfig.beta2", "OptimizerConfig.eps");

    @TempDir
    Path dir;

    @Test
    void aCorpusSettingErrorSpeaksInEachCallersTerms() throws IOException {
        UserError e = assertThrows(UserError.class, () -> new CorpusOptions(Encoding.UTF8, 1, 0.05, 0, null));
        assertEquals("CorpusOptions.maxVocab must be 0 (unlimited) or at least 2, not 1", e.getMessage());
        assertEquals("--max-vocab must be 0 (unlimited) or at least 2, not 1", e.render(OptionNames.BY_SETTING));
        Path text = Files.writeString(dir.resolve("t.txt"), "abc ".repeat(500));
        CliRun.of(
                        "train",
                        "--data",
                        text.toString(),
                        "--out",
                        dir.resolve("run").toString(),
                        "--max-vocab",
                        "1")
                .assertOneLineError("--max-vocab must be 0 (unlimited) or at least 2, not 1");
    }

    /** A setting whose name holds a digit is named too, not left as its template's braces. */
    @Test
    void aSettingWithADigitInItsNameIsRendered() {
        org.charrnn.util.ConfigError e = assertThrows(
                org.charrnn.util.ConfigError.class,
                () -> new org.charrnn.backend.OptimizerConfig(
                        org.charrnn.backend.OptimizerKind.ADAM, 1.5, 0.999, 1e-8, 0.95, 0.9, 0));
        assertEquals("OptimizerConfig.beta1 must be in [0, 1), got 1.5", e.getMessage());
        assertEquals("beta1 must be in [0, 1), got 1.5", e.render(Map.of("OptimizerConfig.beta1", "beta1")));
    }

    @Test
    void everyNamedSettingHasItsOption() throws IOException {
        List<String> unknown = new ArrayList<>();
        for (Path f : sources()) {
            for (String line : Files.readAllLines(f)) {
                if (comment(line)) continue;
                Matcher m = SETTING.matcher(line);
                while (m.find())
                    if (!OptionNames.BY_SETTING.containsKey(m.group(1)) && !LIBRARY_ONLY.contains(m.group(1)))
                        unknown.add(f.getFileName() + ": " + m.group(1));
            }
        }
        assertTrue(unknown.isEmpty(), "settings without an option name: " + unknown);
    }

    @Test
    void noExceptionOutsideTheCliNamesAnOption() throws IOException {
        List<String> found = new ArrayList<>();
        for (Path f : sources()) {
            if (COMMANDS.stream().anyMatch(c -> f.startsWith(MAIN.resolve(c)))) continue;
            List<String> lines = Files.readAllLines(f);
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i).strip();
                if (comment(line)) continue;
                if (!OPTION_IN_LITERAL.matcher(line).find()) continue;
                // the statement this literal belongs to: look back to its start for an exception
                String statement = String.join(" ", lines.subList(Math.max(0, i - 4), i + 1));
                if (statement.contains("Error(") || statement.contains("Exception(") || statement.contains(".naming("))
                    found.add(MAIN.relativize(f) + ":" + (i + 1) + ": " + line);
            }
        }
        assertTrue(found.isEmpty(), "exceptions that name CLI options:\n" + String.join("\n", found));
    }

    private static boolean comment(String line) {
        String s = line.strip();
        return s.startsWith("*") || s.startsWith("//") || s.startsWith("/*");
    }

    private static List<Path> sources() throws IOException {
        try (Stream<Path> s = Files.walk(MAIN)) {
            return s.filter(p -> p.toString().endsWith(".java")).sorted().toList();
        }
    }
}
