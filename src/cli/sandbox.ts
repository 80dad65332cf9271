/** The `sandbox` command: options, the report it prints, its exit codes. Detonation itself is src/sandbox/. */
import { stat } from "node:fs/promises";
import { Option, type Command } from "commander";
import { UsageError } from "../errors.js";
import { printable } from "../report/humanize.js";
import { DEFAULT_PYTHON, SANDBOX_DEFAULTS } from "../sandbox/jail.js";
import { packageVersion } from "../version.js";
import { atLeast, SANDBOX_LOADERS, type SandboxLoader, type SandboxResult, type ScanReport } from "../types.js";
import { ExitCode } from "./exitCode.js";
import { positiveInteger, positiveNumber } from "./optionParsers.js";

const LOADER_CHOICES = ["auto", ...SANDBOX_LOADERS] as const;

interface SandboxFlags {
  loader: SandboxLoader | "auto";
  python: string;
  timeout: number;
  memory: number;
  format: "text" | "json";
  verbose?: boolean;
}

/** One detonated file in the sandbox command's report. */
export interface SandboxFileReport extends SandboxResult {
  path: string;
}

const SANDBOX_HELP = `
Each file is loaded for real with its loader (auto: chosen by content — plain pickles with joblib.load,
PyTorch files with torch.load(weights_only=False), .npy/.npz with numpy.load(allow_pickle=True),
Keras files with keras.saving.load_model, ONNX with onnx.load) in a child Python inside bubblewrap:
no network, a read-only system, private /tmp and home, the model bound read-only, nothing else of this
machine's files; time, CPU and memory limits; every process killed when the load ends. Python audit
hooks and strace (outside the jail) record what the load attempted. If bubblewrap cannot build the
sandbox, nothing is loaded (exit 2).

Examples:
  $ modelgate sandbox suspicious.pkl
  $ modelgate sandbox model.pt --timeout 120 --format json
  $ modelgate sandbox weights.bin --loader torch --python /opt/venv/bin/python3

Exit codes: 0 nothing dangerous seen (not a statement that the file is safe), 1 dangerous behaviour
seen, 2 the sandbox or the loader could not run (the reason is printed), 4 usage error.`;

/** Adds `modelgate sandbox` to `program`; the command reports its exit code through `setExitCode`. */
export function registerSandbox(program: Command, setExitCode: (code: ExitCode) => void): void {
  program
    .command("sandbox")
    .description("Load model files inside a bubblewrap sandbox and report what loading them attempted (processes, network, files, code).")
    .argument("<files...>", "model files")
    .addOption(new Option("--loader <loader>", "the loader to run").choices(LOADER_CHOICES).default("auto"))
    .option("--python <path>", "the Python that loads (its libraries are the loaders)", DEFAULT_PYTHON)
    .option("--timeout <seconds>", "stop a load after this long (also its CPU-time limit)", positiveNumber, SANDBOX_DEFAULTS.timeoutSeconds)
    .option("--memory <MiB>", "the loader's address-space limit", positiveInteger, SANDBOX_DEFAULTS.memoryMb)
    .addOption(new Option("--format <format>", "report format").choices(["text", "json"]).default("text"))
    .option("-v, --verbose", "text format: also list info events (each class the pickle imports)")
    .addHelpText("after", SANDBOX_HELP)
    .action(async (files: string[], flags: SandboxFlags) => setExitCode(await sandboxCommand(files, flags)));
}

async function sandboxCommand(files: string[], flags: SandboxFlags): Promise<ExitCode> {
  for (const file of files) {
    const isFile = await stat(file).then((s) => s.isFile(), () => false);
    if (!isFile) throw new UsageError(`not a file: ${file}`);
  }
  const { detonate } = await import("../sandbox/detonate.js");
  const reports: SandboxFileReport[] = [];
  for (const path of files) {
    const result = await detonate(path, { loader: flags.loader, python: flags.python, timeoutSeconds: flags.timeout, memoryMb: flags.memory });
    reports.push({ path, ...result });
  }
  const exitCode = sandboxExitCode(reports);
  if (flags.format === "json") {
    const tool = { name: "modelgate", version: packageVersion() };
    process.stdout.write(`${JSON.stringify({ schema: "modelgate.sandbox/v1", tool, files: reports }, null, 2)}\n`);
  } else {
    process.stdout.write(renderSandboxText(reports, flags.verbose === true));
  }
  return exitCode;
}

/** 1 when any load did something dangerous, else 2 when any could not run to the end, else 0. */
export function sandboxExitCode(reports: readonly SandboxResult[]): ExitCode {
  if (reports.some((r) => r.status === "dangerous")) return ExitCode.Blocked;
  if (reports.some((r) => r.status === "failed")) return ExitCode.ScanFailed;
  return ExitCode.Pass;
}

const STATUS_LINE: Record<SandboxResult["status"], string> = {
  dangerous: "DANGEROUS: the load did something dangerous",
  clean: "nothing dangerous seen while loading",
  failed: "NOT LOADED to the end",
};

export function renderSandboxText(reports: readonly SandboxFileReport[], verbose: boolean): string {
  const out: string[] = [];
  for (const r of reports) {
    out.push(`${printable(r.path)} (${r.loader ?? "no loader"}, ${(r.durationMs / 1000).toFixed(1)} s): ${STATUS_LINE[r.status]}`);
    if (r.reason !== undefined) out.push(`  reason: ${printable(r.reason)}`);
    const shown = r.events.filter((e) => verbose || atLeast(e.severity, "low"));
    for (const e of shown) out.push(`  ${e.severity.padEnd(8)} [${e.source}] ${printable(e.message)}`);
    const hidden = r.events.length - shown.length;
    if (hidden > 0) out.push(`  (${hidden} info events not shown: -v lists them)`);
    if (r.eventsDropped !== undefined) out.push(`  (${r.eventsDropped} more events were not kept)`);
  }
  const count = (s: SandboxResult["status"]): number => reports.filter((r) => r.status === s).length;
  out.push(`${reports.length} file(s) loaded in the sandbox: ${count("dangerous")} dangerous, ${count("clean")} clean, ${count("failed")} not loaded`);
  return `${out.join("\n")}\n`;
}

/** For `scan --sandbox` in text: one line per detonated file (the JSON report carries each file's `sandbox`). */
export function renderSandboxSummary(report: ScanReport): string {
  const lines: string[] = [];
  for (const file of report.files) {
    const r = file.sandbox;
    if (r === undefined) continue;
    const worst = r.events.find((e) => e.severity === "critical") ?? r.events.find((e) => e.severity === "high");
    const detail = r.status === "dangerous" && worst ? `: ${worst.message}` : r.reason !== undefined ? `: ${r.reason}` : "";
    lines.push(`sandbox: ${printable(file.path)} (${r.loader ?? "no loader"}) ${r.status}${printable(detail)}`);
  }
  return lines.length === 0 ? "sandbox: no local pickle-family file to load\n" : `${lines.join("\n")}\n`;
}
