/**
 * XML model formats: PMML (root element PMML) and OpenVINO IR (root element net, weights in a .bin
 * beside it). Two checks, without an XML library: the prolog up to the root element is read
 * (bounded) and its DOCTYPE judged for external and parameter entities and external DTDs (XXE:
 * parsers that resolve them read files or URLs while parsing); the body's start tags are read in
 * chunks for OpenVINO layers that need an extension library. Nothing is expanded or fetched.
 */
import { extname } from "node:path";
import { own } from "../own.js";
import type { ByteSource } from "../sources/byteSource.js";
import type { Format } from "../types.js";
import type { FormatScanner, ScanContext } from "./context.js";
import { evidenceOf, tally, type Tally } from "./tally.js";

/** Bytes read for the prolog: DOCTYPEs of real models are absent or a few lines. */
const MAX_PROLOG_BYTES = 1024 * 1024;
/** One start tag longer than this stops the layer check (CWE-400: a tag is held whole to read its attributes). */
const MAX_TAG_BYTES = 1024 * 1024;
/** The layer check reads the body in chunks of this size. */
const CHUNK_BYTES = 1024 * 1024;
/** IR files of large models are tens of megabytes; past this the layers are not read. */
const MAX_BODY_BYTES = 1024 * 1024 * 1024;

type XmlModel = Extract<Format, "pmml" | "openvino-ir">;
const ROOTS: Readonly<Record<string, XmlModel>> = { PMML: "pmml", net: "openvino-ir" };
/** Where the root element cannot be seen in the head, the extension says which model the prolog belongs to. */
const BY_EXTENSION: Readonly<Record<string, XmlModel>> = { ".pmml": "pmml", ".xml": "openvino-ir" };

/** The prolog of a document, read as far as `text` goes. */
interface Prolog {
  /** The root element's name (local part), when the prolog ends within the text. */
  root?: string;
  /** Offset (in characters) where the root element starts. */
  rootAt?: number;
  /** The DOCTYPE declaration, whole or as far as the text holds it. */
  doctype?: string;
}

/** Decodes bytes by their byte-order mark: UTF-16 either way, else UTF-8 (the XML default). */
function decoderFor(head: Uint8Array): { decoder: InstanceType<typeof TextDecoder>; skip: number } {
  if (head[0] === 0xff && head[1] === 0xfe) return { decoder: new TextDecoder("utf-16le"), skip: 2 };
  if (head[0] === 0xfe && head[1] === 0xff) return { decoder: new TextDecoder("utf-16be"), skip: 2 };
  return { decoder: new TextDecoder("utf-8"), skip: head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0 };
}

/**
 * Walks declarations, processing instructions, comments and the DOCTYPE (with its internal subset,
 * whose quoted strings may hold any character) up to the first element. Undefined when the text
 * is not the start of an XML document.
 */
function readProlog(text: string): Prolog | undefined {
  const out: Prolog = {};
  let i = 0;
  for (;;) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (i >= text.length) return out;
    if (text[i] !== "<") return undefined;
    if (text.startsWith("<?", i)) {
      const end = text.indexOf("?>", i + 2);
      if (end < 0) return out;
      i = end + 2;
    } else if (text.startsWith("<!--", i)) {
      const end = text.indexOf("-->", i + 4);
      if (end < 0) return out;
      i = end + 3;
    } else if (text.startsWith("<!DOCTYPE", i)) {
      const end = doctypeEnd(text, i + 9);
      out.doctype = text.slice(i, end < 0 ? text.length : end);
      if (end < 0) return out;
      i = end;
    } else {
      const name = /^<([A-Za-z_][\w.:-]*)/.exec(text.slice(i, i + 256));
      if (!name) return undefined;
      out.root = name[1]!.slice(name[1]!.indexOf(":") + 1);
      out.rootAt = i;
      return out;
    }
  }
}

