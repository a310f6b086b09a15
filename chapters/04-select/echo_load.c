/*
 * echo_load.c: the load and the meter of echo_select, echo_threads and
 * echo_fork, which start it. It opens CONNS connections to 127.0.0.1:
 * PORT and, for ROUNDS rounds, sends 16 bytes on every connection, then
 * reads every echo. Then, all connections still open, it measures its
 * parent, the server (and the server's other children: echo_fork's), from
 * /proc: memory (Pss plus page tables) and CPU time, against what they
 * were before; and the growth of the kernel's stacks. Linux-only (/proc).
 *
 * Run (by the servers): echo_load PORT CONNS ROUNDS
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "die.h"
#include "trace.h"

#define MSG 16

static void io_full(int fd, char *buf, int writing) /* all MSG bytes */
{
    for (size_t done = 0; done < MSG;) {
        ssize_t n = writing ? write(fd, buf + done, MSG - done)
                            : read(fd, buf + done, MSG - done);
        if (n == -1 && errno == EINTR)
            continue;
        if (n <= 0)
            die(writing ? "echo_load: write" : "echo_load: read");
        done += (size_t)n;
    }
}

/* The number after "key" in a /proc file; 0 if the file has gone. */
static long proc_kib(const char *path, const char *key)
{
    char line[256];
    long v = 0;
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0; /* a process that just exited */
    while (fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, key, strlen(key)) == 0)
            v = atol(line + strlen(key));
    if (fclose(f) == EOF)
        die("fclose");
    return v;
}

/* The parent of pid, from /proc/PID/stat; -1 if pid has gone. */
static long parent_of(long pid)
{
    char path[64], text[512], state;
    long ppid = -1;
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    size_t n = fread(text, 1, sizeof text - 1, f);
    if (fclose(f) == EOF)
        die("fclose");
    text[n] = '\0';
    char *p = strrchr(text, ')'); /* the name may hold spaces */
    if (p == NULL || sscanf(p + 1, " %c %ld", &state, &ppid) != 2)
        return -1;
    return ppid;
}

/* Nanoseconds on a CPU of all the threads of pid: the first number of
   /proc/PID/task/TID/schedstat, for each thread TID. */
static double cpu_ns(long pid)
{
    char path[64];
    double ns = 0, t;
    snprintf(path, sizeof path, "/proc/%ld/task", pid);
    DIR *d = opendir(path);
    for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL;) {
        snprintf(path, sizeof path, "/proc/%ld/task/%ld/schedstat", pid,
                 atol(e->d_name));
        FILE *f = atol(e->d_name) > 0 ? fopen(path, "r") : NULL;
        if (f != NULL && fscanf(f, "%lf", &t) == 1)
            ns += t;
        if (f != NULL && fclose(f) == EOF)
            die("fclose");
    }
    if (d != NULL && closedir(d) == -1)
        die("closedir");
    return ns;
}

/* Memory (KiB) and CPU time (ns) of the server and its other children. */
static void measure(long server, long *kib, double *cpu)
{
    char a[64], b[64];
    DIR *d = opendir("/proc");
    struct dirent *e;
    *kib = 0;
    *cpu = 0;
    if (d == NULL)
        die("opendir /proc");
    while ((e = readdir(d)) != NULL) {
        long pid = atol(e->d_name);
        if (pid <= 0 || pid == (long)getpid() ||
            (pid != server && parent_of(pid) != server))
            continue;
        snprintf(a, sizeof a, "/proc/%ld/smaps_rollup", pid);
        snprintf(b, sizeof b, "/proc/%ld/status", pid);
        *kib += proc_kib(a, "Pss:") + proc_kib(b, "VmPTE:");
        *cpu += cpu_ns(pid);
    }
    if (closedir(d) == -1)
        die("closedir");
}

static long number(const char *s, long max)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || v < 1 || v > max) {
        fprintf(stderr, "usage: echo_load PORT CONNS ROUNDS (ROUNDS >= 2)\n");
        exit(2);
    }
    return v;
}

int main(int argc, char *argv[])
{
    struct sockaddr_in addr = {.sin_family = AF_INET};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons((uint16_t)number(argc == 4 ? argv[1] : "", 65535));
    int conns = (int)number(argv[2], 100000),
        rounds = (int)number(argv[3], 1L << 30);
    struct rlimit rl; /* a descriptor per connection: raise the limit */
    int *fds = malloc((size_t)conns * sizeof *fds);
    if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || fds == NULL || rounds < 2)
        die("echo_load: getrlimit, malloc, or fewer than 2 rounds");
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
        die("setrlimit");
    long server = (long)getppid(), kib0, kib1;
    long stacks = proc_kib("/proc/meminfo", "KernelStack:");
    double cpu0, cpu1;
    measure(server, &kib0, &cpu0);

    // [rounds]
    char msg[MSG] = "0123456789abcde";
    for (int i = 0; i < conns; i++)
        if ((fds[i] = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
            connect(fds[i], (struct sockaddr *)&addr, sizeof addr) == -1)
            die("echo_load: connect");
    int64_t t0 = trace_now(), t1 = 0;
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < conns; i++) /* everybody sends, */
            io_full(fds[i], msg, 1);
        for (int i = 0; i < conns; i++) /* then everybody reads */
            io_full(fds[i], msg, 0);
        if (r == 0)
            t1 = trace_now();
    }
    int64_t t2 = trace_now();
    // [rounds]

    measure(server, &kib1, &cpu1);
    stacks = proc_kib("/proc/meminfo", "KernelStack:") - stacks;
    char path[64], name[32] = "?"; /* the server's name */
    snprintf(path, sizeof path, "/proc/%ld/comm", server);
    FILE *f = fopen(path, "r");
    if (f == NULL || fscanf(f, "%31s", name) != 1 || fclose(f) == EOF)
        die(path);
    printf("%-12s %4d conns: first round %6.1f ms, then %6.0f round trips/s\n"
           "                   memory %6.1f MiB, %5.1f KiB per conn; kernel "
           "stacks %+5.1f MiB\n"
           "                   server CPU %5.1f us per round trip\n",
           name, conns, (double)(t1 - t0) / 1e6,
           (double)conns * (rounds - 1) / ((double)(t2 - t1) / 1e9),
           (double)kib1 / 1024, (double)(kib1 - kib0) / conns,
           (double)stacks / 1024,
           (cpu1 - cpu0) / 1e3 / ((double)conns * rounds));
    if (fflush(stdout) == EOF)
        die("fflush");
    for (int i = 0; i < conns; i++)
        if (close(fds[i]) == -1)
            die("close");
    free(fds);
    return 0;
}
