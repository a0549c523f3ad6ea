package org.charrnn.cli;

import java.util.List;
import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import org.charrnn.backend.BackendOptions;
import org.charrnn.backend.BackendProvider;
import org.charrnn.backend.Backends;
import org.charrnn.backend.Precision;
import org.charrnn.util.UserError;
import org.charrnn.verify.Verifier;

/** {@code charrnn verify}: checks a backend against the fp64 reference on this machine. */
@Command(name = "verify", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Check a backend's kernels and whole training steps against the reference backend on fresh random inputs; "
                + "prints check, max abs err, max rel err, pass/fail; exit 1 on any failure.")
public final class VerifyCommand implements Callable<Integer> {
    @Option(names = "--backend", required = true, description = "cuda | opencl (the backend to verify).") String backend;
    @Option(names = "--device", defaultValue = "-1", description = "Device index, as listed by 'charrnn devices'.") int device;
    @Option(names = "--seed", defaultValue = "1", description = "Seed of the random models and inputs.") long seed;
    @Option(names = "--failures-only", description = "Print only failed checks (and the summary line).") boolean failuresOnly;

    @Override
    public Integer call() {
        BackendProvider p = Backends.provider(backend);
        if (p.name().equals("reference")) throw new UserError("--backend reference is the source of truth; verify cuda or opencl");
        BackendProvider.Availability a = p.probe();
        if (!a.available()) throw new UserError("backend " + p.name() + " is not available: " + a.reason());
        BackendOptions base = BackendOptions.defaults().withDevice(device).withPrecision(Precision.FP32);
        Verifier v = Verifier.againstReference((cfg, o) -> p.create(cfg, o.withDevice(base.device())));
        List<Verifier.Check> checks = v.run(Verifier.standardShapes(), seed);
        List<Verifier.Check> shown = failuresOnly ? checks.stream().filter(c -> !c.passed()).toList() : checks;
        String table = Verifier.table(shown);
        if (failuresOnly) {
            long failed = checks.stream().filter(c -> !c.passed()).count();
            table = table.substring(0, table.lastIndexOf('\n') + 1) + (checks.size() - failed) + "/" + checks.size() + " checks passed";
        }
        System.out.println(table);
        return Verifier.allPassed(checks) ? 0 : 1;
    }
}
