// Undoing attach.ts for DEL, GC and ADD's rollback: out of OVS, then the
// host veth (which takes its peer in the netns with it). Tolerates anything
// already gone. Its own module, so DEL loads nothing of attaching.
import type { NovanetMode } from "@plasmacloud/proto/netconf";
import { deleteLink } from "./link.js";
import { delOvsPort } from "./ovs.js";

export async function detach(mode: NovanetMode, ovsdb: string | undefined, ovsBridge: string, host: string): Promise<void> {
  if (mode === "ovs") await delOvsPort(ovsdb, ovsBridge, host);
  // Deleting the host end removes the peer inside the netns too.
  await deleteLink(host);
}
