package org.charrnn.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.charrnn.util.Progress;
import org.charrnn.util.UserError;

/**
 * Builds the Linux-kernel corpus: every regular {@code .c} and {@code .h} file of a kernel source
 * tree, concatenated in sorted path order (paths relative to the tree, or entry names in an
 * archive, compared as strings; symbolic links are skipped). No separators are added between
 * files, as in Karpathy's linux corpus, and files that are not valid UTF-8 are kept (the summary
 * names them and suggests {@code --encoding bytes}).
 *
 * <p>The source is a directory, walked by {@link DirectoryCorpus} with the configuration here, or
 * a tar archive, plain or compressed with xz, gzip or bzip2, streamed without unpacking by {@link
 * TarCorpus}. It must look like a kernel tree ({@code Kconfig}, {@code Kbuild} or {@code
 * MAINTAINERS} at its top level, or under a single top-level directory in an archive) and have at
 * least one .c/.h file. On any error nothing is left at {@code out}.
 */
public final class LinuxCorpus {

    static final Set<String> MARKERS = Set.of("Kconfig", "Kbuild", "MAINTAINERS");

    /** The kernel's C sources and headers. */
    static final PathSelection FILES = PathSelection.of(List.of("*.c", "*.h"), List.of());

    /** A kernel tree: its .c and .h files, every one kept as it is. */
    static final DirectoryCorpus.Config TREE =
            new DirectoryCorpus.Config(FILES, false, LinuxCorpus::checkTree, LinuxCorpus::noFiles);

    private LinuxCorpus() {}

    /** Builds the corpus from {@code source} (a kernel tree or an archive of one) into {@code out}. */
    public static CorpusStats build(Path source, Path out, Progress progress) {
        return CorpusBuild.run(
                source,
                out,
                "the linux corpus",
                new CorpusCounter(false),
                (target, counter, p) -> {
                    if (Files.isDirectory(target.source())) DirectoryCorpus.concatenate(target, TREE, counter, p);
                    else fromArchive(target, counter, p);
                },
                progress);
    }

    private static void checkTree(Path root) {
        boolean kernel = false;
        for (String m : MARKERS) kernel |= Files.isRegularFile(root.resolve(m));
        if (!kernel)
            throw new UserError(
                    root
                            + " does not look like a Linux kernel source tree (no Kconfig, Kbuild or MAINTAINERS at its top level)");
    }

    private static String noFiles(Path source) {
        return source + " has no .c or .h files: not a Linux kernel source tree";
    }

    private static void fromArchive(CorpusBuild.Target target, CorpusCounter counter, Progress progress)
            throws IOException {
        Path archive = target.source();
        String notArchive = archive + " is not a kernel source tree or a .tar.xz/.tar.gz archive of one";
        try (TarCorpus tar = TarCorpus.stage(archive, target.tmp().getParent(), FILES, notArchive, counter, progress)) {
            TarCorpus.Layout l = tar.layout();
            boolean markerAtRoot = l.filesAtDepth1().stream().anyMatch(MARKERS::contains);
            boolean markerOneDown = l.filesAtDepth2().stream().anyMatch(MARKERS::contains);
            boolean oneTopDir = l.topLevel().size() == 1 && !l.topLevel().contains("");
            if (!markerAtRoot && !(markerOneDown && oneTopDir))
                throw new UserError(
                        archive
                                + " does not look like an archive of a Linux kernel source tree (no Kconfig, Kbuild or MAINTAINERS at its top level)");
            if (tar.files() == 0) throw new UserError(noFiles(archive));
            tar.writeTo(target.tmp(), counter);
        }
    }
}
