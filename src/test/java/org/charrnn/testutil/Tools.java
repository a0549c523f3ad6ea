package org.charrnn.testutil;

import java.io.File;

/** Command-line tools the tests look for. */
public final class Tools {
    private Tools() {}

    /** True when an executable {@code name} is in a directory of $PATH. */
    public static boolean onPath(String name) {
        String path = System.getenv("PATH");
        if (path == null) return false;
        for (String dir : path.split(File.pathSeparator))
            if (!dir.isEmpty() && new File(dir, name).canExecute()) return true;
        return false;
    }
}
