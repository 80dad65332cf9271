/** The `init` command: writes a commented starter policy, never over an existing file. */
import type { Command } from "commander";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { UsageError } from "../errors.js";
import { POLICY_FILE } from "../policy/policy.js";
import { ExitCode } from "./exitCode.js";

/** Every key, commented; the active settings only tighten the default (the test parses this text). */
export const STARTER_POLICY = `# modelgate policy (${POLICY_FILE}). Checked against its schema on every run: a typo is an error
# naming its line, never a silently weaker gate. Used by \`modelgate scan\` and \`modelgate lock\` when
# found in the working folder, or with --policy FILE.
version: 1

# Block a file with a finding at or above: critical | high | medium | low.
# An explicit --fail-on on the command line wins over this.
fail_on: medium

# Formats by content (what the bytes are, whatever the name says). "pickle-based" stands for
# pickle, pytorch-zip, torchscript, pytorch-legacy and pytorch-tar: every format whose loader unpickles.
formats:
  block: []
  # allow: [safetensors, safetensors-index, gguf, onnx]   # if set, every other recognised format is blocked

# Names, for organisations that standardised on safetensors:
extensions:
  block: []
  # block: [.bin, .pkl, .pickle, .pt, .pth, .ckpt, .joblib, .npy, .npz, .h5, .pb, .gguf, .zip]

# Block a pickle-format weight file when safetensors weights sit beside it.
require_safetensors: false

# Where remote targets may come from: hf://org, hf://org/repo, hf://org/repo@revision, or a URL prefix.
# untrusted: block | warn | scan  (default when trusted sources are listed: block)
sources:
  trusted: []
  # trusted: [hf://my-org, hf://partner-org/model@0123abcd, https://models.example.com/]
  untrusted: scan

# Extra pickle callables: allow your own classes (exact qualified names; what the built-in rules
# deny cannot be allowed), deny names or whole modules.
callables:
  allow: []
  deny: []
  # deny:
  #   - name: mylib.unsafe
  #     reason: loads plugins by name
  #     severity: critical

# Findings set aside, each with a reason and a last day; an expired entry stops applying and is reported.
ignore: []
#  - rule: MG101
#    path: "models/legacy/**"
#    reason: "reviewed by the security team, ticket SEC-123"
#    expires: 2026-12-31

# Where decisions are recorded and blocked local files are moved (relative to this file):
# audit_log: modelgate-audit.jsonl
# quarantine: .modelgate-quarantine
`;

export function registerInit(program: Command, setExitCode: (code: ExitCode) => void): void {
  program
    .command("init")
    .description(`Write a commented starter policy (${POLICY_FILE}); an existing file is never overwritten.`)
    .argument("[file]", "where to write it", POLICY_FILE)
    .action(async (file: string) => {
      // A folder that does not exist yet is created, as `git init` does.
      await mkdir(dirname(file), { recursive: true }).catch((err: NodeJS.ErrnoException) => {
        throw new UsageError(`cannot create the folder of ${file}: ${err.message}`);
      });
      await writeFile(file, STARTER_POLICY, { flag: "wx" }).catch((err: NodeJS.ErrnoException) => {
        if (err.code === "EEXIST") throw new UsageError(`${file} already exists; it was left as it is`);
        throw err;
      });
      process.stdout.write(`wrote ${file}\n`);
      setExitCode(ExitCode.Pass);
    });
}
