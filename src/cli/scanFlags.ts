/** The scan command's options as parsed (src/cli/program.ts defines them; src/cli/scan.ts runs the scan). */
import type { Threshold } from "../types.js";

export const OUTPUT_FORMATS = ["text", "json", "sarif", "cyclonedx"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface ScanFlags {
  format: OutputFormat;
  output?: string;
  failOn: Threshold;
  /** Whether --fail-on was given (it then wins over the policy's fail_on). */
  failOnGiven: boolean;
  showSkipped?: boolean;
  quiet?: boolean;
  /** False with --no-progress. */
  progress: boolean;
  policy?: string;
  quarantine?: string;
  auditLog?: string;
  cache?: string;
  /** --huggingface, repeatable: hub repositories as "owner/name[@revision]". */
  huggingface: string[];
  /** --hf-cache [dir]: true for the default cache folder. */
  hfCache?: string | true;
  token?: string;
  jobs: number;
  threads?: number;
  /** Seconds per HTTP request. */
  timeout?: number;
  /** --clamav [address]: true without an address. */
  clamav?: string | true;
  /** --exclude and --include, repeatable (gitignore syntax). */
  exclude: string[];
  include: string[];
  /** False with --no-default-excludes. */
  defaultExcludes: boolean;
  /** False with --no-ignore-file: the working folder's .modelgateignore is not read (a pipeline that scans untrusted content from inside it). */
  ignoreFile: boolean;
  /** Exit 0 instead of 3 when nothing scanned is a model (pre-commit: a staged .bin that is not one). */
  allowNoModels?: boolean;
  /** --sandbox: load pickle-family files in the sandbox after the static scan. */
  sandbox?: boolean;
}
