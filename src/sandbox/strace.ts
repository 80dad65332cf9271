/**
 * strace's record (`strace -f -ttt -qq`), read line by line and judged: what the load did that Python's
 * audit hooks cannot see or a payload could hide from them — programs started, connections, files
 * changed, secrets read. Lines before the harness's start marker are the harness starting, not the load.
 */
import { atLeast, type SandboxEvent } from "../types.js";
import { JAIL } from "./jail.js";
import { judgeChange, judgeRead } from "./places.js";

export interface TimedEvent {
  time: number;
  event: SandboxEvent;
}

/** "[pid 1234] 1700000000.123456 openat(AT_FDCWD, "/x", O_RDONLY) = 3"; the first process has no pid. */
const LINE = /^(?:\[pid\s+(\d+)\]\s+)?(\d{9,}\.\d+)\s+(.*)$/;
const CALL = /^(\w+)\((.*)\)\s+=\s+(.*)$/s;
const STRING = /"((?:[^"\\]|\\.)*)"(\.\.\.)?/g;
const NSCD_SOCKET = "/var/run/nscd/socket";
const WRITE_FLAGS = /O_WRONLY|O_RDWR|O_CREAT|O_TRUNC|O_APPEND/;

export function isStraceLine(line: string): boolean {
  return LINE.test(line);
}

export class StraceReader {
  private started = false;
  /** Calls strace split across lines ("<unfinished ...>" … "<... name resumed>"), by process. */
  private readonly pending = new Map<string, string>();

  /** Judges one line; returns the event when it is one worth reporting. */
  read(line: string): TimedEvent | undefined {
    const m = LINE.exec(line);
    if (m === null) return undefined;
    const [, pid = "first", time, rest] = m as unknown as [string, string | undefined, string, string];
    let text = rest;
    if (text.endsWith("<unfinished ...>")) {
      this.pending.set(pid, text.slice(0, -"<unfinished ...>".length).trimEnd());
      return undefined;
    }
    const resumed = /^<\.\.\. \w+ resumed>\s?(.*)$/s.exec(text);
    if (resumed !== null) {
      const head = this.pending.get(pid);
      this.pending.delete(pid);
      if (head === undefined) return undefined;
      text = head + resumed[1];
    }
    const call = CALL.exec(text);
    if (call === null) return undefined;
    const [, name, args, result] = call as unknown as [string, string, string, string];
    if (!this.started) {
      if (args.includes(`"${JAIL.loadStartMarker}"`)) this.started = true;
      return undefined;
    }
    const event = judgeCall(name, args, result, `${name}(${args.slice(0, 300)}) = ${result}`.slice(0, 400));
    return event === undefined ? undefined : { time: Number(time), event };
  }

  /** Whether the harness reached the load (strace saw its marker). */
  get sawLoadStart(): boolean {
    return this.started;
  }
}

function judgeCall(name: string, args: string, result: string, evidence: string): SandboxEvent | undefined {
  const strings = [...args.matchAll(STRING)].map((s) => unescape(s[1] ?? ""));
  const failed = /^-1 /.test(result) ? ` (failed: ${result.replace(/^-1 /, "")})` : "";
  switch (name) {
    case "execve":
    case "execveat": {
      const argv = strings.slice(1).join(" ");
      return { source: "strace", severity: "critical", kind: "process", message: `executes ${strings[0] ?? "a program"}${argv ? ` [${argv}]` : ""}${failed}`, evidence };
    }
    case "connect":
    case "sendto": {
      // sendto on a connected socket carries no address: only addressed datagrams reach the network.
      if (name === "sendto" && !args.includes("sa_family")) return undefined;
      // glibc asks the name-service cache daemon whenever a library looks up a user (importing PyTorch does).
      if (args.includes(`sun_path="${NSCD_SOCKET}"`)) return undefined;
      const address = /\{sa_family=([A-Z_0-9]+)(.*)\}/.exec(args);
      const to = address === null ? "an address" : `${address[1]}${address[2] ?? ""}`;
      return { source: "strace", severity: "critical", kind: "network", message: `${name === "connect" ? "connects to" : "sends to"} ${to}${failed}`, evidence };
    }
    case "open":
    case "openat":
    case "openat2":
    case "creat": {
      const path = strings[0];
      if (path === undefined || path === JAIL.loadStartMarker) return undefined;
      if (name === "creat" || WRITE_FLAGS.test(args)) return withFailure(judgeChange(path, "opens for writing", "strace", evidence), failed);
      return secretRead(path, evidence);
    }
    case "access":
    case "faccessat":
    case "faccessat2":
      return strings[0] === undefined ? undefined : secretRead(strings[0], evidence);
    default: {
      const verb = CHANGE_VERBS[name];
      if (verb === undefined || strings[0] === undefined) return undefined;
      return withFailure(judgeChange(strings[strings.length - 1] ?? strings[0], verb, "strace", evidence), failed);
    }
  }
}

/** For calls that change the path they name last (rename's target, link's new name, unlink's only path). */
const CHANGE_VERBS: Record<string, string> = {
  unlink: "deletes",
  unlinkat: "deletes",
  rmdir: "removes the folder",
  rename: "renames onto",
  renameat: "renames onto",
  renameat2: "renames onto",
  mkdir: "creates the folder",
  mkdirat: "creates the folder",
  symlink: "creates the symlink",
  symlinkat: "creates the symlink",
  link: "creates the hard link",
  linkat: "creates the hard link",
  chmod: "changes the mode of",
  fchmodat: "changes the mode of",
  truncate: "truncates",
};

/**
 * strace cannot tell a library's own reads (PyTorch reads /etc files as it is imported) from the
 * payload's; only reads of secrets are worth reporting from it. The audit hook reports the rest.
 */
function secretRead(path: string, evidence: string): SandboxEvent | undefined {
  const event = judgeRead(path, "strace", evidence);
  return event !== undefined && atLeast(event.severity, "high") ? event : undefined;
}

function withFailure(event: SandboxEvent | undefined, failed: string): SandboxEvent | undefined {
  return event === undefined ? undefined : { ...event, message: event.message + failed };
}

/** strace's C escapes, the common ones. */
function unescape(s: string): string {
  return s.replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)/g, (_, e: string) => {
    if (e[0] === "x") return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]+$/.test(e)) return String.fromCharCode(parseInt(e, 8));
    return ({ n: "\n", t: "\t", r: "\r", '"': '"', "\\": "\\" } as Record<string, string>)[e] ?? e;
  });
}
