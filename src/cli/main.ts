/** The command line: run by the `modelgate` launcher from the bundle (launch.ts), or as dist/src/cli/main.js. */
import { run } from "./program.js";

// A reader that stops early (`modelgate … | head`) closes the pipe: the rest of the output is
// dropped, not a crash, and the exit code still says what the scan found.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code !== "EPIPE" && err.code !== "ERR_STREAM_DESTROYED") throw err;
  });
}

// exitCode rather than process.exit(): a large report piped to stdout is flushed before the process ends.
// No top-level await: the launcher runs this module bundled as CommonJS (see launch.ts).
void run(process.argv).then((code) => {
  process.exitCode = code;
});
