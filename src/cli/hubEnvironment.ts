/** The hub settings the CLI takes from the environment (the library reads none): HF_TOKEN, HF_ENDPOINT. */
import type { RemoteOptions } from "../targets.js";

export function hubEnvironment(): Pick<RemoteOptions, "hubToken" | "endpoint"> {
  return {
    hubToken: process.env["HF_TOKEN"] || undefined,
    endpoint: process.env["HF_ENDPOINT"] || undefined,
  };
}
