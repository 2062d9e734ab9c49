// Package entry for our CRI runtime.v1 subset. Only agent/src/runtime imports it.
export * from "../gen/cri/runtime/v1/api";
