/** The `verify` command: re-hash what modelgate.lock pins and name every change. */
import type { Command } from "commander";
import { dirname, resolve } from "node:path";
import { UsageError } from "../errors.js";
import type { HubLookup } from "../policy/lock.js";
import { LOCK_FILE } from "../policy/policy.js";
import { printable } from "../report/humanize.js";
import { RULES_VERSION } from "../rules/catalogue.js";
import type { ResolvedRepo } from "../remote/hub.js";
import type { RemoteOptions } from "../targets.js";
import { ExitCode } from "./exitCode.js";
import { hubEnvironment } from "./hubEnvironment.js";

export function registerVerify(program: Command, setExitCode: (code: ExitCode) => void): void {
  program
    .command("verify")
    .description(`Re-hash the files pinned in ${LOCK_FILE}; fail (exit 1) on any changed, missing or new file.`)
    .option("--lock <file>", "the lock file", LOCK_FILE)
    .action(async (flags: { lock: string }) => {
      const { readLock, verifyLock } = await import("../policy/lock.js");
      const lock = await readLock(flags.lock).catch((err: Error) => {
        throw new UsageError(`cannot read ${flags.lock}: ${err.message}`);
      });
      const problems = await verifyLock(lock, dirname(resolve(flags.lock)), await hubLookup(hubEnvironment()), flags.lock);
      for (const p of problems) process.stdout.write(`${p.kind.padEnd(12)} ${printable(p.file)}  ${printable(p.detail)}\n`);
      if (lock.tool.rulesVersion !== RULES_VERSION) {
        process.stderr.write(`modelgate: the lock was made with rules ${lock.tool.rulesVersion}, these are ${RULES_VERSION}: scan again to judge the files by the new rules\n`);
      }
      const integrity = problems.filter((p) => p.kind !== "unverifiable");
      if (integrity.length > 0) setExitCode(ExitCode.Blocked);
      else if (problems.length > 0) setExitCode(ExitCode.ScanFailed);
      else {
        process.stdout.write(`verified ${lock.files.length} files against ${flags.lock}\n`);
        setExitCode(ExitCode.Pass);
      }
    });
}

/** What the hub publishes for locked files: one listing per repository and revision, asked once. */
async function hubLookup(remote: RemoteOptions): Promise<HubLookup> {
  const [{ DEFAULT_ENDPOINT, hubFileSha256, resolveRepo, resolveUrl }, { HttpSource }, { parseHubRepo }, { httpOptions }] = await Promise.all([
    import("../remote/hub.js"),
    import("../sources/http.js"),
    import("../remote/spec.js"),
    import("../targets.js"),
  ]);
  const endpoint = remote.endpoint ?? DEFAULT_ENDPOINT;
  const listings = new Map<string, Promise<ResolvedRepo>>();
  const listing = (repo: string, revision: string): Promise<ResolvedRepo> => {
    const key = `${repo}@${revision}`;
    let found = listings.get(key);
    if (!found) listings.set(key, (found = resolveRepo(parseHubRepo(repo).repo, revision, endpoint, httpOptions(remote, endpoint))));
    return found;
  };
  return {
    async file(repo, revision, path) {
      const resolved = await listing(repo, revision);
      const file = resolved.files.find((f) => f.path === path);
      if (!file) return undefined;
      const url = resolveUrl(endpoint, resolved.repo, resolved.commit, path);
      const sha256 = await hubFileSha256(file, HttpSource.known(url, url, file.size, httpOptions(remote, url)));
      return { size: file.size, ...(sha256 !== undefined && { sha256 }) };
    },
    async list(repo, revision) {
      return (await listing(repo, revision)).files.map((f) => f.path);
    },
  };
}
