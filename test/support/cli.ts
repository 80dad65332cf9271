import { fileURLToPath } from "node:url";

/**
 * The `modelgate` executable as the package ships it (package.json "bin"): the bundle that
 * scripts/bundle.mjs builds from dist/src, so the CLI tests exercise what users run.
 * This file runs as dist/test/support/cli.js.
 */
export const MAIN = fileURLToPath(new URL("../../bundle/modelgate.js", import.meta.url));
