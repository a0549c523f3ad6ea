package org.charrnn.cli;

/**
 * Ctrl-C handling: the first SIGINT asks the running job to stop cleanly (finish the step, write
 * a checkpoint, exit 130); a second one exits at once.
 */
final class Signals {
    private Signals() {}

    /** Installs the handler; the returned action restores the previous one. */
    static Runnable onInterrupt(Runnable stop) {
        sun.misc.Signal sig = new sun.misc.Signal("INT");
        java.util.concurrent.atomic.AtomicInteger count = new java.util.concurrent.atomic.AtomicInteger();
        sun.misc.SignalHandler previous = sun.misc.Signal.handle(sig, s -> {
            if (count.incrementAndGet() == 1) {
                System.err.println(
                        "\ninterrupt: finishing the current step and writing a checkpoint (Ctrl-C again to quit at once)");
                stop.run();
            } else {
                Runtime.getRuntime().halt(130);
            }
        });
        return () -> sun.misc.Signal.handle(sig, previous);
    }
}
