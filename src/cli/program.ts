/** The command line: options, help, and the scan command. No analysis here; it calls the engine and renders. */
import { Command, CommanderError, Option } from "commander";
import { scanPaths, UsageError } from "../engine.js";
import { renderJson } from "../report/json.js";
import { renderSarif } from "../report/sarif.js";
import { renderText } from "../report/text.js";
import type { ScanReport, Severity } from "../types.js";
import { EXIT_CODE_MEANING, ExitCode, exitCodeFor } from "./exitCode.js";
import { writeFileAtomic } from "./output.js";
import { progressLine } from "./progress.js";
import { packageVersion } from "../version.js";

const OUTPUT_FORMATS = ["text", "json", "sarif"] as const;
type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** "info" is not a threshold: blocking on informational findings would block every model. */
const FAIL_ON_CHOICES = ["critical", "high", "medium", "low"] as const satisfies readonly Severity[];

interface ScanFlags {
  format: OutputFormat;
  output?: string;
  failOn: Severity;
  showSkipped?: boolean;
  quiet?: boolean;
  /** False with --no-progress. */
  progress: boolean;
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
  $ modelgate scan -q ./models && echo "no findings at or above medium"`;

/** Runs the CLI on `argv` (as in process.argv) and returns the exit code; output goes to stdout/stderr. */
export async function run(argv: string[]): Promise<ExitCode> {
  let exitCode: ExitCode = ExitCode.Pass;
  const program = buildProgram(async (paths, flags) => {
    exitCode = await scanCommand(paths, flags);
  });
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
    // Anything else is a modelgate bug or an environment failure: the stack is what a bug report needs.
    process.stderr.write(`modelgate: the scan failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return ExitCode.ScanFailed;
  }
}

function buildProgram(scan: (paths: string[], flags: ScanFlags) => Promise<void>): Command {
  const program = new Command("modelgate")
    .description("Static security scanner and gate for machine-learning model files: never loads, never executes.")
    .version(packageVersion())
    // Set before .command(): subcommands inherit these. exitOverride turns commander's process.exit into a throw, so run() owns the exit code.
    .exitOverride()
    .showHelpAfterError("(see modelgate scan --help)")
    .addHelpText("after", EXIT_CODES_HELP);

  program
    .command("scan")
    .description("Scan model files and folders (recursively) and decide whether they may be loaded.")
    .argument("<paths...>", "files or folders to scan")
    .addOption(new Option("--format <format>", "report format").choices(OUTPUT_FORMATS).default("text"))
    .option("-o, --output <file>", "write the report to <file> (atomically); a text report still goes to stderr")
    .addOption(
      new Option("--fail-on <severity>", "block when a finding has this severity or worse").choices(FAIL_ON_CHOICES).default("medium"),
    )
    .option("--show-skipped", "list files that are not a model format (always counted in the summary)")
    .option("-q, --quiet", "text format: print nothing when the scan passes; the exit code says it")
    .option("--no-progress", "no progress line on stderr (it is only shown on a terminal anyway)")
    .addHelpText("after", SCAN_EXAMPLES + "\n" + EXIT_CODES_HELP)
    .action(scan);

  return program;
}

async function scanCommand(paths: string[], flags: ScanFlags): Promise<ExitCode> {
  const showProgress = flags.progress && !flags.quiet && process.stderr.isTTY;
  const progress = showProgress ? progressLine(process.stderr) : undefined;
  let report: ScanReport;
  try {
    report = await scanPaths(paths, { failOn: flags.failOn, onProgress: progress && ((p) => progress.update(p)) });
  } finally {
    progress?.clear();
  }
  const exitCode = exitCodeFor(report);
  await emit(report, flags, exitCode);
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
