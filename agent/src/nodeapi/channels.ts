// The channel.k8s.io WebSocket framing the node API speaks, as the kubelet and
// containerd's CRI streaming server (a copy of the kubelet's) speak it: every
// message starts with one channel byte (the base64 variants: an ASCII digit and
// base64 data). Exec/attach use channels 0-4 (stdin, stdout, stderr, the error
// channel with the final Status as JSON in v4, the resize channel with
// {"Width","Height"}); port-forward uses a data and an error channel per port,
// each opened by the port as 2 bytes little-endian. v5 adds the CLOSE signal:
// a message on channel 255 whose payload is the channel to close ([255, 0]
// ends stdin). Shared by server and CLI.

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
export const ERROR = 3;
export const RESIZE = 4;
/** v5: half-close of the channel named by the payload's first byte. */
export const CLOSE = 255;

export const V5 = "v5.channel.k8s.io";
export const V4 = "v4.channel.k8s.io";
export const V4_BASE64 = "v4.base64.channel.k8s.io";
const PRE_V4 = "channel.k8s.io";
const PRE_V4_BASE64 = "base64.channel.k8s.io";

/** What containerd's streaming server accepts for exec/attach ("" = no subprotocol, binary). */
export const REMOTE_COMMAND_PROTOCOLS: readonly string[] = [V4, V4_BASE64, PRE_V4, PRE_V4_BASE64, ""];
/** What the node API accepts for exec/attach: v5 through SPDY to the runtime (spdy-exec.ts), the rest relayed as they are. */
export const SERVED_REMOTE_COMMAND_PROTOCOLS: readonly string[] = [V5, ...REMOTE_COMMAND_PROTOCOLS];
/** What it accepts for port-forward. */
export const PORT_FORWARD_PROTOCOLS: readonly string[] = [V4, V4_BASE64, ""];

/**
 * The subprotocol to use: the first the client offers that is supported (the order
 * golang.org/x/net/websocket's handshake picks in); "" when it offers none and ""
 * is supported; undefined when nothing matches.
 */
export function chooseProtocol(offered: readonly string[], supported: readonly string[]): string | undefined {
  if (offered.length === 0) return supported.includes("") ? "" : undefined;
  return offered.find((p) => p !== "" && supported.includes(p));
}

export const isBase64Protocol = (p: string): boolean => p === V4_BASE64 || p === PRE_V4_BASE64;

export function frame(channel: number, data: Uint8Array | string, base64 = false): Buffer {
  const body = typeof data === "string" ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (base64) return Buffer.from(String.fromCharCode(48 + channel) + body.toString("base64"));
  return Buffer.concat([Buffer.of(channel), body]);
}

/** One received message as channel and data; undefined for an empty message (the server skips those too). */
export function unframe(msg: Buffer, base64 = false): { channel: number; data: Buffer } | undefined {
  if (msg.length === 0) return undefined;
  if (base64) return { channel: msg[0]! - 48, data: Buffer.from(msg.subarray(1).toString("latin1"), "base64") };
  return { channel: msg[0]!, data: msg.subarray(1) };
}

/** v5: the end of the channel (stdin) as the CLOSE signal. */
export const closeMessage = (channel: number): Buffer => Buffer.of(CLOSE, channel);

export function resizeMessage(cols: number, rows: number, base64 = false): Buffer {
  return frame(RESIZE, JSON.stringify({ Width: cols, Height: rows }), base64);
}

/** How a remote command ended, from the v4 Status JSON on the error channel. */
export interface RemoteExit {
  /** The command's exit code; 1 when the command could not run (the Status says why). */
  code: number;
  /** Empty on success. */
  message: string;
}

interface StatusJson {
  status?: string;
  message?: string;
  reason?: string;
  details?: { causes?: { reason?: string; message?: string }[] };
}

/**
 * The kubelet's remotecommand status: Success, or Failure with reason
 * NonZeroExitCode and the code in a cause of reason ExitCode (what kubectl turns
 * into its own exit code); any other failure is an error with a message.
 */
export function parseStatus(text: string): RemoteExit {
  let s: StatusJson;
  try {
    s = JSON.parse(text) as StatusJson;
  } catch {
    // Before v4 the error channel carried the message as plain text.
    return { code: 1, message: text };
  }
  if (s.status === "Success") return { code: 0, message: "" };
  if (s.reason === "NonZeroExitCode") {
    const cause = s.details?.causes?.find((c) => c.reason === "ExitCode");
    const code = Number(cause?.message);
    if (Number.isInteger(code) && code > 0) return { code, message: s.message ?? "" };
  }
  return { code: 1, message: s.message || "remote command failed" };
}

/** Port-forward: the 2-byte little-endian port that opens each channel of a port. */
export function portPrefix(port: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(port);
  return b;
}

/**
 * Receives one port's pair of channels (data 2i, error 2i+1) and strips the
 * port prefix each opens with. The prefix is the first 2 bytes of a channel,
 * whichever messages they arrive in.
 */
export class PortForwardReceiver {
  private readonly pending = new Map<number, Buffer>();

  constructor(private readonly port: number, private readonly index = 0) {}

  /** Data of this port's data or error channel with the prefix removed; throws on a port mismatch. */
  receive(channel: number, data: Buffer): { kind: "data" | "error"; data: Buffer } | undefined {
    const kind = channel === 2 * this.index ? "data" : channel === 2 * this.index + 1 ? "error" : undefined;
    if (!kind) return undefined;
    let seen = this.pending.get(channel);
    if (seen === undefined || seen.length < 2) {
      seen = Buffer.concat([seen ?? Buffer.alloc(0), data]);
      this.pending.set(channel, seen);
      if (seen.length < 2) return undefined;
      const port = seen.readUInt16LE(0);
      if (port !== this.port) throw new Error(`port-forward: channel ${channel} opened for port ${port}, expected ${this.port}`);
      // Keep a marker that the prefix is done; hand on what followed it.
      this.pending.set(channel, Buffer.alloc(2));
      data = seen.subarray(2);
    }
    return data.length ? { kind, data } : undefined;
  }
}
