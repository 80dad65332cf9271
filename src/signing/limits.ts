/** Caps for reading signatures and walking signed folders: a hostile model.sig or folder must not exhaust the process. */
export const SIGNING_LIMITS = Object.freeze({
  /** Bytes of a model.sig read into memory (CWE-400): real bundles are kilobytes, one line per file of the model. */
  maxSignatureBytes: 64 * 1024 * 1024,
  /** Resources one statement may list (CWE-770): each becomes an entry to compare. */
  maxManifestItems: 1_000_000,
  /** Files a signed folder may hold before the walk gives up (CWE-400). */
  maxFolderFiles: 1_000_000,
  /** Folder nesting followed by the walk (CWE-674). */
  maxFolderDepth: 64,
  /** Certificates a chain may hold, in the bundle and in --certificate-chain together (CWE-770). */
  maxChainCertificates: 16,
});
