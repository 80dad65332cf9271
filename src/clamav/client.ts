/**
 * A small clamd client: PING and INSTREAM over a unix socket or TCP. Content is sent in chunks as it
 * is read (never held whole), under a byte limit and an inactivity timeout. Anything but a clear
 * answer from clamd (refused connection, timeout, a reply we do not understand) is a ClamdError:
 * the caller fails the scan rather than pass a file clamd never judged.
 *
 * Protocol (clamd(8)): "zINSTREAM\0", then chunks as <uint32 big-endian length><bytes>, then a zero
 * length; clamd answers "stream: OK", "stream: <signature> FOUND" or "<message> ERROR", NUL-terminated.
 */
import { EnvironmentError } from "../errors.js";
import { connect, type Socket } from "node:net";

/** Where clamd listens: a unix socket path, or a TCP host and port. */
export type ClamdAddress = { path: string } | { host: string; port: number };

/** clamd's judgement of one stream. */
export type ClamdVerdict =
  | { kind: "clean" }
  | { kind: "found"; signature: string }
  /** clamd refused the stream as larger than its StreamMaxLength; `why` says how it showed it. */
  | { kind: "too-large"; why: string };

/** clamd could not be reached, did not answer in time, or answered something that is not a verdict. */
export class ClamdError extends EnvironmentError {}

/**
 * clamd closed the connection while content was still being sent, and its reply (if any) was lost
 * with the connection: what it does when a stream passes its StreamMaxLength.
 */
class ClamdCutOff extends ClamdError {}

/** Largest reply read from clamd (CWE-400): a verdict line is short. */
const MAX_REPLY_BYTES = 64 * 1024;

/** `/run/clamav/clamd.ctl` (any path with a slash) or `host:port` (`[::1]:3310` for IPv6). */
export function parseClamdAddress(text: string): ClamdAddress | undefined {
  const trimmed = text.trim();
  if (trimmed.includes("/")) return { path: trimmed };
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([\w.-]+)):(\d{1,5})$/.exec(trimmed);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 1 || port > 65535) return undefined;
  return { host: m[1] ?? m[2]!, port };
}

export function describeAddress(address: ClamdAddress): string {
  return "path" in address ? address.path : `${address.host.includes(":") ? `[${address.host}]` : address.host}:${address.port}`;
}

export interface ClamdOptions {
  /** clamd silent for this long (connecting, taking chunks or answering) fails the exchange. */
  timeoutMs: number;
}

export class ClamdClient {
  constructor(
    readonly address: ClamdAddress,
    private readonly options: ClamdOptions,
  ) {}

  /** Resolves when clamd answers PONG; a ClamdError otherwise. */
  async ping(): Promise<void> {
    const reply = await this.exchange((socket) => write(socket, Buffer.from("zPING\0")));
    if (reply !== "PONG") throw new ClamdError(`clamd at ${describeAddress(this.address)} answered ${JSON.stringify(reply)} to PING`);
  }

  /** clamd's engine and signature database versions ("ClamAV 1.4.6/27481/…"); also proves it is reachable. */
  async version(): Promise<string> {
    return this.exchange((socket) => write(socket, Buffer.from("zVERSION\0")));
  }

  /** Streams `chunks` to clamd and returns its verdict. The caller bounds how many bytes it yields. */
  async instream(chunks: AsyncIterable<Uint8Array>): Promise<ClamdVerdict> {
    const reply = await this.exchange(async (socket) => {
      await write(socket, Buffer.from("zINSTREAM\0"));
      for await (const chunk of chunks) {
        if (chunk.length === 0) continue;
        const length = Buffer.alloc(4);
        length.writeUInt32BE(chunk.length);
        await write(socket, length);
        await write(socket, chunk);
      }
      await write(socket, Buffer.alloc(4));
    }).catch((err: unknown) => {
      // The file stays unchecked (a finding); a clamd that is really gone fails the next file's connection.
      if (err instanceof ClamdCutOff) return undefined;
      throw err;
    });
    if (reply === undefined) return { kind: "too-large", why: "clamd closed the connection before the whole file was sent" };
    return verdictOf(reply, describeAddress(this.address));
  }

