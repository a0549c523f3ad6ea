package org.charrnn.bench.jmh;

import java.util.ArrayList;
import java.util.List;

import org.charrnn.backend.BackendProvider;
import org.charrnn.backend.Backends;

/** Prints the comma-separated backends that can run here (bench/jmh.sh passes them as -p backend=...). */
public final class AvailableBackends {
    private AvailableBackends() {}

    public static void main(String[] args) {
        List<String> names = new ArrayList<>();
        for (BackendProvider p : Backends.providers()) {
            BackendProvider.Availability a = p.probe();
            if (a.available()) names.add(p.name());
            else System.err.println("jmh: skipping " + p.name() + ": " + a.reason());
        }
        System.out.println(String.join(",", names));
    }
}
