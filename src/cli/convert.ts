/** The `convert` command: options, the summary it prints, its exit codes. The conversion itself is src/convert/. */
import type { Command } from "commander";
import type { ConvertedFile } from "../convert/convert.js";
import { UsageError } from "../errors.js";
import { printable } from "../report/humanize.js";
import { formatBytes } from "../units.js";
import { ExitCode } from "./exitCode.js";

interface ConvertFlags {
  force?: boolean;
}

const CONVERT_EXAMPLES = `
Examples:
  $ modelgate convert pytorch_model.bin                 # writes pytorch_model.safetensors
  $ modelgate convert last.ckpt weights.safetensors     # Lightning: state_dict.* tensors, epoch etc. as metadata
  $ modelgate convert pytorch_model.bin.index.json      # shards → model-0000i-of-0000N.safetensors + index
  $ modelgate convert arrays.npz --force

Only tensor rebuilders, storages and plain containers are accepted; anything else stops the
conversion (exit 1) naming the callable and where it is. Nothing is ever loaded or run.
Exit codes: 0 converted, 1 refused, 2 failed, 4 bad input or usage.`;

/** Adds `modelgate convert` to `program`; the command reports its exit code through `setExitCode`. */
export function registerConvert(program: Command, setExitCode: (code: ExitCode) => void): void {
  program
    .command("convert")
    .description("Convert a PyTorch checkpoint (zip or legacy), a shard index or a NumPy .npy/.npz to safetensors, without running it.")
    .argument("<input>", "checkpoint, pytorch_model.bin.index.json, .npy or .npz")
    .argument("[output]", "output file (default: the input with the extension .safetensors; for an index, model.safetensors.index.json beside it)")
    .option("--force", "replace outputs that already exist")
    .addHelpText("after", CONVERT_EXAMPLES)
    .action(async (input: string, output: string | undefined, flags: ConvertFlags) => setExitCode(await convertCommand(input, output, flags)));
}

async function convertCommand(input: string, output: string | undefined, flags: ConvertFlags): Promise<ExitCode> {
  const [{ convertFile }, { convertShards, isShardIndex }, { ConvertInputError, ConvertRefused }] = await Promise.all([
    import("../convert/convert.js"),
    import("../convert/shards.js"),
    import("../convert/tensors.js"),
  ]);
  try {
    if (isShardIndex(input)) {
      const { index, files } = await convertShards(input, output, flags);
      for (const f of files) process.stdout.write(renderConverted(f));
      process.stdout.write(`index: ${printable(index)} (${files.length} shards)\n`);
    } else {
      process.stdout.write(renderConverted(await convertFile(input, output, flags)));
    }
    return ExitCode.Pass;
  } catch (err) {
    if (err instanceof ConvertRefused) {
      process.stderr.write(`modelgate: ${printable(input)}: ${printable(err.message)}\n`);
      return ExitCode.Blocked;
    }
    if (err instanceof ConvertInputError) throw new UsageError(`cannot convert ${input}: ${err.message}`);
    throw err;
  }
}

/** What was written, shared, kept and dropped, and that it was verified. */
function renderConverted(f: ConvertedFile): string {
  const lines = [`converted ${f.input} (${f.format}) -> ${f.output}: ${f.tensors.length} tensors, ${formatBytes(f.fileBytes)}`];
  for (const s of f.shared) lines.push(`  shared storage ${s.storage}: ${s.names.join(", ")} — written as ${s.names.length} separate copies (safetensors cannot share)`);
  const kept = Object.entries(f.metadata);
  if (kept.length > 0) lines.push(`  metadata: ${kept.map(([k, v]) => `${k}=${v.length > 40 ? `${v.slice(0, 37)}...` : v}`).join(", ")}`);
  for (const d of f.dropped) lines.push(`  dropped: ${d.name || "(top level)"} (${d.why})`);
  lines.push("  verified: every tensor read back bit for bit; rescanned with no findings");
  return `${lines.map(printable).join("\n")}\n`;
}
