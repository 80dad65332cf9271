/**
 * The harness's audit events (data/sandbox/harness.py) judged: each becomes a SandboxEvent with a
 * severity, or nothing when it is the loader's ordinary work.
 */
import type { SandboxEvent, Severity } from "../types.js";
import { judgeChange, judgeRead } from "./places.js";

/** One audit event as the harness reports it. */
export interface AuditRecord {
  event: string;
  time: number;
  path?: string;
  write?: boolean;
  /** "module.name" for pickle.find_class, the module for import. */
  target?: string;
  /** For compile: ast.parse (ast.literal_eval) asked, which builds a tree and runs nothing. */
  astParse?: boolean;
  args?: string;
}

type Rule = { severity: Severity; kind: SandboxEvent["kind"]; message: string };

/** Audit events judged by name alone. */
const BY_NAME: Record<string, Rule> = {
  "os.system": { severity: "critical", kind: "process", message: "runs a shell command (os.system)" },
  "os.exec": { severity: "critical", kind: "process", message: "replaces the loader with another program (os.exec*)" },
  "os.posix_spawn": { severity: "critical", kind: "process", message: "starts a program (os.posix_spawn)" },
  "os.spawn": { severity: "critical", kind: "process", message: "starts a program (os.spawn*)" },
  "subprocess.Popen": { severity: "critical", kind: "process", message: "starts a program (subprocess.Popen)" },
  "pty.spawn": { severity: "critical", kind: "process", message: "starts a program on a terminal (pty.spawn)" },
  "os.fork": { severity: "high", kind: "process", message: "forks the loader (os.fork)" },
  "os.forkpty": { severity: "high", kind: "process", message: "forks the loader (os.forkpty)" },
  "os.kill": { severity: "high", kind: "process", message: "sends a signal (os.kill)" },
  "os.killpg": { severity: "high", kind: "process", message: "sends a signal to a process group (os.killpg)" },
  "signal.pthread_kill": { severity: "high", kind: "process", message: "sends a signal to a thread" },
  "socket.connect": { severity: "critical", kind: "network", message: "opens a network connection (socket.connect)" },
  "socket.sendto": { severity: "critical", kind: "network", message: "sends a datagram (socket.sendto)" },
  "socket.sendmsg": { severity: "critical", kind: "network", message: "sends a message on a socket (socket.sendmsg)" },
  "socket.bind": { severity: "critical", kind: "network", message: "listens on a socket (socket.bind)" },
  "socket.getaddrinfo": { severity: "high", kind: "network", message: "resolves a host name (socket.getaddrinfo)" },
  "socket.gethostbyname": { severity: "high", kind: "network", message: "resolves a host name (socket.gethostbyname)" },
  "socket.__new__": { severity: "medium", kind: "network", message: "creates a socket" },
  "urllib.Request": { severity: "critical", kind: "network", message: "makes a URL request (urllib)" },
  "http.client.connect": { severity: "critical", kind: "network", message: "opens an HTTP connection" },
  "http.client.send": { severity: "critical", kind: "network", message: "sends an HTTP request" },
  "ftplib.connect": { severity: "critical", kind: "network", message: "opens an FTP connection" },
  "smtplib.connect": { severity: "critical", kind: "network", message: "opens an SMTP connection" },
  "poplib.connect": { severity: "critical", kind: "network", message: "opens a POP3 connection" },
  "imaplib.open": { severity: "critical", kind: "network", message: "opens an IMAP connection" },
  "nntplib.connect": { severity: "critical", kind: "network", message: "opens an NNTP connection" },
  "telnetlib.Telnet.open": { severity: "critical", kind: "network", message: "opens a telnet connection" },
  "webbrowser.open": { severity: "critical", kind: "process", message: "opens a web browser" },
  "marshal.loads": { severity: "high", kind: "code", message: "deserializes code objects (marshal.loads)" },
  "marshal.load": { severity: "high", kind: "code", message: "deserializes code objects (marshal.load)" },
  "code.__new__": { severity: "high", kind: "code", message: "builds a code object" },
  "sys.addaudithook": { severity: "high", kind: "tamper", message: "installs an audit hook (tampers with the observation)" },
  "sys.settrace": { severity: "high", kind: "tamper", message: "installs a trace function" },
  "sys.setprofile": { severity: "high", kind: "tamper", message: "installs a profile function" },
  "resource.setrlimit": { severity: "medium", kind: "tamper", message: "changes a resource limit" },
  "resource.prlimit": { severity: "medium", kind: "tamper", message: "changes a resource limit" },
  "builtins.input": { severity: "medium", kind: "other", message: "waits for input (input())" },
  "builtins.breakpoint": { severity: "medium", kind: "other", message: "enters the debugger (breakpoint())" },
  "os.listdir": { severity: "low", kind: "file-read", message: "lists a folder (os.listdir)" },
  "os.scandir": { severity: "low", kind: "file-read", message: "lists a folder (os.scandir)" },
  "glob.glob": { severity: "low", kind: "file-read", message: "lists files by pattern (glob.glob)" },
  "os.chdir": { severity: "low", kind: "other", message: "changes the working folder" },
  "os.putenv": { severity: "low", kind: "other", message: "changes the environment" },
  "os.unsetenv": { severity: "low", kind: "other", message: "changes the environment" },
};

