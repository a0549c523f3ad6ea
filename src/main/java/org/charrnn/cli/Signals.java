package org.charrnn.cli;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Stop signals: the first SIGINT (Ctrl-C) or SIGTERM (timeout, docker stop, job schedulers) asks
 * the running job to stop cleanly (finish the step, write a checkpoint, exit 130 or 143); a second
 * one exits at once.
 */
final class Signals {
    private Signals() {}

    /** The installed handlers: {@link #exitCode()} says how to exit once stopped, {@link #restore()} undoes them. */
    interface Handle {
        /** 130 after SIGINT, 143 after SIGTERM (128 + the signal number, as shells report it). */
        int exitCode();

        void restore();
    }

    /** Installs the handlers for SIGINT and SIGTERM. */
    @SuppressWarnings("sunapi") // sun.misc.Signal: the only way to catch SIGTERM without exiting
    static Handle onStopSignals(Runnable stop) {
        AtomicInteger count = new AtomicInteger();
        AtomicInteger exit = new AtomicInteger(130);
        sun.misc.Signal intr = new sun.misc.Signal("INT"), term = new sun.misc.Signal("TERM");
        sun.misc.SignalHandler handler = s -> {
            int code = 128 + s.getNumber();
            if (count.incrementAndGet() == 1) {
                exit.set(code);
                System.err.println("\n" + (s.getName().equals("INT") ? "interrupt" : "terminate")
                        + ": finishing the current step and writing a checkpoint (again to quit at once)");
                stop.run();
            } else {
                Runtime.getRuntime().halt(code);
            }
        };
        sun.misc.SignalHandler previousInt = sun.misc.Signal.handle(intr, handler);
        sun.misc.SignalHandler previousTerm = sun.misc.Signal.handle(term, handler);
        return new Handle() {
            @Override
            public int exitCode() {
                return exit.get();
            }

            @Override
            public void restore() {
                sun.misc.Signal.handle(intr, previousInt);
                sun.misc.Signal.handle(term, previousTerm);
            }
        };
    }
}
