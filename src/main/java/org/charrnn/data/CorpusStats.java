package org.charrnn.data;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What a corpus builder ({@link DirectoryCorpus}, {@link LinuxCorpus}) wrote.
 *
 * @param out           the corpus file
 * @param files         files concatenated into it
 * @param bytes         its size
 * @param distinctChars distinct code points of the files that are valid UTF-8
 * @param distinctBytes distinct byte values
 * @param invalidUtf8   files kept although they are not valid UTF-8 (the Linux corpus keeps them)
 * @param binary        files left out because they hold a NUL byte
 * @param notUtf8       files left out because they are not valid UTF-8
 * @param seconds       time taken
 */
public record CorpusStats(
        Path out,
        long files,
        long bytes,
        int distinctChars,
        int distinctBytes,
        FileGroup invalidUtf8,
        FileGroup binary,
        FileGroup notUtf8,
        double seconds) {

    /** A number of files and the first few of their paths. */
    public record FileGroup(long count, List<String> examples) {
        public FileGroup {
            examples = List.copyOf(examples);
        }

        static final FileGroup NONE = new FileGroup(0, List.of());

        String eg() {
            return "e.g. " + String.join(", ", examples);
        }
    }

    /** One line for the terminal. */
    public String summary() {
        String s = String.format(
                Locale.ROOT,
                "%s: %,d files, %,d bytes, %,d distinct characters (%.1f s)",
                out,
                files,
                bytes,
                distinctChars,
                seconds);
        if (invalidUtf8.count() > 0)
            s += String.format(
                    Locale.ROOT,
                    "; %,d files are not valid UTF-8 (%s): train with --encoding bytes (%,d distinct bytes)",
                    invalidUtf8.count(),
                    invalidUtf8.eg(),
                    distinctBytes);
        if (binary.count() + notUtf8.count() > 0) s += "; " + skipped();
        return s;
    }

    /** {@code skipped 3 files: 2 binary, with NUL bytes (e.g. a.png, b.pdf), 1 not valid UTF-8 (e.g. old.tex)}. */
    String skipped() {
        long n = binary.count() + notUtf8.count();
        List<String> why = new ArrayList<>();
        if (binary.count() > 0)
            why.add(String.format(Locale.ROOT, "%,d binary, with NUL bytes (%s)", binary.count(), binary.eg()));
        if (notUtf8.count() > 0)
            why.add(String.format(Locale.ROOT, "%,d not valid UTF-8 (%s)", notUtf8.count(), notUtf8.eg()));
        return String.format(Locale.ROOT, "skipped %,d %s: %s", n, n == 1 ? "file" : "files", String.join(", ", why));
    }
}
