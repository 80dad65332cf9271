// Makes the code cache of the CLI bundle named by its argument (see src/cli/codeCache.ts): runs the
// bundle in this process as `modelgate scan .`, started by scripts/bundle.mjs in examples/ (no
// policy file there), and once the scan has finished stores what V8 compiled on the way as
// <bundle>.cache. The scan's report and exit code are not this script's.
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { cacheToStore, runCommonJs } from "../dist/src/cli/codeCache.js";

const bundle = process.argv[2] && resolve(process.argv[2]);
if (!bundle) throw new Error("usage: node scripts/codeCache.mjs <cli bundle>, in the folder to scan");
const source = readFileSync(bundle, "utf8");
process.argv = [process.argv[0], bundle, "scan", ".", "--no-progress", "--no-ignore-file"];
const { script } = runCommonJs(bundle, source);
process.once("beforeExit", () => {
  const file = `${bundle}.cache`;
  writeFileSync(`${file}.tmp`, cacheToStore(script, source));
  renameSync(`${file}.tmp`, file);
  process.exitCode = 0;
});
