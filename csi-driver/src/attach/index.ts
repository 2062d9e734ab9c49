import { status } from "@grpc/grpc-js";
import { CsiError } from "../errors";
import { LoopAttacher } from "./loop";
import type { Attacher } from "./types";

export type { AttachTarget, Attacher } from "./types";
export { LoopAttacher, loopBackingFile, blockDeviceSize } from "./loop";

/** Attachers by transport. Add NBD/iSCSI here. */
export class Attachers {
  private readonly byTransport = new Map<string, Attacher>();

  constructor(attachers: Attacher[] = [new LoopAttacher()]) {
    for (const a of attachers) this.byTransport.set(a.transport, a);
  }

  for(transport: string): Attacher {
    const a = this.byTransport.get(transport);
    if (!a) throw new CsiError(status.FAILED_PRECONDITION, `volume transport ${JSON.stringify(transport)} is not supported on this node`, { transport });
    return a;
  }
}
export { createReadOnlyView, releaseView, viewBase, viewsOf } from "./readonly";