  /**
   * Opens a connection, lets `send` write the request, and returns clamd's NUL-terminated reply.
   * clamd may answer (size limit) and close before the request is fully written: the reply wins
   * over the write error it causes.
   */
  private exchange(send: (socket: Socket) => Promise<void>): Promise<string> {
    const where = describeAddress(this.address);
    return new Promise<string>((resolve, reject) => {
      const socket = connect("path" in this.address ? { path: this.address.path } : { host: this.address.host, port: this.address.port });
      const received: Buffer[] = [];
      let receivedBytes = 0;
      let settled = false;
      let sendError: Error | undefined;
      const finish = (error: Error | undefined, reply?: string): void => {
        if (settled) return;
        settled = true;
        socket.destroy();
        if (error) reject(error);
        else resolve(reply!);
      };
      const replyText = (): string | undefined => {
        const all = Buffer.concat(received);
        const end = all.indexOf(0);
        return end >= 0 ? all.subarray(0, end).toString("utf8").trim() : undefined;
      };
      socket.setTimeout(this.options.timeoutMs, () =>
        finish(new ClamdError(`clamd at ${where} did not answer within ${this.options.timeoutMs / 1000} s`)),
      );
      socket.on("data", (data: Buffer) => {
        received.push(data);
        receivedBytes += data.length;
        const reply = replyText();
        if (reply !== undefined) finish(undefined, reply);
        else if (receivedBytes > MAX_REPLY_BYTES) finish(new ClamdError(`clamd at ${where} sent an over-long reply`));
      });
      socket.on("error", (err: NodeJS.ErrnoException) => {
        // A write refused because clamd already answered and closed: its reply (read on "end") decides.
        if (err.code === "EPIPE" || err.code === "ECONNRESET") {
          sendError = err;
          return;
        }
        finish(new ClamdError(`cannot reach clamd at ${where}: ${err.message}`));
      });
      const closed = (): void => {
        const reply = replyText() ?? (receivedBytes > 0 ? Buffer.concat(received).toString("utf8").trim() : undefined);
        if (reply !== undefined) finish(undefined, reply);
        else if (sendError) finish(new ClamdCutOff(`clamd at ${where} closed the connection while content was being sent`));
        else finish(new ClamdError(`clamd at ${where} closed the connection without an answer`));
      };
      socket.on("end", closed);
      socket.on("close", closed);
      socket.once("connect", () => {
        send(socket).catch((err: Error) => {
          // A refused write waits for clamd's reply or the close that follows; a failure to read the content ends it now.
          if (err instanceof SocketWriteError) sendError = err;
          else finish(err);
        });
      });
    });
  }
}

/** Reads clamd's reply to INSTREAM. */
function verdictOf(reply: string, where: string): ClamdVerdict {
  const found = /^stream: (.+) FOUND$/.exec(reply);
  if (found) return { kind: "found", signature: found[1]! };
  if (reply === "stream: OK") return { kind: "clean" };
  if (/size limit exceeded/i.test(reply)) return { kind: "too-large", why: `clamd answered ${JSON.stringify(reply)}` };
  throw new ClamdError(`clamd at ${where} answered ${JSON.stringify(reply.slice(0, 200))}`);
}

/** The socket refused data (clamd closed it, usually right after answering). */
class SocketWriteError extends Error {}

/** Writes and waits until the socket has taken the data (backpressure), so a large file is never buffered whole. */
function write(socket: Socket, data: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.destroyed || socket.writableEnded) {
      reject(new SocketWriteError("the connection to clamd is closed"));
      return;
    }
    socket.write(data, (err) => (err ? reject(new SocketWriteError(err.message)) : resolve()));
  });
}
