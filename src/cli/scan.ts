/**
 * The scan command's body: runs the gate (scan, policy, quarantine, audit), renders the report and
 * picks the exit code. Loaded when `modelgate scan` runs, not when the program starts.
 */
import { writeFileAtomic } from "../atomicFile.js";
import type { ScanOptions } from "../engine.js";
import { UsageError } from "../errors.js";
import { repositoryRoot } from "../paths.js";
import { defaultCacheDir } from "../remote/hfCache.js";
import { renderJson } from "../report/json.js";
import { renderText } from "../report/text.js";
import type { ScanReport } from "../types.js";
import { ExitCode, exitCodeFor } from "./exitCode.js";
import { gatedScan, hashFiles } from "./gate.js";
import { hubEnvironment } from "./hubEnvironment.js";
import { progressLine } from "./progress.js";
import { renderSandboxSummary } from "./sandbox.js";
import type { ScanFlags } from "./scanFlags.js";


/** What the scan covers besides the targets: exclusions, threads, hub repositories, the cache, and how to reach them (HF_TOKEN, HF_ENDPOINT). */
function scanOptionsOf(flags: ScanFlags): Pick<ScanOptions, "jobs" | "threads" | "remote" | "hfCache" | "exclusions"> {
  return {
    jobs: flags.jobs,
    ...(flags.threads !== undefined && { threads: flags.threads }),
    exclusions: { exclude: flags.exclude, include: flags.include, defaultExcludes: flags.defaultExcludes, workingFolder: flags.ignoreFile ? process.cwd() : undefined },
    remote: {
      token: flags.token,
      ...hubEnvironment(),
      timeoutMs: flags.timeout === undefined ? undefined : Math.round(flags.timeout * 1000),
    },
    hfCache: flags.hfCache === true ? defaultCacheDir() : flags.hfCache,
  };
}

export async function scanCommand(given: string[], flags: ScanFlags): Promise<ExitCode> {
  const paths = [...given, ...flags.huggingface.map((repo) => `hf://${repo}`)];
  if (paths.length === 0 && flags.hfCache === undefined) {
    throw new UsageError("nothing to scan: give files, folders, URLs or hf:// repositories, --huggingface or --hf-cache");
  }
  const showProgress = flags.progress && !flags.quiet && process.stderr.isTTY;
  const progress = showProgress ? progressLine(process.stderr) : undefined;
  let outcome: Awaited<ReturnType<typeof gatedScan>>;
  try {
    outcome = await gatedScan(paths, flags, progress && ((p) => progress.update(p)), scanOptionsOf(flags));
  } finally {
    progress?.clear();
  }
  const { report, problems } = outcome;
  for (const problem of problems) process.stderr.write(`modelgate: ${problem}\n`);
  // The gate's own failures (a file not quarantined, a decision not logged) fail the run, unless a block already does.
  let exitCode = exitCodeFor(report);
  if (exitCode === ExitCode.NoModelFiles && flags.allowNoModels) exitCode = ExitCode.Pass;
  if (problems.length > 0 && exitCode !== ExitCode.Blocked) exitCode = ExitCode.ScanFailed;
  await emit(report, flags, exitCode);
  if (flags.sandbox === true && flags.quiet !== true) process.stderr.write(renderSandboxSummary(report));
  return exitCode;
}

/**
 * The report goes to --output or stdout. A person also gets the text report on stderr whenever stdout
 * does not already carry it (json/sarif, or --output), so a CI log shows why a step failed.
 */
async function emit(report: ScanReport, flags: ScanFlags, exitCode: ExitCode): Promise<void> {
  const showSkipped = flags.showSkipped ?? false;
  // A bill of materials names each component by its hash.
  if (flags.format === "cyclonedx") await hashFiles(report);
  // SARIF and CycloneDX load their renderers when asked for (start-up time of one-file scans).
  const render = async (color: boolean): Promise<string> => {
    switch (flags.format) {
      case "json":
        return renderJson(report);
      case "sarif":
        return (await import("../report/sarif.js")).renderSarif(report, { root: repositoryRoot(process.cwd()) });
      case "cyclonedx":
        return (await import("../report/cyclonedx.js")).renderCycloneDx(report);
      case "text":
        return renderText(report, { showSkipped, color });
    }
  };
  const silent = flags.quiet === true && exitCode === ExitCode.Pass;
  const textOnStdout = flags.format === "text" && flags.output === undefined;

  if (flags.output !== undefined) await writeFileAtomic(flags.output, await render(false));
  else if (!(textOnStdout && silent)) process.stdout.write(await render(useColor(process.stdout)));

  if (!textOnStdout && flags.quiet !== true) process.stderr.write(renderText(report, { showSkipped, color: useColor(process.stderr) }));
}

/** https://no-color.org: any non-empty NO_COLOR turns colour off. */
function useColor(stream: NodeJS.WriteStream): boolean {
  const noColor = process.env["NO_COLOR"];
  return stream.isTTY === true && (noColor === undefined || noColor === "");
}
