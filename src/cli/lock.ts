/** The `lock` command: scan, decide, and pin what passed in modelgate.lock. */
import type { Command } from "commander";
import { Option } from "commander";
import { dirname, resolve } from "node:path";
import { FAIL_ON_CHOICES, LOCK_FILE, POLICY_FILE } from "../policy/policy.js";
import { printable } from "../report/humanize.js";
import type { Severity } from "../types.js";
import { hubEnvironment } from "./hubEnvironment.js";
import { ExitCode, exitCodeFor } from "./exitCode.js";
import { writeFileAtomic } from "../atomicFile.js";

interface LockFlags {
  output: string;
  policy?: string;
  failOn: Severity;
}

export function registerLock(program: Command, setExitCode: (code: ExitCode) => void): void {
  program
    .command("lock")
    .description(`Scan targets and pin every file (sha256, size, verdict, scanner and rules version) in ${LOCK_FILE}; nothing is pinned if a file is blocked.`)
    .argument("<targets...>", "files or folders to pin")
    .option("-o, --output <file>", "the lock file", LOCK_FILE)
    .option("--policy <file>", `policy file (default: ${POLICY_FILE} in the working folder, if any)`)
    .addOption(new Option("--fail-on <severity>", "block when a finding has this severity or worse").choices(FAIL_ON_CHOICES).default("medium"))
    .action(async (targets: string[], flags: LockFlags, command: Command) => {
      const [{ scanTargets }, { buildLock }, { decideReport }, { checkSignatures }, { hashFiles, loadGatePolicy }] = await Promise.all([
        import("../engine.js"),
        import("../policy/lock.js"),
        import("../policy/decide.js"),
        import("../policy/signatures.js"),
        import("./gate.js"),
      ]);
      const policy = await loadGatePolicy({ ...flags, failOnGiven: command.getOptionValueSource("failOn") === "cli" });
      const scanned = await scanTargets(targets, { callables: policy.callables, remote: hubEnvironment(), exclusions: { workingFolder: process.cwd() } });
      if (policy.signatures) await checkSignatures(scanned, targets, policy.signatures);
      const decided = decideReport(scanned, policy);
      // A lock written inside a locked folder is not one of the files it pins (an earlier one would never verify).
      const report = { ...decided, files: decided.files.filter((f) => resolve(f.path) !== resolve(flags.output)) };
      const code = exitCodeFor(report);
      if (code !== ExitCode.Pass && code !== ExitCode.NoModelFiles) {
        for (const f of report.files.filter((f) => f.verdict === "block")) {
          process.stderr.write(`modelgate: ${printable(f.path)}: ${f.error !== undefined ? `could not be scanned: ${printable(f.error)}` : `blocked (${f.decision?.rule}: ${printable(f.decision?.reason ?? "")})`}\n`);
        }
        process.stderr.write(`modelgate: nothing was locked\n`);
        setExitCode(code);
        return;
      }
      await hashFiles(report);
      const lock = buildLock(report, targets, dirname(resolve(flags.output)));
      await writeFileAtomic(flags.output, JSON.stringify(lock, null, 2) + "\n");
      process.stdout.write(`locked ${lock.files.length} files in ${flags.output}\n`);
      setExitCode(ExitCode.Pass);
    });
}
