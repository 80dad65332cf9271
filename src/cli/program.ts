/** The command line: options, help, and the scan command. No analysis here; it calls the engine and renders. */
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { UsageError, type ScanOptions } from "../engine.js";
import { defaultCacheDir } from "../remote/hfCache.js";
import { HubError } from "../remote/hub.js";
import { HttpError } from "../sources/http.js";
import { FAIL_ON_CHOICES } from "../policy/policy.js";
import { renderJson } from "../report/json.js";
import { renderSarif } from "../report/sarif.js";
import { renderText } from "../report/text.js";
import type { ScanReport, Severity } from "../types.js";
import { EXIT_CODE_MEANING, ExitCode, exitCodeFor } from "./exitCode.js";
import { writeFileAtomic } from "../atomicFile.js";
import { gatedScan } from "./gate.js";
import { registerInit } from "./init.js";
import { registerLock } from "./lock.js";
import { hubEnvironment } from "./hubEnvironment.js";
import { progressLine } from "./progress.js";
import { registerQuarantine } from "./quarantine.js";
import { registerVerify } from "./verify.js";
import { registerConvert } from "./convert.js";
import { registerServe } from "./serve.js";
import { registerSandbox, renderSandboxSummary } from "./sandbox.js";
import { packageVersion } from "../version.js";

const OUTPUT_FORMATS = ["text", "json", "sarif"] as const;
type OutputFormat = (typeof OUTPUT_FORMATS)[number];

interface ScanFlags {
  format: OutputFormat;
  output?: string;
  failOn: Severity;
  /** Whether --fail-on was given (it then wins over the policy's fail_on). */
  failOnGiven: boolean;
  showSkipped?: boolean;
  quiet?: boolean;
  /** False with --no-progress. */
  progress: boolean;
  policy?: string;
  quarantine?: string;
  auditLog?: string;
  cache?: string;
  /** --huggingface, repeatable: hub repositories as "owner/name[@revision]". */
  huggingface: string[];
  /** --hf-cache [dir]: true for the default cache folder. */
  hfCache?: string | true;
  token?: string;
  jobs: number;
  /** Seconds per HTTP request. */
  timeout?: number;
  /** --sandbox: load pickle-family files in the sandbox after the static scan. */
  sandbox?: boolean;
}

const EXIT_CODES_HELP = [
  "",
  "Exit codes:",
  ...Object.entries(EXIT_CODE_MEANING).map(([code, meaning]) => `  ${code}  ${meaning}`),
  "  When several apply, the first of 4, 1, 2, 3 wins.",
].join("\n");

const SCAN_EXAMPLES = `
Examples:
  $ modelgate scan model.pt
  $ modelgate scan ./models --fail-on high
  $ modelgate scan ./models --format sarif -o modelgate.sarif
  $ modelgate scan checkpoint.bin --format json | jq .verdict
  $ modelgate scan -q ./models && echo "no findings at or above medium"
  $ modelgate scan ./models --policy modelgate.yml --quarantine /srv/quarantine --audit-log /var/log/modelgate.jsonl
  $ modelgate scan /srv/models --cache /var/cache/modelgate.json -q   # a scheduled rescan analyses only what changed
  $ modelgate scan https://example.com/models/model.pt     # range requests: only the bytes that matter travel
  $ modelgate scan hf://openai-community/gpt2@main         # or --huggingface openai-community/gpt2 (HF_TOKEN, HF_ENDPOINT)
  $ modelgate scan --hf-cache --jobs 8                      # the local Hugging Face cache
  $ modelgate scan ./models --sandbox                       # and load the pickles in a sandbox: a second opinion`;

