/**
 * Calls answered by another thread over a MessagePort. A scanning thread (src/scanThreads.ts)
 * reaches the main thread's one HDF5 reader and its xz and LZMA decoders this way, instead of
 * loading a copy of each (tens of MB apiece) for itself.
 */
import { MessageChannel, type MessagePort, type TransferListItem } from "node:worker_threads";

interface Call<Request> {
  id: number;
  request: Request;
}
interface Answer<Reply> {
  id: number;
  reply: Reply;
}

/** What a message moves rather than copies (buffers handed over whole). */
export type Moved<T> = (message: T) => TransferListItem[];

/**
 * A port whose calls `serve` answers on this thread; a call `serve` rejects is answered with
 * `failed(error)`. The port does not keep the process alive; the caller hands it to the thread
 * that calls through it (callThrough).
 */
export function servePort<Request, Reply>(serve: (request: Request) => Promise<Reply>, failed: (error: unknown) => Reply, moved: Moved<Reply>): MessagePort {
  const { port1, port2 } = new MessageChannel();
  const answer = async (m: Call<Request>): Promise<void> => {
    const reply = await serve(m.request).catch(failed);
    try {
      port1.postMessage({ id: m.id, reply } satisfies Answer<Reply>, moved(reply));
    } catch (err) {
      port1.postMessage({ id: m.id, reply: failed(err) } satisfies Answer<Reply>);
    }
  };
  port1.on("message", (m: Call<Request>) => void answer(m));
  port1.unref();
  return port2;
}

/**
 * Calls through `port` (a servePort). Calls in flight when the port closes, and later ones, get
 * `gone`: the caller reports its input as not analysed, never as passed.
 */
export function callThrough<Request, Reply>(port: MessagePort, gone: Reply, moved: Moved<Request>): (request: Request) => Promise<Reply> {
  const waiting = new Map<number, (reply: Reply) => void>();
  let next = 0;
  let closed = false;
  port.on("message", (m: Answer<Reply>) => {
    waiting.get(m.id)?.(m.reply);
    waiting.delete(m.id);
    // Only a call in flight keeps the thread alive.
    if (waiting.size === 0) port.unref();
  });
  const fail = (): void => {
    for (const answer of waiting.values()) answer(gone);
    waiting.clear();
    port.unref();
  };
  port.on("close", () => {
    closed = true;
    fail();
  });
  // A reply that cannot be read back names no call: every call in flight fails rather than waits forever.
  port.on("messageerror", fail);
  port.unref();
  return (request) =>
    new Promise((resolve) => {
      if (closed) return resolve(gone);
      const id = next++;
      try {
        port.postMessage({ id, request } satisfies Call<Request>, moved(request));
      } catch {
        return resolve(gone); // not sendable (a buffer that cannot move): never decoded, never passed
      }
      waiting.set(id, resolve);
      port.ref();
    });
}
