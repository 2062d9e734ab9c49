// The kubelet's plugin watcher + CSI registration handler: watch the registry
// directory for <name>-reg.sock, ask the plugin who it is (GetInfo), check it,
// dial its CSI endpoint (GetPluginInfo, NodeGetInfo, NodeGetCapabilities) and
// report the outcome (NotifyRegistrationStatus). A socket that disappears (or
// is re-created by a restarted driver) deregisters (and re-registers) it.
import { credentials, Metadata } from "@grpc/grpc-js";
import { CodedError, errorMessage } from "@plasmacloud/common/errors";
import { unary } from "@plasmacloud/common/grpc";
import type { Logger } from "@plasmacloud/common/log";
import { NodeServiceCapability_RPC_Type as Rpc } from "@plasmacloud/proto/csi";
import { InfoRequest, RegistrationClient, RegistrationStatus, type PluginInfo } from "@plasmacloud/proto/pluginregistration";
import { watch, type FSWatcher } from "node:fs";
import { mkdir, readdir, stat } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { CsiNodeClient } from "./client";

export interface RegisteredDriver {
  name: string;
  endpoint: string;
  nodeId: string;
  client: CsiNodeClient;
  stageUnstage: boolean;
  singleNodeMultiWriter: boolean;
  /** VOLUME_MOUNT_GROUP: the driver applies a pod's fsGroup itself, given in volume_mount_group. */
  volumeMountGroup: boolean;
}

interface Seen {
  ino: number;
  driver?: string;
  /** Failed registrations are retried after this time. */
  retryAt: number;
}

const RESCAN_MS = 1_000;
const RETRY_MS = 3_000;
const SUPPORTED_VERSIONS = ["1.0.0"];

export class PluginRegistry {
  private readonly drivers = new Map<string, RegisteredDriver>();
  private readonly seen = new Map<string, Seen>();
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
  private again = false;

  constructor(private readonly dir: string, private readonly timeoutMs: number, private readonly log: Logger) {}