/** Audit events that change a path (the path is their first argument). */
const CHANGES: Record<string, string> = {
  "os.remove": "deletes",
  "os.rmdir": "removes the folder",
  "os.rename": "renames",
  "os.mkdir": "creates the folder",
  "os.chmod": "changes the mode of",
  "os.chown": "changes the owner of",
  "os.link": "hard-links",
  "os.symlink": "symlinks",
  "os.truncate": "truncates",
  "os.utime": "changes the times of",
  "shutil.rmtree": "deletes the tree",
  "shutil.move": "moves",
  "shutil.copyfile": "copies",
  "shutil.copytree": "copies the tree",
  "tempfile.mkdtemp": "creates a temporary folder in",
  "tempfile.mkstemp": "creates a temporary file",
};

/** Modules and callables a model has no reason to reach; importing them is worth a note, calling them is judged on its own. */
const SUSPICIOUS_MODULE =
  /^(os|posix|nt|subprocess|commands|socket|ctypes|pty|runpy|importlib|shutil|webbrowser|code|codeop|marshal|sys|pip|urllib|http|ftplib|smtplib|telnetlib|asyncio|multiprocessing|pickle|_pickle|dill|cloudpickle|joblib\.externals|pdb|bdb|profile|cProfile|timeit|tempfile|glob|signal|threading|_thread|_posixsubprocess|builtins|__builtin__)(\.|$)/;
const HARMLESS_BUILTINS = /^(builtins|__builtin__)\.(set|frozenset|list|dict|tuple|bytearray|bytes|complex|int|float|str|bool|slice|range|object|type|reversed|enumerate|zip|map|filter|len|max|min|sum|abs|round|print|repr|hash|sorted|iter|next|NotImplemented|Ellipsis|super|property|staticmethod|classmethod)$/;

/**
 * The judgement of one audit record, or undefined for the loader's ordinary work. (The harness has
 * already left out what importing a library does by itself: see IMPORT_MECHANICS there.)
 */
export function judgeAudit(record: AuditRecord): SandboxEvent | undefined {
  const evidence = `${record.event}${record.target !== undefined ? ` ${record.target}` : ""}${record.path !== undefined ? ` ${JSON.stringify(record.path)}` : ""}${record.args !== undefined ? ` ${record.args}` : ""}`.slice(0, 400);
  const event = (rule: Rule, detail = ""): SandboxEvent => ({ source: "audit", severity: rule.severity, kind: rule.kind, message: rule.message + detail, evidence });

  const named = BY_NAME[record.event];
  if (named !== undefined) return event(named, record.args !== undefined ? `: ${record.args.slice(0, 200)}` : "");
  const verb = CHANGES[record.event];
  if (verb !== undefined) return judgeChange(firstPath(record.args) ?? "(unknown path)", verb, "audit", evidence);
  switch (record.event) {
    case "open":
      if (record.path === undefined) return undefined;
      return record.write === true ? judgeChange(record.path, "opens for writing", "audit", evidence) : judgeRead(record.path, "audit", evidence);
    case "exec":
      return event({ severity: "high", kind: "code", message: "executes a code object or a string of code (exec/eval)" });
    case "compile":
      // compile alone makes a code object and runs nothing; running it raises exec.
      if (record.astParse === true) return undefined;
      return event({ severity: "medium", kind: "code", message: `compiles source code: ${record.args ?? ""}`.slice(0, 300) });
    case "pickle.find_class": {
      const target = record.target ?? "";
      const suspicious = SUSPICIOUS_MODULE.test(target) && !HARMLESS_BUILTINS.test(target);
      return event({ severity: suspicious ? "medium" : "info", kind: "import", message: `the pickle imports ${target}` });
    }
    case "import": {
      const target = record.target ?? "";
      return event({ severity: SUSPICIOUS_MODULE.test(target) ? "medium" : "info", kind: "import", message: `imports the module ${target}` });
    }
  }
  if (record.event.startsWith("ctypes.")) return event({ severity: "high", kind: "native", message: `uses ctypes (${record.event}): native code outside Python's view` });
  if (record.event.startsWith("socket.")) return event({ severity: "high", kind: "network", message: `uses a socket (${record.event})` });
  if (record.event.startsWith("os.") || record.event.startsWith("shutil.")) return event({ severity: "low", kind: "other", message: `calls ${record.event}` });
  return event({ severity: "low", kind: "other", message: `raises the audit event ${record.event}` });
}

/** The first quoted string of a Python repr of the event's arguments: its path. */
function firstPath(args: string | undefined): string | undefined {
  const match = args === undefined ? null : /['"]((?:[^'"\\]|\\.)*)['"]/.exec(args);
  return match?.[1];
}
