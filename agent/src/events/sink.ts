// Where recorded events go: the control plane's EventService.
import { CreateEventRequest, UpdateEventRequest, type Event } from "@plasmacloud/proto/k8shost";
import type { ControlPlane } from "../controlplane/client";

export interface EventSink {
  create(e: Event): Promise<Event>;
  update(e: Event): Promise<Event>;
}

export function controlPlaneSink(cp: ControlPlane): EventSink {
  return {
    create: (event) => cp.call("CreateEvent", cp.events.createEvent.bind(cp.events), CreateEventRequest.fromPartial({ event })),
    update: (event) => cp.call("UpdateEvent", cp.events.updateEvent.bind(cp.events), UpdateEventRequest.fromPartial({ event })),
  };
}
