/*
 * platform-sandbox-launch: the first program of a task (Sandbox.cs builds its arguments).
 *
 * For a sandboxed task it is the whole container runtime, in one static binary and three processes: it joins
 * the task's cgroups and network namespace, makes the task's mount, PID, IPC, UTS and cgroup namespaces, builds
 * its root (read-only host directories, /dev, /proc, a size-limited scratch tmpfs), becomes the unprivileged
 * task user with no capabilities, an empty bounding set and no_new_privs, installs the seccomp filter and runs
 * the task. Every step happens before the task's first instruction, and any failure ends it before the task
 * runs. (It replaced bubblewrap, whose start per task re-read /proc/self/mountinfo for every bind, loaded
 * itself dynamically and needed a user namespace: docs/benchmarks.md. With no user namespace, it is the seccomp
 * filter that keeps a task from making namespaces of its own, as in Docker.)
 *
 *   platform-sandbox-launch [--cgroup PROCS_FILE]... [--netns PATH] [--seccomp FILE] [--user UID:GID]
 *                           --root DIR [--no-network] [--ro DIR]... [--link TARGET PATH]... [--resolv-conf FILE]
 *                           --scratch-bytes N [-- PROGRAM [ARGUMENT]...]
 *
 * --root names an empty host directory on which, in the task's own mount namespace, its root is built (the
 * host never sees it). Without "-- PROGRAM", the task is read from stdin: the number of its program's words,
 * the words (the program and its arguments: /bin/sh -c COMMAND, or a plain command's words, TaskCommand.cs),
 * then its environment's NAME=value entries, each ended by a NUL byte, up to end of file; the program is found
 * on that environment's PATH and runs with exactly that environment and stdin on /dev/null. So a sandbox can be
 * made before its task is known (Sandbox.cs keeps a few ready), and the task's variables, its app's secrets
 * among them, are never in any process's arguments or environment but the task's own. End of file with
 * nothing read ends the sandbox.
 *
 * The processes: the monitor (the executor's child, outside the namespaces) waits for init and exits with
 * its status, and kills it if the executor goes away; init (PID 1 of the task's namespace, the task user)
 * reaps orphans and exits with the task's status, 128 + the signal when it was killed; its exit ends every
 * other process of the namespace, double-forked daemons too.
 *
 *   platform-sandbox-launch --new-session -- PROGRAM [ARGUMENT]...
 *
 * is how an unsandboxed task starts: as setsid(1), in a session of its own (a static binary's exec costs a
 * fraction of setsid's).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/mount.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MOST_BINDS 64
#define MOST_TASK_BYTES (16 * 1024 * 1024)
#define MOST_SECCOMP_BYTES (64 * 1024)

static void fail(const char *step, const char *detail)
{
    fprintf(stderr, "platform-sandbox-launch: %s%s%s: %s\n", step, detail ? " " : "", detail ? detail : "", strerror(errno));
    exit(127);
}

static void invalid(const char *step, const char *detail)
{
    errno = EINVAL;
    fail(step, detail);
}

/* What the arguments ask for. */
static struct
{
    const char *netns, *seccomp, *user, *root, *resolv_conf;
    const char *ro[MOST_BINDS];
    const char *link_target[MOST_BINDS], *link_path[MOST_BINDS];
    int ros, links, no_network;
    unsigned long long scratch_bytes;
    char **program;
} options;

static uid_t task_uid;
static gid_t task_gid;

static void join_cgroup(const char *procs)
{
    char pid[24];
    int length = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
    int fd = open(procs, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, pid, (size_t)length) != length) fail("joining the cgroup", procs);
    close(fd);
}

static void enter_network(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) fail("entering the network namespace", path);
    close(fd);
}

