package org.charrnn.api;

import java.nio.file.Path;
import org.charrnn.LanguageModel;
import org.charrnn.backend.BackendOptions;
import org.charrnn.data.Corpus;
import org.charrnn.data.CorpusOptions;
import org.charrnn.model.CellType;
import org.charrnn.model.ModelSpec;
import org.charrnn.sample.SampleOptions;
import org.charrnn.train.TrainConfig;
import org.charrnn.train.TrainListener;
import org.charrnn.train.Trainer;
import org.charrnn.util.Progress;

/** Trains a GRU on a text file, prints its progress, then samples from it and evaluates it. */
public final class LibraryExample {

    public static void main(String[] args) {
        double bpc = trainSampleEvaluate(Path.of(args[0]), Path.of(args[1]), "auto", 500);
        System.out.printf("validation: %.3f bits/char%n", bpc);
    }

    /** Trains for {@code iterations} on {@code backend} into {@code runDir}; returns the val bits/char. */
    public static double trainSampleEvaluate(Path input, Path runDir, String backend, long iterations) {
        TrainConfig cfg = TrainConfig.defaults()
                .withModel(new ModelSpec(CellType.GRU, 2, 64, 32, 0.0))
                .withBatching(new TrainConfig.Batching(16, 50))
                .withLimits(new TrainConfig.Limits(100, iterations))
                .withCheckpointing(new TrainConfig.Checkpointing(runDir, 1000, 5));
        TrainListener progress = new TrainListener() {
            @Override
            public void onIteration(TrainListener.Step s) {
                if (s.iteration() % 50 == 0 || s.iteration() == s.total())
                    System.out.printf("iteration %d/%d: loss %.3f%n", s.iteration(), s.total(), s.loss());
            }
        };
        Trainer.Options options = Trainer.Options.defaults()
                .withBackend(backend, BackendOptions.defaults())
                .withListener(progress);
        try (Corpus corpus = Corpus.open(input, CorpusOptions.defaults(), Progress.NONE);
                Trainer trainer = new Trainer(
                        cfg,
                        new Trainer.Data(corpus.vocabulary(), corpus.train(), corpus.val(), corpus.summary()),
                        options)) {
            trainer.run();
        }
        try (LanguageModel lm = LanguageModel.load(runDir, backend);
                Corpus corpus = Corpus.open(input, lm.vocabulary(), CorpusOptions.defaults(), Progress.NONE)) {
            SampleOptions sampling = new SampleOptions(200, 0.8, 0, 1.0, false, 7);
            System.out.println(lm.sampler().sampleText("ROMEO:", sampling));
            return lm.evaluate(corpus.val(), 16, 100).bitsPerChar();
        }
    }
}
