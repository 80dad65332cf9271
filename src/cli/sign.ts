/** The `sign` command: write an OpenSSF model signature (model.sig) for a model folder, with a private key. */
import type { Command } from "commander";
import { readFile, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { writeFileAtomic } from "../atomicFile.js";
import { UsageError } from "../errors.js";
import { printable } from "../report/humanize.js";
import { SIGNATURE_FILE } from "../signing/signatureFile.js";
import { pemBlocks } from "../signing/trustFiles.js";
import { ExitCode } from "./exitCode.js";

interface SignFlags {
  privateKey?: string;
  certificateChain?: string[];
  signature?: string;
  ignorePaths?: string[];
  ignoreGitPaths: boolean;
  keyless?: boolean;
}

const HELP = `
Writes the format of the reference tool (model_signing 1.1): a Sigstore bundle whose DSSE envelope
carries an in-toto statement of every file's sha256. Verify it with
  modelgate verify-signature <model> --public-key <pub.pem>      (or --certificate-chain <root.pem>)
or with model_signing's "verify key" / "verify certificate".

Keyless signing (Sigstore: an OIDC login, a Fulcio certificate, a Rekor entry) needs Sigstore's
public servers and a browser or an ambient OIDC token. modelgate does not sign keyless: sign with
model_signing ("sign sigstore") where those servers are reachable, and verify here with --identity.

Examples:
  $ modelgate sign ./model --private-key signer.pem
  $ modelgate sign ./model --private-key signer.pem --certificate-chain signer-cert.pem intermediate.pem`;

export function registerSign(program: Command, setExitCode: (code: ExitCode) => void): void {
  program
    .command("sign")
    .description("Sign a model folder (or file) with a private key: writes an OpenSSF model signature, model.sig.")
    .argument("<model>", "the model folder (or single file) to sign")
    .option("--private-key <pem>", "an elliptic-curve private key (P-256, P-384, P-521), PEM, unencrypted")
    .option("--certificate-chain <pem...>", "the signing certificate for that key, and its intermediates")
    .option("--signature <file>", `where to write the signature (default: ${SIGNATURE_FILE} in the model folder)`)
    .option("--ignore-paths <path...>", "paths (from the working folder) to leave out of the signature")
    .option("--no-ignore-git-paths", "sign .git, .gitattributes, .github and .gitignore too")
    .option("--keyless", "keyless Sigstore signing: not available (see below)")
    .addHelpText("after", HELP)
    .action(async (model: string, flags: SignFlags) => {
      if (flags.keyless) {
        throw new UsageError("keyless signing needs Sigstore's public servers (Fulcio, Rekor) and an OIDC login; modelgate signs with --private-key only");
      }
      if (flags.privateKey === undefined) throw new UsageError("--private-key is required");
      const info = await stat(model).catch(() => {
        throw new UsageError(`${model} does not exist`);
      });
      const signature = flags.signature ?? join(info.isDirectory() ? model : dirname(model), SIGNATURE_FILE);
      const privateKeyPem = await readFile(flags.privateKey, "utf8").catch((err: NodeJS.ErrnoException) => {
        throw new UsageError(`cannot read ${flags.privateKey}: ${err.code ?? err.message}`);
      });
      const certificates: Buffer[] = [];
      for (const path of flags.certificateChain ?? []) {
        const pem = await readFile(path, "utf8").catch((err: NodeJS.ErrnoException) => {
          throw new UsageError(`cannot read ${path}: ${err.code ?? err.message}`);
        });
        const found = pemBlocks(pem, "CERTIFICATE");
        if (found.length === 0) throw new UsageError(`${path} holds no PEM certificate`);
        certificates.push(...found);
      }
      const { SigningError, signModel } = await import("../signing/sign.js");
      const signed = await signModel(model, { privateKeyPem, certificates, signaturePath: signature, ignorePaths: flags.ignorePaths ?? [], ignoreGitPaths: flags.ignoreGitPaths }).catch((err: Error) => {
        throw err instanceof SigningError ? new UsageError(err.message) : err;
      });
      await writeFileAtomic(signature, JSON.stringify(signed.bundle));
      process.stdout.write(`signed ${signed.manifest.items.length} ${signed.manifest.items.length === 1 ? "file" : "files"} of ${printable(model)} into ${printable(signature)}\n`);
      setExitCode(ExitCode.Pass);
    });
}
