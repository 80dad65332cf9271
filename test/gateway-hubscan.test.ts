/**
 * The gateway applies the policy's `sources.hub_scan`: it reads each file's security status from the
 * hub's paths-info (at the commit the hub resolved, with the file request's credentials) and decides
 * on it like `modelgate scan hf://…`. Against the loopback fake hub, with the statuses the hub reports,
 * none at all, and a failed status request.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { Gateway, GatewayOptions } from "../src/gateway/server.js";
import { parsePolicy, type Policy } from "../src/policy/index.js";
import { COMMIT } from "./support/fakeHub.js";
import { fetchAll, gatewayBed } from "./support/gatewayBed.js";

const EXAMPLES = fileURLToPath(new URL("../../examples/", import.meta.url));
/** Benign content: whatever the gateway refuses here, it refuses for the hub's status alone. */
const weights = readFileSync(join(EXAMPLES, "safe_weights.safetensors"));
const GATEWAY_TOKEN = "hf_gateway_secret_token";

const SAFE = { status: "safe", safe: true, avScan: { virusFound: false, virusNames: null }, pickleImportScan: { highestSafetyLevel: "innocuous", imports: [] } };
const UNSAFE = { status: "unsafe", safe: false, pickleImportScan: { highestSafetyLevel: "dangerous", imports: [{ module: "os", name: "system", safety: "dangerous" }] } };
const CAUTION = { status: "caution", safe: false, pickleImportScan: { highestSafetyLevel: "suspicious", imports: [] } };
const QUEUED = { status: "queued" };

const bed = gatewayBed("modelgate-gateway-hubscan-");
const tempDir = (): Promise<string> => bed.tempDir();

afterEach(() => {
  bed.hub.pathsInfoFailure = undefined;
});

function policyOf(hubScan: string): Policy {
  return parsePolicy(`version: 1\nsources:\n  hub_scan: ${hubScan}\n`, `hub-scan-${hubScan}.yml`);
}

const withGateway = (options: Partial<GatewayOptions> & { policy: Policy }, body: (gw: Gateway, storeDir: string) => Promise<void>): Promise<void> =>
  bed.withGateway(options, body);
const get = fetchAll;

/** Adds the weights under `repo/path` with the hub's status (undefined: the hub lists the file with none). */
function publish(repo: string, path: string, status: unknown): void {
  bed.hub.add(repo, path, weights);
  if (status === undefined) bed.hub.securityStatus.delete(`${repo}/${path}`);
  else bed.hub.securityStatus.set(`${repo}/${path}`, status);
}

function pathsInfoRequests(repo: string): { url: string; authorization: string | undefined }[] {
  return bed.hub.hubRequests.filter((r) => r.method === "POST" && r.url.startsWith(`/api/models/${repo}/paths-info/`));
}

