package org.charrnn.testutil;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.charrnn.testutil.SkipSummaryListener.Kind;
import org.charrnn.testutil.SkipSummaryListener.Skip;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.platform.engine.TestDescriptor;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.TestSource;
import org.junit.platform.engine.UniqueId;
import org.junit.platform.engine.support.descriptor.AbstractTestDescriptor;
import org.junit.platform.engine.support.descriptor.ClassSource;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.TestIdentifier;
import org.opentest4j.TestAbortedException;

/** The end-of-run block of skipped and aborted tests: grouping, names, reasons, and the listener's events. */
class SkipSummaryListenerTest {
    private static final String NL = System.lineSeparator();

    @Test
    void nothingSkippedPrintsNothing() {
        assertEquals("", SkipSummaryListener.summary(List.of()));
    }

    @Test
    void groupsByReasonMostFrequentFirstAndCountsPerClass() {
        List<Skip> skips = List.of(
                new Skip("DatasetsTest", "shakespeareOffline", Kind.ABORTED, "tiny-shakespeare not available"),
                new Skip("CudaOpsTest", "gemm", Kind.ABORTED, "no CUDA device"),
                new Skip("CudaOpsTest", "softmax", Kind.ABORTED, "no CUDA device"),
                new Skip("CudaCliTest", null, Kind.ABORTED, "no CUDA device"),
                new Skip("OldTest", "slow", Kind.SKIPPED, "takes an hour"),
                new Skip("CorpusTest", "shakespeareSummary", Kind.ABORTED, "tiny-shakespeare not available"));
        assertEquals(
                NL + "Tests not run: 6 (3 reasons)" + NL
                        + "  [3] aborted: no CUDA device" + NL
                        + "      CudaOpsTest (2 tests), CudaCliTest (whole class)" + NL
                        + "  [2] aborted: tiny-shakespeare not available" + NL
                        + "      DatasetsTest.shakespeareOffline, CorpusTest.shakespeareSummary" + NL
                        + "  [1] skipped: takes an hour" + NL
                        + "      OldTest.slow" + NL,
                SkipSummaryListener.summary(skips));
    }

    @Test
    void oneSkipIsSingular() {
        assertEquals(
                NL + "Tests not run: 1 (1 reason)" + NL + "  [1] skipped: off" + NL + "      A.b" + NL,
                SkipSummaryListener.summary(List.of(new Skip("A", "b", Kind.SKIPPED, "off"))));
    }

    @Test
    void reasonsAreOneLineWithoutJUnitsPrefix() {
        TestAbortedException e =
                assertThrows(TestAbortedException.class, () -> Assumptions.assumeTrue(false, "no OpenCL platform"));
        assertEquals("no OpenCL platform", SkipSummaryListener.abortReason(Optional.of(e)));
        assertEquals("TestAbortedException", SkipSummaryListener.abortReason(Optional.of(new TestAbortedException())));
        assertEquals("aborted", SkipSummaryListener.abortReason(Optional.empty()));
        Skip s = SkipSummaryListener.skip(Optional.empty(), "[engine:x]", Kind.SKIPPED, "  first line\nsecond\n");
        assertEquals(new Skip("[engine:x]", null, Kind.SKIPPED, "first line"), s);
        assertEquals(
                "no reason given",
                SkipSummaryListener.skip(Optional.empty(), "n", Kind.SKIPPED, null)
                        .reason());
    }

    @Test
    void theListenerCollectsSkippedAndAbortedTestsAndPrintsAtTheEnd() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        SkipSummaryListener l = new SkipSummaryListener(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        l.testPlanExecutionStarted(null);
        TestIdentifier passed = id("p", MethodSource.from("org.charrnn.x.FooTest", "works"), TestDescriptor.Type.TEST);
        TestIdentifier aborted =
                id("a", MethodSource.from("org.charrnn.x.FooTest", "needsGpu"), TestDescriptor.Type.TEST);
        TestIdentifier disabled = id("d", ClassSource.from("org.charrnn.y.BarTest"), TestDescriptor.Type.CONTAINER);
        l.executionFinished(passed, TestExecutionResult.successful());
        l.executionFinished(id("f", null, TestDescriptor.Type.TEST), TestExecutionResult.failed(new AssertionError()));
        TestAbortedException noGpu =
                assertThrows(TestAbortedException.class, () -> Assumptions.assumeTrue(false, "no GPU here"));
        l.executionFinished(aborted, TestExecutionResult.aborted(noGpu));
        l.executionSkipped(disabled, "class org.charrnn.y.BarTest is @Disabled");
        l.testPlanExecutionFinished(null);
        assertEquals(
                NL + "Tests not run: 2 (2 reasons)" + NL
                        + "  [1] aborted: no GPU here" + NL
                        + "      FooTest.needsGpu" + NL
                        + "  [1] skipped: class org.charrnn.y.BarTest is @Disabled" + NL
                        + "      BarTest (whole class)" + NL,
                bytes.toString(StandardCharsets.UTF_8));

        bytes.reset();
        l.testPlanExecutionStarted(null);
        l.executionFinished(passed, TestExecutionResult.successful());
        l.testPlanExecutionFinished(null);
        assertEquals("", bytes.toString(StandardCharsets.UTF_8), "a new plan starts empty; all ran: nothing printed");
    }

    private static TestIdentifier id(String name, TestSource source, TestDescriptor.Type type) {
        return TestIdentifier.from(new Descriptor(name, source, type));
    }

    /** A bare test descriptor, as an engine reports one. */
    private static final class Descriptor extends AbstractTestDescriptor {
        private final Type type;

        Descriptor(String name, TestSource source, Type type) {
            super(UniqueId.forEngine("fixture").append("test", name), name, source);
            this.type = type;
        }

        @Override
        public Type getType() {
            return type;
        }
    }
}
