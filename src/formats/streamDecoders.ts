/**
 * The stream decoders built on WebAssembly, raw LZMA (7-Zip) and xz (xz-embedded), one of each per
 * process. Each instance keeps its WebAssembly memory (13–17 MB for 7-Zip, some 9 MB for
 * xz-embedded's dictionary) until it is collected, so a scanning thread (src/scanThreads.ts) sends
 * its streams over a port (src/portCalls.ts) to the main thread's decoders instead of making its own.
 */
import type { MessagePort } from "node:worker_threads";
import { onFirstUse } from "../onFirstUse.js";
import { callThrough, servePort } from "../portCalls.js";
import { decodeLzmaHere } from "./sevenzip.js";
import { errorText } from "../errors.js";

export type StreamFormat = "lzma" | "xz";

/** A whole compressed stream to decode, and the most output bytes wanted. */
export interface DecodeRequest {
  format: StreamFormat;
  input: Uint8Array;
  maxBytes: number;
}

/** What a stream decoded to, up to the bytes wanted. */
export interface DecodedStream {
  chunks: Uint8Array<ArrayBuffer>[];
  /** The stream decoded to its end within the bytes wanted. */
  ok: boolean;
  /** Why not, when not. */
  error: string;
}

/** A decoder of whole streams: this thread's own, or the one behind a port. */
export type StreamDecoder = (request: DecodeRequest) => Promise<DecodedStream>;

/** A CommonJS bundle that instantiates WebAssembly: required on the first xz stream. */
const xzDecompress = onFirstUse<typeof import("xz-decompress")>("xz-decompress");

/** xz with xz-embedded, stopping once `maxBytes` are out. */
async function decodeXzHere(input: Uint8Array, maxBytes: number): Promise<DecodedStream> {
  const { XzReadableStream } = xzDecompress();
  const compressed = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(input); // it feeds its WebAssembly buffer a piece at a time
      controller.close();
    },
  });
  const reader = new XzReadableStream(compressed).getReader();
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { chunks, ok: true, error: "" };
      // Each chunk is a copy of its own (xz-decompress slices it out of its memory).
      const chunk = value as Uint8Array<ArrayBuffer>;
      if (chunk.length > maxBytes - size) {
        chunks.push(chunk.subarray(0, maxBytes - size));
        await reader.cancel();
        return { chunks, ok: false, error: `stopped after ${maxBytes} bytes` };
      }
      chunks.push(chunk);
      size += chunk.length;
    }
  } catch (err) {
    return { chunks, ok: false, error: errorText(err) };
  }
}

const decodeHere: StreamDecoder = ({ format, input, maxBytes }) => (format === "xz" ? decodeXzHere : decodeLzmaHere)(input, maxBytes);

let route: StreamDecoder = decodeHere;

/** Decodes a whole raw LZMA or xz stream with this process's decoder, up to `maxBytes` of output. */
export function decodeStream(format: StreamFormat, input: Uint8Array, maxBytes: number): Promise<DecodedStream> {
  return route({ format, input, maxBytes });
}

/** Sends this thread's streams to `decode` instead of decoders of its own (a scanning thread: remoteStreamDecoder). */
export function useStreamDecoder(decode: StreamDecoder): void {
  route = decode;
}

/** A port over which another thread's streams are decoded by this thread's decoders. */
export function streamDecoderService(): MessagePort {
  const failed = (err: unknown): DecodedStream => ({ chunks: [], ok: false, error: `the decoder failed (${errorText(err)})` });
  return servePort(decodeHere, failed, (output) => [...new Set(output.chunks.map((c) => c.buffer))]);
}

/**
 * Decodes through the decoders behind `port` (a streamDecoderService). Streams in flight when the
 * port closes, and later ones, are not decoded (a failed run): the layer is reported, never passed.
 */
export function remoteStreamDecoder(port: MessagePort): StreamDecoder {
  const gone: DecodedStream = { chunks: [], ok: false, error: "the decoders' thread is gone" };
  const call = callThrough<DecodeRequest & { input: Uint8Array<ArrayBuffer> }, DecodedStream>(port, gone, (r) => [r.input.buffer]);
  // A copy with a buffer of its own to hand over: the input is often a view of a buffer the caller
  // still reads (a whole small file, a member inside it). Not `slice()`, which on a Buffer is a view.
  return ({ format, input, maxBytes }) => call({ format, input: new Uint8Array(input), maxBytes });
}
