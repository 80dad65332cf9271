/**
 * The Python hub clients (huggingface_hub, transformers) in a venv of their own, installed from the
 * machine's local Python wheel index only. Without that index there is nothing to install from, and
 * the caller skips with the reason given here. The venv is kept between runs (keyed by the wheel
 * index configuration), since installing takes minutes.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const PACKAGES = ["huggingface_hub", "transformers"];

/** The venv's python, or why the Python clients are not available here. */
export async function pythonClients(): Promise<{ python: string } | { skip: string }> {
  let indexes: string[];
  try {
    const { stdout } = await run("python3", ["-m", "pip", "config", "get", "global.extra-index-url"]);
    indexes = stdout.trim().split(/\s+/).filter((u) => u.startsWith("file://") && existsSync(new URL(u)));
  } catch {
    return { skip: "python3 -m pip has no global.extra-index-url: no local Python wheel index on this machine" };
  }
  if (indexes.length === 0) return { skip: "the configured Python wheel index is not a local folder that exists" };
  const venv = join(tmpdir(), `modelgate-python-clients-${createHash("sha256").update(indexes.join(" ")).digest("hex").slice(0, 12)}`);
  const python = join(venv, "bin", "python");
  if (existsSync(join(venv, "ready"))) return { python };
  await rm(venv, { recursive: true, force: true });
  await run("python3", ["-m", "venv", venv]);
  // The first local index replaces the default one, so nothing is looked up beyond the local indexes.
  await run(python, ["-m", "pip", "install", "-q", "--index-url", indexes[0]!, ...PACKAGES], { maxBuffer: 16 << 20 });
  await run(python, ["-c", "open(__import__('sys').argv[1], 'w').close()", join(venv, "ready")]);
  return { python };
}
