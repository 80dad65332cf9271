/** Scans pickle streams: runs the symbolic machine over every stream in the data and reports. */
import { createHash } from "node:crypto";
import { LIMITS } from "../limits.js";
import { PickleAnalyst, type NestedPayload, type PickleHooks } from "../pickle/analyst.js";
import { Machine } from "../pickle/machine.js";
import { provePlainData } from "../pickle/plainData.js";
import { deferredProblems } from "../pickle/readBack.js";
import { StreamReader } from "../pickle/reader.js";
import { ConstantLog, HEAD } from "../pickle/constants.js";
import { dormantPayloads, mayHide } from "../pickle/dormant.js";
import { BufferSource, SliceSource, type ByteSource } from "../sources/byteSource.js";
import { describe, type CallResult, type Value } from "../pickle/values.js";
import { HIGHEST_PROTOCOL, OP } from "../pickle/opcodes.js";
import type { FormatScanner, ScanContext } from "./context.js";
import { loadedStorage, reportMalformedView, reportView, tensorView } from "./torchStorage.js";

/** Which extra callables a layout legitimately uses (TorchScript rebuilders in its pickles). */
export type PickleLayout = "plain" | "torchscript";

export interface PickleScanOptions {
  /** Offset of the first opcode within `source` (e.g. after an .npy header). */
  offset?: number;
  /** Read exactly one pickle and stop at its STOP (formats that store raw data after it). */
  single?: boolean;
  /** The data follows a complete file (e.g. after a legacy checkpoint's storages): if it is no pickle, it is trailing bytes. */
  trailing?: boolean;
  /** The data only resembles a pickle (an archive member without a PROTO opcode): if it breaks before doing anything, it is data. */
  tentative?: boolean;
  layout?: PickleLayout;
  hooks?: PickleHooks;
  /**
   * The caller reads what the stream returns (a legacy checkpoint's storage keys), so its values are
   * built even when it is plain data; otherwise a plain-data stream is proven so without them.
   */
  keepValue?: boolean;
}

export interface PickleScanResult {
  /** Offset just past the last opcode analysed. */
  end: number;
  /** Whether the (last) stream ended with STOP. */
  complete: boolean;
  /** What the last stream's STOP returned, symbolically (e.g. the key list of a legacy checkpoint); PLAIN_DATA for a stream proven plain data without `keepValue`. */
  value: Value;
}

/**
 * Analyses the pickle at `offset` and, unless `single`, every stream after it (P8: a second
 * pickle or data after STOP). A broken stream is analysed up to the break and the break reported.
 */
export async function scanPickle(source: ByteSource, ctx: ScanContext, options: PickleScanOptions = {}): Promise<PickleScanResult> {
  const analyst = new PickleAnalyst((rule, message, extra) => ctx.report(rule, message, extra), { torchscript: options.layout === "torchscript", overrides: ctx.callables }, options.hooks);
  let offset = options.offset ?? 0;
  let result: PickleScanResult = { end: offset, complete: false, value: null };
  let streams = 0;
  /** Where bytes after the last STOP that are not a pickle begin. */
  let hiddenAt: number | undefined;
  const constants = new ConstantLog();
  for (;;) {
    analyst.beginStream(streams > 0 || options.trailing ? "trailing" : options.tentative ? "tentative" : "sure");
    const reader = new StreamReader(source, offset);
    const mark = constants.mark();
    // A proven stream's imports were judged by callsSilently; they do not count toward the analyst's bound on distinct names.
    let outcome = options.keepValue ? undefined : await provePlainData(reader, { constants, silent: (module, name) => analyst.callsSilently(module, name) });
    if (!outcome) {
      constants.rewind(mark);
      outcome = await new Machine(reader, analyst, 0, { constants }).run();
    }
    analyst.endStream(outcome, offset, source.size);
    result = { end: outcome.end, complete: outcome.stopped, value: outcome.result };
    if (!outcome.stopped) {
      if ((streams > 0 || options.trailing) && outcome.effects === 0) hiddenAt = offset;
      break;
    }
    streams++;
    if (options.single || outcome.end >= source.size) break;
    if (streams >= LIMITS.pickleMaxStreams) {
      ctx.report("MG111", `more than ${LIMITS.pickleMaxStreams} pickle streams in a row; the rest was not analysed`, { offset: outcome.end });
      break;
    }
    offset = outcome.end;
  }
  if (streams > 1) ctx.report("MG114", `${streams} pickle streams stored back to back`, { offset: options.offset ?? 0 });
  analyst.flush();
  for (const n of analyst.nested) {
    const nested = nestedSource(source, n);
    await ctx.scanMember(nestedName(n), nested, "pickle");
    if (n.loadsStorage) await checkLoadedStorage(n, n.loadsStorage, nested, analyst, ctx);
  }
  for (const { call, message } of await deferredProblems(analyst.deferredStructures, (at, n) => source.read(at, n))) {
    ctx.report("MG124", `pickled ${message}`, { offset: call.at, evidence: describe(call) });
  }
  await scanDormant(source, constants, analyst, ctx);
  if (hiddenAt !== undefined) await scanAfterJunk(source, hiddenAt, ctx);
  return result;
}

/** How far into bytes after the last STOP a pickle hidden behind a separator is looked for. */
const JUNK_WINDOW = 1024 * 1024;

