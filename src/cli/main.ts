#!/usr/bin/env node
/** The `modelgate` executable (package.json "bin"). */
import { run } from "./program.js";

// A reader that stops early (`modelgate … | head`) closes the pipe: the rest of the output is
// dropped, not a crash, and the exit code still says what the scan found.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code !== "EPIPE" && err.code !== "ERR_STREAM_DESTROYED") throw err;
  });
}

// exitCode rather than process.exit(): a large report piped to stdout is flushed before the process ends.
process.exitCode = await run(process.argv);