/** Runs the CLI on `argv` (as in process.argv) and returns the exit code; output goes to stdout/stderr. */
export async function run(argv: string[]): Promise<ExitCode> {
  let exitCode: ExitCode = ExitCode.Pass;
  const program = buildProgram(
    async (paths, flags) => {
      exitCode = await scanCommand(paths, flags);
    },
    (code) => (exitCode = code),
  );
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    // Commander has already printed its message; --help and --version are its only zero exits.
    if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCode.Pass : ExitCode.Usage;
    if (error instanceof UsageError) {
      process.stderr.write(`modelgate: error: ${error.message}\n`);
      return ExitCode.Usage;
    }
    // The hub or a server failed (after retries): the environment, not a modelgate bug.
    if (error instanceof HttpError || error instanceof HubError) {
      process.stderr.write(`modelgate: error: ${error.message}\n`);
      return ExitCode.ScanFailed;
    }
    // Anything else is a modelgate bug or an environment failure: the stack is what a bug report needs.
    process.stderr.write(`modelgate: the scan failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return ExitCode.ScanFailed;
  }
}

function buildProgram(scan: (paths: string[], flags: ScanFlags) => Promise<void>, setExitCode: (code: ExitCode) => void): Command {
  const program = new Command("modelgate")
    .description("Static security scanner and gate for machine-learning model files: never loads, never executes.")
    .version(packageVersion())
    // Set before .command(): subcommands inherit these. exitOverride turns commander's process.exit into a throw, so run() owns the exit code.
    .exitOverride()
    .showHelpAfterError("(see modelgate scan --help)")
    .addHelpText("after", EXIT_CODES_HELP);

  program
    .command("scan")
    .description("Scan model files and folders (recursively), URLs and Hugging Face repositories, and decide whether they may be loaded.")
    .argument("[targets...]", "files, folders, http(s):// URLs, or hf://owner/name[@revision] (also hf://datasets/…, hf://spaces/…)")
    .addOption(new Option("--format <format>", "report format").choices(OUTPUT_FORMATS).default("text"))
    .option("-o, --output <file>", "write the report to <file> (atomically); a text report still goes to stderr")
    .addOption(
      new Option("--fail-on <severity>", "block when a finding has this severity or worse").choices(FAIL_ON_CHOICES).default("medium"),
    )
    .option("--show-skipped", "list files that are not a model format (always counted in the summary)")
    .option("-q, --quiet", "text format: print nothing when the scan passes; the exit code says it")
    .option("--no-progress", "no progress line on stderr (it is only shown on a terminal anyway)")
    .option("--policy <file>", "policy file (default: modelgate.yml in the working folder, if any)")
    .option("--quarantine <folder>", "move blocked local files into <folder> (see modelgate quarantine)")
    .option("--audit-log <file>", "append one JSON line per decision to <file>")
    .option("--cache <file>", "remember results by file identity in <file>; unchanged files are not analysed again")
    .option("--huggingface <repo>", "scan a Hugging Face repository, owner/name[@revision] (repeatable; as picklescan's flag)", collect, [])
    .option("--hf-cache [dir]", "scan the local Hugging Face cache (default: $HF_HOME/hub, else ~/.cache/huggingface/hub)")
    .option("--token <token>", "bearer token for the URLs and repositories scanned (default for the hub: $HF_TOKEN)")
    .option("--jobs <n>", "files scanned at once, local or remote", positiveInteger, 4)
    .option("--timeout <seconds>", "give up on an HTTP request after this long (retried 3 times)", positiveNumber)
    .option("--sandbox", "then load each local pickle-family file inside a bubblewrap sandbox (see modelgate sandbox) and report what it attempted")
    .addHelpText("after", SCAN_EXAMPLES + "\n" + EXIT_CODES_HELP)
    .action((paths: string[], flags: Omit<ScanFlags, "failOnGiven">, command: Command) =>
      scan(paths, { ...flags, failOnGiven: command.getOptionValueSource("failOn") === "cli" }),
    );

  registerInit(program, setExitCode);
  registerLock(program, setExitCode);
  registerVerify(program, setExitCode);
  registerQuarantine(program, setExitCode);
  registerConvert(program, setExitCode);
  registerServe(program, setExitCode);
  registerSandbox(program, setExitCode);
  return program;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function positiveInteger(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError("expected a positive integer.");
  return n;
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("expected a positive number.");
  return n;
}

/** What the scan reads besides local paths: hub repositories, the cache, and how to reach them (HF_TOKEN, HF_ENDPOINT). */
function remoteScanOptions(flags: ScanFlags): Pick<ScanOptions, "jobs" | "remote" | "hfCache"> {
  return {
    jobs: flags.jobs,
    remote: {
      token: flags.token,
      ...hubEnvironment(),
      timeoutMs: flags.timeout === undefined ? undefined : Math.round(flags.timeout * 1000),
    },
    hfCache: flags.hfCache === true ? defaultCacheDir() : flags.hfCache,
  };
}

async function scanCommand(given: string[], flags: ScanFlags): Promise<ExitCode> {
  const paths = [...given, ...flags.huggingface.map((repo) => `hf://${repo}`)];
  if (paths.length === 0 && flags.hfCache === undefined) {
    throw new UsageError("nothing to scan: give files, folders, URLs or hf:// repositories, --huggingface or --hf-cache");
  }
  const showProgress = flags.progress && !flags.quiet && process.stderr.isTTY;
  const progress = showProgress ? progressLine(process.stderr) : undefined;
  let outcome: Awaited<ReturnType<typeof gatedScan>>;
  try {
    outcome = await gatedScan(paths, flags, progress && ((p) => progress.update(p)), remoteScanOptions(flags));
  } finally {
    progress?.clear();
  }
  const { report, problems } = outcome;
  for (const problem of problems) process.stderr.write(`modelgate: ${problem}\n`);
  // The gate's own failures (a file not quarantined, a decision not logged) fail the run, unless a block already does.
  let exitCode = exitCodeFor(report);
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
  const render = (color: boolean): string => {
    switch (flags.format) {
      case "json":
        return renderJson(report);
      case "sarif":
        return renderSarif(report);
      case "text":
        return renderText(report, { showSkipped, color });
    }
  };
  const silent = flags.quiet === true && exitCode === ExitCode.Pass;
  const textOnStdout = flags.format === "text" && flags.output === undefined;

  if (flags.output !== undefined) await writeFileAtomic(flags.output, render(false));
  else if (!(textOnStdout && silent)) process.stdout.write(render(useColor(process.stdout)));

  if (!textOnStdout && flags.quiet !== true) process.stderr.write(renderText(report, { showSkipped, color: useColor(process.stderr) }));
}

/** https://no-color.org: any non-empty NO_COLOR turns colour off. */
function useColor(stream: NodeJS.WriteStream): boolean {
  const noColor = process.env["NO_COLOR"];
  return stream.isTTY === true && (noColor === undefined || noColor === "");
}
