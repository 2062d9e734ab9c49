// Port-forward on the CLI's side: a local listener per LOCAL:REMOTE pair, and
// for each accepted connection one WebSocket to the node API's /portForward
// (containerd's WebSocket port-forward carries one connection per port per
// stream). Bytes flow unchanged after each channel's 2-byte port prefix; text
// on the error channel is the runtime's reason the connection failed.
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { WebSocket, type RawData } from "ws";
import { CodedError, errorMessage } from "@plasmacloud/common/errors";
import { frame, PortForwardReceiver, unframe, V4 } from "./channels";
import { openStream, type NodeEndpoint } from "./client";
import { portForwardPath } from "./paths";

export interface PortPair {
  /** 0 = any free port. */
  local: number;
  remote: number;
}

const HIGH_WATER = 1 << 20;

/** kubectl's forms: PORT (same both sides), LOCAL:REMOTE, :REMOTE (any local port). */
export function parsePortPair(spec: string): PortPair {
  const m = /^(\d*):(\d+)$/.exec(spec) ?? /^()(\d+)$/.exec(spec);
  const bad = (): CodedError => new CodedError("InvalidArgument", `'${spec}' is not PORT, LOCAL:REMOTE or :REMOTE (ports 1-65535)`);
  if (!m) throw bad();
  const remote = Number(m[2]);
  const local = spec.includes(":") ? (m[1] === "" ? 0 : Number(m[1])) : remote;
  if (!(remote >= 1 && remote <= 65535) || !(local >= 0 && local <= 65535) || (spec.includes(":") && m[1] !== "" && local === 0)) throw bad();
  return { local, remote };
}

export interface Forwarder {
  /** The local ports bound, in the order of the pairs. */
  ports: number[];
  close(): Promise<void>;
}

/** Relays one accepted local connection through one port-forward stream. */
function relayConnection(sock: Socket, endpoint: NodeEndpoint, path: string, remote: number, warn: (msg: string) => void, open: Set<WebSocket>): void {
  sock.pause();
  openStream(endpoint, path, [V4]).then(
    (ws) => {
      open.add(ws);
      const recv = new PortForwardReceiver(remote);
      ws.on("message", (msg: RawData) => {
        const m = unframe(msg as Buffer);
        if (!m) return;
        let got;
        try {
          got = recv.receive(m.channel, m.data);
        } catch (err) {
          warn(errorMessage(err));
          sock.destroy();
          return ws.terminate();
        }
        if (got?.kind === "data" && !sock.write(got.data)) {
          ws.pause();
          sock.once("drain", () => ws.resume());
        } else if (got?.kind === "error") {
          warn(`an error occurred forwarding ${remote}: ${got.data.toString("utf8")}`);
          sock.destroy();
        }
      });
      ws.on("close", () => {
        open.delete(ws);
        sock.end();
      });
      ws.on("error", () => sock.destroy());
      sock.on("data", (d: Buffer) => {
        ws.send(frame(0, d), () => {
          if (sock.isPaused() && ws.bufferedAmount < HIGH_WATER) sock.resume();
        });
        if (ws.bufferedAmount >= HIGH_WATER) sock.pause();
      });
      // No half-close over this protocol: the local end closing ends the stream.
      sock.on("close", () => ws.close(1000));
      sock.on("error", () => undefined);
      sock.resume();
    },
    (err: unknown) => {
      warn(`an error occurred forwarding ${remote}: ${errorMessage(err)}`);
      sock.destroy();
    },
  );
}

/** Listens on `address` for each pair; `say` gets kubectl's lines ("Forwarding from ..."). */
export async function forwardPorts(endpoint: NodeEndpoint, namespace: string, pod: string, pairs: PortPair[], address: string, say: (msg: string) => void, warn: (msg: string) => void): Promise<Forwarder> {
  const servers: Server[] = [];
  const open = new Set<WebSocket>();
  const ports: number[] = [];
  try {
    for (const p of pairs) {
      const path = portForwardPath(namespace, pod, [p.remote]);
      const server = createServer((sock) => {
        say(`Handling connection for ${(server.address() as AddressInfo).port}`);
        relayConnection(sock, endpoint, path, p.remote, warn, open);
      });
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once("error", (err) => reject(new CodedError("Unavailable", `unable to listen on ${address}:${p.local}: ${errorMessage(err)}`)));
        server.listen(p.local, address, () => resolve());
      });
      const port = (server.address() as AddressInfo).port;
      ports.push(port);
      say(`Forwarding from ${address.includes(":") ? `[${address}]` : address}:${port} -> ${p.remote}`);
    }
  } catch (err) {
    for (const s of servers) s.close();
    throw err;
  }
  return {
    ports,
    close: async () => {
      for (const ws of open) ws.terminate();
      await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    },
  };
}
