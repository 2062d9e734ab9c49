import { readFileSync } from "node:fs";
import { credentials, Metadata } from "@grpc/grpc-js";
import { RuntimeServiceClient, ListPodSandboxRequest, StopPodSandboxRequest, RemovePodSandboxRequest } from "@plasmacloud/proto/cri";
import { TokenStore } from "../stand-ins/src/iam/tokens";
import { startNovanetStandIn } from "../stand-ins/src/novanet/server";
const tok = readFileSync("/var/lib/plasmacloud-stack/novanet.token", "utf8").trim();
const nv = await startNovanetStandIn({ tokens: new TokenStore().add(tok, { name: "cleanup", kind: "node", orgId: "", projectId: "" }), address: "127.0.0.1:19696" });
const rt = new RuntimeServiceClient("unix:///run/plasmacloud-stack/containerd.sock", credentials.createInsecure());
const call = (fn: any, req: any) => new Promise<any>((res, rej) => fn.call(rt, req, new Metadata(), {}, (e: any, r: any) => e ? rej(e) : res(r)));
const all = await call(rt.listPodSandbox, ListPodSandboxRequest.fromPartial({}));
for (const s of all.items) { await call(rt.stopPodSandbox, StopPodSandboxRequest.fromPartial({ podSandboxId: s.id })); await call(rt.removePodSandbox, RemovePodSandboxRequest.fromPartial({ podSandboxId: s.id })); }
console.log("cleaned", all.items.length); await nv.stop(); process.exit(0);
