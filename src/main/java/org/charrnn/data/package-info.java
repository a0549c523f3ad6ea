/**
 * Corpora: reading text into symbol indices, the vocabulary stored in checkpoints, named datasets
 * and the builders of corpus files (a directory of text files, the Linux kernel).
 *
 * <h2>Text and vocabulary</h2>
 * A corpus is a UTF-8 file; its symbols are Unicode code points (so Korean, emoji and other
 * supplementary-plane characters are one symbol each), sorted, forming a {@link
 * org.charrnn.data.Vocabulary} that is stored in the checkpoint as JSON. Invalid UTF-8 or a NUL
 * byte is an error naming the byte offset and suggesting {@code --encoding bytes}, which uses the
 * raw bytes (at most 256 symbols) and samples back to bytes. {@code --max-vocab N} keeps the
 * {@code N-1} most frequent symbols and maps the rest to one unknown symbol (the last index,
 * sampled as U+FFFD). Splits {@code [train | val | test]} are taken in order, val and test from the
 * end of the file, each {@code floor(n * frac)} symbols.
 *
 * <h2>Large files</h2>
 * {@link org.charrnn.data.Corpus} streams the file twice (count, then encode) in 4 MiB chunks and
 * never holds it as a String. Indices take one byte each when the vocabulary has at most 256
 * symbols, else two. With a cache directory the encoded form goes to
 * {@code <cacheDir>/encoded/<16 hex digits>.tokens}, keyed by the absolute path, the encoding and
 * {@code --max-vocab} (or the given vocabulary), validated against the file's size, modification
 * time and a content hash (see {@link org.charrnn.data.TokenCache}), written atomically and
 * memory-mapped on later runs. Heap use is about 40 MB whatever the corpus size.
 *
 * <h2>Named datasets</h2>
 * {@code --data shakespeare} is {@code <cacheDir>/tinyshakespeare.txt}, downloaded from
 * karpathy/char-rnn and checked against its SHA-256 if absent ({@link org.charrnn.data.Datasets}).
 *
 * <h2>Building corpora</h2>
 * {@link org.charrnn.data.DirectoryCorpus} concatenates the files of a tree that a {@link
 * org.charrnn.data.PathSelection} (include and exclude globs) selects, in sorted path order, into
 * one UTF-8 file, skipping binary and invalid UTF-8 files ({@code charrnn corpus dir}). {@link
 * org.charrnn.data.LinuxCorpus} is the same walk configured for a kernel tree (its {@code .c} and
 * {@code .h} files, every one kept), or a stream through a kernel archive ({@code
 * TarCorpus}) ({@code charrnn corpus linux}). Both write through {@code
 * CorpusBuild}: a temporary file renamed into place.
 */
package org.charrnn.data;
