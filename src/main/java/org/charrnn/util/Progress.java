package org.charrnn.util;

/** Receives progress of a long operation; {@link #NONE} ignores it. */
public interface Progress {

    /** {@code done} of {@code total} units (bytes, files, steps); {@code total <= 0} if unknown. */
    void update(long done, long total, String detail);

    /** The operation finished; a bar clears or ends its line. */
    default void finish() {}

    Progress NONE = (done, total, detail) -> {};
}
