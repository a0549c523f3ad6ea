package org.charrnn.backend;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import org.charrnn.model.ModelConfig;
import org.charrnn.util.UserError;

/**
 * Picks and creates backends: {@code --backend auto|reference|cuda|opencl}. auto prefers CUDA,
 * then an OpenCL GPU, then the reference; one log line says which was chosen and why.
 */
public final class Backends {
    private Backends() {}

    /** Every known provider, in auto-selection preference order. */
    public static List<BackendProvider> providers() {
        List<BackendProvider> list = new ArrayList<>();
        list.add(new org.charrnn.backend.cuda.CudaBackendProvider());
        list.add(new org.charrnn.backend.opencl.OpenClBackendProvider());
        list.add(new ReferenceBackendProvider());
        return list;
    }

    /** The provider named {@code name} ("reference", "cuda", "opencl"). */
    public static BackendProvider provider(String name) {
        for (BackendProvider p : providers()) if (p.name().equalsIgnoreCase(name)) return p;
        throw new UserError("unknown backend '" + name + "' (expected auto, reference, cuda or opencl)");
    }

    /**
     * Creates the backend named {@code kind} (or the best available for "auto") and logs one line
     * saying which backend and device runs.
     */
    public static Backend create(String kind, ModelConfig config, BackendOptions options, Consumer<String> log) {
        Backend b;
        if (kind == null || kind.equalsIgnoreCase("auto")) {
            b = createAuto(config, options, log);
        } else {
            BackendProvider p = provider(kind);
            BackendProvider.Availability a = p.probe();
            if (!a.available()) throw new UserError("backend " + p.name() + " is not available: " + a.reason());
            b = p.create(config, options);
            log.accept("backend: " + b.name() + " on " + b.deviceName() + " (" + b.precision().id() + ")");
        }
        return b;
    }

    /** Which backend (and why) {@code --backend auto} would pick here, without creating it. */
    public static String autoChoice() {
        StringBuilder skipped = new StringBuilder();
        for (BackendProvider p : providers()) {
            if (p.name().equals("reference")) continue;
            BackendProvider.Availability a = p.probe();
            boolean gpu = a.available() && p.devices().stream().anyMatch(BackendProvider.DeviceInfo::gpu);
            if (gpu) return p.name() + " (GPU)";
            skipped.append("; ").append(p.name()).append(": ").append(a.available() ? "no GPU device" : a.reason());
        }
        return "reference" + (skipped.length() > 0 ? " (" + skipped.substring(2) + ")" : "");
    }

    private static Backend createAuto(ModelConfig config, BackendOptions options, Consumer<String> log) {
        StringBuilder skipped = new StringBuilder();
        for (BackendProvider p : providers()) {
            if (p.name().equals("reference")) continue;
            BackendProvider.Availability a = p.probe();
            boolean gpu = p.devices().stream().anyMatch(BackendProvider.DeviceInfo::gpu);
            if (a.available() && gpu) {
                Backend b = p.create(config, options);
                log.accept("backend: " + b.name() + " on " + b.deviceName() + " (" + b.precision().id() + ", auto)");
                return b;
            }
            skipped.append("; ").append(p.name()).append(": ").append(a.available() ? "no GPU device" : a.reason());
        }
        Backend b = new ReferenceBackendProvider().create(config, options.withPrecision(Precision.FP64));
        log.accept("backend: reference on " + b.deviceName() + " (auto" + skipped + ")");
        return b;
    }
}
