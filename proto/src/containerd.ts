// Package entry for our subset of containerd's own API (events). Only agent/src/runtime imports it.
export * from "../gen/containerd/services/events/v1/events";
export { TaskExit } from "../gen/containerd/events/task";
