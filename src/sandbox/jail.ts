/**
 * The jail: bubblewrap's arguments for one detonation, traced from outside by strace, and a check that
 * the tools exist and bubblewrap can build a sandbox on this machine. If it cannot, detonation refuses
 * (it never falls back to loading outside the jail).
 */
import { spawn } from "node:child_process";
import { constants } from "node:fs";
import { access, lstat, readlink, realpath, stat } from "node:fs/promises";
import { basename, delimiter, dirname, join } from "node:path";
import type { SandboxLoader } from "../types.js";

/** Where things are inside the jail. */
const INSIDE = {
  harness: "/modelgate-sandbox/harness.py",
  modelDir: "/modelgate-sandbox/model",
  home: "/home/sandbox",
  /** The harness touches this path once its loader is imported; strace's record of the load starts there. */
  loadStartMarker: "/modelgate-sandbox/load-start",
  /** The harness's event channel: the descriptor the jail inherits it on. */
  channelFd: 3,
} as const;

export const SANDBOX_DEFAULTS = {
  /** Wall time for one file, the loader's start included; also its CPU-time limit. */
  timeoutSeconds: 60,
  /** Address-space limit of the loader (RLIMIT_AS): PyTorch needs about 1 GiB to start. */
  memoryMb: 2048,
} as const;

export const JAIL = INSIDE;

/** Writable inside the jail (private tmpfs mounts, bwrap's own /dev), and so not the host. */
export const SCRATCH_PREFIXES = ["/tmp/", `${INSIDE.home}/`, "/dev/shm/"] as const;

/** Debian's Python, where python3-torch, python3-sklearn… install the loaders. */
export const DEFAULT_PYTHON = "/usr/bin/python3";

/** The system calls strace records: what escapes Python (processes, network, files changed or read). */
const TRACED_SYSCALLS = [
  "execve", "execveat", "connect", "sendto", "open", "openat", "openat2", "creat", "unlink", "unlinkat", "rmdir", "rename",
  "renameat", "renameat2", "mkdir", "mkdirat", "symlink", "symlinkat", "link", "linkat", "chmod", "fchmodat", "truncate",
  // The harness's start marker is an access() call.
  "access", "faccessat", "faccessat2",
];

export interface JailTools {
  bwrap: string;
  strace: string;
  setpriv: string;
  python: string;
}

export class SandboxUnavailable extends Error {}

/** Finds bwrap, strace and setpriv on PATH and checks `python` is a file; throws SandboxUnavailable with the fix. */
export async function findTools(python = DEFAULT_PYTHON): Promise<JailTools> {
  const bwrap = await onPath("bwrap");
  if (bwrap === undefined) throw new SandboxUnavailable("bubblewrap (bwrap) is not installed (Debian: apt-get install bubblewrap)");
  const strace = await onPath("strace");
  if (strace === undefined) throw new SandboxUnavailable("strace is not installed (Debian: apt-get install strace)");
  const setpriv = await onPath("setpriv");
  if (setpriv === undefined) throw new SandboxUnavailable("setpriv is not installed (Debian: util-linux)");
  const isFile = await stat(python).then((s) => s.isFile(), () => false);
  if (!isFile) throw new SandboxUnavailable(`no Python at ${python} (Debian: apt-get install python3; or give --python PATH)`);
  return { bwrap, strace, setpriv, python };
}

async function onPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env["PATH"] ?? "/usr/bin:/bin").split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, name);
    if (await access(candidate, constants.X_OK).then(() => true, () => false)) return candidate;
  }
  return undefined;
}

export interface JailSpec {
  tools: JailTools;
  harness: string;
  model: string;
  loader: SandboxLoader;
  memoryMb: number;
  cpuSeconds: number;
}

/** The model's name inside the jail: its base name made plain (keras decides by extension), never a path. */
export function insideName(model: string): string {
  const plain = basename(model).replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\.+/, "_").slice(-100);
  return plain === "" ? "model" : plain;
}

