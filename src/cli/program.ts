/** The command line: options, help, and the commands. No analysis here: each command's body is loaded when it runs. */
import { Command, CommanderError, Option } from "commander";
import { EnvironmentError, UsageError } from "../errors.js";
import { DEFAULT_EXCLUDED_FOLDERS, IGNORE_FILE } from "../exclusions.js";
import { DEFAULT_FAIL_ON, FAIL_ON_CHOICES } from "../policy/policy.js";
import { packageVersion } from "../version.js";
import { EXIT_CODE_MEANING, ExitCode } from "./exitCode.js";
import { collect, nonNegativeInteger, positiveInteger, positiveNumber } from "./optionParsers.js";
import { registerConvert } from "./convert.js";
import { registerInit } from "./init.js";
import { registerLock } from "./lock.js";
import { registerQuarantine } from "./quarantine.js";
import { registerRules } from "./rules.js";
import { OUTPUT_FORMATS, type ScanFlags } from "./scanFlags.js";
import { registerVerifySignature } from "./verifySignature.js";
import { registerSign } from "./sign.js";
import { registerServe } from "./serve.js";
import { registerVerify } from "./verify.js";
import { registerSandbox } from "./sandbox.js";


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
  $ modelgate scan hf://owner/name --format cyclonedx -o model-bom.json   # CycloneDX 1.6 ML-BOM
  $ modelgate scan checkpoint.bin --format json | jq .verdict
  $ modelgate scan -q ./models && echo "no findings at or above medium"
  $ modelgate scan ./models --policy modelgate.yml --quarantine /srv/quarantine --audit-log /var/log/modelgate.jsonl
  $ modelgate scan /srv/models --cache /var/cache/modelgate.json -q   # a scheduled rescan analyses only what changed
  $ modelgate scan https://example.com/models/model.pt     # range requests: only the bytes that matter travel
  $ modelgate scan hf://openai-community/gpt2@main         # or --huggingface openai-community/gpt2 (HF_TOKEN, HF_ENDPOINT)
  $ modelgate scan --hf-cache --jobs 8                      # the local Hugging Face cache
  $ modelgate scan ./models --clamav /run/clamav/clamd.ctl  # virus signatures too (clamd unreachable: exit 2)
  $ modelgate scan ./models --sandbox                       # and load the pickles in a sandbox: a second opinion`;

/** Runs the CLI on `argv` (as in process.argv) and returns the exit code; output goes to stdout/stderr. */
export async function run(argv: string[]): Promise<ExitCode> {
  let exitCode: ExitCode = ExitCode.Pass;
  const program = buildProgram(
    async (paths, flags) => {
      const { scanCommand } = await import("./scan.js");
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
    // The hub, a server or clamd failed (after retries): the environment, not a modelgate bug.
    if (error instanceof EnvironmentError) {
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
    .addHelpText("after", EXIT_CODES_HELP);

  program
    .command("scan")
    .description("Scan model files and folders (recursively), URLs and Hugging Face repositories, and decide whether they may be loaded.")
    .argument("[targets...]", "files, folders, http(s):// URLs, or hf://owner/name[@revision] (also hf://datasets/…, hf://spaces/…)")
    .addOption(new Option("--format <format>", "report format").choices(OUTPUT_FORMATS).default("text"))
    .option("-o, --output <file>", "write the report to <file> (atomically); a text report still goes to stderr")
    .addOption(
      new Option("--fail-on <severity>", "block when a finding has this severity or worse (none: report only)").choices(FAIL_ON_CHOICES).default(DEFAULT_FAIL_ON),
    )
    .option("--exclude <pattern>", `leave out paths matching <pattern> (gitignore syntax, repeatable; also read from the working folder's ${IGNORE_FILE})`, collect, [])
    .option("--include <pattern>", "scan only files matching <pattern> (gitignore syntax, repeatable)", collect, [])
    .option("--no-default-excludes", `also walk ${[...DEFAULT_EXCLUDED_FOLDERS].slice(0, 6).join(", ")}… (skipped by default, and counted)`)
    .option("--no-ignore-file", `do not read the working folder's ${IGNORE_FILE} (when the working folder is content you do not trust)`)
    .option("--allow-no-models", "exit 0 instead of 3 when no model file is found (hooks that pass files by name)")
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
    .option("--threads <n>", "worker threads analysing local files beside the main thread (default: two fewer than the cores and one fewer than --jobs, joining a scan once it has run 0.4 s with 3 s of work left; none under 16 files per thread; 0: none)", nonNegativeInteger)
    .option("--timeout <seconds>", "give up on an HTTP request after this long (retried 3 times)", positiveNumber)
    .option("--clamav [address]", "also check every file with clamd: a socket path or host:port (default: the policy's clamav.address, else /var/run/clamav/clamd.ctl)")
    .option("--sandbox", "then load each local pickle-family file inside a bubblewrap sandbox (see modelgate sandbox) and report what it attempted")
    .addHelpText("after", SCAN_EXAMPLES + "\n" + EXIT_CODES_HELP)
    .action((paths: string[], flags: Omit<ScanFlags, "failOnGiven">, command: Command) =>
      scan(paths, { ...flags, failOnGiven: command.getOptionValueSource("failOn") === "cli" }),
    );

  registerInit(program, setExitCode);
  registerLock(program, setExitCode);
  registerVerify(program, setExitCode);
  registerVerifySignature(program, setExitCode);
  registerSign(program, setExitCode);
  registerQuarantine(program, setExitCode);
  registerConvert(program, setExitCode);
  registerServe(program, setExitCode);
  registerRules(program, setExitCode);
  registerSandbox(program, setExitCode);
  pointToOwnHelp(program, "modelgate");
  return program;
}

/** A usage error names the --help of the command it is about ("modelgate quarantine purge --help"). */
function pointToOwnHelp(command: Command, path: string): void {
  command.showHelpAfterError(`(see ${path} --help)`);
  for (const sub of command.commands) pointToOwnHelp(sub, `${path} ${sub.name()}`);
}


