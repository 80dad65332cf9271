/**
 * Dependencies that only some inputs need (protobuf for ONNX and TensorFlow graphs, YAML for policy
 * files and Hydra configs, Jinja for chat templates, the hub client for remote scans, CycloneDX
 * for the ML-BOM, Sigstore for signatures, Redis for shared gateway state) are loaded the first time they are used, not at start-up: `modelgate --version`
 * or a one-file pickle scan in a pre-commit hook should not pay tens of milliseconds for each. The call sites are
 * synchronous, so the dependency's CommonJS build is required rather than imported.
 */
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/** A function that returns the module `id`, requiring it on the first call. */
export function onFirstUse<T>(id: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(id) as T);
}