/**
 * The whole command line: setpriv makes strace die with modelgate; strace follows every process from
 * outside the jail and writes its record to its standard error, which the harness replaces with
 * /dev/null before the model is read, so no payload can write to it; bwrap dies with strace and takes
 * every process of its PID namespace with it.
 */
export async function jailCommand(spec: JailSpec): Promise<{ command: string; args: string[] }> {
  const { tools } = spec;
  const model = `${INSIDE.modelDir}/${insideName(spec.model)}`;
  const bwrapArgs = [
    "--unshare-all", // no network (a private, empty network namespace), own PID, IPC, UTS, user namespaces
    "--die-with-parent",
    "--new-session",
    "--cap-drop", "ALL",
    ...(await systemBinds(tools.python)),
    "--proc", "/proc",
    "--dev", "/dev",
    "--tmpfs", "/tmp",
    "--tmpfs", "/home",
    "--dir", INSIDE.home,
    "--ro-bind", spec.harness, INSIDE.harness,
    "--ro-bind", spec.model, model,
    "--clearenv",
    "--setenv", "HOME", INSIDE.home,
    "--setenv", "PATH", "/usr/bin:/bin",
    "--setenv", "LANG", "C.UTF-8",
    "--setenv", "TMPDIR", "/tmp",
    "--chdir", "/tmp",
    "--",
    tools.python, "-I", "-B", INSIDE.harness,
    String(INSIDE.channelFd), spec.loader, model, String(spec.memoryMb), String(spec.cpuSeconds),
  ];
  const straceArgs = [
    "-f", "--seccomp-bpf", "-qq", "-ttt", "-s", "256", "-e", `trace=${TRACED_SYSCALLS.join(",")}`, "-e", "signal=none",
    "--", tools.bwrap, ...bwrapArgs,
  ];
  return { command: tools.setpriv, args: ["--pdeathsig", "KILL", "--", tools.strace, ...straceArgs] };
}

/**
 * The system, read-only: /usr, the merged-/usr links (or folders) at the root, the few /etc files the
 * dynamic linker and NumPy's BLAS choice need. Not /etc as a whole, not /root or /home: nothing of the
 * user's. A Python outside /usr (a venv, pyenv) gets its installation folder bound as well.
 */
async function systemBinds(python: string): Promise<string[]> {
  const args = ["--ro-bind", "/usr", "/usr"];
  for (const dir of ["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"]) {
    const info = await lstat(dir).catch(() => undefined);
    if (info?.isSymbolicLink()) args.push("--symlink", await readlink(dir), dir);
    else if (info?.isDirectory()) args.push("--ro-bind", dir, dir);
  }
  for (const file of ["/etc/alternatives", "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime"]) {
    args.push("--ro-bind-try", file, file);
  }
  const real = await realpath(python).catch(() => python);
  if (!real.startsWith("/usr/")) {
    // <prefix>/bin/python3 → <prefix>: its standard library and site-packages live there.
    const prefix = dirname(dirname(real));
    args.push("--ro-bind", prefix, prefix);
  }
  return args;
}

/**
 * Whether bubblewrap can build this jail here (user namespaces, mounts) and the Python starts in it.
 * Asked once per Python per process; the answer is the exact error when it cannot.
 */
const probes = new Map<string, Promise<void>>();

export function probeJail(tools: JailTools): Promise<void> {
  let probe = probes.get(tools.python);
  if (probe === undefined) {
    probe = runProbe(tools);
    probes.set(tools.python, probe);
  }
  return probe;
}

async function runProbe(tools: JailTools): Promise<void> {
  const args = [
    "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL", ...(await systemBinds(tools.python)),
    "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--", tools.python, "-I", "-c", "pass",
  ];
  const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn(tools.bwrap, args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-2000)));
    child.on("error", (err) => resolve({ code: -1, stderr: err.message }));
    child.on("close", (code) => resolve({ code, stderr }));
  });
  if (code !== 0) {
    throw new SandboxUnavailable(`bubblewrap cannot build the sandbox on this machine (exit ${code}): ${stderr.trim() || "no message"}`);
  }
}
