// The kubelet's instrumentedRuntimeService, as a decorator around the PodRuntime
// seam: every call that returns a promise is counted and timed by operation,
// and counted again when it fails (k8shost_agent_runtime_operations_*).
// A Proxy rather than a class that spells out each method: a method added to
// the seam is instrumented the day it is added, under its snake_case name.
import type { Counter, Histogram } from "prom-client";

export interface RuntimeOperationMetrics {
  runtimeOperations: Counter<"operation_type">;
  runtimeOperationsDuration: Histogram<"operation_type">;
  runtimeOperationsErrors: Counter<"operation_type">;
}

/**
 * The kubelet's operation_type where one seam call is one CRI call
 * (instrumented_services.go); seam calls made of several CRI calls keep a
 * name of their own (the CRI calls inside are in k8shost_agent_cri_call_*).
 */
const OPERATION: Record<string, string> = {
  ready: "status",
  runSandbox: "run_podsandbox",
  stopSandbox: "stop_podsandbox",
  removeSandbox: "remove_podsandbox",
  sandbox: "podsandbox_status",
  allSandboxIds: "list_podsandbox",
  imagePresent: "image_status",
  imageUser: "image_status",
  // relist and podState: ListPodSandbox + ListContainers (+ status of what changed);
  // removePod: RemovePodSandbox per sandbox, then the pod's log directory.
};

/** Bookkeeping, not runtime operations; watchChanges is a stream that lasts as long as it is up. */
const NOT_OPERATIONS = new Set(["mutations", "close", "watchChanges"]);

export function operationType(method: string): string {
  return OPERATION[method] ?? method.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

const isThenable = (v: unknown): v is PromiseLike<unknown> =>
  typeof v === "object" && v !== null && typeof (v as { then?: unknown }).then === "function";

/** `inner` with every asynchronous method counted and timed; everything else passes through. */
export function instrumentRuntime<T extends object>(inner: T, m: RuntimeOperationMetrics): T {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(inner, {
    get(target, prop) {
      // The real object as `this` everywhere: private fields live on it, not on the proxy.
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      let fn = wrapped.get(prop);
      if (fn) return fn;
      if (typeof prop !== "string" || NOT_OPERATIONS.has(prop)) {
        fn = (value as (...args: unknown[]) => unknown).bind(target);
        wrapped.set(prop, fn);
        return fn;
      }
      const op = { operation_type: operationType(prop) };
      const method = value as (...args: unknown[]) => unknown;
      const seconds = (since: number): number => (performance.now() - since) / 1000;
      fn = (...args: unknown[]): unknown => {
        const start = performance.now();
        let out: unknown;
        try {
          out = method.apply(target, args);
        } catch (err) {
          m.runtimeOperations.inc(op);
          m.runtimeOperationsDuration.observe(op, seconds(start));
          m.runtimeOperationsErrors.inc(op);
          throw err;
        }
        if (!isThenable(out)) return out; // a synchronous answer is bookkeeping, not an operation
        m.runtimeOperations.inc(op);
        return Promise.resolve(out).then(
          (v) => {
            m.runtimeOperationsDuration.observe(op, seconds(start));
            return v;
          },
          (err: unknown) => {
            m.runtimeOperationsDuration.observe(op, seconds(start));
            m.runtimeOperationsErrors.inc(op);
            throw err;
          },
        );
      };
      wrapped.set(prop, fn);
      return fn;
    },
  });
}
