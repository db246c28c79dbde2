#!/usr/bin/env bash
# What each layer of the task sandbox costs per start, on this machine: N starts of /bin/true through the
# chain the executor builds (Tasks/Sandboxing/Sandbox.cs), adding one layer at a time. Run as root after
# eng/setup.sh (it needs the platform-task user, bubblewrap, slirp4netns, nftables and libseccomp). The rows
# build up bubblewrap's chain, the executor's fallback; the last but one is the launcher's own sandbox.
# Prints milliseconds per start (wall) for each row. Usage: eng/sandbox-layers.sh [N=200]
set -euo pipefail
n="${1:-200}"
work="$(mktemp -d /tmp/sandbox-layers.XXXXXX)"
trap 'umount "$work/ns" "$work/kept-ns" 2>/dev/null; rmdir "$kept_cg" "$kept_pids" "$kept_cpu" 2>/dev/null; rm -rf "$work"' EXIT
uid="$(id -u platform-task)"; gid="$(id -g platform-task)"
binds=() launcher_binds=()
for d in usr bin sbin lib lib32 lib64 libx32 etc opt; do
  if [ -L "/$d" ]; then binds+=(--symlink "$(readlink "/$d")" "/$d"); launcher_binds+=(--link "$(readlink "/$d")" "/$d")
  elif [ -d "/$d" ]; then binds+=(--ro-bind "/$d" "/$d"); launcher_binds+=(--ro "/$d"); fi
done
bwrap_base=(bwrap --unshare-pid --unshare-ipc --unshare-uts --unshare-cgroup-try --die-with-parent --new-session "${binds[@]}"
  --ro-bind /sys /sys --dev /dev --proc /proc --size 1048576 --tmpfs /home/task --dir /home/task/tmp --symlink /home/task/tmp /tmp
  --chdir /home/task --remount-ro /)
