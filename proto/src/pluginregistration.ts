// Package entry for the kubelet plugin-registration subset.
export * from "../gen/pluginregistration/v1/registration";
