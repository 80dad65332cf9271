#!/usr/bin/env node
/** The `modelgate` executable (package.json "bin"). */
import { run } from "./program.js";

// exitCode rather than process.exit(): a large report piped to stdout is flushed before the process ends.
process.exitCode = await run(process.argv);