/* The seccomp program, a compiled BPF array (SeccompFilter.cs), read while the host's files are in view. */
static struct sock_fprog read_seccomp(const char *path)
{
    struct sock_fprog program = { 0, NULL };
    char *bytes = malloc(MOST_SECCOMP_BYTES);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (!bytes || fd < 0) fail("opening the seccomp program", path);
    size_t size = 0;
    for (ssize_t n; (n = read(fd, bytes + size, MOST_SECCOMP_BYTES - size)) != 0; size += (size_t)n)
        if (n < 0 || size + (size_t)n == MOST_SECCOMP_BYTES) fail("reading the seccomp program", path);
    close(fd);
    if (size == 0 || size % sizeof(struct sock_filter) != 0) invalid("reading the seccomp program (not whole BPF instructions)", path);
    program.len = (unsigned short)(size / sizeof(struct sock_filter));
    program.filter = (struct sock_filter *)bytes;
    return program;
}

static void read_user(const char *user)
{
    char *end;
    unsigned long uid = strtoul(user, &end, 10), gid;
    if (*end != ':' || (gid = strtoul(end + 1, &end, 10), *end != '\0') || uid == 0 || gid == 0)
        invalid("reading --user (UID:GID, never root)", user);
    task_uid = (uid_t)uid;
    task_gid = (gid_t)gid;
}

static int last_capability(void)
{
    int last = CAP_LAST_CAP;
    FILE *file = fopen("/proc/sys/kernel/cap_last_cap", "re");
    if (file)
    {
        if (fscanf(file, "%d", &last) != 1) last = CAP_LAST_CAP;
        fclose(file);
    }
    return last;
}

/*
 * As setpriv --reuid --regid --clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs; without a task
 * user, root with no capabilities at all (only where Executor:Sandbox:AllowWeakerIsolation let it start).
 */
static void become_task_user(void)
{
    /* The bounding set can only be emptied while this process still holds CAP_SETPCAP. */
    int last = last_capability();
    for (int cap = 0; cap <= last; cap++)
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) fail("emptying the capability bounding set", NULL);
    if (options.user)
    {
        if (setgroups(0, NULL) != 0) fail("clearing the supplementary groups", NULL);
        if (setresgid(task_gid, task_gid, task_gid) != 0) fail("setting the group", options.user);
        if (setresuid(task_uid, task_uid, task_uid) != 0) fail("setting the user", options.user);
    }
    /* setresuid away from root cleared the effective and permitted sets; the inheritable and ambient ones stay unless cleared. */
    struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    if (syscall(SYS_capset, &header, data) != 0) fail("clearing the capabilities", NULL);
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) fail("clearing the ambient capabilities", NULL);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail("setting no_new_privs", NULL);
}

