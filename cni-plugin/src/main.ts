// novanet CNI plugin entry: read CNI_* env + stdin, dispatch the verb, print
// the result or the spec's error JSON on stdout, exit. Kept thin and free of
// work at import time: each verb's module is loaded only when it runs.
import { readFileSync, writeSync } from "node:fs";
import { trace } from "./log.js";
import { run } from "./run.js";

function readStdin(): string {
  try {
    return readFileSync(0, "utf8");
  } catch {
    return ""; // no stdin (closed or a TTY): VERSION still works
  }
}

async function main(): Promise<void> {
  trace("main");
  // An operator's check of what is installed; CNI runtimes never pass arguments.
  if (process.argv.slice(2).includes("--version")) {
    writeSync(1, (await import("./verbs/about.js")).about());
    process.exit(0);
  }
  const { out, code } = await run(process.env, readStdin());
  if (out) writeSync(1, `${out}\n`);
  // Exit now: nothing (e.g. a gRPC channel's timers) may delay the runtime.
  trace("exit");
  process.exit(code);
}

void main();
