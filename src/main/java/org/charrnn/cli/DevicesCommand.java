package org.charrnn.cli;

import java.util.Locale;
import java.util.concurrent.Callable;
import org.charrnn.backend.BackendProvider;
import org.charrnn.backend.Backends;
import org.charrnn.backend.cuda.CudaBackendProvider;
import picocli.CommandLine.Command;

/** {@code charrnn devices}: every device each backend can use, and which one auto would pick. */
@Command(
        name = "devices",
        mixinStandardHelpOptions = true,
        description =
                "List the CUDA, OpenCL and CPU devices charrnn can use (index for --device, platform, name, memory).")
public final class DevicesCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.out.printf(
                Locale.ROOT,
                "%-9s %5s  %-34s %-44s %10s  %s%n",
                "backend",
                "index",
                "platform",
                "name",
                "memory",
                "kind");
        for (BackendProvider p : Backends.providers()) {
            BackendProvider.Availability a = p.probe();
            if (!a.available()) {
                System.out.printf(Locale.ROOT, "%-9s %5s  unavailable: %s%n", p.name(), "-", a.reason());
                continue;
            }
            for (BackendProvider.DeviceInfo d : p.devices())
                System.out.printf(
                        Locale.ROOT,
                        "%-9s %5d  %-34s %-44s %10s  %s%n",
                        p.name(),
                        d.index(),
                        clip(d.platform(), 34),
                        clip(d.name(), 44),
                        d.memoryBytes() > 0
                                ? String.format(Locale.ROOT, "%.1f GiB", d.memoryBytes() / 1073741824.0)
                                : "?",
                        d.gpu() ? "GPU" : CudaBackendProvider.isEmulated(d.name()) ? "emulated" : "CPU");
            for (String note : p.notes()) System.out.printf(Locale.ROOT, "%-9s %5s  %s%n", p.name(), "", note);
        }
        System.out.println("--backend auto would use: " + Backends.autoChoice());
        return 0;
    }

    private static String clip(String s, int n) {
        return s.length() <= n ? s : s.substring(0, n - 1) + "~";
    }
}
