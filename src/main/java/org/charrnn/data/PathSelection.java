package org.charrnn.data;

import java.nio.file.FileSystems;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.PatternSyntaxException;
import org.charrnn.util.UserError;

/**
 * Which files of a tree go into a corpus: paths relative to the tree's root, with {@code /}
 * between names, matched against glob patterns ({@link java.nio.file.FileSystem#getPathMatcher}
 * syntax: {@code *} stays within one name, {@code **} crosses directories, {@code {a,b}} is
 * either).
 *
 * <p>A pattern without {@code /} is matched against the file's name ({@code *.tex}); one with a
 * {@code /} against the whole relative path ({@code chapters/*.tex}, {@code **}{@code /test/**}). A
 * file is selected if it matches an include pattern and no exclude pattern; an exclude pattern
 * also leaves out every file under a directory it matches ({@code --exclude .git}, {@code
 * --exclude build/generated}).
 */
public final class PathSelection {
    private final List<String> include, exclude;
    private final List<Glob> includeGlobs, excludeGlobs;

    private record Glob(PathMatcher matcher, boolean wholePath) {
        boolean matches(String rel) {
            String s = wholePath ? rel : rel.substring(rel.lastIndexOf('/') + 1);
            try {
                return matcher.matches(Path.of(s));
            } catch (InvalidPathException e) {
                return false; // a name the file system cannot hold is not one of its files
            }
        }
    }

    private PathSelection(List<String> include, List<String> exclude) {
        this.include = List.copyOf(include);
        this.exclude = List.copyOf(exclude);
        this.includeGlobs = compile("--include", include);
        this.excludeGlobs = compile("--exclude", exclude);
    }

    /**
     * The files matching one of {@code include} (at least one pattern) and none of {@code exclude};
     * a malformed pattern is a {@link UserError} naming its option.
     */
    public static PathSelection of(List<String> include, List<String> exclude) {
        if (include == null || include.isEmpty()) throw new UserError("give at least one --include GLOB");
        return new PathSelection(include, exclude == null ? List.of() : exclude);
    }

    private static List<Glob> compile(String option, List<String> patterns) {
        List<Glob> globs = new ArrayList<>();
        for (String p : patterns) {
            if (p.isEmpty()) throw new UserError(option + " needs a pattern, not an empty string");
            String body = p.startsWith("./") ? p.substring(2) : p;
            while (body.length() > 1 && body.endsWith("/")) body = body.substring(0, body.length() - 1);
            try {
                globs.add(new Glob(FileSystems.getDefault().getPathMatcher("glob:" + body), body.contains("/")));
            } catch (PatternSyntaxException e) {
                throw new UserError(option + " '" + p + "' is not a valid glob: " + e.getDescription(), e);
            }
        }
        return List.copyOf(globs);
    }

    /** Whether the file at {@code rel} (relative to the root, {@code /}-separated) is selected. */
    public boolean selects(String rel) {
        if (!any(includeGlobs, rel)) return false;
        if (excludeGlobs.isEmpty()) return true;
        for (int i = rel.indexOf('/'); i >= 0; i = rel.indexOf('/', i + 1))
            if (excludesDirectory(rel.substring(0, i))) return false;
        return !any(excludeGlobs, rel);
    }

    /** Whether the directory at {@code rel} is excluded, and with it everything under it. */
    public boolean excludesDirectory(String rel) {
        return any(excludeGlobs, rel);
    }

    private static boolean any(List<Glob> globs, String rel) {
        for (Glob g : globs) if (g.matches(rel)) return true;
        return false;
    }

    /** The options as given: {@code --include '*.tex' --exclude 'old/**'}. */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        for (String p : include) sb.append(sb.length() == 0 ? "" : " ").append("--include '" + p + "'");
        for (String p : exclude) sb.append(" --exclude '").append(p).append('\'');
        return sb.toString();
    }

    @Override
    public String toString() {
        return describe();
    }
}
