package org.charrnn.cli;

import java.io.BufferedOutputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.charrnn.LanguageModel;
import org.charrnn.backend.BackendOptions;
import org.charrnn.backend.Backends;
import org.charrnn.data.Vocabulary;
import org.charrnn.io.Checkpoint;
import org.charrnn.sample.SampleOptions;
import org.charrnn.util.LogLines;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code charrnn sample}: stream text from a checkpoint. */
@Command(
        name = "sample",
        mixinStandardHelpOptions = true,
        showDefaultValues = true,
        description = "Generate text from a checkpoint, streamed to stdout as it is made.")
public final class SampleCommand implements Callable<Integer> {
    /** Thrown from the sampling callback to stop at the first failed write of standard output. */
    private static final class OutputClosed extends RuntimeException {
        private static final long serialVersionUID = 1L;

        OutputClosed() {
            super(null, null, false, false);
        }
    }

    @Option(
            names = "--checkpoint",
            required = true,
            description = "A .safetensors checkpoint, or a run directory (its best checkpoint).")
    Path checkpoint;

    @Option(names = "--length", defaultValue = "2000", description = "Characters to generate.")
    int length;

    @Option(names = "--temperature", defaultValue = "1.0", description = "Softmax temperature (> 0).")
    double temperature;

    @Option(names = "--top-k", defaultValue = "0", description = "Sample among the K most likely characters (0 = all).")
    int topK;

    @Option(
            names = "--top-p",
            defaultValue = "1.0",
            description = "Nucleus sampling: the smallest set with probability >= P.")
    double topP;

    @Option(names = "--prime", defaultValue = "", description = "Text fed to the model first (and printed).")
    String prime;

    @Option(names = "--seed", defaultValue = "42", description = "Seed of the draws.")
    long seed;

    @Option(
            names = "--argmax",
            description = "Always take the most likely character (no --temperature, --top-k or --top-p with it).")
    boolean argmax;

    @Mixin
    BackendOptionsMixin backendOptions;

    @Override
    public Integer call() throws Exception {
        SampleOptions so = new SampleOptions(length, temperature, topK, topP, argmax, seed);
        BackendOptions bo = backendOptions.options(seed); // bad options fail before any file is read
        // reading the checkpoint and probing the devices for --backend auto are independent: overlap them
        CompletableFuture<Checkpoint.Model> loading =
                CompletableFuture.supplyAsync(() -> Checkpoint.loadModel(Checkpoint.resolveModel(checkpoint)));
        Backends.probe(backendOptions.backend);
        Checkpoint.Model model = join(loading);
        model.vocabulary().encodePrime(prime); // reject characters outside the vocabulary before any work
        try (LanguageModel lm = LanguageModel.open(model, backendOptions.backend, bo, LogLines.stderr())) {
            Vocabulary v = lm.vocabulary();
            OutputStream out = new BufferedOutputStream(System.out, 1 << 12);
            try {
                lm.sampler().sample(prime, so, idx -> {
                    try {
                        out.write(v.bytes(idx));
                        out.flush();
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                    // System.out swallows write errors: a reader that went away (| head) shows here
                    if (System.out.checkError()) throw new OutputClosed();
                });
                out.write('\n');
                out.flush();
            } catch (OutputClosed e) {
                return 0; // as Unix tools do when the reader of their output is gone
            }
        }
        return 0;
    }

    /** The value of {@code f}, or what it threw, as thrown (not wrapped in a CompletionException). */
    private static <T> T join(CompletableFuture<T> f) {
        try {
            return f.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            if (e.getCause() instanceof Error err) throw err;
            throw e;
        }
    }
}
