/**
 * TorchServe model archives (.mar): a zip with MAR-INF/MANIFEST.json. When the model is registered,
 * TorchServe imports the manifest's `model.handler` (module[:function]; the archive's folder is on
 * sys.path, so a module of that name in the archive wins over a built-in handler of the same name),
 * and the base handler executes `model.modelFile` from the archive to build an eager-mode model.
 * That is Python code from the archive run by the serving runtime: reported (MG284), while every
 * member is still scanned by content by the zip scanner.
 */
import { readAll } from "../sources/byteSource.js";
import type { ScanContext } from "./context.js";
import type { ZipArchive } from "./zip.js";

export const MAR_MANIFEST = "MAR-INF/MANIFEST.json";

/** The manifest is a few hundred bytes; anything past this is not a manifest torch-model-archiver wrote. */
const MANIFEST_MAX_BYTES = 1024 * 1024;

/** TorchServe's default handlers (ts.torch_handler), named by bare module name in a manifest. */
const BUILT_IN_HANDLERS: ReadonlySet<string> = new Set(["image_classifier", "image_segmenter", "object_detector", "text_classifier"]);

export function isTorchServeArchive(entryNames: readonly string[]): boolean {
  return entryNames.includes(MAR_MANIFEST);
}

/** Reads the manifest and reports the Python code from the archive that registering the model imports or runs. */
export async function checkTorchServeManifest(archive: ZipArchive, ctx: ScanContext): Promise<void> {
  const model = await readManifestModel(archive, ctx);
  if (!model) return;
  const names = new Set(archive.entries.map((e) => e.name));
  const code: string[] = [];
  const handler = typeof model["handler"] === "string" ? model["handler"] : undefined;
  if (handler !== undefined) {
    const module = handlerModule(handler);
    const member = [`${module}.py`, `${module}/__init__.py`].find((n) => names.has(n));
    if (member) code.push(`handler "${handler}" (${member})`);
    else if (!BUILT_IN_HANDLERS.has(module)) code.push(`handler "${handler}" (module "${module}", not a TorchServe built-in handler and not in the archive)`);
  }
  const modelFile = typeof model["modelFile"] === "string" ? model["modelFile"] : undefined;
  if (modelFile !== undefined && names.has(modelFile)) code.push(`modelFile "${modelFile}"`);
  if (code.length === 0) return;
  const python = [...names].filter((n) => n.endsWith(".py"));
  ctx.report(
    "MG284",
    `TorchServe model archive: ${MAR_MANIFEST} names ${code.join(" and ")}, Python code TorchServe imports and runs when the model is registered`,
    { evidence: `${code.join("; ")}${python.length > 0 ? `; Python members: ${python.slice(0, 8).join(", ")}${python.length > 8 ? `, … (${python.length})` : ""}` : ""}` },
  );
}

/** The module TorchServe imports for a handler: "dir/name.py:fn" → "name", "pkg.mod" → "pkg/mod" (as a path). */
function handlerModule(handler: string): string {
  const module = handler.split(":", 1)[0]!.replace(/\.py$/, "");
  return module.split("/").pop()!.replace(/\./g, "/");
}

/** The manifest's "model" object, or undefined after reporting why it could not be read. */
async function readManifestModel(archive: ZipArchive, ctx: ScanContext): Promise<Record<string, unknown> | undefined> {
  // zipfile, which TorchServe extracts with, keeps the last entry of a name.
  const entry = archive.entries.filter((e) => e.name === MAR_MANIFEST).pop()!;
  const notAnalysed = (why: string): undefined => {
    ctx.report("MG278", `TorchServe ${MAR_MANIFEST} ${why}; the handler code it names was not checked`);
    return undefined;
  };
  if (entry.uncompressedSize > MANIFEST_MAX_BYTES) return notAnalysed(`declares ${entry.uncompressedSize} bytes, over the ${MANIFEST_MAX_BYTES}-byte bound`);
  const { source } = await archive.open(entry, ctx.budget);
  if (!source) return notAnalysed("cannot be read"); // the zip scanner reports why when it scans the member
  if (source.size > MANIFEST_MAX_BYTES) return notAnalysed(`is over the ${MANIFEST_MAX_BYTES}-byte bound`);
  let manifest: unknown;
  try {
    manifest = JSON.parse(Buffer.from(await readAll(source)).toString("utf8"));
  } catch (err) {
    return notAnalysed(`is not valid JSON (${(err as Error).message})`);
  }
  const model: unknown = typeof manifest === "object" && manifest !== null ? (manifest as Record<string, unknown>)["model"] : undefined;
  if (typeof model !== "object" || model === null || Array.isArray(model)) return notAnalysed('has no "model" object');
  return model as Record<string, unknown>;
}
