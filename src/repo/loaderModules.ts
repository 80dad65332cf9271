/**
 * The top-level modules Python imports while the allowlisted libraries load a model: the
 * libraries themselves and what they import in turn (numbers, platform, threadpoolctl…), found by
 * scripts/allowlist/loader_modules.py in the venvs the allowlist comes from. Python started in a
 * folder finds that folder's modules first (sys.path[0]), so a file or package of one of these names
 * at the top of a model folder runs in the library's place.
 */
import { readFileSync } from "node:fs";
import { packageFile } from "../packageFiles.js";

interface LoaderModulesData {
  schema: "modelgate.loader-modules/v1";
  modules: string[];
}

let modules: ReadonlySet<string> | undefined;

/** The module names (data/loader-modules.json), read on first use. */
export function loaderModules(): ReadonlySet<string> {
  if (modules) return modules;
  const read = JSON.parse(readFileSync(packageFile("data/loader-modules.json"), "utf8")) as LoaderModulesData;
  if (read.schema !== "modelgate.loader-modules/v1") throw new Error(`data/loader-modules.json: unknown schema ${String(read.schema)}`);
  return (modules = new Set(read.modules));
}
