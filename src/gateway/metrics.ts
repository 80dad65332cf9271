/** Counters of the gateway in the Prometheus text exposition format (version 0.0.4). */

export type RequestKind = "file" | "api" | "page" | "healthz" | "metrics" | "refused";

/** Scan-time histogram buckets, seconds: from a safetensors header to a multi-gigabyte pickle. */
const SCAN_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export class GatewayMetrics {
  private readonly requests = new Map<string, number>();
  private readonly scanCounts = SCAN_BUCKETS.map(() => 0);
  private scanSum = 0;
  private scanCount = 0;
  blocks = 0;
  passes = 0;
  bytesServed = 0;
  bytesFetched = 0;
  upstreamFetches = 0;

  request(kind: RequestKind, status: number): void {
    const key = `kind="${kind}",status="${status}"`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
  }

  scanned(seconds: number): void {
    this.scanSum += seconds;
    this.scanCount++;
    SCAN_BUCKETS.forEach((b, i) => {
      if (seconds <= b) this.scanCounts[i]!++;
    });
  }

  render(): string {
    const out: string[] = [];
    const metric = (name: string, type: string, help: string, lines: string[]): void => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...lines);
    };
    metric("modelgate_gateway_requests_total", "counter", "HTTP requests answered, by kind and status.", [
      ...[...this.requests].map(([labels, n]) => `modelgate_gateway_requests_total{${labels}} ${n}`),
    ]);
    metric("modelgate_gateway_decisions_total", "counter", "Files scanned and decided, by verdict.", [
      `modelgate_gateway_decisions_total{verdict="pass"} ${this.passes}`,
      `modelgate_gateway_decisions_total{verdict="block"} ${this.blocks}`,
    ]);
    metric("modelgate_gateway_bytes_served_total", "counter", "File bytes sent to clients.", [`modelgate_gateway_bytes_served_total ${this.bytesServed}`]);
    metric("modelgate_gateway_bytes_fetched_total", "counter", "File bytes fetched from the upstream into the store.", [
      `modelgate_gateway_bytes_fetched_total ${this.bytesFetched}`,
    ]);
    metric("modelgate_gateway_upstream_fetches_total", "counter", "File downloads from the upstream.", [
      `modelgate_gateway_upstream_fetches_total ${this.upstreamFetches}`,
    ]);
    metric("modelgate_gateway_scan_seconds", "histogram", "Time to scan a fetched file.", [
      ...SCAN_BUCKETS.map((b, i) => `modelgate_gateway_scan_seconds_bucket{le="${b}"} ${this.scanCounts[i]}`),
      `modelgate_gateway_scan_seconds_bucket{le="+Inf"} ${this.scanCount}`,
      `modelgate_gateway_scan_seconds_sum ${this.scanSum}`,
      `modelgate_gateway_scan_seconds_count ${this.scanCount}`,
    ]);
    return out.join("\n") + "\n";
  }
}
