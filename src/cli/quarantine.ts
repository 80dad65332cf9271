/** The `quarantine` commands: list, restore and purge what --quarantine moved out of reach. */
import type { Command } from "commander";
import { UsageError } from "../errors.js";
import { listQuarantine, purgeEntry, purgeLeftovers, restoreEntry } from "../policy/quarantine.js";
import { printable } from "../report/humanize.js";
import { ExitCode } from "./exitCode.js";

interface DirFlags {
  dir?: string;
  policy?: string;
}

/** --dir, else the policy's `quarantine` key. */
async function quarantineDir(flags: DirFlags): Promise<string> {
  if (flags.dir !== undefined) return flags.dir;
  const { loadGatePolicy } = await import("./gate.js");
  const policy = await loadGatePolicy({ ...(flags.policy !== undefined && { policy: flags.policy }), failOn: "medium", failOnGiven: false });
  if (policy.quarantine === undefined) throw new UsageError("no quarantine folder: give --dir, or set quarantine in the policy");
  return policy.quarantine;
}

export function registerQuarantine(program: Command, setExitCode: (code: ExitCode) => void): void {
  const quarantine = program.command("quarantine").description("Inspect, restore or purge files that --quarantine moved out of reach.");
  const withDir = (c: Command): Command =>
    c.option("--dir <folder>", "the quarantine folder (default: the policy's quarantine key)").option("--policy <file>", "policy file naming the folder");

  withDir(quarantine.command("list").description("List quarantined files: id, time, original path, sha256, deciding rule."))
    .option("--json", "one JSON array of the entries")
    .action(async (flags: DirFlags & { json?: boolean }) => {
      const entries = await listQuarantine(await quarantineDir(flags));
      if (flags.json) process.stdout.write(JSON.stringify(entries, null, 2) + "\n");
      else {
        for (const e of entries) {
          const state = e.present ? "" : "  (payload missing: the move was interrupted and the original was left in place)";
          process.stdout.write(`${e.id}  ${e.time}  ${printable(e.originalPath)}  ${e.sha256}  ${e.decision?.rule ?? ""}${state}\n`);
        }
        if (entries.length === 0) process.stdout.write("the quarantine is empty\n");
      }
      setExitCode(ExitCode.Pass);
    });

  withDir(quarantine.command("restore").description("Move a quarantined file back (its sha256 is checked; nothing is overwritten)."))
    .argument("<id>", "entry id (see quarantine list)")
    .option("--to <path>", "restore to this path instead of the original one")
    .action(async (id: string, flags: DirFlags & { to?: string }) => {
      const restored = await restoreEntry(await quarantineDir(flags), id, flags.to).catch((err: Error) => {
        throw new UsageError(err.message);
      });
      process.stdout.write(`restored ${id} to ${printable(restored)}\n`);
      setExitCode(ExitCode.Pass);
    });

  withDir(quarantine.command("purge").description("Delete quarantined files for good."))
    .argument("[ids...]", "entry ids (see quarantine list)")
    .option("--all", "every entry")
    .action(async (ids: string[], flags: DirFlags & { all?: boolean }) => {
      const dir = await quarantineDir(flags);
      if (!flags.all && ids.length === 0) throw new UsageError("name the entries to purge, or --all");
      const chosen = flags.all ? (await listQuarantine(dir)).map((e) => e.id) : ids;
      // Copies an interrupted move left behind belong to no entry; --all clears them too.
      if (flags.all) for (const leftover of await purgeLeftovers(dir)) process.stdout.write(`removed ${printable(leftover)} (left by an interrupted move)\n`);
      if (flags.all && chosen.length === 0) process.stdout.write("the quarantine is empty\n");
      for (const id of chosen) {
        await purgeEntry(dir, id).catch((err: Error) => {
          throw new UsageError(err.message);
        });
        process.stdout.write(`purged ${id}\n`);
      }
      setExitCode(ExitCode.Pass);
    });
}