/* The exit status a shell would give: the code, or 128 + the signal that ended it. */
static int exit_code(int status)
{
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Becomes the task's program, found on PATH; a program that cannot be run exits as under /bin/sh: 127 when it
 * is not there, 126 otherwise. */
static void exec_task(char **program)
{
    execvp(program[0], program);
    int code = errno == ENOENT ? 127 : 126;
    fprintf(stderr, "%s: %s\n", program[0], errno == ENOENT ? "not found" : strerror(errno));
    exit(code);
}

static int run_task(void)
{
    size_t size = 0, capacity = 64 * 1024;
    char *spec = malloc(capacity);
    if (!spec) fail("reading the task", NULL);
    for (;;)
    {
        if (size == capacity)
        {
            if (capacity >= MOST_TASK_BYTES)
            {
                errno = E2BIG;
                fail("reading the task", NULL);
            }
            capacity *= 2;
            if (!(spec = realloc(spec, capacity))) fail("reading the task", NULL);
        }
        ssize_t n = read(STDIN_FILENO, spec + size, capacity - size);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail("reading the task", NULL);
        if (n == 0) break;
        size += (size_t)n;
    }
    if (size == 0) exit(0); /* a sandbox made ahead of demand, and given up unused */
    if (spec[size - 1] != '\0') invalid("reading the task", "(not NUL-terminated)");
    size_t entries = 0;
    for (size_t at = 0; at < size; at++) entries += spec[at] == '\0';
    /* The first entry counts the program's words; every later entry is a word or a variable. */
    char *end;
    errno = 0;
    unsigned long words = strtoul(spec, &end, 10);
    if (errno || end == spec || *end || words == 0 || words > entries - 1) invalid("reading the task", "(no program)");
    char **program = calloc(words + 1, sizeof *program);
    char **environment = calloc(entries - words, sizeof *environment); /* the variables and the terminating NULL */
    if (!program || !environment) fail("reading the task", NULL);
    size_t word = 0, variable = 0;
    for (char *entry = spec + strlen(spec) + 1; entry < spec + size; entry += strlen(entry) + 1)
        if (word < words) program[word++] = entry;
        else environment[variable++] = entry;
    int null = open("/dev/null", O_RDONLY);
    if (null < 0 || dup2(null, STDIN_FILENO) < 0) fail("opening /dev/null as stdin", NULL);
    if (null != STDIN_FILENO) close(null);
    environ = environment; /* the task's own PATH finds its program */
    exec_task(program);
    return 127;
}

/* ---- the task's root, built on --root inside its own mount namespace ---- */

static char *at_root(const char *path)
{
    static char joined[4096];
    if ((size_t)snprintf(joined, sizeof joined, "%s%s", options.root, path) >= sizeof joined) invalid("a path too long", path);
    return joined;
}

static void make_directory(const char *path, mode_t mode)
{
    if (mkdir(at_root(path), mode) != 0 && errno != EEXIST) fail("making the directory", path);
}

static void make_file(const char *path)
{
    int fd = open(at_root(path), O_WRONLY | O_CREAT | O_CLOEXEC, 0444);
    if (fd < 0) fail("making the file", path);
    close(fd);
}

static void make_link(const char *target, const char *path)
{
    if (symlink(target, at_root(path)) != 0) fail("making the symlink", path);
}

static void mount_fs(const char *type, const char *path, unsigned long flags, const char *data)
{
    if (mount(type, at_root(path), type, flags, data) != 0) fail("mounting", path);
}

static void set_attributes(const char *target, unsigned long long attributes, unsigned int flags)
{
    struct mount_attr change = { .attr_set = attributes };
    if (syscall(SYS_mount_setattr, AT_FDCWD, target, flags, &change, sizeof change) != 0) fail("setting the mount's attributes", target);
}

/* The whole tree under TARGET (submounts too: /sys has the host's cgroup mounts) read-only, no setuid, no devices. */
static void read_only(const char *target)
{
    set_attributes(target, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, AT_RECURSIVE);
}

/* A host directory, read-only, or a device node, usable but neither setuid nor executable. */
static void bind_path(const char *source, const char *path, int device)
{
    if (mount(source, at_root(path), NULL, MS_BIND | (device ? 0 : MS_REC), NULL) != 0) fail("binding", source);
    if (device) set_attributes(at_root(path), MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, 0);
    else read_only(at_root(path));
}

static void build_root(void)
{
    /* Nothing mounted from here on reaches the host, and nothing the host mounts later reaches the task. */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) fail("making the mounts private", NULL);
    if (mount("tmpfs", options.root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m") != 0) fail("mounting the root", options.root);

    for (int i = 0; i < options.ros; i++)
    {
        make_directory(options.ro[i], 0755);
        bind_path(options.ro[i], options.ro[i], 0);
    }
    for (int i = 0; i < options.links; i++) make_link(options.link_target[i], options.link_path[i]);
    if (options.resolv_conf) bind_path(options.resolv_conf, "/etc/resolv.conf", 0);

    /* /dev: the harmless devices, a terminal multiplexer of the task's own and the usual links, as bubblewrap's --dev. */
    make_directory("/dev", 0755);
    mount_fs("tmpfs", "/dev", MS_NOSUID | MS_NODEV, "mode=0755,size=64k");
    static const char *const devices[] = { "null", "zero", "full", "random", "urandom", "tty" };
    for (size_t i = 0; i < sizeof devices / sizeof *devices; i++)
    {
        char host[32], inside[32];
        snprintf(host, sizeof host, "/dev/%s", devices[i]);
        snprintf(inside, sizeof inside, "/dev/%s", devices[i]);
        make_file(inside);
        bind_path(host, inside, 1);
    }
    make_directory("/dev/pts", 0755);
    mount_fs("devpts", "/dev/pts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620");
    make_link("pts/ptmx", "/dev/ptmx");
    make_link("/proc/self/fd", "/dev/fd");
    make_link("/proc/self/fd/0", "/dev/stdin");
    make_link("/proc/self/fd/1", "/dev/stdout");
    make_link("/proc/self/fd/2", "/dev/stderr");
    /* POSIX shared memory lives in the scratch directory, inside the task's disk limit. */
    make_link("/home/task/tmp", "/dev/shm");

    /* /proc of the task's PID namespace, with the old knobs that could reach the host covered read-only. */
    make_directory("/proc", 0555);
    mount_fs("proc", "/proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    static const char *const covered[] = { "/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus" };
    for (size_t i = 0; i < sizeof covered / sizeof *covered; i++)
    {
        char path[4096];
        snprintf(path, sizeof path, "%s", at_root(covered[i]));
        if (access(path, F_OK) != 0) continue;
        if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) != 0) fail("covering", covered[i]);
        read_only(path);
    }

    /* The one writable place: the task user's scratch directory, /tmp inside it, the size of its disk limit. */
    char scratch[128];
    snprintf(scratch, sizeof scratch, "mode=0755,size=%llu,uid=%u,gid=%u", options.scratch_bytes, (unsigned)task_uid, (unsigned)task_gid);
    make_directory("/home", 0755);
    make_directory("/home/task", 0755);
    mount_fs("tmpfs", "/home/task", MS_NOSUID | MS_NODEV, scratch);
    make_directory("/home/task/tmp", 0755);
    if (chown(at_root("/home/task/tmp"), task_uid, task_gid) != 0) fail("giving the task its /tmp", NULL);
    make_link("/home/task/tmp", "/tmp");

    /* The root itself read-only (its submounts keep their own flags), then it becomes "/" and the host's view goes. */
    if (mount(NULL, options.root, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) != 0) fail("making the root read-only", NULL);
    if (chdir(options.root) != 0 || syscall(SYS_pivot_root, ".", ".") != 0) fail("pivoting to the root", options.root);
    if (umount2(".", MNT_DETACH) != 0) fail("detaching the host's mounts", NULL);
    if (chdir("/home/task") != 0) fail("entering", "/home/task");
}

/* A new network namespace (--no-network) has only loopback, and that down. */
static void loopback_up(void)
{
    struct ifreq request;
    memset(&request, 0, sizeof request);
    strcpy(request.ifr_name, "lo");
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &request) != 0) fail("reading loopback's flags", NULL);
    request.ifr_flags |= IFF_UP;
    if (ioctl(fd, SIOCSIFFLAGS, &request) != 0) fail("bringing loopback up", NULL);
    close(fd);
}

