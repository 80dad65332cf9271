/** The body of a scanning thread (src/scanThreads.ts): scans each file it is sent and answers with the result. */
import { parentPort, workerData } from "node:worker_threads";
import { scanFileFindings } from "./engine.js";
import { remoteHdf5Reader, useHdf5Reader } from "./formats/hdf5Client.js";
import { remoteStreamDecoder, useStreamDecoder } from "./formats/streamDecoders.js";
import type { ScanAnswer, ScanRequest, ScanThreadData } from "./scanThreads.js";
import { failedScan } from "./types.js";
import { errorText } from "./errors.js";

if (!parentPort) throw new Error("scanWorker.js runs as a worker thread of src/scanThreads.ts");
const port = parentPort;
const { hdf5, streams } = workerData as ScanThreadData;
useHdf5Reader(remoteHdf5Reader(hdf5));
useStreamDecoder(remoteStreamDecoder(streams));
port.on("message", (request: ScanRequest) => {
  void scanFileFindings(request.path, request.display, request.options)
    .catch((err: unknown) => failedScan(request.display, `the scan failed: ${errorText(err)}`))
    .then((result) => port.postMessage({ id: request.id, result } satisfies ScanAnswer));
});
