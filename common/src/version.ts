// The node stack's release version: one number for the agent, novanet and
// lightningstor-csi, which ship together in one tarball and one Nix package
// set. A unit test holds it equal to every workspace package.json version.
export const RELEASE_VERSION = "0.1.0";