/** Offset just past the DOCTYPE's closing `>`, or -1: `>` inside quotes, comments or the `[…]` subset does not close it. */
function doctypeEnd(text: string, from: number): number {
  let depth = 0;
  let quote: string | undefined;
  for (let i = from; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (text.startsWith("<!--", i)) {
      const end = text.indexOf("-->", i + 4);
      if (end < 0) return -1;
      i = end + 2;
    } else if (c === "[") depth++;
    else if (c === "]") depth--;
    else if (c === ">" && depth <= 0) return i + 1;
  }
  return -1;
}

/** PMML or OpenVINO IR, by the root element found in the head. */
export function sniffXmlModel(head: Uint8Array): XmlModel | undefined {
  const prolog = prologOf(head);
  return prolog?.root !== undefined ? own(ROOTS, prolog.root) : undefined;
}

/** A prolog that outruns the head (a long DOCTYPE hides the root): the extension says which model it would be. */
export function xmlModelByName(head: Uint8Array, name: string): XmlModel | undefined {
  const prolog = prologOf(head);
  if (!prolog || prolog.root !== undefined || (prolog.doctype === undefined && !startsDeclared(head))) return undefined;
  return own(BY_EXTENSION, extname(name).toLowerCase());
}

function prologOf(head: Uint8Array): Prolog | undefined {
  if (!opensWithTag(head)) return undefined;
  const { decoder, skip } = decoderFor(head);
  return readProlog(decoder.decode(head.subarray(skip), { stream: true }));
}

/**
 * Whether the bytes can begin an XML document: a `<` after a byte-order mark and white space (the
 * zero bytes of UTF-16 aside). Sniffing asks this of every file, so nothing is decoded before it.
 */
function opensWithTag(head: Uint8Array): boolean {
  const end = Math.min(head.length, 256);
  for (let i = 0; i < end; i++) {
    const b = head[i]!;
    if (b === 0x3c) return true;
    const bom = i < 3 && (b === 0xef || b === 0xbb || b === 0xbf || b === 0xff || b === 0xfe);
    if (!(bom || b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d || b === 0x00)) return false;
  }
  return false;
}

function startsDeclared(head: Uint8Array): boolean {
  const { decoder, skip } = decoderFor(head);
  return /^\s*<\?xml\s/.test(decoder.decode(head.subarray(skip, skip + 64), { stream: true }));
}

export const scanXmlModel: FormatScanner = async (source: ByteSource, ctx: ScanContext) => {
  const head = await source.read(0, Math.min(source.size, MAX_PROLOG_BYTES));
  const { decoder, skip } = decoderFor(head);
  const text = decoder.decode(head.subarray(skip), { stream: true });
  const prolog = readProlog(text) ?? {};
  if (prolog.doctype !== undefined) checkDoctype(prolog.doctype, ctx);
  if (prolog.root === undefined) {
    const why = head.length < source.size ? `is longer than the ${MAX_PROLOG_BYTES} bytes read` : "ends before any root element";
    ctx.report("MG311", `XML prolog ${why}; its DOCTYPE was not fully checked`, { evidence: `${source.size} bytes` });
    return;
  }
  if (prolog.root === "net") await checkLayers(source, ctx);
};

/**
 * External DTDs and external or parameter entities make a resolving parser read what they name.
 * Keywords are matched without regard to case: a lenient parser is the one that would resolve them.
 */
