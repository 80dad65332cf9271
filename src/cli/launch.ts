#!/usr/bin/env node
/**
 * The `modelgate` executable as bundled (package.json "bin"): runs the CLI bundle beside it
 * (cli.cjs, made from ./main.ts) from the code cache the build made for it, when that cache fits
 * (see codeCache.ts). Only meaningful in dist/bundle/; dist/src/cli/main.js is the unbundled CLI.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { cachedCodeFor, runCommonJs } from "./codeCache.js";

const file = fileURLToPath(new URL("./cli.cjs", import.meta.url));
const source = readFileSync(file, "utf8");
runCommonJs(file, source, cachedCodeFor(source, `${file}.cache`));
