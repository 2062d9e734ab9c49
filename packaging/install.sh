#!/usr/bin/env bash
# Installs a PlasmaCloud k8shost worker node from this tarball, or with
# --uninstall removes exactly what an earlier run installed.
#
#   bin/k8shost-agent, bin/lightningstor-csi  -> PREFIX/bin
#   bin/novanet                               -> CNI_BIN_DIR, plus links to the reference plugins
#                                                its conflist chains (loopback, portmap) from /usr/lib/cni
#   systemd/*.service                         -> UNIT_DIR (@BINDIR@ becomes PREFIX/bin)
#   config/k8shost-agent.yaml                 -> /etc/k8shost-agent/config.yaml          } the operator's
#   config/lightningstor-csi.env              -> /etc/lightningstor-csi/lightningstor-csi.env } to edit
#   containerd/10-k8shost.toml                -> /etc/containerd/conf.d/10-k8shost.toml  }
#   cni/10-novanet.conflist, this script      -> PREFIX/share/k8shost-node/
#
# Every path lands under --root (as under a DESTDIR): paths written into the
# units are those of the target system. ROOT/var/lib/k8shost-node/manifest
# lists what was installed with its sha256. A re-run replaces shipped files,
# replaces a config only while it is exactly as installed (otherwise it keeps
# the operator's file and writes FILE.new beside it), and removes files an
# older version shipped and this one does not. --uninstall removes what the
# manifest lists, keeps a config the operator changed, and says so.
set -euo pipefail

prog=install.sh
usage() {
  cat <<EOF
usage: $prog [--root DIR] [--prefix DIR] [--unitdir DIR] [--cni-bin-dir DIR] [--uninstall]
  --root DIR         install under DIR as if it were / (default /)
  --prefix DIR       programs in DIR/bin, data in DIR/share/k8shost-node (default /usr/local)
  --unitdir DIR      systemd units (default PREFIX/lib/systemd/system)
  --cni-bin-dir DIR  the CNI plugin directory of containerd's config (default /opt/cni/bin)
  --uninstall        remove what an earlier run installed
EOF
}
die() { echo "$prog: $*" >&2; exit 1; }
say() { echo "$prog: $*"; }

root=/ prefix=/usr/local unitdir='' cnibindir=/opt/cni/bin mode=install
while [ $# -gt 0 ]; do
  case $1 in
    --uninstall) mode=uninstall; shift; continue ;;
    -h|--help) usage; exit 0 ;;
    --*=*) opt=${1%%=*} val=${1#*=}; shift ;;
    --root|--prefix|--unitdir|--cni-bin-dir)
      [ $# -ge 2 ] || { echo "$prog: $1 needs a value" >&2; usage >&2; exit 2; }
      opt=$1 val=$2; shift 2 ;;
    *) echo "$prog: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
  case $opt in
    --root) root=$val ;;
    --prefix) prefix=$val ;;
    --unitdir) unitdir=$val ;;
    --cni-bin-dir) cnibindir=$val ;;
    *) echo "$prog: unknown option: $opt" >&2; usage >&2; exit 2 ;;
  esac