function checkDoctype(doctype: string, ctx: ScanContext): void {
  const found: string[] = [];
  const dtd = /^<!DOCTYPE\s+[^\s[>]+\s+(SYSTEM|PUBLIC)\s+(["'])(.*?)\2(?:\s+(["'])(.*?)\4)?/i.exec(doctype);
  if (dtd) found.push(`external DTD ${dtd[1]!.toUpperCase()} "${dtd[5] ?? dtd[3]}"`);
  // Declaration by declaration, each matched from its start: linear in the DOCTYPE however it is shaped.
  for (const decl of doctype.split("<!").slice(1)) {
    const m = /^ENTITY\s+(%\s+)?([^\s>]+)\s+(?:(SYSTEM|PUBLIC)\s+(?:(["'])([^"']*)\4\s*)?(?:(["'])([^"']*)\6)?)?/i.exec(decl);
    if (!m) continue;
    const [, param, name, kind] = m;
    if (!param && !kind) continue;
    const target = m[3]?.toUpperCase() === "PUBLIC" ? (m[7] ?? m[5]) : m[5];
    found.push(`${param ? "parameter " : ""}entity ${name}${kind ? ` ${kind.toUpperCase()} "${target ?? ""}"` : ""}`);
  }
  if (found.length === 0) return;
  const shown = found.length > 10 ? `${found.slice(0, 10).join("; ")} and ${found.length - 10} more` : found.join("; ");
  ctx.report("MG310", `XML DOCTYPE declares what a resolving parser fetches while parsing: ${shown}`, { evidence: doctype.slice(0, 300) });
}

/** OpenVINO's own operations come from the opsetN sets; a layer of any other version is an extension's. */
const OPSET = /^opset\d+$/;

/** Reads the body's start tags chunk by chunk; reports layers outside the opsets and elements naming a library. */
async function checkLayers(source: ByteSource, ctx: ScanContext): Promise<void> {
  const { decoder, skip } = decoderFor(await source.read(0, Math.min(source.size, 4)));
  const extensions = new Map<string, Tally>();
  const libraries = new Map<string, Tally>();
  const end = Math.min(source.size, MAX_BODY_BYTES);
  let carry = "";
  let layer = "";
  for (let at = skip; at < end; at += CHUNK_BYTES) {
    const chunk = await source.read(at, Math.min(CHUNK_BYTES, end - at));
    const text = carry + decoder.decode(chunk, { stream: at + chunk.length < end });
    const cut = text.lastIndexOf(">") + 1;
    for (const tag of text.slice(0, cut).matchAll(/<([A-Za-z_][\w.:-]*)(\s[^<>]*)?>/g)) {
      const attrs = attributes(tag[2] ?? "");
      const label = `${tag[1]} id=${attrs.get("id") ?? "?"} name="${attrs.get("name") ?? ""}"`;
      if (tag[1] === "layer") {
        layer = label;
        // A layer without a version is looked up in the default opsets by its type.
        const version = attrs.get("version");
        if (version !== undefined && !OPSET.test(version)) tally(extensions, `${attrs.get("type") ?? "?"} (${version})`, version, label);
      }
      const library = attrs.get("library");
      if (library !== undefined) tally(libraries, library, tag[1]!, tag[1] === "layer" ? label : `${label} in ${layer}`);
    }
    carry = text.slice(cut);
    if (carry.length > MAX_TAG_BYTES) {
      ctx.report("MG311", `OpenVINO IR has a tag longer than ${MAX_TAG_BYTES} bytes; the layers after it were not checked`, { offset: at });
      break;
    }
  }
  if (source.size > MAX_BODY_BYTES) ctx.report("MG311", `OpenVINO IR is larger than the ${MAX_BODY_BYTES} bytes whose layers are checked`);
  for (const [kind, d] of extensions) {
    ctx.report("MG312", `OpenVINO IR has ${d.count} layer(s) of type ${kind} outside OpenVINO's opsets: they run only through an extension`, { evidence: evidenceOf(d) });
  }
  for (const [library, d] of libraries) {
    ctx.report("MG312", `OpenVINO IR names the library "${library}" on ${d.count} element(s): an extension the application would load`, { evidence: evidenceOf(d) });
  }
}

/** A start tag's attributes (the last of a repeated name wins, as in most parsers). */
function attributes(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/([\w.:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) out.set(m[1]!, m[2] ?? m[3] ?? "");
  return out;
}
