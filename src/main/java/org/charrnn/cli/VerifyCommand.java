package org.charrnn.cli;

import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.charrnn.backend.BackendOptions;
import org.charrnn.backend.BackendProvider;
import org.charrnn.backend.Backends;
import org.charrnn.backend.Precision;
import org.charrnn.backend.ReferenceBackend;
import org.charrnn.backend.RnnKernel;
import org.charrnn.util.UserError;
import org.charrnn.verify.Tolerances;
import org.charrnn.verify.Verifier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code charrnn verify}: checks a backend against the fp64 reference on this machine. */
@Command(
        name = "verify",
        mixinStandardHelpOptions = true,
        showDefaultValues = true,
        description =
                "Check a backend's kernels and whole training steps against the reference backend on fresh random inputs; "
                        + "prints check, max abs err, max rel err, pass/fail; exit 1 on any failure.")
public final class VerifyCommand implements Callable<Integer> {
    @Option(names = "--backend", required = true, description = "cuda | opencl (the backend to verify).")
    String backend;

    @Option(names = "--device", defaultValue = "-1", description = "Device index, as listed by 'charrnn devices'.")
    int device;

    @Option(
            names = "--precision",
            defaultValue = "fp32",
            description =
                    "fp32 | tf32 | bf16: the precision the backend computes in; each has its own tolerance table.")
    String precision;

    @Option(
            names = "--rnn-kernel",
            defaultValue = "auto",
            description =
                    "auto | persistent | stepwise: the recurrence to verify, one launch per layer and pass or one per "
                            + "step (persistent: only the cells that have such a kernel, LSTM, GRU and RNN, are "
                            + "checked).")
    String rnnKernel;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the random models and inputs.")
    long seed;

    @Option(names = "--failures-only", description = "Print only failed checks (and the summary line).")
    boolean failuresOnly;

    @Override
    public Integer call() {
        BackendProvider p = Backends.provider(backend);
        if (p.name().equals("reference"))
            throw new UserError("--backend reference is the source of truth; verify cuda or opencl");
        BackendProvider.Availability a = p.probe();
        if (!a.available()) throw new UserError("backend " + p.name() + " is not available: " + a.reason());
        Precision prec;
        try {
            prec = Precision.parse(precision);
        } catch (IllegalArgumentException e) {
            throw new UserError("--precision: " + e.getMessage());
        }
        if (prec == Precision.FP64)
            throw new UserError("--precision fp64 is the reference's; verify fp32, tf32 or bf16");
        RnnKernel kernel;
        try {
            kernel = RnnKernel.parse(rnnKernel);
        } catch (IllegalArgumentException e) {
            throw new UserError("--rnn-kernel: " + e.getMessage());
        }
        BackendOptions base = BackendOptions.defaults().withDevice(device).withPrecision(prec);
        // each of the many backends the checks create says the same things: each line once
        Set<String> said = ConcurrentHashMap.newKeySet();
        Consumer<String> log = line -> {
            if (said.add(line)) BackendOptions.STDERR.accept(line);
        };
        Verifier v = new Verifier(
                (cfg, o) -> p.create(
                        cfg, o.withDevice(base.device()).withRnnKernel(kernel).withLog(log)),
                prec,
                ReferenceBackend::new,
                Tolerances.forPrecision(prec));
        // a forced persistent kernel is verified on the cells that have one
        List<Verifier.Shape> shapes = Verifier.standardShapes().stream()
                .filter(s -> kernel != RnnKernel.PERSISTENT || RnnKernel.hasPersistent(s.cell()))
                .toList();
        List<Verifier.Check> checks = v.run(shapes, seed);
        List<Verifier.Check> shown =
                failuresOnly ? checks.stream().filter(c -> !c.passed()).toList() : checks;
        String table = Verifier.table(shown);
        if (failuresOnly) {
            long failed = checks.stream().filter(c -> !c.passed()).count();
            table = table.substring(0, table.lastIndexOf('\n') + 1) + (checks.size() - failed) + "/" + checks.size()
                    + " checks passed";
        }
        System.out.println(table);
        return Verifier.allPassed(checks) ? 0 : 1;
    }
}
