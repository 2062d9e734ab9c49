// Image presence by pull policy, registry credentials from the pod's pull
// secrets, and the kubelet's pull backoff (ErrImagePull, then ImagePullBackOff).
import type { Container, Pod } from "@plasmacloud/proto/k8shost";
import { CodedError, errorCode, errorMessage } from "@plasmacloud/common/errors";
import { goDuration } from "../events/format";
import { containerFieldPath, noEvents, type EventType, type PodEvents } from "../events/types";
import { KeyedBackoff } from "../retry/backoff";
import type { PodRuntime, RegistryAuth } from "../runtime/types";
import { pullPolicy } from "./spec";

/** Fetches a pull secret's .dockerconfigjson in the pod's tenant; undefined if absent. */
export type SecretReader = (pod: Pod, name: string) => Promise<Uint8Array | undefined>;

export class ImageError extends CodedError {
  constructor(readonly reason: "ErrImagePull" | "ImagePullBackOff" | "ErrImageNeverPull" | "InvalidImageName", message: string, readonly retryInMs: number) {
    super("Unavailable", message, { reason });
  }
}

export function registryHost(image: string): string {
  const first = image.split("/")[0] ?? "";
  const isHost = image.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
  return isHost ? first : "docker.io";
}

function authsFor(json: Uint8Array, host: string): RegistryAuth[] {
  const out: RegistryAuth[] = [];
  let cfg: { auths?: Record<string, { username?: string; password?: string; auth?: string }> };
  try {
    cfg = JSON.parse(Buffer.from(json).toString("utf8")) as typeof cfg;
  } catch {
    return out;
  }
  for (const [server, a] of Object.entries(cfg.auths ?? {})) {
    const h = server.replace(/^https?:\/\//, "").split("/")[0] ?? "";
    const matches = h === host || (host === "docker.io" && (h === "index.docker.io" || h === "registry-1.docker.io"));
    if (!matches) continue;
    let { username = "", password = "" } = a;
    if ((!username || !password) && a.auth) {
      const dec = Buffer.from(a.auth, "base64").toString("utf8");
      const i = dec.indexOf(":");
      if (i > 0) [username, password] = [dec.slice(0, i), dec.slice(i + 1)];
    }
    // containerd url.Parse()s server_address and compares only its host: a
    // bare "host:port" fails to parse and a bare hostname has no host.
    if (username) out.push({ username, password, serverAddress: `https://${h}` });
  }
  return out;
}

export class ImageManager {
  private readonly backoff = new KeyedBackoff(10_000, 300_000);
  /** The last pull failure per pod/image: the back-off status keeps saying why. */
  private readonly lastError = new Map<string, string>();

  constructor(private readonly runtime: PodRuntime, private readonly readSecret: SecretReader, private readonly events: PodEvents = noEvents) {}

  /** The kubelet's image events (Pulling, Pulled, Failed, BackOff, ...) on the container. */
  private event(pod: Pod, c: Container, type: EventType, reason: string, message: string): void {
    this.events.emit(pod, type, reason, message, containerFieldPath(pod, c.name));
  }

  /** ensure(), with the kubelet's "Error: <reason>" event for a container that cannot start for its image. */
  async ensure(pod: Pod, c: Container): Promise<string> {
    try {
      return await this.ensureImage(pod, c);
    } catch (err) {
      if (err instanceof ImageError) this.event(pod, c, "Warning", "Failed", `Error: ${err.reason}`);
      throw err;
    }
  }

  /** The image ref to create the container from, pulling per policy. */
  private async ensureImage(pod: Pod, c: Container): Promise<string> {
    const policy = pullPolicy(c);
    const present = policy === "Always" ? undefined : await this.runtime.imagePresent(c.image);
    if (present) {
      this.event(pod, c, "Normal", "Pulled", `Container image "${c.image}" already present on machine`);
      return present;
    }
    if (policy === "Never") {
      this.event(pod, c, "Warning", "ErrImageNeverPull", `Container image "${c.image}" is not present with pull policy of Never`);
      throw new ImageError("ErrImageNeverPull", `image "${c.image}" is not present and the pull policy is Never`, 30_000);
    }
    const key = `${pod.metadata?.uid}/${c.image}`;
    const wait = this.backoff.remaining(key);
    if (wait > 0) {
      const why = this.lastError.get(key);
      this.event(pod, c, "Normal", "BackOff", `Back-off pulling image "${c.image}"`);
      throw new ImageError("ImagePullBackOff", `Back-off pulling image "${c.image}"${why ? `: ${why}` : ""}`, wait);
    }
    const auths = await this.credentials(pod, c.image);
    let last: unknown;
    const started = Date.now();
    this.event(pod, c, "Normal", "Pulling", `Pulling image "${c.image}"`);
    for (const auth of auths.length ? auths : [undefined]) {
      try {
        const ref = await this.runtime.pullImage(c.image, auth);
        this.event(pod, c, "Normal", "Pulled", `Successfully pulled image "${c.image}" in ${goDuration(Date.now() - started)}`);
        this.backoff.reset(key);
        this.lastError.delete(key);
        return ref;
      } catch (err) {
        last = err;
      }
    }
    const delay = this.backoff.next(key);
    const code = errorCode(last);
    const hint = code === "NotFound" ? "not found" : errorMessage(last);
    this.lastError.set(key, hint);
    this.event(pod, c, "Warning", "Failed", `Failed to pull image "${c.image}": ${hint}`);
    throw new ImageError("ErrImagePull", `failed to pull image "${c.image}": ${hint}`, delay);
  }

  private async credentials(pod: Pod, image: string): Promise<RegistryAuth[]> {
    const host = registryHost(image);
    const out: RegistryAuth[] = [];
    for (const ref of pod.spec?.imagePullSecrets ?? []) {
      const data = await this.readSecret(pod, ref.name);
      if (data) out.push(...authsFor(data, host));
    }
    return out;
  }

  forget(uid: string): void {
    this.backoff.forgetPrefix(`${uid}/`);
    for (const k of this.lastError.keys()) if (k.startsWith(`${uid}/`)) this.lastError.delete(k);
  }
}
