package org.charrnn.api;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.charrnn.LanguageModel;
import org.charrnn.data.Corpus;
import org.charrnn.data.CorpusOptions;
import org.charrnn.model.CellType;
import org.charrnn.model.ModelSpec;
import org.charrnn.sample.SampleOptions;
import org.charrnn.testutil.TestData;
import org.charrnn.train.TrainConfig;
import org.charrnn.train.Trainer;
import org.charrnn.util.Progress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's "Library use" example, as code (smaller sizes, the reference backend, a temp directory). */
class ReadmeExampleTest {

    @Test
    void libraryExampleRuns(@TempDir Path dir) throws Exception {
        Path input = Files.writeString(dir.resolve("input.txt"), TestData.pseudoText(20000, 3));
        TrainConfig cfg = TrainConfig.defaults()
                .withModel(new ModelSpec(CellType.GRU, 2, 32, 16, 0.1))
                .withLimits(new TrainConfig.Limits(10, 30))
                .withBatching(new TrainConfig.Batching(8, 20))
                .withValidation(new TrainConfig.Validation(1000, 0))
                .withCheckpointing(new TrainConfig.Checkpointing(dir.resolve("checkpoints"), 1000, 5));
        Trainer.Options options =
                Trainer.Options.defaults().withBackend("reference", org.charrnn.backend.BackendOptions.defaults());
        try (Corpus corpus =
                        Corpus.open(input, CorpusOptions.defaults().withCacheDir(dir.resolve("cache")), Progress.NONE);
                Trainer trainer = new Trainer(
                        cfg,
                        new Trainer.Data(corpus.vocabulary(), corpus.train(), corpus.val(), corpus.summary()),
                        options)) {
            Trainer.Result r = trainer.run();
            assertTrue(r.iterations() == 30 && Double.isFinite(r.bestValLoss()));
        }
        try (LanguageModel lm = LanguageModel.load(dir.resolve("checkpoints"), "reference");
                Corpus corpus = Corpus.open(
                        input,
                        lm.vocabulary(),
                        CorpusOptions.defaults().withCacheDir(dir.resolve("cache")),
                        Progress.NONE)) {
            String text = lm.sampler().sampleText("the ", new SampleOptions(50, 0.8, 0, 1.0, false, 7));
            assertTrue(text.startsWith("the ") && text.length() == 54, text);
            double bpc = lm.evaluate(corpus.val(), 50, 100).bitsPerChar();
            assertTrue(bpc > 0 && bpc < Math.log(lm.vocabulary().size()) / Math.log(2), "bits/char " + bpc);
        }
    }
}
