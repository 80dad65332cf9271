/**
 * TorchScript code in an archive's `code/` folder runs when the archive is loaded (and, on
 * PyTorch before 2.6, even through torch.load with weights_only=True: CVE-2025-32434). Carrying
 * code is reported low so ordinary exports pass; code that reaches files or Python is raised.
 */
import { LIMITS } from "../limits.js";
import type { ScanContext } from "./context.js";
import type { ZipArchive, ZipEntry } from "./zip.js";

/** Operators and names that read or write files, load native code or reach Python from TorchScript. */
const DANGEROUS_CODE: readonly { pattern: RegExp; reason: string }[] = [
  { pattern: /\b(?:torch\.ops\.aten\.)?from_file\s*\(/, reason: "reads a file from disk (from_file)" },
  { pattern: /\btorch\.(?:ops\.aten\.)?save\s*\(/, reason: "writes a file (save)" },
  { pattern: /\btorch\.(?:jit\.)?load\s*\(/, reason: "loads another model (load)" },
  { pattern: /\bload_library\s*\(/, reason: "loads a native library (load_library)" },
  { pattern: /\bPythonOp\b|\bprim::PythonOp\b/, reason: "calls back into Python (PythonOp)" },
  // Exported code raises standard exceptions by name (`ops.prim.RaiseException(msg, "builtins.ValueError")`):
  // a builtin exception class is not machinery.
  { pattern: /\b__import__\b|\bbuiltins\.(?![A-Za-z]*(?:Error|Exception|Warning|Interrupt|Exit|Iteration)\b)|\bsubprocess\b|\bos\.(?:system|popen|exec\w*|spawn\w*)\b/, reason: "names Python process or import machinery" },
  { pattern: /\b(?:eval|exec)\s*\(/, reason: "evaluates code (eval/exec)" },
  { pattern: /\bopen\s*\(/, reason: "opens a file (open)" },
];

/** Largest code file read; TorchScript sources of real models are far smaller. */
const MAX_CODE_FILE = 16 * 1024 * 1024;

export async function scanTorchScriptCode(archive: ZipArchive, code: readonly ZipEntry[], ctx: ScanContext): Promise<void> {
  ctx.report("MG121", `TorchScript archive carries ${code.length} code file${code.length === 1 ? "" : "s"} that run when it is loaded`, {
    evidence: code.slice(0, 5).map((e) => e.name).join(", "),
  });
  for (const entry of code.slice(0, LIMITS.maxMembers)) {
    const mctx = ctx.memberContext(entry.name);
    if (entry.uncompressedSize > MAX_CODE_FILE) {
      mctx.report("MG141", `TorchScript code file of ${entry.uncompressedSize} bytes is larger than ${MAX_CODE_FILE}; it was not analysed`);
      continue;
    }
    const member = await archive.open(entry, ctx.budget);
    if (!member.source) {
      mctx.report(member.problem?.rule ?? "MG141", `TorchScript code file ${member.problem?.message ?? "could not be read"}`);
      continue;
    }
    const text = Buffer.from(await member.source.read(0, member.source.size)).toString("utf8");
    for (const { reason, index } of codeDangers(text)) {
      const line = text.slice(0, index).split("\n").length;
      mctx.report("MG122", `TorchScript code ${reason}`, { offset: index, evidence: `line ${line}: ${lineAt(text, index)}` });
    }
  }
}

/** What in TorchScript source reads or writes files or reaches Python: the first match of each kind. */
export function codeDangers(text: string): { reason: string; index: number }[] {
  const found: { reason: string; index: number }[] = [];
  for (const { pattern, reason } of DANGEROUS_CODE) {
    const m = pattern.exec(text);
    if (m) found.push({ reason, index: m.index });
  }
  return found;
}

function lineAt(text: string, index: number): string {
  const start = text.lastIndexOf("\n", index) + 1;
  const end = text.indexOf("\n", index);
  return text.slice(start, end < 0 ? undefined : end).trim().slice(0, 160);
}
