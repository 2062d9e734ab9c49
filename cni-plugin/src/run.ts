// One invocation, independent of the process: env + stdin in, what to print
// and the exit code out. main.ts wires it to the real process; tests call it.
import { decode, parseNetConf, peekVersion } from "./config/config.js";
import { readEnv } from "./env.js";
import { asCniError, toErrorJson } from "./errors.js";
import { log, setLogFile } from "./log.js";

/** Runs one invocation; returns what to print and the exit code. */
export async function run(env: NodeJS.ProcessEnv, stdin: string): Promise<{ out: string; code: number }> {
  const asked = peekVersion(stdin);
  let cniVersion = asked && /^\d+\.\d+\.\d+$/.test(asked) ? asked : "1.1.0";
  try {
    const e = readEnv(env);
    if (e.command === "VERSION") {
      if (stdin.trim()) decode(stdin); // garbage on stdin is still a decode error
      const { version } = await import("./verbs/version.js");
      return { out: JSON.stringify(version()), code: 0 };
    }
    const conf = parseNetConf(stdin, e.args);
    cniVersion = conf.cniVersion;
    setLogFile(conf.logFile);
    let result: unknown;
    switch (e.command) {
      case "ADD": result = await (await import("./verbs/add.js")).add(e, conf, stdin); break;
      case "DEL": result = await (await import("./verbs/del.js")).del(e, conf); break;
      case "CHECK": result = await (await import("./verbs/check.js")).check(e, conf); break;
      case "STATUS": result = await (await import("./verbs/status.js")).status(conf); break;
      case "GC": result = await (await import("./verbs/gc.js")).gc(conf); break;
    }
    return { out: result === undefined ? "" : JSON.stringify(result), code: 0 };
  } catch (err) {
    const j = toErrorJson(err, cniVersion);
    log.error({ code: j.code, details: j.details, command: env.CNI_COMMAND, containerId: env.CNI_CONTAINERID }, j.msg);
    return { out: JSON.stringify(j), code: asCniError(err) ? 1 : 2 };
  }
}
