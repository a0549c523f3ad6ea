package org.charrnn.data;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collection;
import java.util.List;

/**
 * Counts what a corpus builder writes, file by file: files, bytes, distinct byte values and the
 * distinct code points of the files that are valid UTF-8. In text-only mode a file with a NUL byte
 * (binary) or that is not valid UTF-8 is rejected as soon as that is seen, and leaves no trace in
 * the counts; otherwise every file is kept and the invalid UTF-8 ones are noted.
 */
final class CorpusCounter {
    private static final int EXAMPLES = 3;

    private final boolean textOnly;
    private final BitSet chars = new BitSet(Character.MAX_CODE_POINT + 1);
    private final BitSet byteValues = new BitSet(256);
    private final Group invalidKept = new Group(), binary = new Group(), notUtf8 = new Group();
    private long files, bytes;

    // the file being fed
    private final BitSet fileChars = new BitSet();
    private final BitSet fileByteValues = new BitSet(256);
    private long fileBytes;
    private Utf8Decoder dec;
    private boolean fileValid, fileBinary;
    private String name;
    private int[] cps = new int[1 << 16];

    /** A count of files and the first few of their names. */
    private static final class Group {
        long count;
        final List<String> examples = new ArrayList<>();

        void add(String name) {
            count++;
            if (examples.size() < EXAMPLES) examples.add(name);
        }

        CorpusStats.FileGroup freeze() {
            return count == 0 ? CorpusStats.FileGroup.NONE : new CorpusStats.FileGroup(count, examples);
        }
    }

    /** {@code textOnly}: reject binary and invalid UTF-8 files instead of keeping them. */
    CorpusCounter(boolean textOnly) {
        this.textOnly = textOnly;
    }

    void startFile(String n) {
        name = n;
        dec = new Utf8Decoder();
        fileValid = true;
        fileBinary = false;
        fileBytes = 0;
        fileChars.clear();
        fileByteValues.clear();
    }

    /**
     * Counts {@code b[off, off+n)}, the file's next bytes. Returns false once a text-only counter
     * has rejected the file: the caller stops feeding it and drops what it wrote of it.
     */
    boolean add(byte[] b, int off, int n) {
        if (rejected()) return false;
        fileBytes += n;
        for (int i = off; i < off + n; i++) {
            int v = b[i] & 0xFF;
            fileByteValues.set(v);
            if (v == 0 && textOnly) fileBinary = true;
        }
        if (fileValid && !fileBinary) {
            if (cps.length < n) cps = new int[n];
            try {
                int k = dec.decode(b, off, n, cps);
                for (int i = 0; i < k; i++) fileChars.set(cps[i]);
            } catch (Utf8Decoder.Malformed m) {
                fileValid = false;
            }
        }
        return !rejected();
    }

    private boolean rejected() {
        return textOnly && (fileBinary || !fileValid);
    }

    /** Ends the file; returns whether it is kept (always, unless text-only). */
    boolean endFile() {
        if (fileValid && !fileBinary) {
            try {
                dec.finish();
            } catch (Utf8Decoder.Malformed m) {
                fileValid = false;
            }
        }
        if (textOnly && fileBinary) {
            binary.add(name);
            return false;
        }
        if (textOnly && !fileValid) {
            notUtf8.add(name);
            return false;
        }
        files++;
        bytes += fileBytes;
        byteValues.or(fileByteValues);
        if (fileValid) chars.or(fileChars);
        else invalidKept.add(name);
        return true;
    }

    /** Files kept so far. */
    long files() {
        return files;
    }

    /** Bytes of the files kept so far. */
    long bytes() {
        return bytes;
    }

    /** Files rejected so far (text-only mode). */
    long rejectedFiles() {
        return binary.count + notUtf8.count;
    }

    /**
     * After a path repeated in an archive: files and bytes count only the entries kept (the
     * distinct-character sets may still include characters of a replaced entry).
     */
    void keepOnly(Collection<Long> keptLengths) {
        long b = 0;
        for (long l : keptLengths) b += l;
        bytes = b;
        files = keptLengths.size();
    }

    CorpusStats stats(Path out, double seconds) {
        return new CorpusStats(
                out,
                files,
                bytes,
                chars.cardinality(),
                byteValues.cardinality(),
                invalidKept.freeze(),
                binary.freeze(),
                notUtf8.freeze(),
                seconds);
    }
}