  async start(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o750 });
    try {
      this.watcher = watch(this.dir, () => this.kick());
      this.watcher.unref();
      this.watcher.on("error", () => undefined); // the rescan timer keeps working
    } catch (err) {
      this.log.warn({ dir: this.dir, err: errorMessage(err) }, "cannot watch the plugin registry; polling only");
    }
    this.timer = setInterval(() => this.kick(), RESCAN_MS);
    this.timer.unref();
    this.kick();
    await this.scanning;
  }

  get(name: string): RegisteredDriver | undefined {
    return this.drivers.get(name);
  }

  /** Runs one scan at a time; a kick during a scan runs one more afterwards. */
  private kick(): void {
    if (this.scanning) {
      this.again = true;
      return;
    }
    this.scanning = this.scan()
      .catch((err: unknown) => this.log.warn({ err: errorMessage(err) }, "plugin registry scan failed"))
      .finally(() => {
        this.scanning = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async scan(): Promise<void> {
    let names: string[];
    try {
      names = (await readdir(this.dir)).filter((n) => n.endsWith("-reg.sock"));
    } catch {
      names = [];
    }
    const present = new Map<string, number>();
    for (const n of names) {
      const st = await stat(join(this.dir, n)).catch(() => undefined);
      if (st?.isSocket()) present.set(join(this.dir, n), st.ino);
    }
    for (const [sock, s] of this.seen) {
      if (present.get(sock) !== s.ino) this.forget(sock, s);
    }
    for (const [sock, ino] of present) {
      const s = this.seen.get(sock);
      if (s && (s.driver || Date.now() < s.retryAt)) continue;
      const entry: Seen = { ino, retryAt: Date.now() + RETRY_MS };
      this.seen.set(sock, entry);
      entry.driver = await this.register(sock);
    }
  }

  private forget(sock: string, s: Seen): void {
    this.seen.delete(sock);
    if (!s.driver) return;
    const d = this.drivers.get(s.driver);
    if (d) {
      d.client.close();
      this.drivers.delete(s.driver);
      this.log.info({ driver: s.driver }, "CSI driver deregistered (registration socket gone)");
    }
  }

  private regOpts(): { metadata: Metadata; timeoutMs: number } {
    return { metadata: new Metadata(), timeoutMs: this.timeoutMs };
  }

  /** The registration handshake; returns the driver name when registered. */
  private async register(sock: string): Promise<string | undefined> {
    const reg = new RegistrationClient(`unix:${sock}`, credentials.createInsecure());
    let info: PluginInfo;
    try {
      info = await unary(reg, "Registration.GetInfo", reg.getInfo, InfoRequest.fromPartial({}), this.regOpts());
    } catch (err) {
      reg.close();
      this.log.debug({ socket: sock, err: errorMessage(err) }, "plugin GetInfo failed; will retry");
      return undefined;
    }
    let client: CsiNodeClient | undefined;
    try {
      const d = await this.validate(info, (c) => (client = c));
      const prev = this.drivers.get(d.name);
      if (prev && prev.endpoint !== d.endpoint) prev.client.close();
      this.drivers.set(d.name, d);
      await unary(reg, "Registration.NotifyRegistrationStatus", reg.notifyRegistrationStatus, RegistrationStatus.fromPartial({ pluginRegistered: true, error: "" }), this.regOpts()).catch(() => undefined);
      this.log.info({ driver: d.name, endpoint: d.endpoint, csiNodeId: d.nodeId }, "CSI driver registered");
      return d.name;
    } catch (err) {
      client?.close();
      const msg = errorMessage(err);
      this.log.warn({ socket: sock, driver: info.name, err: msg }, "CSI driver registration refused");
      await unary(reg, "Registration.NotifyRegistrationStatus", reg.notifyRegistrationStatus, RegistrationStatus.fromPartial({ pluginRegistered: false, error: msg }), this.regOpts()).catch(() => undefined);
      return undefined;
    } finally {
      reg.close();
    }
  }

  private async validate(info: PluginInfo, keep: (c: CsiNodeClient) => void): Promise<RegisteredDriver> {
    if (info.type !== "CSIPlugin") throw new CodedError("InvalidArgument", `plugin type '${info.type}' is not supported (CSIPlugin only)`);
    if (!info.name) throw new CodedError("InvalidArgument", "plugin name is empty");
    if (!info.supportedVersions.some((v) => SUPPORTED_VERSIONS.includes(v))) {
      throw new CodedError("InvalidArgument", `none of the plugin's versions [${info.supportedVersions.join(", ")}] is supported (${SUPPORTED_VERSIONS.join(", ")})`);
    }
    const endpoint = info.endpoint.replace(/^unix:\/\//, "");
    if (!isAbsolute(endpoint)) throw new CodedError("InvalidArgument", `endpoint '${info.endpoint}' is not an absolute unix socket path`);
    const client = new CsiNodeClient(endpoint, this.timeoutMs);
    keep(client);
    const pi = await client.pluginInfo();
    if (pi.name !== info.name) throw new CodedError("InvalidArgument", `driver at ${endpoint} calls itself '${pi.name}', registration says '${info.name}'`);
    const ni = await client.nodeInfo();
    if (!ni.nodeId) throw new CodedError("InvalidArgument", "NodeGetInfo returned an empty node_id");
    const caps = new Set((await client.nodeCapabilities()).capabilities.map((c) => c.rpc?.type));
    return { name: info.name, endpoint, nodeId: ni.nodeId, client, stageUnstage: caps.has(Rpc.STAGE_UNSTAGE_VOLUME), singleNodeMultiWriter: caps.has(Rpc.SINGLE_NODE_MULTI_WRITER), volumeMountGroup: caps.has(Rpc.VOLUME_MOUNT_GROUP) };
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.watcher?.close();
    for (const d of this.drivers.values()) d.client.close();
    this.drivers.clear();
  }
}
