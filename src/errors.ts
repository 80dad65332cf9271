/**
 * The two kinds of failure the command line maps to an exit code without a stack trace, in a module
 * of their own so that the CLI can tell them apart without loading the engine, the hub client or
 * clamd's (start-up time: `modelgate --version` and `--help` load none of them); and the one way a
 * thrown value becomes message text.
 */

/** Bad input from the user (missing path, bad option value…): exit code 4. */
export class UsageError extends Error {}

/**
 * The environment failed, not modelgate: the hub, a server or clamd refused or did not answer
 * (after retries). Exit code 2, with the message only.
 */
export class EnvironmentError extends Error {}

/** The message of whatever was thrown (an Error's message, anything else as text). */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
