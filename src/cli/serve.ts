/** The `serve` command: options, start-up and shutdown of the gateway. The gateway itself is src/gateway/. */
import type { Command } from "commander";
import { UsageError } from "../errors.js";
import { ExitCode } from "./exitCode.js";

interface ServeFlags {
  upstream: string;
  port: string;
  host: string;
  policy?: string;
  store: string;
  upstreamToken?: string;
  forwardAuthorization?: boolean;
  maxFileSize?: string;
  /** --clamav [address]: true without an address. */
  clamav?: string | true;
  /** --sandbox: also load fetched pickle-family files in the sandbox before deciding. */
  sandbox?: boolean;
  state: string;
}

const HELP_HINT = "(see modelgate serve --help)";

const SERVE_EXAMPLES = `
Examples:
  $ modelgate serve --upstream https://huggingface.co --port 8080 --policy modelgate.yml --store /var/lib/modelgate
  # then, on every client:
  $ export HF_ENDPOINT=http://gateway.internal:8080

The policy applies as in \`scan\`, with two keys the gateway asks the hub about: sources.hub_scan
(the hub's own scan of each file, securityFileStatus, decided on beside modelgate's findings) and
signatures.require (a repository's model.sig, verified against the trust given before any of its
files is served).

The page at / lists recent decisions, quarantined files and the policy; /metrics is Prometheus text;
/healthz answers 200 while serving (503 while shutting down or while the store's disk is full).
The upstream token comes from --upstream-token or HF_TOKEN and is never sent to clients.
SIGINT or SIGTERM stops accepting requests and finishes downloads in flight.`;

/** Adds `modelgate serve` to `program`; it runs until SIGINT or SIGTERM. */
export function registerServe(program: Command, setExitCode: (code: ExitCode) => void): void {
  program
    .command("serve")
    .description("Run a Hugging Face-compatible gateway that scans every file before serving it and refuses what the policy blocks.")
    .requiredOption("--upstream <url>", "the hub to fetch from (e.g. https://huggingface.co)")
    .requiredOption("--port <n>", "port to listen on (0: any free port)")
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--policy <file>", "policy file (modelgate.yml); without it, findings at medium or worse block")
    .option("--store <dir>", "content-addressed store of fetched files, quarantine and audit log", "modelgate-store")
    .option("--upstream-token <token>", "token for the upstream (default: $HF_TOKEN)")
    .option("--forward-authorization", "send each client's own Authorization header upstream instead of the gateway's token")
    .option("--clamav [address]", "also check every fetched file with clamd: a socket path or host:port (default: the policy's clamav.address, else /var/run/clamav/clamd.ctl); clamd unreachable: 503")
    .option("--sandbox", "also load each fetched pickle-family file inside the bubblewrap sandbox before deciding (see modelgate sandbox): a second opinion; MG172 when it disagrees")
    .option("--max-file-size <bytes>", "largest file fetched; a file the hub announces larger is refused before any byte is fetched (default 100 GiB)")
    .option(
      "--state <where>",
      "where decisions, the etag-to-blob map and download leases live: sqlite (a database under --store, kept across restarts), memory, or redis://host:port/db to share them between gateway processes",
      "sqlite",
    )
    .showHelpAfterError(HELP_HINT)
    .addHelpText("after", SERVE_EXAMPLES)
    .action(async (flags: ServeFlags) => {
      try {
        setExitCode(await serveCommand(flags));
      } catch (err) {
        // Start-up problems are the operator's to fix: say what is wrong and where the options are.
        if (err instanceof UsageError) throw new UsageError(`${err.message}\n${HELP_HINT}`);
        throw err;
      }
    });
}

async function serveCommand(flags: ServeFlags): Promise<ExitCode> {
  let upstream: URL;
  try {
    upstream = new URL(flags.upstream);
  } catch {
    throw new UsageError(`--upstream: not a URL: ${flags.upstream}`);
  }
  if (upstream.protocol !== "http:" && upstream.protocol !== "https:") throw new UsageError("--upstream must be an http or https URL");
  if (upstream.username || upstream.password) throw new UsageError("--upstream must not carry credentials; use --upstream-token or HF_TOKEN");
  const port = Number(flags.port);
  if (!/^\d{1,5}$/.test(flags.port) || port > 65535) throw new UsageError(`--port: not a port number: ${flags.port}`);
  const maxFileBytes = flags.maxFileSize === undefined ? undefined : Number(flags.maxFileSize);
  if (maxFileBytes !== undefined && !(Number.isSafeInteger(maxFileBytes) && maxFileBytes > 0)) throw new UsageError(`--max-file-size: not a byte count: ${flags.maxFileSize}`);
  const [{ startGateway }, { defaultPolicy, loadPolicy, PolicyError }, { clamavSettings }] = await Promise.all([
    import("../gateway/server.js"),
    import("../policy/policy.js"),
    import("../clamav/settings.js"),
  ]);
  let policy;
  try {
    policy = flags.policy === undefined ? defaultPolicy() : await loadPolicy(flags.policy);
  } catch (err) {
    if (err instanceof PolicyError) throw new UsageError(err.message);
    throw err;
  }
  const clamav = clamavSettings(policy.clamav, flags.clamav);
  const token = flags.upstreamToken ?? (process.env["HF_TOKEN"] || undefined);
  const log = (line: string): void => void process.stderr.write(`modelgate serve: ${line}\n`);
  let gateway;
  try {
    gateway = await startGateway({
      upstream,
      host: flags.host,
      port,
      storeDir: flags.store,
      policy,
      ...(token !== undefined && { token }),
      ...(flags.forwardAuthorization === true && { forwardAuthorization: true }),
      ...(clamav !== undefined && { clamav }),
      ...(flags.sandbox === true && { sandbox: {} }),
      ...(maxFileBytes !== undefined && { maxFileBytes }),
      state: flags.state,
      log,
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE" || code === "EACCES" || code === "EADDRNOTAVAIL") throw new UsageError(`cannot listen on ${flags.host}:${flags.port}: ${code}`);
    throw err;
  }
  log(`listening on ${gateway.url} (upstream ${upstream.origin}, store ${flags.store}, state ${gateway.state})`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    // Removed on the first signal: a second one ends the process at once, as usual.
    const stop = (s: NodeJS.Signals): void => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve(s);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  log(`${signal}: finishing requests and downloads in flight`);
  await gateway.close();
  log("stopped");
  return ExitCode.Pass;
}
