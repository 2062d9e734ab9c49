// The NovaNET messages the plugin sends and reads, encoded by hand: a few
// field tables instead of the generated module (~22 kB of code for every
// message of the API) and its protobuf runtime, which a process that lives
// for one verb would load and compile on each run. Shapes come from the
// generated types (type-only imports, erased from the bundle): a field
// renamed or added in novanet.proto breaks the compile here. Field numbers
// and method paths are checked against the generated code by
// test/unit/wire.test.ts.
import type {
  CreatePortRequest, DeletePortRequest, DeletePortResponse, GetSubnetRequest, ListPortsRequest, ListPortsResponse,
  ListSubnetsRequest, ListSubnetsResponse, Port, Subnet,
} from "@plasmacloud/proto/novanet";

type Field = readonly [no: number, kind: "string" | "uint32" | "strings"] | readonly [no: number, kind: "messages", of: Fields<object>];
/** One entry per key of T: a new or renamed field in the proto is a compile error. */
type Fields<T> = { readonly [K in keyof T]-?: Field };

// proto3 wire types
const VARINT = 0;
const I64 = 1;
const LEN = 2;
const I32 = 5;

class Writer {
  private readonly parts: number[] = [];

  private varint(v: number): void {
    while (v > 0x7f) {
      this.parts.push((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    this.parts.push(v);
  }

  private bytes(no: number, b: Uint8Array): void {
    this.varint((no << 3) | LEN);
    this.varint(b.length);
    for (const x of b) this.parts.push(x);
  }

  message<T>(f: Fields<T>, m: T): this {
    for (const key of Object.keys(f) as (keyof T)[]) {
      const [no, kind, of] = f[key] as readonly [number, string, Fields<object>?];
      const v = m[key] as unknown;
      // proto3: default values (empty string, 0, empty list) are not sent.
      if (kind === "string" && v) this.bytes(no, Buffer.from(v as string, "utf8"));
      else if (kind === "uint32" && v) {
        this.varint((no << 3) | VARINT);
        this.varint((v as number) >>> 0);
      } else if (kind === "strings") for (const s of v as string[]) this.bytes(no, Buffer.from(s, "utf8"));
      else if (kind === "messages") for (const x of v as object[]) this.bytes(no, new Writer().message(of as Fields<object>, x).finish());
    }
    return this;
  }

  finish(): Buffer {
    return Buffer.from(this.parts);
  }
}

function decode<T>(f: Fields<T>, buf: Uint8Array): T {
  const byNo = new Map<number, [keyof T, Field]>();
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(f) as (keyof T & string)[]) {
    const field = f[key];
    byNo.set(field[0], [key, field]);
    out[key] = field[1] === "string" ? "" : field[1] === "uint32" ? 0 : [];
  }
  let i = 0;
  const varint = (): number => {
    let v = 0;
    let mul = 1;
    for (;;) {
      if (i >= buf.length) throw new Error("truncated varint");
      const b = buf[i++] as number;
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
      if (mul > 2 ** 63) throw new Error("varint too long");
    }
  };
  while (i < buf.length) {
    const tag = varint();
    const no = Math.floor(tag / 8);
    const wt = tag & 7;
    let body: Uint8Array | undefined;
    let num = 0;
    if (wt === VARINT) num = varint();
    else if (wt === LEN) {
      const len = varint();
      if (i + len > buf.length) throw new Error("truncated field");
      body = buf.subarray(i, i + len);
      i += len;
    } else if (wt === I64) i += 8;
    else if (wt === I32) i += 4;
    else throw new Error(`unsupported wire type ${wt}`);
    if (i > buf.length) throw new Error("truncated field");
    const known = byNo.get(no);
    if (!known) continue; // a field newer than this plugin: skipped, as protobuf does
    const [key, field] = known;
    const k = key as string;
    if (field[1] === "uint32" && wt === VARINT) out[k] = num >>> 0;
    else if (body && field[1] === "string") out[k] = Buffer.from(body).toString("utf8");
    else if (body && field[1] === "strings") (out[k] as string[]).push(Buffer.from(body).toString("utf8"));
    else if (body && field[1] === "messages") (out[k] as object[]).push(decode(field[2], body));
    else throw new Error(`field ${no} has wire type ${wt}`);
  }
  return out as T;
}

/** Requests start with the tenant; Subnet and Port carry it after their id. */
const tenant = { orgId: [1, "string"], projectId: [2, "string"] } as const;
const owner = { orgId: [2, "string"], projectId: [3, "string"] } as const;

const SUBNET: Fields<Subnet> = {
  id: [1, "string"], ...owner, name: [4, "string"], cidr: [5, "string"], gatewayIp: [6, "string"],
  dnsServers: [7, "strings"], mtu: [8, "uint32"], dnsSearch: [9, "strings"],
};
const PORT: Fields<Port> = {
  id: [1, "string"], ...owner, subnetId: [4, "string"], deviceId: [5, "string"], deviceOwner: [6, "string"],
  macAddress: [7, "string"], ipAddress: [8, "string"], ipPrefixLen: [9, "uint32"], name: [10, "string"], status: [11, "string"],
};

/** What grpc.ts needs of one method: its HTTP/2 path and its two codecs. */
export interface UnaryMethod<Req, Res> {
  path: string;
  requestSerialize: (r: Req) => Buffer;
  responseDeserialize: (b: Uint8Array) => Res;
}

function method<Req, Res>(path: string, req: Fields<Req>, res: Fields<Res>): UnaryMethod<Req, Res> {
  return { path, requestSerialize: (r) => new Writer().message(req, r).finish(), responseDeserialize: (b) => decode(res, b) };
}

export const GetSubnet = method<GetSubnetRequest, Subnet>("/novanet.v1.SubnetService/GetSubnet", { ...tenant, id: [3, "string"] }, SUBNET);
export const ListSubnets = method<ListSubnetsRequest, ListSubnetsResponse>("/novanet.v1.SubnetService/ListSubnets", tenant, { subnets: [1, "messages", SUBNET] });
export const CreatePort = method<CreatePortRequest, Port>("/novanet.v1.PortService/CreatePort", {
  ...tenant, subnetId: [3, "string"], deviceId: [4, "string"], deviceOwner: [5, "string"], name: [6, "string"], ipAddress: [7, "string"],
}, PORT);
export const ListPorts = method<ListPortsRequest, ListPortsResponse>("/novanet.v1.PortService/ListPorts",
  { ...tenant, deviceId: [3, "string"], subnetId: [4, "string"] }, { ports: [1, "messages", PORT] });
export const DeletePort = method<DeletePortRequest, DeletePortResponse>("/novanet.v1.PortService/DeletePort", { ...tenant, id: [3, "string"] }, {});
