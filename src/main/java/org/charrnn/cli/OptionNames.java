package org.charrnn.cli;

import java.util.Map;

/** The command-line option that sets each configuration record's component, for errors in CLI terms. */
final class OptionNames {
    private OptionNames() {}

    static final Map<String, String> BY_SETTING = Map.ofEntries(
            Map.entry("ModelSpec.cell", "--model"),
            Map.entry("ModelSpec.layers", "--layers"),
            Map.entry("ModelSpec.hidden", "--hidden"),
            Map.entry("ModelSpec.embedding", "--embedding"),
            Map.entry("ModelSpec.dropout", "--dropout"),
            Map.entry("OptimizerConfig.kind", "--optimizer"),
            Map.entry("OptimizerConfig.decay", "--decay"),
            Map.entry("OptimizerConfig.momentum", "--momentum"),
            Map.entry("OptimizerConfig.weightDecay", "--weight-decay"),
            Map.entry("CorpusOptions.encoding", "--encoding"),
            Map.entry("CorpusOptions.maxVocab", "--max-vocab"),
            Map.entry("CorpusOptions.valFrac", "--val-frac"),
            Map.entry("CorpusOptions.testFrac", "--test-frac"),
            Map.entry("BackendOptions.device", "--device"),
            Map.entry("BackendOptions.precision", "--precision"),
            Map.entry("BackendOptions.rnnKernel", "--rnn-kernel"),
            Map.entry("Options.resume", "--resume"),
            Map.entry("Data.path", "--data"),
            Map.entry("Data.encoding", "--encoding"),
            Map.entry("Data.maxVocab", "--max-vocab"),
            Map.entry("Data.valFrac", "--val-frac"),
            Map.entry("Data.testFrac", "--test-frac"),
            Map.entry("Batching.batch", "--batch"),
            Map.entry("Batching.seqLen", "--seq"),
            Map.entry("Schedule.lr", "--lr"),
            Map.entry("Schedule.kind", "--lr-schedule"),
            Map.entry("Schedule.decay", "--lr-decay"),
            Map.entry("Schedule.decayEvery", "--lr-decay-every"),
            Map.entry("Clipping.max", "--clip"),
            Map.entry("Clipping.mode", "--clip-mode"),
            Map.entry("Limits.maxEpochs", "--max-epochs"),
            Map.entry("Limits.maxIters", "--max-iters"),
            Map.entry("Limits.maxTime", "--max-time"),
            Map.entry("Limits.earlyStop", "--early-stop"),
            Map.entry("Validation.every", "--val-every"),
            Map.entry("Validation.maxWindows", "--val-max-windows"),
            Map.entry("Checkpointing.out", "--out"),
            Map.entry("Checkpointing.every", "--checkpoint-every"),
            Map.entry("Checkpointing.keep", "--keep"),
            Map.entry("Checkpointing.minutes", "--checkpoint-minutes"),
            Map.entry("Reporting.printEvery", "--print-every"),
            Map.entry("Reporting.sampleLength", "--sample-length"),
            Map.entry("Reporting.sampleTemperature", "--sample-temperature"),
            Map.entry("SampleOptions.length", "--length"),
            Map.entry("SampleOptions.temperature", "--temperature"),
            Map.entry("SampleOptions.topK", "--top-k"),
            Map.entry("SampleOptions.topP", "--top-p"),
            Map.entry("SampleOptions.argmax", "--argmax"),
            Map.entry("SampleOptions.seed", "--seed"));
}
