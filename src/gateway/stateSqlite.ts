/**
 * The default state: an SQLite database under the store (`state.sqlite`), so decisions survive a
 * restart and are shared by the processes that share the store on one machine. WAL mode lets readers
 * go on while one process writes; the busy timeout makes concurrent writers wait instead of failing.
 * Leases stay lock files (fileLease.ts), which also work across machines on a shared file system.
 */
import { join } from "node:path";
import type Database from "better-sqlite3";
import { createRequire } from "node:module";
import type { DecisionRecord } from "./decisions.js";
import type { FileLeases } from "./fileLease.js";
import type { GatewayState, VerdictKey } from "./state.js";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS verdicts (
  policy TEXT NOT NULL, sha256 TEXT NOT NULL, name TEXT NOT NULL, record TEXT NOT NULL,
  PRIMARY KEY (policy, sha256, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS blobs (identity TEXT PRIMARY KEY, sha256 TEXT NOT NULL) WITHOUT ROWID;
`;

export class SqliteState implements GatewayState {
  readonly description: string;
  private readonly getVerdict: Database.Statement<[string, string, string], { record: string }>;
  private readonly putVerdict: Database.Statement<[string, string, string, string]>;
  private readonly getBlob: Database.Statement<[string], { sha256: string }>;
  private readonly putBlob: Database.Statement<[string, string]>;

  private constructor(
    private readonly db: Database.Database,
    private readonly leases: FileLeases,
    path: string,
  ) {
    this.description = `sqlite ${path}`;
    this.getVerdict = db.prepare("SELECT record FROM verdicts WHERE policy = ? AND sha256 = ? AND name = ?");
    this.putVerdict = db.prepare("INSERT OR REPLACE INTO verdicts (policy, sha256, name, record) VALUES (?, ?, ?, ?)");
    this.getBlob = db.prepare("SELECT sha256 FROM blobs WHERE identity = ?");
    this.putBlob = db.prepare("INSERT OR REPLACE INTO blobs (identity, sha256) VALUES (?, ?)");
  }

  static open(storeDir: string, leases: FileLeases): SqliteState {
    const path = join(storeDir, "state.sqlite");
    // Required here, not imported at the top: the native module loads only when a gateway opens its state.
    const open = createRequire(import.meta.url)("better-sqlite3") as typeof Database;
    const db = new open(path, { timeout: 10_000 });
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.exec(SCHEMA);
    return new SqliteState(db, leases, path);
  }

  verdict(key: VerdictKey): Promise<DecisionRecord | undefined> {
    const row = this.getVerdict.get(key.policy, key.sha256, key.name);
    return Promise.resolve(row === undefined ? undefined : (JSON.parse(row.record) as DecisionRecord));
  }

  recordVerdict(key: VerdictKey, record: DecisionRecord): Promise<void> {
    this.putVerdict.run(key.policy, key.sha256, key.name, JSON.stringify(record));
    return Promise.resolve();
  }

  blobOf(identity: string): Promise<string | undefined> {
    return Promise.resolve(this.getBlob.get(identity)?.sha256);
  }

  rememberBlob(identity: string, sha256: string): Promise<void> {
    this.putBlob.run(identity, sha256);
    return Promise.resolve();
  }

  exclusive<T>(key: string, work: () => Promise<T>): Promise<T> {
    return this.leases.exclusive(key, work);
  }

  close(): Promise<void> {
    this.db.close();
    return Promise.resolve();
  }
}