/**
 * Bytes after the last STOP that do not begin a pickle may still hide one a byte or more further
 * on (a separator, padding): a reader that resynchronises on the next PROTO runs it. The first
 * such pickle in the window (PROTO, a protocol number, then opcodes that walk to STOP) is scanned
 * as a nested member; what follows it is its own trailing data.
 */
async function scanAfterJunk(source: ByteSource, from: number, ctx: ScanContext): Promise<void> {
  const bytes = await source.read(from, Math.min(source.size - from, JUNK_WINDOW));
  for (let i = bytes.indexOf(OP.PROTO, 1); i >= 0 && i + 1 < bytes.length; i = bytes.indexOf(OP.PROTO, i + 1)) {
    if (bytes[i + 1]! < 2 || bytes[i + 1]! > HIGHEST_PROTOCOL) continue;
    const found = dormantPayloads(bytes.subarray(i)).find((d) => d.kind === "pickle");
    if (!found) continue;
    const name = `<pickle after the last STOP @${from + i}>`;
    await ctx.scanMember(name, new SliceSource(name, source, from + i, source.size - from - i), "pickle");
    return;
  }
}

/**
 * Dormant second stages (P22): pickles hidden in str and bytes constants, raw or encoded, waiting
 * for one `pickle.loads` in model code, are scanned as nested members and reported by what they do.
 * Constants too long to buffer are read back when their first bytes can begin a payload.
 */
async function scanDormant(source: ByteSource, constants: ConstantLog, analyst: PickleAnalyst, ctx: ScanContext): Promise<void> {
  // A constant handed to a nested deserializer was scanned as that call's payload already.
  const handed = analyst.nested.flatMap((n) => (n.payload.t === "bytes" ? [Buffer.from(n.payload.data)] : []));
  const found = [...constants.found];
  for (const u of constants.unread) {
    if (!mayHide(await source.read(u.at, Math.min(u.len, HEAD)), u.len, u.utf8)) continue;
    if (u.len > LIMITS.dormantMaxInput) {
      found.push({ at: u.at, found: { kind: "limit", encoding: "raw", reason: `a constant of ${u.len} bytes that may hide a pickle is over the ${LIMITS.dormantMaxInput}-byte bound; not decoded` } });
      continue;
    }
    const bytes = await source.read(u.at, u.len);
    for (const f of dormantPayloads(u.utf8 ? Buffer.from(bytes).toString("utf8") : bytes)) found.push({ at: u.at, found: f });
  }
  // A payload one fold found is found again by the folds that take it further: scanned once.
  const scanned = new Set<string>();
  const scan = async ({ at, found: f }: (typeof found)[number], where: string): Promise<void> => {
    if (f.kind === "limit") {
      ctx.report("MG111", f.reason, { offset: at, evidence: `encoding ${f.encoding}` });
      return;
    }
    if (f.encoding === "raw" && handed.some((h) => h.equals(f.bytes))) return;
    const key = createHash("sha1").update(f.bytes).digest("hex");
    if (scanned.has(key)) return;
    scanned.add(key);
    const name = `<pickle hidden in ${where} @${at} (${f.encoding})>`;
    await ctx.scanMember(name, new BufferSource(name, f.bytes), f.kind === "pickle" ? "pickle" : undefined);
  };
  for (const f of found) await scan(f, "a constant");
  for (const f of analyst.computed) await scan(f, "text computed at load");
  if (constants.dropped > 0) {
    ctx.report("MG111", `${constants.dropped} more constants that may hide a pickle were not examined (bound on examined constants)`);
  }
}

/**
 * An excused torch.storage._load_from_bytes(b) (see PickleAnalyst.loadsScannedBytes): reported after
 * all unless b loads one storage, and each tensor rebuilt on that storage checked against its size
 * (P15b), as a checkpoint's are: torch enlarges a storage to fit a view that reaches past it.
 */
async function checkLoadedStorage(n: NestedPayload, call: CallResult, nested: ByteSource, analyst: PickleAnalyst, ctx: ScanContext): Promise<void> {
  const storage = await loadedStorage(nested);
  if (!storage) {
    ctx.report("MG100", `calls ${n.callee} on bytes that are not torch.save's stream of one storage: torch.load returns what their pickles build, and what the stream then does with it is not judged`, { offset: n.payload.at, severity: "high" });
    return;
  }
  for (const { rebuilder, call: rebuild } of analyst.loadedViews.get(call) ?? []) {
    const view = tensorView(rebuilder, rebuild, storage);
    if (view) reportView(view, ctx);
    else reportMalformedView(rebuilder, rebuild, ctx);
  }
}

function nestedName(n: NestedPayload): string {
  return `<bytes passed to ${n.callee} @${n.payload.at}>`;
}

function nestedSource(source: ByteSource, n: NestedPayload): ByteSource {
  const p = n.payload;
  return p.t === "bytes" ? new BufferSource(nestedName(n), p.data) : new SliceSource(nestedName(n), source, p.at, p.len);
}

/**
 * A stream sniffed as a pickle. Inside archives, content without a PROTO opcode was recognised by
 * its structure alone, so it may be raw tensor data that happens to parse: scanned tentatively.
 */
export const scanPickleContent: FormatScanner = async (source, ctx) => {
  const first = await source.read(0, 1);
  await scanPickle(source, ctx, { tentative: ctx.depth > 0 && first[0] !== OP.PROTO });
};
