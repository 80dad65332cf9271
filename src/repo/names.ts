/**
 * Configs and templates that loaders open by name (config.json, modules.json, model_index.json,
 * chat_template.jinja, Hydra YAML…): which files the repository checks parse, and which files
 * sniffing recognises as a config or template when one is given alone. Kept free of heavy imports:
 * sniffing loads it.
 */

/** A file a loader reads to import code or render a template: parsed JSON/YAML, or a Jinja template. */
export type ConfigFormat = "model-config" | "chat-template";

const JINJA_DELIMITERS = /\{\{|\{%/;

const LFS_POINTER = Buffer.from("version https://git-lfs.github.com/spec/v1");

/** Is this head of a file a Git LFS pointer (the real content was never fetched)? */
export function isLfsPointer(head: Uint8Array): boolean {
  return head.length >= LFS_POINTER.length && LFS_POINTER.equals(head.subarray(0, LFS_POINTER.length));
}

/** Names of Jinja templates (`.template` only with Jinja in it: see configFormatOf). */
const TEMPLATE_NAME = /\.(jinja|jinja2|j2)$/;

/** How the checks parse a file, by its name: JSON, YAML, or a Jinja template. */
export function configKind(name: string): "json" | "yaml" | "template" | undefined {
  const lower = name.toLowerCase();
  if (TEMPLATE_NAME.test(lower) || lower.endsWith(".template")) return "template";
  if (lower.endsWith(".json")) return "json";
  if (lower.endsWith(".yaml") || lower.endsWith(".yml")) return "yaml";
  return undefined;
}

/** ".template" names all kinds of text: such a file is read as Jinja only when it holds Jinja's delimiters. */
export function readsAsTemplate(name: string, text: string): boolean {
  return !/\.template$/i.test(name) || JINJA_DELIMITERS.test(text);
}

/**
 * The config format of a file recognised by name and content: a JSON, YAML or Jinja name, text
 * content (no NUL byte in the head), not an LFS pointer. Shard indexes have their own scanner.
 */
export function configFormatOf(name: string, head: Uint8Array): ConfigFormat | undefined {
  const kind = configKind(name);
  if (kind === undefined || isLfsPointer(head) || head.includes(0)) return undefined;
  if (/\.safetensors\.index\.json$/i.test(name)) return undefined;
  if (kind === "template" && !readsAsTemplate(name, Buffer.from(head).toString("latin1"))) return undefined;
  return kind === "template" ? "chat-template" : "model-config";
}
