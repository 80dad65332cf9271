/** The package version, read from package.json so it is written down once. */
import { readFileSync } from "node:fs";
import { packageFile } from "./packageFiles.js";

const PACKAGE_JSON = packageFile("package.json");

/** Read once: every report and every gateway decision carries it. */
let version: string | undefined;

export function packageVersion(): string {
  if (version !== undefined) return version;
  const pkg: unknown = JSON.parse(readFileSync(PACKAGE_JSON, "utf8"));
  if (typeof pkg === "object" && pkg !== null && "version" in pkg && typeof pkg.version === "string") return (version = pkg.version);
  throw new Error(`no version in ${PACKAGE_JSON.pathname}`);
}
