// FlashDNS stand-in: a real DNS server over UDP and TCP on one address and
// port. Names in the cluster zone are answered from the control-plane
// stand-in's objects, in the asking pod's tenant (records.ts), authoritatively;
// every other name goes to the upstream resolvers (forward.ts). Wire format by
// dns-packet. UDP answers over 512 bytes (or the client's EDNS size) are sent
// truncated, so the client asks again over TCP, as RFC 1035 has it.
import { createSocket, type Socket } from "node:dgram";
import { createServer, type Server, type Socket as TcpSocket } from "node:net";
import dnsPacket, { type Answer, type DecodedPacket, type Packet } from "dns-packet";
import type { Store } from "../controlplane/store";
import { forward, parseUpstream, type Upstream } from "./forward";
import { lookup, tenantOfSource, TTL, type Lookup, type ZoneView } from "./records";

const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3 } as const;

export interface FlashDnsOptions {
  view: ZoneView;
  /** The cluster domain (the agent's clusterDNS.domain). */
  domain?: string;
  host?: string;
  /** 0: any free port (the same for UDP and TCP). */
  port?: number;
  /** "ip[:port]" resolvers for names outside the zone. */
  upstreams?: string[];
}

export interface FlashDnsStandIn {
  host: string;
  port: number;
  stop(): Promise<void>;
}

/** The zone as the control-plane stand-in's store holds it. */
export function storeView(store: Store): ZoneView {
  return { pods: () => store.pods.values(), services: () => store.services.values(), slices: () => store.endpointSlices.values() };
}

function soa(zone: string): Answer {
  return { name: zone, type: "SOA", class: "IN", ttl: TTL, data: { mname: `ns.dns.${zone}`, rname: `hostmaster.${zone}`, serial: 1, refresh: 7200, retry: 1800, expire: 86400, minimum: TTL } };
}

/** Encodes `p`; over `limit` bytes it goes without records and with TC set. */
function encode(p: Packet, limit: number): Buffer {
  const full = dnsPacket.encode(p);
  if (full.length <= limit) return full;
  return dnsPacket.encode({ ...p, flags: (p.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE, answers: [], additionals: [], authorities: [] });
}

export class FlashDns {
  private readonly zone: string;
  private readonly upstreams: Upstream[];

  constructor(private readonly opts: FlashDnsOptions) {
    this.zone = (opts.domain ?? "cluster.local").toLowerCase().replace(/\.$/, "");
    this.upstreams = (opts.upstreams ?? []).map(parseUpstream);
  }

  /** The answer to one message from `source`, or undefined to drop it (not a DNS query at all). */
  async handle(msg: Buffer, source: string, tcp: boolean): Promise<Buffer | undefined> {
    let q: DecodedPacket;
    try {
      q = dnsPacket.decode(msg);
    } catch {
      return undefined;
    }
    if (q.type !== "query") return undefined;
    const reply = (rcode: number, more: Partial<Packet> = {}, aa = true): Packet => ({
      type: "response",
      id: q.id,
      flags: (aa ? dnsPacket.AUTHORITATIVE_ANSWER : 0) | (q.flag_rd ? dnsPacket.RECURSION_DESIRED : 0) | dnsPacket.RECURSION_AVAILABLE | rcode,
      questions: q.questions,
      ...more,
    });
    const opt = q.additionals?.find((a) => a.type === "OPT") as { udpPayloadSize?: number } | undefined;
    const limit = tcp ? 65535 : Math.max(512, Math.min(opt?.udpPayloadSize ?? 512, 4096));
    const question = q.questions?.[0];
    if (!question || q.questions!.length !== 1) return encode(reply(RCODE.FORMERR, {}, false), limit);
    const name = question.name.toLowerCase().replace(/\.$/, "");
    if (name !== this.zone && !name.endsWith(`.${this.zone}`)) {
      try {
        return await forward(this.upstreams, msg, tcp);
      } catch {
        return encode(reply(RCODE.SERVFAIL, {}, false), limit);
      }
    }
    const view = this.opts.view;
    const r: Lookup = name === this.zone ? { rcode: "NOERROR", answers: question.type === "SOA" ? [soa(this.zone)] : [], additionals: [] } : lookup(view, this.zone, tenantOfSource(view, source), name, question.type);
    if (r.rcode === "NXDOMAIN") return encode(reply(RCODE.NXDOMAIN, { authorities: [soa(this.zone)] }), limit);
    return encode(reply(RCODE.NOERROR, { answers: r.answers, additionals: r.additionals, authorities: r.answers.length ? [] : [soa(this.zone)] }), limit);
  }
}

function bindUdp(sock: Socket, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    sock.once("error", reject);
    sock.bind(port, host, () => {
      sock.off("error", reject);
      resolve(sock.address().port);
    });
  });
}

function listenTcp(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

export async function startFlashDnsStandIn(opts: FlashDnsOptions): Promise<FlashDnsStandIn> {
  const dns = new FlashDns(opts);
  const host = opts.host ?? "127.0.0.1";
  const conns = new Set<TcpSocket>();
  for (let attempt = 0; ; attempt++) {
    const udp = createSocket("udp4");
    const tcp = createServer((c) => {
      conns.add(c);
      c.on("close", () => conns.delete(c));
      c.on("error", () => c.destroy());
      let buf = Buffer.alloc(0);
      c.on("data", (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
          buf = buf.subarray(2 + msg.length);
          void dns.handle(Buffer.from(msg), c.remoteAddress?.replace(/^::ffff:/, "") ?? "", true).then((out) => {
            if (!out) return void c.destroy();
            const len = Buffer.alloc(2);
            len.writeUInt16BE(out.length);
            if (!c.destroyed) c.write(Buffer.concat([len, out]));
          });
        }
      });
    });
    try {
      const port = await bindUdp(udp, opts.port ?? 0, host);
      await listenTcp(tcp, port, host);
      udp.on("message", (msg, rinfo) => {
        void dns.handle(msg, rinfo.address, false).then((out) => {
          if (out) udp.send(out, rinfo.port, rinfo.address);
        });
      });
      udp.on("error", () => undefined);
      return {
        host,
        port,
        stop: () =>
          new Promise<void>((resolve) => {
            udp.close();
            for (const c of conns) c.destroy();
            tcp.close(() => resolve());
          }),
      };
    } catch (err) {
      try {
        udp.close();
      } catch {
        // never bound
      }
      tcp.close();
      // A random UDP port may be taken for TCP: try another; a fixed port is the caller's to free.
      if (opts.port || attempt >= 5) throw err;
    }
  }
}
