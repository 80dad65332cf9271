// Bundles the CLI and the library into dist/bundle/ after tsc: one file per entry (the CLI, the
// library's public face, the scan worker, the HDF5 reader) instead of some 120 ES modules, which
// Node 20 resolves and links one by one (about 0.6 ms each) before `modelgate` can do anything.
// Dependencies imported statically are bundled too, each evaluated when first reached; those
// required at run time through createRequire (src/onFirstUse.ts, the decoders, Sigstore's trust
// root) and the native and WASM packages stay installed packages: a WASM package must never be
// imported statically. dist/bundle/ sits two levels below the package root, as dist/src/ does
// (src/packageFiles.ts). The licences of the bundled packages go beside the bundle.
//
// The CLI itself is bundled as CommonJS (cli.cjs) behind a small launcher (modelgate.js), which
// runs it from a V8 code cache made here by scripts/codeCache.mjs (see src/cli/codeCache.ts).
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const OUT = "dist/bundle";
/** Built as CommonJS, not a module, as node:vm compiles it with a code cache on Node 20. */
const CLI = "cli";
/** Packages not bundled: a native addon and WASM modules load files of their own package at run time. */
const EXTERNAL = ["better-sqlite3", "h5wasm", "7z-wasm"];

const { metafile } = await build({
  entryPoints: [
    { in: "dist/src/cli/launch.js", out: "modelgate" },
    // The package's main export: a library user's scan threads then load the bundled worker too,
    // each some 10 MB lighter than one that loads the modules one by one.
    { in: "dist/src/index.js", out: "index" },
    // Started by URL relative to the modules that start them, which the bundle keeps side by side.
    { in: "dist/src/scanWorker.js", out: "scanWorker" },
    { in: "dist/src/formats/hdf5Reader.js", out: "hdf5Reader" },
  ],
  outdir: OUT,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  external: EXTERNAL,
  // The CommonJS dependencies inside the bundle require Node's built-ins, and some name their own
  // file or folder (ioredis's error stacks).
  banner: {
    js: [
      'import { createRequire as bundleRequire } from "node:module";',
      'import { dirname as bundleDirname } from "node:path";',
      'import { fileURLToPath as bundleFileURLToPath } from "node:url";',
      "const require = bundleRequire(import.meta.url);",
      "const __filename = bundleFileURLToPath(import.meta.url);",
      "const __dirname = bundleDirname(__filename);",
    ].join(" "),
  },
  metafile: true,
  logLevel: "warning",
});

const cli = await build({
  entryPoints: [{ in: "dist/src/cli/main.js", out: CLI }],
  outdir: OUT,
  outExtension: { ".js": ".cjs" },
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  external: EXTERNAL,
  // The modules find their package's files and their workers from import.meta.url, which CommonJS has not.
  define: { "import.meta.url": "bundleUrl" },
  banner: { js: 'const bundleUrl = require("node:url").pathToFileURL(__filename).href;' },
  metafile: true,
  logLevel: "warning",
});
Object.assign(metafile.inputs, cli.metafile.inputs);

// The scan's report is not wanted here, but the script's error is.
const made = spawnSync(process.execPath, [resolve("scripts/codeCache.mjs"), resolve(OUT, `${CLI}.cjs`)], { cwd: "examples", encoding: "utf8" });
if (made.status !== 0) throw new Error(`scripts/codeCache.mjs exited with ${made.status ?? made.signal}:\n${made.stderr}`);

/** node_modules/<name>/… or node_modules/@scope/<name>/… → the package's folder. */
function packageDir(input) {
  const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
  return m?.[1];
}

const notices = [...new Set(Object.keys(metafile.inputs).map(packageDir).filter(Boolean))].sort().map((dir) => {
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const file = readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f));
  const text = file ? readFileSync(join(dir, file), "utf8").trim() : `(no licence file; package.json says ${pkg.license ?? "nothing"})`;
  return `${pkg.name}@${pkg.version} (${pkg.license ?? "unknown"})\n\n${text}\n`;
});
writeFileSync(join(OUT, "THIRD-PARTY-LICENSES.txt"), `Packages bundled into ${OUT}/, with their licences.\n\n${notices.join(`\n${"-".repeat(72)}\n\n`)}`);