done
: "${unitdir:=$prefix/lib/systemd/system}"
refplugins=/usr/lib/cni # Debian's containernetworking-plugins
# Paths go into unit files and the tab-separated manifest: absolute, no
# whitespace, no % (a systemd specifier).
for p in "$root" "$prefix" "$unitdir" "$cnibindir"; do
  case $p in
    /*) ;;
    *) die "paths must be absolute: '$p'" ;;
  esac
  case $p in
    *[[:space:]%]*) die "paths must not contain whitespace or %: '$p'" ;;
  esac
done
root=${root%/}
dest() { printf '%s%s' "$root" "$1"; }
src=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
state=/var/lib/k8shost-node
manifest=$(dest "$state/manifest")
units=(k8shost-netns.service lightningstor-csi.service k8shost-agent.service)
sha() { sha256sum -- "$1" | cut -d' ' -f1; }

# systemctl only for the real root of a running systemd, never for a scratch root.
live_systemd() { [ -z "$root" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null; }

# The previous manifest: kind (file, config, link, dir), sum (sha256, a link's target, or -), path.
declare -A old_kind=() old_sum=()
old_order=()
old_version=
if [ -f "$manifest" ]; then
  while IFS=$'\t' read -r kind sum path; do
    case $kind in
      "# k8shost-node") old_version=$sum; continue ;;
      file|config|link|dir) ;;
      *) continue ;;
    esac
    old_kind[$path]=$kind old_sum[$path]=$sum
    old_order+=("$path")
  done < "$manifest"
fi

# Removes one manifest entry from the system (uninstall, or an upgrade dropping it).
remove_entry() { # KIND SUM PATH
  local kind=$1 sum=$2 path=$3 d
  d=$(dest "$3")
  case $kind in
    file) rm -f -- "$d" ;;
    link) if [ -L "$d" ] && [ "$(readlink -- "$d")" = "$sum" ]; then rm -f -- "$d"; fi ;;
    config)
      if [ ! -e "$d" ]; then :
      elif [ "$(sha "$d")" = "$sum" ]; then rm -f -- "$d"
      else say "kept $path: the operator changed it since it was installed"; fi ;;
    dir) rmdir -- "$d" 2>/dev/null || true ;; # only if empty: what is left there is not ours
  esac
}

if [ "$mode" = uninstall ]; then
  [ -f "$manifest" ] || die "nothing to uninstall: no $state/manifest under ${root:-/}"
  if live_systemd; then systemctl disable --now "${units[@]}" || true; fi
  rm -f -- "$manifest"
  for ((i = ${#old_order[@]} - 1; i >= 0; i--)); do
    p=${old_order[$i]}
    remove_entry "${old_kind[$p]}" "${old_sum[$p]}" "$p"
  done
  if live_systemd; then systemctl daemon-reload || true; fi
  say "uninstalled k8shost-node ${old_version:-} from ${root:-/}"
  exit 0
fi

[ -f "$src/VERSION" ] || die "run me from an unpacked k8shost-node tarball ($src has no VERSION)"
version=$(cat "$src/VERSION")
new_lines=()
declare -A recorded=()
record() { # KIND SUM PATH
  [ -n "${recorded[$3]:-}" ] && return 0
  recorded[$3]=1
  new_lines+=("$1"$'\t'"$2"$'\t'"$3")
}
changed=0
tmp=
trap 'if [ -n "$tmp" ]; then rm -f -- "$tmp"; fi' EXIT

# Creates a directory and its missing parents, recording the ones it made (or an earlier run made).
ensure_dir() {
  local p=$1
  [ "$p" = / ] && return 0
  ensure_dir "$(dirname "$p")"
  if [ -d "$(dest "$p")" ]; then
    if [ "${old_kind[$p]:-}" = dir ]; then record dir - "$p"; fi
  else
    mkdir -m 0755 -- "$(dest "$p")"
    record dir - "$p"
  fi
}

# Writes SRC to PATH through a temporary file and a rename: a running executable is never
# written into. Sets placed_sum to the sha256 of what PATH now holds.
placed_sum=
place() { # SRC PATH MODE [render: replace @BINDIR@]
  local d
  d=$(dest "$2")
  ensure_dir "$(dirname "$2")"
  tmp=$d.k8shost-new
  if [ "${4:-}" = render ]; then
    while IFS= read -r line || [ -n "$line" ]; do printf '%s\n' "${line//@BINDIR@/"$prefix/bin"}"; done < "$1" > "$tmp"
  else
    cp -- "$1" "$tmp"
  fi
  chmod "$3" -- "$tmp"
  placed_sum=$(sha "$tmp")
  if [ -f "$d" ] && [ ! -L "$d" ] && [ "$placed_sum" = "$(sha "$d")" ] && [ "$(stat -c %a -- "$d")" = "${3#0}" ]; then
    rm -f -- "$tmp"
  else
    mv -f -- "$tmp" "$d"
    changed=$((changed + 1))
  fi
  tmp=
}

install_as() { # KIND SRC PATH MODE [render]
  place "${@:2}"
  record "$1" "$placed_sum" "$3"
}
install_file() { install_as file "$@"; }

# A config is the operator's once changed: replaced only while it is byte for byte what was installed.
install_config() { # SRC PATH MODE
  local d cur new
  d=$(dest "$2")
  new=$(sha "$1")
  ensure_dir "$(dirname "$2")" # its directory stays ours whichever way the file goes
  if [ ! -e "$d" ]; then
    install_as config "$@"
    return
  fi
  cur=$(sha "$d")
  if [ "${old_kind[$2]:-}" = config ] && [ "$cur" = "${old_sum[$2]}" ]; then
    install_as config "$@"
  elif [ "$cur" = "$new" ]; then
    # Already this version's default: ours if an earlier run installed it, else the operator's.
    if [ "${old_kind[$2]:-}" = config ]; then record config "$new" "$2"; fi
  else
    # Recorded as this version's default (as dpkg does its conffiles): an operator who
    # adopts FILE.new hands the file back to the next upgrade and to --uninstall.
    if [ "${old_kind[$2]:-}" = config ]; then record config "$new" "$2"; fi
    if [ "${old_kind[$2]:-}" = config ] && [ "${old_sum[$2]}" = "$new" ] && [ -z "${old_kind[$2.new]:-}" ]; then
      say "kept $2: changed since it was installed (the default it started from is unchanged)"
    else
      install_file "$1" "$2.new" "$3"
      say "kept $2: changed since it was installed, or not installed by $prog; this version's default is $2.new"
    fi
  fi
}

ensure_dir "$state"
install_file "$src/bin/k8shost-agent" "$prefix/bin/k8shost-agent" 0755
install_file "$src/bin/lightningstor-csi" "$prefix/bin/lightningstor-csi" 0755
install_file "$src/bin/novanet" "$cnibindir/novanet" 0755
# containerd 1.6 takes one CNI bin_dir: the reference plugins novanet's conflist chains must be in it too.
for plugin in loopback portmap; do
  link=$cnibindir/$plugin
  if [ -L "$(dest "$link")" ] && [ "${old_kind[$link]:-}" = link ] && [ "$(readlink -- "$(dest "$link")")" = "$refplugins/$plugin" ]; then
    record link "$refplugins/$plugin" "$link"
  elif [ ! -e "$(dest "$link")" ] && [ ! -L "$(dest "$link")" ] && [ -x "$(dest "$refplugins/$plugin")" ]; then
    ln -s -- "$refplugins/$plugin" "$(dest "$link")"
    record link "$refplugins/$plugin" "$link"
    changed=$((changed + 1))
  fi
done
for u in "${units[@]}"; do install_file "$src/systemd/$u" "$unitdir/$u" 0644 render; done
install_config "$src/config/k8shost-agent.yaml" /etc/k8shost-agent/config.yaml 0644
install_config "$src/config/lightningstor-csi.env" /etc/lightningstor-csi/lightningstor-csi.env 0644
install_config "$src/containerd/10-k8shost.toml" /etc/containerd/conf.d/10-k8shost.toml 0644
share=$prefix/share/k8shost-node
install_file "$src/cni/10-novanet.conflist" "$share/10-novanet.conflist" 0644
install_file "$src/install.sh" "$share/install.sh" 0755
install_file "$src/VERSION" "$share/VERSION" 0644

# What an older version installed and this one does not ship.
for ((i = ${#old_order[@]} - 1; i >= 0; i--)); do
  p=${old_order[$i]}
  [ -n "${recorded[$p]:-}" ] || remove_entry "${old_kind[$p]}" "${old_sum[$p]}" "$p"
done

tmp=$manifest.k8shost-new
{ printf '# k8shost-node\t%s\n' "$version"; printf '%s\n' "${new_lines[@]}"; } > "$tmp"
mv -f -- "$tmp" "$manifest"
tmp=
if live_systemd; then systemctl daemon-reload; fi

say "k8shost-node $version in ${root:-/}: $changed file(s) changed"
if [ "$changed" -gt 0 ] && [ -z "${old_version:-}" ]; then
  cat <<EOF
next steps:
  1. containerd: /etc/containerd/config.toml must import the drop-in, at its top:
       version = 2
       imports = ["/etc/containerd/conf.d/*.toml"]
     then set sandbox_image in /etc/containerd/conf.d/10-k8shost.toml.
  2. novanet: copy $share/10-novanet.conflist to /etc/cni/net.d/ and set server_addr and token_file.
  3. edit /etc/k8shost-agent/config.yaml (check it: k8shost-agent config check FILE)
     and /etc/lightningstor-csi/lightningstor-csi.env.
  4. systemctl enable --now k8shost-netns.service && systemctl restart containerd
     systemctl enable --now k8shost-agent.service lightningstor-csi.service
EOF
fi