user=(setpriv "--reuid=$uid" "--regid=$gid" --clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs --)
# The executor compiles its filter with libseccomp at start-up; here the same library through a tiny C program.
cat > "$work/filter.c" <<'C'
#include <seccomp.h>
#include <stdio.h>
int main(void) {
  scmp_filter_ctx c = seccomp_init(SCMP_ACT_ALLOW);
  const char *denied[] = {"mount","umount2","pivot_root","unshare","setns","ptrace","init_module","finit_module","bpf","perf_event_open","keyctl","add_key","kexec_load","clock_settime","settimeofday",0};
  for (int i = 0; denied[i]; i++) seccomp_rule_add(c, SCMP_ACT_ERRNO(1), seccomp_syscall_resolve_name(denied[i]), 0);
  return seccomp_export_bpf(c, 1);
}
C
# The headers are only needed here (the executor loads the library at run time): installed when missing.
[ -f /usr/include/seccomp.h ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libseccomp-dev >/dev/null 2>&1 || true
if cc -o "$work/filter" "$work/filter.c" -lseccomp 2>/dev/null; then "$work/filter" > "$work/filter.bpf"; else echo "(no C compiler or libseccomp-dev: the seccomp row is skipped)"; fi
parent="/sys/fs/cgroup/memory$(awk -F: '$2 ~ /(^|,)memory(,|$)/ {print $3}' /proc/self/cgroup)"

cpu_ticks() { # this shell's CPU and its reaped children's, in clock ticks
  local fields; read -r -a fields < <(sed 's/.*) //' "/proc/$$/stat")
  echo $(( fields[11] + fields[12] + fields[13] + fields[14] ))
}
machine_ticks() { awk '/^cpu /{print $2+$3+$4+$7+$8}' /proc/stat; } # every CPU's busy time, the kernel's workers too
time_it() { # label, then the command run per start
  local label="$1"; shift
  local start end cpu_start cpu_end machine_start machine_end
  start=$(date +%s%N); cpu_start=$(cpu_ticks); machine_start=$(machine_ticks)
  for _ in $(seq 1 "$n"); do "$@" >/dev/null; done
  end=$(date +%s%N); cpu_end=$(cpu_ticks); machine_end=$(machine_ticks)
  printf '%-66s %6.2f ms wall %6.2f ms CPU %6.2f ms machine\n' "$label" "$(echo "($end - $start) / $n / 1000000" | bc -l)" \
    "$(echo "($cpu_end - $cpu_start) * 1000 / $(getconf CLK_TCK) / $n" | bc -l)" "$(echo "($machine_end - $machine_start) * 1000 / $(getconf CLK_TCK) / $n" | bc -l)"
}
run_plain() { "${bwrap_base[@]}" --cap-drop ALL -- /bin/true; }
run_user() { "${user[@]}" "${bwrap_base[@]}" --unshare-user --disable-userns -- /bin/true; }
run_seccomp() { sh -c 'exec 3< "$0" && exec "$@"' "$work/filter.bpf" "${user[@]}" "${bwrap_base[@]}" --unshare-user --disable-userns --seccomp 3 -- /bin/true; }
run_cgroups() {
  local cg="$parent/layers-$$-$RANDOM" pids="/sys/fs/cgroup/pids/layers-$$-$RANDOM" cpu="/sys/fs/cgroup/cpu/layers-$$-$RANDOM"
  mkdir "$cg" "$pids" "$cpu"; echo 268435456 > "$cg/memory.limit_in_bytes"; echo 1024 > "$pids/pids.max"; echo 256 > "$cpu/cpu.shares"
  sh -c 'echo $$ > "$1" && echo $$ > "$2" && echo $$ > "$3" && exec 3< "$4" && shift 4 && exec "$@"' x "$cg/cgroup.procs" "$pids/cgroup.procs" "$cpu/cgroup.procs" "$work/filter.bpf" \
    "${user[@]}" "${bwrap_base[@]}" --unshare-user --disable-userns --seccomp 3 -- /bin/true
  rmdir "$cg" "$pids" "$cpu" 2>/dev/null || true
}
run_network() {
  local ns="$work/ns"; : > "$ns"
  unshare --net="$ns" -- nft -f - <<'NFT'
table inet platform {
  chain output {
    type filter hook output priority 0; policy accept;
    oifname "lo" accept
    ip daddr { 127.0.0.0/8, 169.254.0.0/16 } reject
  }
}
NFT
  slirp4netns --configure --mtu=65520 --disable-host-loopback --enable-sandbox --enable-seccomp --netns-type=path --ready-fd=4 "$ns" tap0 4>"$work/ready" >/dev/null 2>&1 &
  local slirp=$!
  while [ ! -s "$work/ready" ]; do sleep 0.001; done
  nsenter --net="$ns" -- "${user[@]}" "${bwrap_base[@]}" --unshare-user --disable-userns -- /bin/true
  kill "$slirp"; wait "$slirp" 2>/dev/null || true; : > "$work/ready"; umount "$ns"
}

kept_cg="$parent/layers-kept-$$" kept_pids="/sys/fs/cgroup/pids/layers-kept-$$" kept_cpu="/sys/fs/cgroup/cpu/layers-kept-$$"
run_kept_cgroups() {
  sh -c 'echo $$ > "$1" && echo $$ > "$2" && echo $$ > "$3" && exec 3< "$4" && shift 4 && exec "$@"' x "$kept_cg/cgroup.procs" "$kept_pids/cgroup.procs" "$kept_cpu/cgroup.procs" "$work/filter.bpf" \
    "${user[@]}" "${bwrap_base[@]}" --unshare-user --disable-userns --seccomp 3 -- /bin/true
}
run_kept_all() {
  sh -c 'echo $$ > "$1" && echo $$ > "$2" && echo $$ > "$3" && exec 3< "$4" && shift 4 && exec "$@"' x "$kept_cg/cgroup.procs" "$kept_pids/cgroup.procs" "$kept_cpu/cgroup.procs" "$work/filter.bpf" \
    nsenter --net="$work/kept-ns" -- "${user[@]}" "${bwrap_base[@]}" --unshare-user --disable-userns --seccomp 3 -- /bin/true
}
run_launcher() { # the launcher's own sandbox, as the executor now starts a task
  "$work/launch" --cgroup "$kept_cg/cgroup.procs" --cgroup "$kept_pids/cgroup.procs" --cgroup "$kept_cpu/cgroup.procs" --netns "$work/kept-ns" \
    "${launcher_seccomp[@]}" --user "$uid:$gid" --root "$work/root" "${launcher_binds[@]}" --ro /sys --scratch-bytes 1048576 -- /bin/true
}
mkdir "$work/root"
cc -O2 -static -o "$work/launch" "$(dirname "${BASH_SOURCE[0]}")/../services/Platform.Executor/Tasks/Sandboxing/Launcher/platform-sandbox-launch.c" 2>/dev/null || true

echo "sandbox start cost, $n starts each, $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
echo "(CPU: the starts' own processes; machine: every CPU's, with the kernel's workers that free namespaces and cgroups afterwards, and whatever else runs)"
time_it "bubblewrap as root, capabilities dropped" run_plain
time_it "+ unprivileged user in a user namespace" run_user
[ -s "$work/filter.bpf" ] && time_it "+ seccomp filter" run_seccomp
[ -s "$work/filter.bpf" ] && time_it "+ memory, pids, cpu cgroups (made, joined, removed)" run_cgroups
mkdir "$kept_cg" "$kept_pids" "$kept_cpu"; echo 268435456 > "$kept_cg/memory.limit_in_bytes"; echo 1024 > "$kept_pids/pids.max"; echo 256 > "$kept_cpu/cpu.shares"
: > "$work/kept-ns"; unshare --net="$work/kept-ns" true
if [ -s "$work/filter.bpf" ]; then
  time_it "+ the same cgroups kept from start to start (joined only)" run_kept_cgroups
  time_it "+ a network namespace kept from start to start (sh, nsenter, setpriv)" run_kept_all
fi
launcher_seccomp=(); [ -s "$work/filter.bpf" ] && launcher_seccomp=(--seccomp "$work/filter.bpf")
[ -x "$work/launch" ] && time_it "platform-sandbox-launch's own sandbox (the executor now)$([ -s "$work/filter.bpf" ] || echo ', no seccomp')" run_launcher
umount "$work/kept-ns"; rmdir "$kept_cg" "$kept_pids" "$kept_cpu"
time_it "user namespace + a network namespace made for the start" run_network
