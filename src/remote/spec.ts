/** What a target string names when it is not a local path: a URL, or a Hugging Face repository. */

export type RepoType = "model" | "dataset" | "space";

export interface HubRepo {
  type: RepoType;
  /** "owner/name" (models and datasets may also be a legacy single name). */
  name: string;
}

export type RemoteSpec = { kind: "url"; url: string } | { kind: "hub"; repo: HubRepo; revision: string | undefined };

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$/;

/** Parses `http(s)://…` and `hf://…`; anything else is a local path (undefined). Throws on a malformed one. */
export function parseRemoteSpec(spec: string): RemoteSpec | undefined {
  if (/^https?:\/\//i.test(spec)) {
    try {
      return { kind: "url", url: new URL(spec).href };
    } catch {
      throw new SyntaxError(`not a valid URL: ${spec}`);
    }
  }
  if (spec.startsWith("hf://")) return { kind: "hub", ...parseHubRepo(spec.slice("hf://".length)) };
  return undefined;
}

/**
 * "owner/name[@revision]", "datasets/owner/name[@revision]" or "spaces/owner/name[@revision]", as
 * `--huggingface` and `hf://` take them. The revision (a branch, tag, commit or "refs/pr/1") follows
 * the first "@".
 */
export function parseHubRepo(text: string): { repo: HubRepo; revision: string | undefined } {
  const at = text.indexOf("@");
  const id = at < 0 ? text : text.slice(0, at);
  const revision = at < 0 ? undefined : text.slice(at + 1);
  if (revision === "" || (revision !== undefined && /[\s?#]|\.\./.test(revision))) throw new SyntaxError(`not a valid revision: "${revision}"`);
  const parts = id.split("/");
  const type: RepoType = parts[0] === "datasets" ? "dataset" : parts[0] === "spaces" ? "space" : "model";
  if (type !== "model") parts.shift();
  const single = type !== "space" && parts.length === 1;
  if (!(single || parts.length === 2) || !parts.every((p) => SEGMENT.test(p) && !p.includes(".."))) {
    throw new SyntaxError(`not a Hugging Face repository id: "${id}" (expected owner/name, datasets/owner/name or spaces/owner/name)`);
  }
  return { repo: { type, name: parts.join("/") }, revision };
}

/** The id as people write it: "owner/name", "datasets/owner/name", "spaces/owner/name". */
export function repoLabel(repo: HubRepo): string {
  return repo.type === "model" ? repo.name : `${repo.type}s/${repo.name}`;
}
