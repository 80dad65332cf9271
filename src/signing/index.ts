/** OpenSSF model signing: verify and create model.sig bundles, for the CLI, the policy and the gateway. */
export { SignatureError, authenticate, type Signer, type Trust } from "./authenticate.js";
export { keyHint } from "./keys.js";
export { SigningError, signModel, type SignOptions } from "./sign.js";
export { compareManifests, type FileMismatch } from "./compare.js";
export { GIT_PATHS, hashModel } from "./folder.js";
export { ManifestError, manifestFromStatement, splitShardName, type Manifest, type ManifestItem, type Serialization } from "./manifest.js";
export { TrustFileError, loadTrusts, pemBlocks, type TrustSpec } from "./trustFiles.js";
export { SIGNATURE_FILE } from "./signatureFile.js";
export { authenticatedManifest, verifyModelSignature, type SignatureVerdict, type VerifyOptions } from "./verify.js";
export { describeSigner } from "./describe.js";
export { verifyRepositorySignature, type RepositoryFile, type RepositoryOptions, type RepositoryVerdict } from "./repository.js";
