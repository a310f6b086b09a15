/*
 * crash.c: dying of a signal on purpose (crash.h). Shared by the
 * chapter 2 suites whose children must end the way a crash ends, so
 * that the parent sees a signal, not an exit code.
 */
#include "crash.h"

#include <signal.h>
#include <string.h>
#include <sys/resource.h>

void crash_with(int sig)
{
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigaction(sig, &sa, NULL);
    raise(sig);
}