/* PID 1 of the task's namespace: builds its world, becomes the task user, starts the task and reaps until it ends. */
static void init(struct sock_fprog *seccomp)
{
    /* The monitor is single-threaded, so this fires when it dies and not when some thread of it does. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) fail("tying init to the monitor", NULL);
    build_root();
    if (options.no_network) loopback_up();
    /* A session of its own: no terminal of the executor's to push input into (TIOCSTI). */
    if (setsid() < 0) fail("starting a new session", NULL);
    become_task_user();
    /* Changing the user cleared the death signal: set again, for the task's whole life. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) fail("tying init to the monitor", NULL);

    pid_t task = fork();
    if (task < 0) fail("starting the task", NULL);
    if (task == 0)
    {
        if (seccomp && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, seccomp, 0, 0) != 0) fail("installing the seccomp filter", NULL);
        if (!options.program) run_task();
        exec_task(options.program);
    }
    for (;;)
    {
        int status;
        pid_t ended = wait(&status);
        if (ended == task) exit(exit_code(status));
        if (ended < 0 && errno != EINTR) fail("waiting for the task", NULL);
    }
}

/* The executor's child: waits for init and exits as it did; if the executor dies first, the task dies with it. */
static void monitor(pid_t child, int executor)
{
    int child_fd = (int)syscall(SYS_pidfd_open, child, 0);
    if (child_fd < 0)
    {
        kill(child, SIGKILL);
        fail("watching init", NULL);
    }
    struct pollfd watched[2] = { { child_fd, POLLIN, 0 }, { executor, POLLIN, 0 } };
    while (!(watched[0].revents & POLLIN))
    {
        if (poll(watched, 2, -1) < 0 && errno != EINTR) fail("watching init", NULL);
        if (watched[1].revents & POLLIN)
        {
            kill(child, SIGKILL);
            watched[1].fd = -1; /* poll ignores it from now on */
        }
    }
    int status;
    while (waitpid(child, &status, 0) < 0)
        if (errno != EINTR) fail("waiting for init", NULL);
    exit(exit_code(status));
}

static void sandbox(pid_t executor_pid)
{
    struct sock_fprog seccomp, *filter = NULL;
    if (options.seccomp) filter = (seccomp = read_seccomp(options.seccomp), &seccomp);
    /* The executor's process as a descriptor: it becomes readable when the executor (every thread of it) is gone. */
    int executor = (int)syscall(SYS_pidfd_open, executor_pid, 0);
    if (executor < 0) fail("watching the executor", NULL);
    if (getppid() != executor_pid) exit(127); /* it is gone already */
    int namespaces = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP | (options.no_network ? CLONE_NEWNET : 0);
    if (unshare(namespaces) != 0) fail("making the task's namespaces", NULL);
    pid_t child = fork();
    if (child < 0) fail("starting init", NULL);
    if (child > 0) monitor(child, executor);
    close(executor);
    init(filter);
}

int main(int argc, char **argv)
{
    pid_t executor = getppid();
    int new_session = 0, i = 1;
    for (; i < argc && strcmp(argv[i], "--") != 0; i += 2)
    {
        const char *option = argv[i];
        if (strcmp(option, "--new-session") == 0 || strcmp(option, "--no-network") == 0)
        {
            *(strcmp(option, "--new-session") == 0 ? &new_session : &options.no_network) = 1;
            i--;
            continue;
        }
        if (i + 1 >= argc) invalid("reading the arguments: no value for", option);
        const char *value = argv[i + 1];
        if (strcmp(option, "--cgroup") == 0) join_cgroup(value);
        else if (strcmp(option, "--netns") == 0) options.netns = value;
        else if (strcmp(option, "--seccomp") == 0) options.seccomp = value;
        else if (strcmp(option, "--user") == 0) read_user(options.user = value);
        else if (strcmp(option, "--root") == 0) options.root = value;
        else if (strcmp(option, "--resolv-conf") == 0) options.resolv_conf = value;
        else if (strcmp(option, "--scratch-bytes") == 0)
        {
            char *end;
            options.scratch_bytes = strtoull(value, &end, 10);
            if (*end != '\0' || options.scratch_bytes == 0) invalid("reading --scratch-bytes", value);
        }
        else if (strcmp(option, "--ro") == 0 && options.ros < MOST_BINDS)
        {
            if (value[0] != '/') invalid("reading --ro (an absolute path)", value);
            options.ro[options.ros++] = value;
        }
        else if (strcmp(option, "--link") == 0 && options.links < MOST_BINDS && i + 2 < argc && argv[i + 2][0] == '/')
        {
            options.link_target[options.links] = value;
            options.link_path[options.links++] = argv[i + 2];
            i++;
        }
        else invalid("reading the arguments: unknown option, or one too many", option);
    }
    if (i + 1 < argc) options.program = argv + i + 1;
    else if (!options.root) invalid("reading the arguments: no program after --", NULL);
    if (options.root && (options.root[0] != '/' || options.scratch_bytes == 0)) invalid("reading the arguments: --root needs an absolute path and --scratch-bytes", NULL);

    /* Nothing this process inherited beyond stdin, stdout and stderr reaches the task: whatever started the
     * executor may have left descriptors open (a pipe of its own), and a task must not write into them. */
    if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0) fail("closing inherited descriptors", NULL);
    if (new_session && setsid() < 0) fail("starting a new session", NULL);
    /* Order matters: the namespace and the files are reached as root, then root is given up. */
    if (options.netns) enter_network(options.netns);
    if (options.root) sandbox(executor);
    if (options.seccomp || options.user) invalid("reading the arguments: --seccomp and --user need --root", NULL);
    exec_task(options.program);
    return 127;
}
