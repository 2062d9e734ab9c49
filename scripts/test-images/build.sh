#!/usr/bin/env bash
# Builds small OCI image archives from Debian's static busybox, offline:
#   busybox.tar  - /bin/busybox + applet links, CMD ["sh"]
#   pause.tar    - the same rootfs, ENTRYPOINT ["/bin/sleep","infinity"]
# Usage: build.sh OUTDIR. Deterministic (fixed mtimes, sorted, gzip -n), so a
# rebuild gives the same digests and skopeo/ctr see nothing new.
set -euo pipefail
out=${1:?usage: build.sh OUTDIR}
mkdir -p "$out"
bb=/bin/busybox
[ -x "$bb" ] || { echo "build: $bb missing (apt-get install busybox-static)" >&2; exit 1; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

mkdir -p "$work/rootfs/bin" "$work/rootfs/etc" "$work/rootfs/tmp" "$work/rootfs/proc" "$work/rootfs/sys" "$work/rootfs/dev"
cp "$bb" "$work/rootfs/bin/busybox"
for a in $("$bb" --list); do
  [ "$a" = busybox ] || ln -sf busybox "$work/rootfs/bin/$a"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$work/rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$work/rootfs/etc/group"
tar -C "$work/rootfs" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf "$work/layer.tar" .
diff_id=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
gzip -n -9 "$work/layer.tar"
layer="$work/layer.tar.gz"
layer_digest=$(sha256sum "$layer" | cut -d' ' -f1)
layer_size=$(stat -c %s "$layer")

# make_image NAME TAG CONFIG_JSON_FRAGMENT
make_image() {
  local name=$1 tag=$2 cfg=$3 dir="$work/$1"
  mkdir -p "$dir/blobs/sha256"
  cp "$layer" "$dir/blobs/sha256/$layer_digest"
  printf '{"architecture":"amd64","os":"linux","config":{%s,"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
    "$cfg" "$diff_id" > "$dir/config.json"
  local cd cs md ms
  cd=$(sha256sum "$dir/config.json" | cut -d' ' -f1); cs=$(stat -c %s "$dir/config.json")
  mv "$dir/config.json" "$dir/blobs/sha256/$cd"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
    "$cd" "$cs" "$layer_digest" "$layer_size" > "$dir/manifest.json"
  md=$(sha256sum "$dir/manifest.json" | cut -d' ' -f1); ms=$(stat -c %s "$dir/manifest.json")
  mv "$dir/manifest.json" "$dir/blobs/sha256/$md"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}' \
    "$md" "$ms" "$tag" > "$dir/index.json"
  printf '{"imageLayoutVersion":"1.0.0"}' > "$dir/oci-layout"
  tar -C "$dir" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf "$out/$name.tar" oci-layout index.json blobs
}
make_image busybox 1.0 '"Cmd":["sh"]'
make_image pause 1.0 '"Entrypoint":["/bin/sleep","infinity"]'
echo "built $out/busybox.tar $out/pause.tar"
