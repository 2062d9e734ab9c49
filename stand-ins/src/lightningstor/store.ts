// Volume state of the LightningStor stand-in: metadata in one JSON file,
// each volume's bytes in a sparse file, all under dataDir. Survives restarts
// of the stand-in so the dev cluster keeps its volumes.
import { randomUUID } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { open, rename, rm, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { status } from "@grpc/grpc-js";

export interface StoredVolume {
  id: string;
  name: string;
  sizeBytes: bigint;
  orgId: string;
  projectId: string;
  parameters: Record<string, string>;
  createdAt: Date;
  attachedNodeIds: string[];
}

export interface Tenant {
  orgId: string;
  projectId: string;
}

export class StoreError extends Error {
  constructor(readonly code: status, message: string) {
    super(message);
  }
}

interface PersistedVolume extends Omit<StoredVolume, "sizeBytes" | "createdAt"> {
  sizeBytes: string;
  createdAt: string;
}

const ID_RE = /^vol-[0-9a-f]{32}$/;

export class VolumeStore {
  private readonly volumes = new Map<string, StoredVolume>();
  private pending: Promise<void> | undefined;
  private dirty = false;
  private readonly metaFile: string;
  readonly volumesDir: string;

  constructor(readonly dataDir: string) {
    this.volumesDir = join(dataDir, "volumes");
    this.metaFile = join(dataDir, "volumes.json");
    mkdirSync(this.volumesDir, { recursive: true });
    this.load();
  }

  filePath(id: string): string {
    return join(this.volumesDir, `${id}.img`);
  }

  all(): StoredVolume[] {
    return [...this.volumes.values()].map((v) => ({ ...v, attachedNodeIds: [...v.attachedNodeIds] }));
  }

  get(t: Tenant, id: string): StoredVolume {
    const v = this.volumes.get(id);
    // Another tenant's volume does not exist for the caller.
    if (!v || v.orgId !== t.orgId || v.projectId !== t.projectId) {
      throw new StoreError(status.NOT_FOUND, `volume ${JSON.stringify(id)} not found`);
    }
    return v;
  }

  list(t: Tenant, opts: { name?: string; pageSize: number; pageToken: string }): { volumes: StoredVolume[]; next: string } {
    let after = "";
    if (opts.pageToken) after = decodeToken(opts.pageToken);
    const mine = [...this.volumes.values()]
      .filter((v) => v.orgId === t.orgId && v.projectId === t.projectId && (!opts.name || v.name === opts.name))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .filter((v) => v.id > after);
    const size = opts.pageSize > 0 ? opts.pageSize : 100;
    const page = mine.slice(0, size);
    const last = page[page.length - 1];
    const next = mine.length > size && last ? encodeToken(last.id) : "";
    return { volumes: page, next };
  }

  async create(t: Tenant, name: string, sizeBytes: bigint, parameters: Record<string, string>): Promise<StoredVolume> {
    for (const v of this.volumes.values()) {
      if (v.orgId === t.orgId && v.projectId === t.projectId && v.name === name) {
        throw new StoreError(status.ALREADY_EXISTS, `volume name ${JSON.stringify(name)} already used by ${v.id}`);
      }
    }
    const v: StoredVolume = {
      id: `vol-${randomUUID().replaceAll("-", "")}`,
      name,
      sizeBytes,
      orgId: t.orgId,
      projectId: t.projectId,
      parameters: { ...parameters },
      createdAt: new Date(),
      attachedNodeIds: [],
    };
    // Sparse: no blocks are allocated until the node writes them.
    const fh = await open(this.filePath(v.id), "wx", 0o600);
    try {
      await fh.truncate(Number(sizeBytes));
    } finally {
      await fh.close();
    }
    this.volumes.set(v.id, v);
    this.save();
    return v;
  }

  async delete(t: Tenant, id: string): Promise<void> {
    const v = this.get(t, id);
    if (v.attachedNodeIds.length > 0) {
      throw new StoreError(status.FAILED_PRECONDITION, `volume ${id} is attached to ${v.attachedNodeIds.join(",")}`);
    }
    this.volumes.delete(id);
    this.save();
    await rm(this.filePath(id), { force: true });
  }

  async expand(t: Tenant, id: string, sizeBytes: bigint): Promise<StoredVolume> {
    const v = this.get(t, id);
    if (sizeBytes < v.sizeBytes) {
      throw new StoreError(status.OUT_OF_RANGE, `size_bytes ${sizeBytes} is smaller than the current ${v.sizeBytes}`);
    }
    if (sizeBytes > v.sizeBytes) {
      await truncate(this.filePath(id), Number(sizeBytes));
      v.sizeBytes = sizeBytes;
      this.save();
    }
    return v;
  }

  attach(t: Tenant, id: string, nodeId: string): StoredVolume {
    const v = this.get(t, id);
    const other = v.attachedNodeIds.find((n) => n !== nodeId);
    if (other) throw new StoreError(status.FAILED_PRECONDITION, `volume ${id} is attached to node ${other}`);
    if (!v.attachedNodeIds.includes(nodeId)) {
      v.attachedNodeIds.push(nodeId);
      this.save();
    }
    return v;
  }

  detach(t: Tenant, id: string, nodeId: string): void {
    const v = this.get(t, id);
    const before = v.attachedNodeIds.length;
    v.attachedNodeIds = v.attachedNodeIds.filter((n) => n !== nodeId);
    if (v.attachedNodeIds.length !== before) this.save();
  }

  private load(): void {
    let raw: string;
    try {
      raw = readFileSync(this.metaFile, "utf8");
    } catch {
      return;
    }
    for (const p of JSON.parse(raw) as PersistedVolume[]) {
      this.volumes.set(p.id, { ...p, sizeBytes: BigInt(p.sizeBytes), createdAt: new Date(p.createdAt) });
    }
  }

  private snapshot(): string {
    const out: PersistedVolume[] = [...this.volumes.values()].map((v) => ({
      ...v,
      sizeBytes: v.sizeBytes.toString(),
      createdAt: v.createdAt.toISOString(),
    }));
    return JSON.stringify(out, null, 2);
  }

  // Metadata is written behind the response, coalescing bursts; flush()
  // (called on stop) makes it durable. The sparse files themselves are
  // created/grown/removed synchronously with the call.
  private save(): void {
    this.dirty = true;
    this.pending ??= new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
      while (this.dirty) {
        this.dirty = false;
        const tmp = `${this.metaFile}.tmp`;
        await writeFile(tmp, this.snapshot());
        await rename(tmp, this.metaFile);
      }
      this.pending = undefined;
    });
  }

  async flush(): Promise<void> {
    while (this.pending) await this.pending;
  }
}

function encodeToken(afterId: string): string {
  return Buffer.from(JSON.stringify({ after: afterId })).toString("base64url");
}

function decodeToken(token: string): string {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
    if (parsed && typeof parsed === "object" && "after" in parsed && typeof parsed.after === "string" && ID_RE.test(parsed.after)) {
      return parsed.after;
    }
  } catch {
    // fall through
  }
  throw new StoreError(status.INVALID_ARGUMENT, "page_token is not a token this server issued");
}
