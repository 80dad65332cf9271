/**
 * torch.package (torch.package.PackageImporter): an archive, or a folder laid out the same way,
 * that carries its own Python modules. PackageImporter reads `.data/extern_modules` (always: it
 * fails without it) and, to unpickle a global, imports its module from the package's own `.py`
 * files unless that list names the module (package_importer.py: _load_module → _make_module →
 * exec). So a pickle there naming an allowed global (collections.OrderedDict) runs the package's
 * `collections/__init__.py`: the allowlist's judgement of names means nothing inside a package,
 * and every packaged module is code that loading may run (a red team's twentieth round did so).
 * A zip is read through PyTorch's reader, which strips the archive's one top-level folder; a
 * folder through DirectoryReader, rooted where it is opened.
 */
import type { ScanContext } from "./context.js";

const EXTERN_MODULES = ".data/extern_modules";

/** Why a packaged module is a risk, for the findings that report one. */
export const PACKAGED_MODULE_RISK = "torch.package imports it when a pickle in the package names its module";

/**
 * The package roots among `paths` ("/"-separated): each folder ("" for the top, else ending in
 * "/") holding `.data/extern_modules`. Matched ignoring case, as PyTorch's zip reader looks records up.
 */
export function torchPackageRoots(paths: readonly string[]): string[] {
  const suffix = EXTERN_MODULES.toLowerCase();
  return paths.filter((p) => p.toLowerCase() === suffix || p.toLowerCase().endsWith(`/${suffix}`)).map((p) => p.slice(0, p.length - suffix.length));
}

/** True when `path` is a Python module PackageImporter can import from one of the package `roots` (it takes every `.py` record). */
export function isPackagedModule(path: string, roots: readonly string[]): boolean {
  return path.endsWith(".py") && roots.some((root) => path.startsWith(root));
}

/**
 * A zip's packaged Python modules, when it is a torch.package archive: MG127, whatever its pickles
 * name. A package without modules imports only what its extern list names, which the pickle
 * scanner judges as it judges any name.
 */
export function checkTorchPackageArchive(names: readonly string[], ctx: ScanContext): void {
  const roots = torchPackageRoots(names);
  const modules = names.filter((n) => isPackagedModule(n, roots));
  if (modules.length === 0) return;
  ctx.report("MG127", `torch.package archive carries ${modules.length} Python module${modules.length === 1 ? "" : "s"}: ${PACKAGED_MODULE_RISK}, allowed names included`, {
    evidence: `${modules.slice(0, 8).join(", ")}${modules.length > 8 ? `, … (${modules.length})` : ""}`,
  });
}
