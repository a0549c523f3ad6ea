package org.charrnn.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.charrnn.bench.Knobs;
import org.charrnn.util.UserError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * bench/gpu-check.sh runs on a GPU lent for minutes, where a misspelt option or knob would cost a
 * step (an unknown -Dcharrnn.* property is not even an error: the run would measure the default). So
 * every charrnn command line it sends to the GPU machine is checked here: gpu-check.sh runs with a
 * stand-in for the kit's runner that records each command instead of running it (bench/gpu-check-test.sh
 * checks how the steps run; this checks what they run), and each line must parse as the CLI parses
 * it (a bench line's options ones its mode reads), with every -D property one the code reads.
 */
class GpuCheckCommandsTest {
    /** The stand-in runner: records the JVM commands (java, sanitize) one a line, NUL-separated arguments. */
    private static final String RUNNER = """
            #!/usr/bin/env bash
            what=$1; shift
            case $what in
              info) echo "stand-in GPU" ;;
              java|sanitize)
                printf '%s\\0' "$@" >>"$RECORD"; printf '\\n' >>"$RECORD"
                [ "${@: -1}" = devices ] && echo "opencl    1  NVIDIA CUDA  NVIDIA H200  139.8 GiB  GPU"
                json=""; prev=""
                for a in "$@"; do [ "$prev" = --json ] && json=$a; prev=$a; done
                [ -n "$json" ] && echo '{"impl":"charrnn-cuda"}' >>"$json" ;;
              tests) printf '[ 1 tests found ]\\n[ 1 tests successful ]\\n' ;;
            esac
            exit 0
            """;

    /** ncu: runs what follows its options (the kit's runner). */
    private static final String NCU = """
            #!/usr/bin/env bash
            while [ $# -gt 0 ] && [ "$1" != bash ]; do shift; done
            exec "$@"
            """;

    @Test
    void everyCommandTheGpuCheckSendsParses(@TempDir Path dir) throws Exception {
        String basedir = System.getProperty("charrnn.basedir");
        assumeTrue(basedir != null, "not run by the Maven build");
        assumeTrue(Files.isExecutable(Path.of("/bin/bash")), "no bash");
        Path kit = Files.createDirectories(dir.resolve("kit"));
        Path runner = script(kit.resolve("on-gpu.sh"), RUNNER);
        Files.createDirectories(kit.resolve("app/classes/kernels"));
        Files.writeString(kit.resolve("app/classes/kernels/charrnn.fatbin.build"), "nvcc stand-in; archs 90; flags\n");
        Path bin = Files.createDirectories(dir.resolve("bin"));
        script(bin.resolve("ncu"), NCU);
        script(bin.resolve("make"), "#!/usr/bin/env bash\nexit 1\n"); // rates: probe_rates is not built here
        Path corpus = Files.writeString(dir.resolve("corpus.txt"), "a stand-in corpus\n");
        Path record = dir.resolve("commands");
        Path script = Path.of(basedir, "bench", "gpu-check.sh");
        // every step (the script's ALL) but native, whose harnesses run directly, not through the runner
        Matcher all = Pattern.compile("(?m)^ALL=\"([^\"]*)\"").matcher(Files.readString(script));
        assertTrue(all.find(), "no ALL=\"...\" in " + script);
        String steps = String.join(
                " ",
                Arrays.stream(all.group(1).trim().split("\\s+"))
                        .filter(s -> !s.equals("native"))
                        .toList());

        ProcessBuilder pb = new ProcessBuilder("/bin/bash", script.toString())
                .directory(Path.of(basedir).toFile())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("gpu-check.out").toFile());
        pb.environment().put("GPU", runner.toString());
        pb.environment().put("DATA", corpus.toString());
        pb.environment().put("OUT", dir.resolve("out").toString());
        pb.environment().put("STEPS", steps);
        pb.environment().put("RECORD", record.toString());
        pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
        Process p = pb.start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("gpu-check.sh did not finish in 120 s");
        }

        List<List<String>> commands = commands(record);
        String log = Files.readString(dir.resolve("gpu-check.out"));
        assertTrue(commands.size() >= 40, () -> commands.size() + " commands recorded\n" + log);
        List<String> wrong = new ArrayList<>();
        for (List<String> c : commands) {
            int i = 0;
            for (; i < c.size() && c.get(i).startsWith("-D"); i++) {
                String name = c.get(i).substring(2).split("=", 2)[0];
                if (name.startsWith("charrnn.") && !Knobs.known(name)) wrong.add(c + ": no property " + name);
            }
            assertEquals("org.charrnn.cli.Main", c.get(i), c::toString);
            String[] args = c.subList(i + 1, c.size()).toArray(String[]::new);
            try {
                CommandLine.ParseResult parsed = Main.commandLine(args).parseArgs(args);
                // a bench line's options must be ones its mode reads (checked before it runs anything)
                if (parsed.subcommand() != null
                        && parsed.subcommand().commandSpec().userObject() instanceof BenchCommand bench)
                    bench.requireModeOptions();
            } catch (CommandLine.ParameterException | UserError e) {
                wrong.add(c + ": " + e.getMessage());
            }
        }
        assertTrue(wrong.isEmpty(), () -> String.join("\n", wrong));
    }

    private static Path script(Path file, String text) throws IOException {
        Files.writeString(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
        return file;
    }

    /** The recorded commands: a line each, its arguments NUL-separated. */
    private static List<List<String>> commands(Path record) throws IOException {
        List<List<String>> out = new ArrayList<>();
        if (!Files.exists(record)) return out;
        for (String line : Files.readAllLines(record, StandardCharsets.UTF_8)) {
            if (line.isEmpty()) continue;
            out.add(Arrays.asList(line.substring(0, line.length() - 1).split("\0", -1)));
        }
        return out;
    }
}
