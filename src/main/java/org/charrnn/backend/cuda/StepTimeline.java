package org.charrnn.backend.cuda;

/**
 * A traced step's timeline ({@link StepTrace}), µs: the main stream's clock, the side stream's work
 * queued and done (in order: a mark of the side work queued so far is done once that much is), and
 * the step values' copy beside the main stream ({@link StepBlock}) not yet done.
 * Each main operation lets the side work progress at a share of its time (what a persistent pass
 * in the cluster layout leaves: its idle SMs' share; beside any other operation {@link
 * StepCostModel.Rates#sideRate}, half unless measured) and the copy at its full time (the copy
 * engine's, beside any kernel); a join waits for the rest.
 */
final class StepTimeline {
    private final double sideRate; // beside any operation but a cluster-layout pass
    private double clock, sideQueued, sideDone, besideLeft;
    private double nextSideRate; // beside the next main operation

    StepTimeline(double sideRate) {
        this.sideRate = this.nextSideRate = sideRate;
    }

    void clear() {
        clock = sideQueued = sideDone = besideLeft = 0;
        nextSideRate = sideRate;
    }

    /** A main-stream operation of {@code us}: the work beside it progresses meanwhile. */
    void main(double us) {
        sideDone = Math.min(sideQueued, sideDone + us * nextSideRate);
        besideLeft = Math.max(0, besideLeft - us);
        clock += us;
        nextSideRate = sideRate;
    }

    /** Side-stream work of {@code us}, queued. */
    void side(double us) {
        sideQueued += us;
    }

    /** A mark of the side work queued so far, for {@link #joinSide(double)}. */
    double sideMark() {
        return sideQueued;
    }

    /** The step values' copy of {@code us}, beside the main stream until {@link #joinBeside}. */
    void beside(double us) {
        besideLeft += us;
    }

    /** The main stream waits for the side stream's work (at the full device). */
    void joinSide() {
        joinSide(sideQueued);
    }

    /** The main stream waits for the side work up to {@code mark} (at the full device). */
    void joinSide(double mark) {
        double wait = Math.max(0, mark - sideDone);
        clock += wait;
        sideDone += wait;
    }

    /** The main stream waits for the copy beside it. */
    void joinBeside() {
        clock += besideLeft;
        besideLeft = 0;
    }

    /** The side stream's share beside the next main operation only (a cluster-layout pass's idle SMs). */
    void nextSideRate(double rate) {
        nextSideRate = rate;
    }

    /** The step's µs: the main stream's clock and what is left beside it. Without side work, the sum of the operations. */
    double criticalUs() {
        return clock + (sideQueued - sideDone) + besideLeft;
    }
}
