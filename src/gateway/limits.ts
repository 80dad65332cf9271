/** Bounds of the gateway on hostile clients and upstreams, each with the weakness it prevents. */
export const GATEWAY_LIMITS = Object.freeze({
  /** Longest request target accepted (CWE-400: huge URLs held in memory and logs). */
  maxUrlLength: 4096,
  /** Largest request body forwarded to the upstream, only for the metadata POSTs hub clients send (CWE-400). */
  maxRequestBody: 64 * 1024,
  /** Time to receive a whole request (CWE-400: slowloris). */
  requestTimeoutMs: 30_000,
  /** Time to receive the request headers (CWE-400: slowloris). */
  headersTimeoutMs: 15_000,
  /** Time for an upstream metadata answer (CWE-400: a stalled upstream holding clients forever). */
  upstreamMetadataTimeoutMs: 30_000,
  /** Longest pause between two chunks of an upstream download before it is abandoned (CWE-400). */
  upstreamStallTimeoutMs: 60_000,
  /** Redirects followed for one upstream request (CWE-835: redirect loops). */
  maxRedirects: 10,
  /** Largest file fetched into the store (CWE-400: disk exhaustion); `--max-file-size` changes it. */
  maxFileBytes: 100 * 1024 * 1024 * 1024,
  /** Largest paths-info answer read for one file's security status (CWE-400). */
  maxPathsInfoBody: 1024 * 1024,
  /** Largest upstream error body relayed to a client (CWE-400). */
  maxErrorBody: 16 * 1024,
  /** Decisions listed on the page, and quarantined files (memory stays bounded however long it runs). */
  recentDecisions: 200,
  quarantineShown: 500,
  /** Distinct (content, name) decisions kept in memory; older ones are rescanned when asked for again. */
  decisionCache: 100_000,
});
