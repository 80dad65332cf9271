// Bundles the CLI into dist/bundle/ after tsc: one file per thread entry (the CLI, the scan
// worker, the HDF5 reader) instead of some 120 ES modules, which Node 20 resolves and links one
// by one (about 0.6 ms each) before `modelgate` can do anything. Dependencies stay external.
// dist/bundle/ sits two levels below the package root, as dist/src/ does (src/packageFiles.ts).
import { build } from "esbuild";

await build({
  entryPoints: [
    { in: "dist/src/cli/main.js", out: "modelgate" },
    // Started by URL relative to the modules that start them, which the bundle keeps side by side.
    { in: "dist/src/scanWorker.js", out: "scanWorker" },
    { in: "dist/src/formats/hdf5Reader.js", out: "hdf5Reader" },
  ],
  outdir: "dist/bundle",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  external: ["better-sqlite3", "h5wasm", "7z-wasm"],
  // The CommonJS dependencies inside the bundle require Node's built-ins.
  banner: { js: 'import { createRequire as bundleRequire } from "node:module"; const require = bundleRequire(import.meta.url);' },
  logLevel: "warning",
});
