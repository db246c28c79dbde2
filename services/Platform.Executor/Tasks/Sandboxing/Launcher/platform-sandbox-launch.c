/*
 * platform-sandbox-launch: the first program of a sandboxed task (Sandbox.cs builds its arguments).
 *
 * It does in one process what took a shell, nsenter and setpriv, one exec each: joins the task's cgroups,
 * enters its network namespace, opens the seccomp program on fd 3 for bubblewrap, becomes the unprivileged
 * task user with no capabilities, an empty bounding set and no_new_privs, and then runs bubblewrap.
 * Every step happens before the task's first instruction, and any failure ends it before the task runs.
 *
 *   platform-sandbox-launch [--cgroup PROCS_FILE]... [--netns PATH] [--seccomp FILE]
 *                           [--user UID:GID] [--new-session] -- PROGRAM [ARGUMENT]...
 *
 * (--new-session alone is how an unsandboxed task starts: a static binary's exec costs a fraction of setsid's.)
 *
 * Inside the sandbox the same binary, bound read-only, is the task's first program:
 *
 *   platform-sandbox-launch --run-task
 *
 * reads the task from stdin (its command and then its environment's NAME=value entries, each ended by a NUL
 * byte, up to end of file) and runs /bin/sh -c COMMAND with exactly that environment and stdin on /dev/null.
 * So a sandbox can be made before its task is known (Sandbox.cs keeps a few ready), and the task's variables,
 * its app's secrets among them, are never in the arguments or environment of the launcher or bubblewrap.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SECCOMP_FD 3

static void fail(const char *step, const char *detail)
{
    fprintf(stderr, "platform-sandbox-launch: %s%s%s: %s\n", step, detail ? " " : "", detail ? detail : "", strerror(errno));
    exit(127);
}

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

/* bubblewrap reads the program from this descriptor (--seccomp 3), which must survive the exec. */
static void open_seccomp(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) fail("opening the seccomp program", path);
    if (fd != SECCOMP_FD)
    {
        if (dup2(fd, SECCOMP_FD) < 0) fail("placing the seccomp program on fd 3", path);
        close(fd);
    }
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

/* As setpriv --reuid --regid --clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs. */
static void become(const char *user)
{
    char *end;
    unsigned long uid = strtoul(user, &end, 10), gid;
    if (*end != ':' || (gid = strtoul(end + 1, &end, 10), *end != '\0') || uid == 0 || gid == 0)
    {
        errno = EINVAL;
        fail("reading --user (UID:GID, never root)", user);
    }
    /* The bounding set can only be emptied while this process still holds CAP_SETPCAP. */
    for (int cap = 0; cap <= last_capability(); cap++)
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) fail("emptying the capability bounding set", NULL);
    if (setgroups(0, NULL) != 0) fail("clearing the supplementary groups", NULL);
    if (setresgid((gid_t)gid, (gid_t)gid, (gid_t)gid) != 0) fail("setting the group", user);
    if (setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) != 0) fail("setting the user", user);
    /* setresuid away from root cleared the effective and permitted sets; the inheritable and ambient ones stay unless cleared. */
    struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    if (syscall(SYS_capset, &header, data) != 0) fail("clearing the capabilities", NULL);
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) fail("clearing the ambient capabilities", NULL);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail("setting no_new_privs", NULL);
}

#define MOST_TASK_BYTES (16 * 1024 * 1024)

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
    if (size == 0) return 0; /* a sandbox made ahead of demand, and given up unused */
    if (spec[size - 1] != '\0')
    {
        errno = EINVAL;
        fail("reading the task", "(not NUL-terminated)");
    }
    size_t entries = 0;
    for (size_t at = 0; at < size; at++) entries += spec[at] == '\0';
    char **environment = calloc(entries, sizeof *environment); /* entries - 1 variables and the terminating NULL */
    if (!environment) fail("reading the task", NULL);
    size_t variable = 0;
    for (char *entry = spec + strlen(spec) + 1; entry < spec + size; entry += strlen(entry) + 1) environment[variable++] = entry;
    int null = open("/dev/null", O_RDONLY);
    if (null < 0 || dup2(null, STDIN_FILENO) < 0) fail("opening /dev/null as stdin", NULL);
    if (null != STDIN_FILENO) close(null);
    char *arguments[] = { "/bin/sh", "-c", spec, NULL };
    execve(arguments[0], arguments, environment);
    fail("starting", arguments[0]);
    return 127;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--run-task") == 0) return run_task();
    const char *netns = NULL, *seccomp = NULL, *user = NULL;
    int i = 1;
    for (; i < argc && strcmp(argv[i], "--") != 0; i += 2)
    {
        if (strcmp(argv[i], "--new-session") == 0)
        {
            /* As setsid(1), without its exec: an unsandboxed task's processes get a group of their own to signal. */
            if (setsid() < 0) fail("starting a new session", NULL);
            i--;
            continue;
        }
        if (i + 1 >= argc)
        {
            errno = EINVAL;
            fail("reading the arguments: no value for", argv[i]);
        }
        if (strcmp(argv[i], "--cgroup") == 0) join_cgroup(argv[i + 1]);
        else if (strcmp(argv[i], "--netns") == 0) netns = argv[i + 1];
        else if (strcmp(argv[i], "--seccomp") == 0) seccomp = argv[i + 1];
        else if (strcmp(argv[i], "--user") == 0) user = argv[i + 1];
        else
        {
            errno = EINVAL;
            fail("reading the arguments: unknown option", argv[i]);
        }
    }
    if (i + 1 >= argc)
    {
        errno = EINVAL;
        fail("reading the arguments: no program after --", NULL);
    }
    /* Nothing this process inherited beyond stdin, stdout and stderr reaches the task: whatever started the
     * executor may have left descriptors open (a pipe of its own), and a task must not write into them. */
    if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0) fail("closing inherited descriptors", NULL);
    /* Order matters: the namespace and the program are reached as root, then root is given up. */
    if (netns) enter_network(netns);
    if (seccomp) open_seccomp(seccomp);
    if (user) become(user);
    execvp(argv[i + 1], argv + i + 1);
    fail("starting", argv[i + 1]);
    return 127;
}
