package org.charrnn.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.charrnn.testutil.CliRun;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The command line builds only the command it runs, and that command is the one the full tree has. */
class MainCommandsTest {
    private static final List<String> ALL = List.of(
            "train", "sample", "eval", "corpus", "bench", "verify", "devices", "cells", "report", "caption", "help");

    private static List<String> built(String... args) {
        return List.copyOf(Main.commandLine(args).getSubcommands().keySet());
    }

    /** A command whose file write fails where nothing expected it to, checked or (in a stream) unchecked. */
    @CommandLine.Command(name = "fails")
    static final class FailingWrite implements java.util.concurrent.Callable<Integer> {
        @CommandLine.Option(names = "--unchecked")
        boolean unchecked;

        @Override
        public Integer call() throws java.io.IOException {
            var e = new java.nio.file.FileSystemException("/runs/x/page.html", null, "Read-only file system");
            if (unchecked) throw new java.io.UncheckedIOException(e);
            throw e;
        }
    }

    @Test
    void anUnexpectedFileErrorIsOneLineInWords() {
        for (String[] args : new String[][] {{"fails"}, {"fails", "--unchecked"}}) {
            CommandLine cl = Main.commandLine(args);
            cl.addSubcommand(new FailingWrite());
            java.io.StringWriter err = new java.io.StringWriter();
            cl.setErr(new java.io.PrintWriter(err));
            assertEquals(1, cl.execute(args));
            assertEquals("charrnn: /runs/x/page.html: Read-only file system\n", err.toString());
        }
    }

    @Test
    void aNamedCommandIsTheOnlyOneBuilt() {
        assertEquals(List.of("sample"), built("sample", "--checkpoint", "run", "--length", "1"));
        assertEquals(List.of("eval"), built("--debug", "eval", "--help"));
        for (String name : ALL.subList(0, ALL.size() - 1)) assertEquals(List.of(name), built(name));
    }

    @Test
    void helpVersionAndAnUnknownNameGetEveryCommand() {
        assertEquals(ALL, built());
        assertEquals(ALL, built("--help"));
        assertEquals(ALL, built("--help", "sample"));
        assertEquals(ALL, built("-V"));
        assertEquals(ALL, built("help", "sample"));
        assertEquals(ALL, built("smaple"));
        assertEquals(ALL, built("--debug"));
    }

    @Test
    void aCommandBuiltAloneReadsAsInTheFullTree() {
        Map<String, CommandLine> full = Main.commandLine().getSubcommands();
        for (String name : ALL.subList(0, ALL.size() - 1)) {
            CommandLine alone = Main.commandLine(name).getSubcommands().get(name);
            assertEquals(
                    full.get(name).getUsageMessage(CommandLine.Help.Ansi.OFF),
                    alone.getUsageMessage(CommandLine.Help.Ansi.OFF),
                    name);
            assertTrue(
                    alone.getUsageMessage(CommandLine.Help.Ansi.OFF).contains("--debug"), name + " inherits --debug");
        }
    }

    @Test
    void theTopLevelHelpListsEveryCommandAndAMisspeltOneGetsASuggestion() {
        CliRun help = CliRun.of("--help");
        assertEquals(0, help.code(), help.err());
        int at = -1;
        for (String name : ALL) {
            int i = help.out().indexOf("\n  " + name + " ");
            assertTrue(i > at, name + " listed in order: " + help.out());
            at = i;
        }
        CliRun typo = CliRun.of("smaple");
        typo.assertOneLineError("Unmatched argument");
        assertTrue(typo.err().contains("did you mean sample"), typo.err());
    }
}