describe("gateway: sources.hub_scan", () => {
  it("require_safe serves a file the hub marks safe, asking paths-info at the resolved commit", async () => {
    publish("org/hubscan-safe", "model.safetensors", SAFE);
    await withGateway({ policy: policyOf("require_safe") }, async (gw) => {
      const res = await get(gw, "/org/hubscan-safe/resolve/main/model.safetensors");
      assert.equal(res.status, 200, res.headers.get("x-error-message") ?? "");
      assert.ok(res.bytes.equals(weights));
      assert.deepEqual(
        pathsInfoRequests("org/hubscan-safe").map((r) => r.url),
        [`/api/models/org/hubscan-safe/paths-info/${COMMIT}`],
      );
    });
  });

  for (const [name, status, says] of [
    ["unsafe", UNSAFE, /the hub's security scan says "unsafe", not "safe"/],
    ["caution", CAUTION, /the hub's security scan says "caution", not "safe"/],
    ["queued", QUEUED, /the hub's security scan says "queued", not "safe"/],
    ["missing", undefined, /the hub reported no security scan for it/],
  ] as const) {
    it(`require_safe refuses a file whose hub status is ${name}, with the hub's status in X-Error-Message`, async () => {
      const repo = `org/hubscan-${name}`;
      publish(repo, "model.safetensors", status);
      await withGateway({ policy: policyOf("require_safe") }, async (gw, storeDir) => {
        const res = await get(gw, `/${repo}/resolve/main/model.safetensors`);
        assert.equal(res.status, 403);
        assert.equal(res.headers.get("x-error-code"), "ModelgateBlocked");
        assert.match(res.headers.get("x-error-message") ?? "", says);
        const body = JSON.parse(res.bytes.toString("utf8")) as { rule: string; findings: unknown[] };
        assert.equal(body.rule, "sources.hub_scan");
        assert.deepEqual(body.findings, [], "the content itself is benign");
        const audit = (await readFile(join(storeDir, "audit.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l) as { verdict: string; rule: string; reason: string });
        assert.deepEqual(audit.map((r) => [r.verdict, r.rule]), [["block", "sources.hub_scan"]]);
        assert.match(audit[0]!.reason, says);
      });
    });
  }

  it("require_safe refuses when the status request fails: a failed request is a missing status, never a pass", async () => {
    publish("org/hubscan-failed", "model.safetensors", SAFE);
    bed.hub.pathsInfoFailure = 500;
    const log: string[] = [];
    await withGateway({ policy: policyOf("require_safe"), log: (line) => log.push(line) }, async (gw) => {
      const res = await get(gw, "/org/hubscan-failed/resolve/main/model.safetensors");
      assert.equal(res.status, 403);
      assert.match(res.headers.get("x-error-message") ?? "", /the hub reported no security scan for it/);
      assert.ok(log.some((l) => /hub scan status of org\/hubscan-failed\/model\.safetensors unknown .*HTTP 500/.test(l)), log.join("\n"));
      // Once the hub answers again, the status it reports decides: the refusal was not cached as the file's verdict.
      bed.hub.pathsInfoFailure = undefined;
      const again = await get(gw, "/org/hubscan-failed/resolve/main/model.safetensors");
      assert.equal(again.status, 200, again.headers.get("x-error-message") ?? "");
      assert.ok(again.bytes.equals(weights));
    });
  });

  it("a verdict holds for the hub's status it was decided on: a file passed as safe is refused once the hub marks it unsafe", async () => {
    publish("org/hubscan-changes", "model.safetensors", SAFE);
    await withGateway({ policy: policyOf("require_safe") }, async (gw) => {
      assert.equal((await get(gw, "/org/hubscan-changes/resolve/main/model.safetensors")).status, 200);
      bed.hub.securityStatus.set("org/hubscan-changes/model.safetensors", UNSAFE);
      const res = await get(gw, "/org/hubscan-changes/resolve/main/model.safetensors");
      assert.equal(res.status, 403);
      assert.match(res.headers.get("x-error-message") ?? "", /says "unsafe"/);
    });
  });

  it("a pass cached under a policy without hub_scan is not served when the policy requires the hub's scan", async () => {
    publish("org/hubscan-cached", "model.safetensors", QUEUED);
    const storeDir = join(await tempDir(), "store");
    await withGateway({ policy: policyOf("ignore"), state: "sqlite", storeDir }, async (gw) => {
      assert.equal((await get(gw, "/org/hubscan-cached/resolve/main/model.safetensors")).status, 200);
      assert.equal(pathsInfoRequests("org/hubscan-cached").length, 0, "ignore reads no status");
    });
    await withGateway({ policy: policyOf("require_safe"), state: "sqlite", storeDir }, async (gw) => {
      const res = await get(gw, "/org/hubscan-cached/resolve/main/model.safetensors");
      assert.equal(res.status, 403);
      assert.match(res.headers.get("x-error-message") ?? "", /says "queued"/);
    });
  });

  it("asks for the status with the file request's credentials: the gateway's token, or the client's own with --forward-authorization", async () => {
    publish("org/hubscan-auth", "model.safetensors", SAFE);
    await withGateway({ policy: policyOf("require_safe"), token: GATEWAY_TOKEN }, async (gw) => {
      assert.equal((await get(gw, "/org/hubscan-auth/resolve/main/model.safetensors", { headers: { authorization: "Bearer hf_client" } })).status, 200);
    });
    await withGateway({ policy: policyOf("require_safe"), token: GATEWAY_TOKEN, forwardAuthorization: true }, async (gw) => {
      assert.equal((await get(gw, "/org/hubscan-auth/resolve/main/model.safetensors", { headers: { authorization: "Bearer hf_client" } })).status, 200);
      assert.equal((await get(gw, "/org/hubscan-auth/resolve/main/model.safetensors")).status, 200);
    });
    assert.deepEqual(
      pathsInfoRequests("org/hubscan-auth").map((r) => r.authorization),
      [`Bearer ${GATEWAY_TOKEN}`, "Bearer hf_client", undefined],
    );
  });

  it("warn serves a file the hub does not mark safe and notes the hub's status in the audit log", async () => {
    publish("org/hubscan-warn", "model.safetensors", CAUTION);
    await withGateway({ policy: policyOf("warn") }, async (gw, storeDir) => {
      const res = await get(gw, "/org/hubscan-warn/resolve/main/model.safetensors");
      assert.equal(res.status, 200, res.headers.get("x-error-message") ?? "");
      assert.ok(res.bytes.equals(weights));
      const audit = (await readFile(join(storeDir, "audit.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l) as { verdict: string; notes?: string[] });
      assert.equal(audit.length, 1);
      assert.equal(audit[0]!.verdict, "pass");
      assert.deepEqual(audit[0]!.notes, [`the hub's security scan says "caution", not "safe"`]);
    });
  });
});
