/** `modelgate serve` as its own process, as operators run it: started, waited for, stopped or killed. */
import { spawn, type ChildProcess } from "node:child_process";
import { MAIN } from "./cli.js";


export interface ServeProcess {
  url: string;
  child: ChildProcess;
  /** What it wrote to stderr so far. */
  stderr(): string;
  /** SIGTERM, and waits for the exit. */
  stop(): Promise<number | null>;
}

export function startServe(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<ServeProcess> {
  const child = spawn(process.execPath, [MAIN, "serve", "--port", "0", ...args], { env, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stderr!.on("data", (c: Buffer) => {
      stderr += c.toString();
      const m = /listening on (http:\/\/\S+)/.exec(stderr);
      if (m) {
        resolve({
          url: m[1]!,
          child,
          stderr: () => stderr,
          stop: async () => {
            if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
            return exited;
          },
        });
      }
    });
    void exited.then((code) => reject(new Error(`modelgate serve exited with ${code}: ${stderr}`)));
  });
}
