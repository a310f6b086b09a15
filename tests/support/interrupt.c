/*
 * interrupt.c: signals that interrupt a blocked caller (interrupt.h).
 * Shared by the chapter 1 and 2 suites that check a call resumes after
 * EINTR, so that the handlers and the timer are written once.
 */
#include "interrupt.h"
#include "wb.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

static volatile sig_atomic_t usr1_seen;
static volatile sig_atomic_t alarms;

static void on_usr1(int sig)
{
    (void)sig;
    usr1_seen = 1;
}

static void on_alarm(int signo)
{
    (void)signo;
    alarms++;
}

void interrupt_on_usr1(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: the blocked call fails with EINTR */
    WB_EXPECT(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction() failed");
}

int interrupt_usr1_seen(void)
{
    return usr1_seen;
}

void interrupt_usr1_forget(void)
{
    usr1_seen = 0;
}

timer_t interrupt_tick_start(long period_ms)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART */
    WB_EXPECT(sigaction(SIGALRM, &sa, NULL) == 0, "sigaction() failed: %s",
              strerror(errno));
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = SIGALRM;
    timer_t id;
    WB_EXPECT(timer_create(CLOCK_MONOTONIC, &sev, &id) == 0,
              "timer_create() failed: %s", strerror(errno));
    struct itimerspec its = {{0, period_ms * 1000000L},
                             {0, period_ms * 1000000L}};
    WB_EXPECT(timer_settime(id, 0, &its, NULL) == 0,
              "timer_settime() failed: %s", strerror(errno));
    alarms = 0;
    return id;
}

void interrupt_tick_stop(timer_t id)
{
    WB_EXPECT(timer_delete(id) == 0, "timer_delete() failed: %s",
              strerror(errno));
    /* Ignoring also discards a signal the timer sent just before. */
    signal(SIGALRM, SIG_IGN);
}

int interrupt_ticks(void)
{
    return alarms;
}
