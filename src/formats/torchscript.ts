/**
 * TorchScript code in an archive's `code/` folder runs when the archive is loaded (and, on
 * PyTorch before 2.6, even through torch.load with weights_only=True: CVE-2025-32434), and so do
 * the operators a mobile archive's `bytecode.pkl` lists for the lite interpreter. Carrying code is
 * reported low so ordinary exports pass; code or operators that reach files or Python are raised.
 */
import { LIMITS } from "../limits.js";
import type { FormatScanner, ScanContext } from "./context.js";
import { isFlatbuffer } from "./tensorflow.js";
import { resolveCode } from "./torchscriptSource.js";
import type { ZipArchive, ZipEntry } from "./zip.js";

/**
 * Names that read or write files, load native code or reach Python from TorchScript, matched in
 * the code as the compiler resolves it (resolveCode's view: a space between tokens, none around a
 * dot), and before a dot the parenthesis that closes a name (the compiler takes `(torch).save` as `torch.save`).
 */
const DOT = String.raw`[\s)]*\.`;
const DANGEROUS_CODE: readonly { pattern: RegExp; reason: string }[] = [
  // Named at all, not only called: the compiler resolves torch.from_file and ops.aten.from_file alike.
  { pattern: /\bfrom_file\b/, reason: "reads or writes a file (from_file)" },
  { pattern: new RegExp(String.raw`\b(?:torch|aten)${DOT}save\b`), reason: "writes a file (save)" },
  { pattern: new RegExp(String.raw`\btorch${DOT}(?:jit${DOT})?load\b`), reason: "loads another model (load)" },
  { pattern: /\bload_library\b/, reason: "loads a native library (load_library)" },
  // torchvision registers these (torch.ops.image.read_file, write_file) when it is imported.
  { pattern: /\b(?:read_file|write_file)\b/, reason: "reads or writes a file (torchvision's image.read_file or write_file)" },
  { pattern: /\bPythonOp\b/, reason: "calls back into Python (PythonOp)" },
  // Exported code raises standard exceptions by name (`ops.prim.RaiseException(msg, "builtins.ValueError")`):
  // a builtin exception class is not machinery.
  { pattern: new RegExp(String.raw`\b__import__\b|\bbuiltins${DOT}(?![A-Za-z]*(?:Error|Exception|Warning|Interrupt|Exit|Iteration)\b)|\bsubprocess\b|\bos${DOT}(?:system|popen|exec\w*|spawn\w*)\b`), reason: "names Python process or import machinery" },
  { pattern: /\b(?:eval|exec)\s*\(/, reason: "evaluates code (eval/exec)" },
  { pattern: /\bopen\s*\(/, reason: "opens a file (open)" },
];

/** Operators, as mobile bytecode names them, that read or write files. */
const DANGEROUS_OPERATORS: readonly { name: string; reason: string }[] = [
  { name: "aten::from_file", reason: "reads or writes a file" },
  { name: "aten::save", reason: "writes a file" },
  { name: "image::read_file", reason: "reads a file" },
  { name: "image::write_file", reason: "writes a file" },
];

/** Largest code file or bytecode record read; TorchScript sources of real models are far smaller. */
const MAX_CODE_FILE = 16 * 1024 * 1024;

/**
 * The code files of an archive and its mobile `bytecode.pkl` (undefined when it has none): MG121
 * for carrying them, MG122 for what in them reaches files or Python.
 */
export async function scanTorchScriptCode(archive: ZipArchive, code: readonly ZipEntry[], bytecode: ZipEntry | undefined, ctx: ScanContext): Promise<void> {
  const carried = [...code, ...(bytecode ? [bytecode] : [])];
  const what = [code.length > 0 && `${code.length} code file${code.length === 1 ? "" : "s"}`, bytecode && "mobile bytecode"].filter(Boolean).join(" and ");
  ctx.report("MG121", `TorchScript archive carries ${what} that run${carried.length === 1 ? "s" : ""} when it is loaded`, {
    evidence: carried.slice(0, 5).map((e) => e.name).join(", "),
  });
  for (const entry of code.slice(0, LIMITS.maxMembers)) {
    const mctx = ctx.memberContext(entry.name);
    const text = await readMember(archive, entry, mctx, "TorchScript code file");
    if (text === undefined) continue;
    for (const { reason, index } of codeDangers(text)) {
      const line = text.slice(0, index).split("\n").length;
      mctx.report("MG122", `TorchScript code ${reason}`, { offset: index, evidence: `line ${line}: ${lineAt(text, index)}` });
    }
  }
  if (bytecode) await scanMobileBytecode(archive, bytecode, ctx.memberContext(bytecode.name));
}

/**
 * The operators a mobile archive's bytecode.pkl lists. The lite interpreter's unpickler reads
 * binary strings only, so an operator it calls is spelled out in the record.
 */
async function scanMobileBytecode(archive: ZipArchive, entry: ZipEntry, mctx: ScanContext): Promise<void> {
  const record = await readMember(archive, entry, mctx, "TorchScript mobile bytecode", "latin1");
  if (record === undefined) return;
  for (const { name, reason } of DANGEROUS_OPERATORS) {
    const index = record.indexOf(name);
    if (index >= 0) mctx.report("MG122", `TorchScript mobile bytecode calls ${name}, which ${reason}`, { offset: index, evidence: name });
  }
}

/** A member's text, or undefined after reporting why it was not read. */
async function readMember(archive: ZipArchive, entry: ZipEntry, mctx: ScanContext, what: string, encoding: BufferEncoding = "utf8"): Promise<string | undefined> {
  if (entry.uncompressedSize > MAX_CODE_FILE) {
    mctx.report("MG141", `${what} of ${entry.uncompressedSize} bytes is larger than ${MAX_CODE_FILE}; it was not analysed`);
    return undefined;
  }
  const member = await archive.open(entry, mctx.budget);
  if (!member.source) {
    mctx.report(member.problem?.rule ?? "MG141", `${what} ${member.problem?.message ?? "could not be read"}`);
    return undefined;
  }
  return Buffer.from(await member.source.read(0, member.source.size)).toString(encoding);
}

/**
 * What in TorchScript source reads or writes files or reaches Python, judged on the source as the
 * compiler resolves it (resolveCode): the first match of each kind, at its offset in `text`.
 */
export function codeDangers(text: string): { reason: string; index: number }[] {
  const { view, origin, dangers } = resolveCode(text);
  const found: { reason: string; index: number }[] = [];
  for (const d of dangers) if (!found.some((f) => f.reason === d.reason)) found.push(d);
  for (const { pattern, reason } of DANGEROUS_CODE) {
    const m = pattern.exec(view);
    if (m) found.push({ reason, index: origin[m.index]! });
  }
  return found.sort((a, b) => a.index - b.index);
}

function lineAt(text: string, index: number): string {
  const start = text.lastIndexOf("\n", index) + 1;
  const end = text.indexOf("\n", index);
  return text.slice(start, end < 0 ? undefined : end).trim().slice(0, 160);
}

/** The file identifier of TorchScript modules saved as flatbuffers (torch.jit.save_jit_module_to_flatbuffer). */
const FLATBUFFER_IDENTIFIER = "PTMF";

export function sniffTorchScriptFlatbuffer(head: Uint8Array, size: number): boolean {
  return isFlatbuffer(head, size, FLATBUFFER_IDENTIFIER);
}

/**
 * A TorchScript module saved as a flatbuffer: torch.jit.load and the lite interpreter load it as
 * they load an archive, running its code and operators, which are not read here. Fail closed.
 */
export const scanTorchScriptFlatbuffer: FormatScanner = async (_source, ctx) => {
  ctx.report("MG126", "TorchScript module saved as a flatbuffer: torch.jit.load runs its code and operators, which modelgate does not read; it was not checked", {
    evidence: `file identifier ${FLATBUFFER_IDENTIFIER}`,
  });
};
