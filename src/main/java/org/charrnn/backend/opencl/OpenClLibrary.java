package org.charrnn.backend.opencl;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Where the OpenCL ICD loader is, looked up before JOCL is touched. JOCL opens only the name
 * {@code libOpenCL.so}, which on Linux comes from the development package, while a GPU driver or
 * {@code ocl-icd-libopencl1} installs only {@code libOpenCL.so.1}; JOCL then prints "Could not load
 * libOpenCL.so" on stderr. Looking first turns that into a one-line reason (and the launcher links
 * the versioned name so that it loads).
 */
final class OpenClLibrary {
    private OpenClLibrary() {}

    static final String NAME = "libOpenCL.so";

    /**
     * Null when {@code libOpenCL.so} is in one of {@code dirs} (or this is not Linux: JOCL's own
     * search applies), else why OpenCL cannot load and what to install.
     */
    static String missingReason(String osName, List<Path> dirs) {
        if (!osName.toLowerCase(Locale.ROOT).contains("linux")) return null;
        Path versioned = null;
        for (Path d : dirs) {
            if (Files.exists(d.resolve(NAME))) return null;
            if (versioned == null && Files.exists(d.resolve(NAME + ".1"))) versioned = d.resolve(NAME + ".1");
        }
        if (versioned != null)
            return "only " + versioned + " is installed and JOCL loads " + NAME + ": install the OpenCL development"
                    + " package (Debian/Ubuntu: apt-get install ocl-icd-opencl-dev), or run through ./charrnn, which"
                    + " links it";
        return "no OpenCL library (" + NAME + ") found: install an OpenCL ICD loader and a driver"
                + " (for CPUs: apt-get install ocl-icd-opencl-dev pocl-opencl-icd)";
    }

    /** The dynamic linker's directories: LD_LIBRARY_PATH, /etc/ld.so.conf(.d) and the system ones. */
    static List<Path> searchPath(String ldLibraryPath) {
        List<Path> dirs = new ArrayList<>();
        if (ldLibraryPath != null) for (String s : ldLibraryPath.split(":")) if (!s.isEmpty()) dirs.add(Path.of(s));
        dirs.addAll(confDirs(Path.of("/etc/ld.so.conf")));
        for (String s : new String[] {
            "/lib/x86_64-linux-gnu",
            "/usr/lib/x86_64-linux-gnu",
            "/lib/aarch64-linux-gnu",
            "/usr/lib/aarch64-linux-gnu",
            "/lib64",
            "/usr/lib64",
            "/lib",
            "/usr/lib",
            "/usr/local/lib"
        }) dirs.add(Path.of(s));
        return dirs;
    }

    /** Directories named in an ld.so.conf file and the files it includes (one level of globs). */
    private static List<Path> confDirs(Path conf) {
        List<Path> dirs = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(conf)) {
                String l = line.strip();
                if (l.startsWith("include ")) {
                    Path glob = Path.of(l.substring(8).strip());
                    Path dir = glob.getParent();
                    if (dir == null || !Files.isDirectory(dir)) continue;
                    String pattern = glob.getFileName().toString();
                    try (Stream<Path> files = Files.list(dir)) {
                        for (Path f : files.sorted().toList())
                            if (dir.getFileSystem()
                                    .getPathMatcher("glob:" + pattern)
                                    .matches(f.getFileName())) dirs.addAll(confDirs(f));
                    }
                } else if (l.startsWith("/")) dirs.add(Path.of(l));
            }
        } catch (IOException | RuntimeException e) {
            // no or unreadable ld.so.conf: the system directories still count
        }
        return dirs;
    }
}
