// CNI error codes (spec 1.1.0 "Error codes") and the one error type the
// plugin reports. toErrorJson is the one place any failure becomes the
// spec's error JSON on stdout.
import { ExecError } from "@plasmacloud/common/errors";

export const CniCode = {
  IncompatibleVersion: 1,
  UnsupportedField: 2,
  UnknownContainer: 3,
  InvalidEnv: 4,
  IoFailure: 5,
  DecodeFailure: 6,
  InvalidConfig: 7,
  TryAgainLater: 11,
  PluginNotAvailable: 50,
  // Plugin-specific (100+).
  UnknownSubnet: 101,
  SubnetExhausted: 102,
  NovanetAuth: 103,
  NovanetRejected: 104,
  PlumbingFailed: 105,
  CheckFailed: 106,
  Internal: 199,
} as const;

export type CniCodeValue = (typeof CniCode)[keyof typeof CniCode];

export class CniError extends Error {
  constructor(readonly code: number, msg: string, readonly details = "") {
    super(msg);
  }
}

export interface CniErrorJson {
  cniVersion: string;
  code: number;
  msg: string;
  details?: string;
}

/** The CNI error a failure is reported as; undefined for a bug (199, exit 2). */
export function asCniError(e: unknown): CniError | undefined {
  if (e instanceof CniError) return e;
  // Every host command (ip, nsenter, ovs-vsctl) fails alike: 105 with the command line and its stderr.
  if (e instanceof ExecError) {
    const why = e.reason === "exit" ? `exit ${e.exitCode}` : e.reason;
    return new CniError(CniCode.PlumbingFailed, `${e.command} failed`, `${e.command} ${e.args.join(" ")}: ${why}: ${e.stderr.trim()}`);
  }
  return undefined;
}

export function toErrorJson(e: unknown, cniVersion: string): CniErrorJson {
  const c = asCniError(e);
  if (c) return c.details ? { cniVersion, code: c.code, msg: c.message, details: c.details } : { cniVersion, code: c.code, msg: c.message };
  const err = e instanceof Error ? e : new Error(String(e));
  return { cniVersion, code: CniCode.Internal, msg: "internal error", details: err.stack ?? err.message };
}
