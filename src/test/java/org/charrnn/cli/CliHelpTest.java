package org.charrnn.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.charrnn.testutil.CliRun;
import org.junit.jupiter.api.Test;

/** What --help says, and what a mistyped option gets back. */
class CliHelpTest {

    @Test
    void aMistypedOptionGetsASuggestion() {
        CliRun r = CliRun.of("train", "--hiden", "64");
        r.assertOneLineError("Unknown options: '--hiden'");
        assertTrue(r.err().contains("did you mean --hidden?"), r.err());
    }

    @Test
    void deviceHelpHasOneDefault() {
        CliRun r = CliRun.of("train", "--help");
        assertEquals(0, r.code(), r.err());
        String help = r.out().replaceAll("\\s+", " ");
        int at = help.indexOf("--device=<device> Device index");
        assertTrue(at >= 0, help);
        String device = help.substring(at, help.indexOf(" --", at + 2));
        assertTrue(device.contains("default: the first GPU"), device);
        assertFalse(device.contains("Default: -1"), device);
    }

    @Test
    void everyCommandPrintsTheVersion() {
        String version = CliRun.of("--version").out().strip();
        assertTrue(version.matches("charrnn \\d+\\.\\d+\\.\\d+"), version);
        for (String[] command : new String[][] {
            {"train"}, {"sample"}, {"verify"}, {"corpus"}, {"corpus", "linux"}, {"caption"}, {"caption", "demo"}
        }) {
            String[] args = java.util.Arrays.copyOf(command, command.length + 1);
            args[command.length] = "-V";
            CliRun r = CliRun.of(args);
            assertEquals(0, r.code(), r.err());
            assertEquals(version, r.out().strip(), String.join(" ", args));
        }
    }

    @Test
    void noGraphOnlyWhereTrainingStepsRun() {
        assertTrue(CliRun.of("train", "--help").out().contains("--no-graph"));
        assertTrue(CliRun.of("bench", "--help").out().contains("--no-graph"));
        assertFalse(CliRun.of("sample", "--help").out().contains("--no-graph"));
        assertFalse(CliRun.of("eval", "--help").out().contains("--no-graph"));
    }
}
