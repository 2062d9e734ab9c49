// One structured logger for the three node programs: a JSON line per event in
// pino's format (numeric level, so pino-pretty and log shippers read it), with
// credentials redacted at any depth so a careless field never prints a token.
// Not pino itself: novanet lives for one CNI verb and must not pay its load.
import { appendFileSync, writeSync } from "node:fs";

export const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity } as const;
export type Level = keyof typeof LEVELS;
export type Fields = Record<string, unknown>;

type LogFn = {
  (fields: Fields, msg: string): void;
  (msg: string): void;
};

export interface Logger {
  readonly level: Level;
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  /** A logger whose lines carry these fields too. */
  child(bindings: Fields): Logger;
}

export type Sink = (line: string) => void;

/** Writes each line to a file descriptor (1: stdout, 2: stderr) synchronously: no line is lost at exit. */
export const fdSink = (fd: number): Sink => (line) => {
  try {
    writeSync(fd, line);
  } catch {
    // A closed stdout must not take the program down.
  }
};

/** Appends to a file; if the file cannot be written, falls back (a broken log file must not fail the work). */
export const fileSink = (path: string, fallback: Sink = fdSink(2)): Sink => (line) => {
  try {
    appendFileSync(path, line);
  } catch {
    fallback(line);
  }
};

const REDACTED = new Set(["token", "authorization", "password", "auth", "secret", "secrets", "registrytoken", "bearer"]);

function replacer(key: string, value: unknown): unknown {
  if (key && REDACTED.has(key.toLowerCase())) return "[redacted]";
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) return { type: value.name, message: value.message, ...("code" in value ? { code: (value as { code: unknown }).code } : {}) };
  return value;
}

export interface LoggerOptions {
  component: string;
  level?: Level;
  sink?: Sink;
  bindings?: Fields;
}

export function isLevel(s: string): s is Level {
  return Object.hasOwn(LEVELS, s);
}

export function createLogger(o: LoggerOptions): Logger {
  const level = o.level ?? "info";
  const min = LEVELS[level];
  const sink = o.sink ?? fdSink(1);
  const base = { pid: process.pid, component: o.component, ...o.bindings };
  const emit = (name: Exclude<Level, "silent">): LogFn =>
    ((a: Fields | string, b?: string) => {
      const n = LEVELS[name];
      if (n < min) return;
      const fields = typeof a === "string" ? {} : a;
      const msg = typeof a === "string" ? a : b;
      sink(`${JSON.stringify({ level: n, time: new Date().toISOString(), ...base, ...fields, msg }, replacer)}\n`);
    }) as LogFn;
  return {
    level,
    trace: emit("trace"),
    debug: emit("debug"),
    info: emit("info"),
    warn: emit("warn"),
    error: emit("error"),
    child: (bindings) => createLogger({ ...o, bindings: { ...o.bindings, ...bindings } }),
  };
}

/** A logger that drops everything (unit tests, library defaults). */
export const silentLogger: Logger = createLogger({ component: "", level: "silent", sink: () => undefined });
