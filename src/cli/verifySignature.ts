/** The `verify-signature` command: an OpenSSF model signature (model.sig) against a model folder. */
import type { Command } from "commander";
import { access } from "node:fs/promises";
import { join } from "node:path";
import { UsageError } from "../errors.js";
import { printable } from "../report/humanize.js";
import { describeSigner } from "../signing/describe.js";
import { SIGNATURE_FILE } from "../signing/signatureFile.js";
import { TrustFileError, loadTrusts, type TrustSpec } from "../signing/trustFiles.js";
import { ExitCode } from "./exitCode.js";

interface VerifySignatureFlags {
  signature?: string;
  identity?: string;
  issuer?: string;
  certificateChain?: string[];
  publicKey?: string;
  ignorePaths?: string[];
  ignoreGitPaths: boolean;
}

const HELP = `
Exactly one way to trust the signer:
  --identity ID --issuer URL     keyless Sigstore (public-good instance; its trusted root ships with
                                 modelgate, so verification works offline)
  --certificate-chain PEM...     the chain must lead to one of these certificates
  --public-key PEM               an elliptic-curve public key

Reads every released format of the reference tool (model_signing 0.2 to 1.x): files and shards
manifests, sha256 and blake2b. The signature file, .git, .gitattributes, .github, .gitignore, the
--ignore-paths and the paths the signer left out are not compared.

Exit codes:
  0  verified: a trusted signer, and every file matches
  1  not verified: the signer is not trusted, or files are changed, missing or not covered
  4  usage error: bad option, or a path that does not exist

Examples:
  $ modelgate verify-signature ./model --signature model.sig --identity alice@example.com --issuer https://accounts.google.com
  $ modelgate verify-signature ./model --signature model.sig --public-key signer.pub
  $ modelgate verify-signature ./model --certificate-chain ca.pem --ignore-paths ./model/README.md`;

export function registerVerifySignature(program: Command, setExitCode: (code: ExitCode) => void): void {
  program
    .command("verify-signature")
    .description("Verify an OpenSSF model signature (Sigstore bundle, as model_signing writes) against a model folder or file.")
    .argument("<model>", "the model folder (or single file) that was signed")
    .option("--signature <file>", `the signature (default: ${SIGNATURE_FILE} in the model folder)`)
    .option("--identity <id>", "keyless: the signer's identity (certificate subject alternative name)")
    .option("--issuer <url>", "keyless: the OIDC issuer that vouched for the identity")
    .option("--certificate-chain <pem...>", "certificates (roots, intermediates) the signing certificate must chain to")
    .option("--public-key <pem>", "the signer's public key")
    .option("--ignore-paths <path...>", "paths (from the working folder) not to compare")
    .option("--no-ignore-git-paths", "compare .git, .gitattributes, .github and .gitignore too")
    .addHelpText("after", HELP)
    .action(async (model: string, flags: VerifySignatureFlags) => {
      const spec = trustSpec(flags);
      const signature = flags.signature ?? join(model, SIGNATURE_FILE);
      for (const path of [model, signature]) {
        await access(path).catch(() => {
          throw new UsageError(`${path} does not exist`);
        });
      }
      const trusts = await loadTrusts(spec).catch((err: Error) => {
        throw err instanceof TrustFileError ? new UsageError(err.message) : err;
      });
      const { verifyModelSignature } = await import("../signing/verify.js");
      const verdict = await verifyModelSignature(model, signature, trusts, { ignorePaths: flags.ignorePaths ?? [], ignoreGitPaths: flags.ignoreGitPaths });
      if (verdict.verified) {
        process.stdout.write(`verified ${printable(model)}: ${verdict.files} ${verdict.files === 1 ? "item" : "items"} signed by ${printable(describeSigner(verdict.signer))}\n`);
        setExitCode(ExitCode.Pass);
        return;
      }
      for (const m of verdict.mismatches) process.stdout.write(`${m.kind.padEnd(8)} ${printable(m.name)}  ${printable(m.detail)}\n`);
      process.stderr.write(`modelgate: ${printable(model)} is not verified: ${printable(verdict.reason)}\n`);
      for (const reason of verdict.reasons) process.stderr.write(`  ${printable(reason)}\n`);
      setExitCode(ExitCode.Blocked);
    });
}

function trustSpec(flags: VerifySignatureFlags): TrustSpec {
  const keyless = flags.identity !== undefined || flags.issuer !== undefined;
  const chosen = [keyless, flags.certificateChain !== undefined, flags.publicKey !== undefined].filter(Boolean).length;
  if (chosen !== 1) throw new UsageError("give exactly one of --identity/--issuer, --certificate-chain, --public-key");
  if (keyless) {
    if (flags.identity === undefined || flags.issuer === undefined) throw new UsageError("--identity and --issuer go together");
    return { identities: [{ identity: flags.identity, issuer: flags.issuer }] };
  }
  if (flags.certificateChain !== undefined) return { certificateChains: [flags.certificateChain] };
  return { keys: [flags.publicKey!] };
}
