/* An interval itimer and a periodic POSIX timer go on firing after restore. */
#include <sys/time.h>
#include <time.h>

#include "e2e.h"

static volatile sig_atomic_t alarms, ticks;
static void on_alarm(int s) { (void)s; alarms++; }
static void on_tick(int s) { (void)s; ticks++; }

int main(int argc, char **argv)
{
	struct itimerval it = {{0, 50000}, {0, 50000}}, got;
	struct itimerspec ts = {{0, 30000000}, {0, 30000000}}, tgot;
	struct sigevent ev;
	timer_t timer;
	int a, t;

	e2e_init(argc, argv);
	signal(SIGALRM, on_alarm);
	signal(SIGUSR2, on_tick);
	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = SIGUSR2;
	if (timer_create(CLOCK_MONOTONIC, &ev, &timer) || timer_settime(timer, 0, &ts, NULL) ||
	    setitimer(ITIMER_REAL, &it, NULL))
		e2e_fail("cannot arm the timers: %s", strerror(errno));
	e2e_ready(argc, argv);
	e2e_wait();
	a = alarms, t = ticks;
	while (alarms < a + 3 || ticks < t + 3) /* both still fire */
		pause();
	getitimer(ITIMER_REAL, &got);
	if (got.it_interval.tv_usec != 50000)
		e2e_fail("the itimer's interval is %ld us", (long)got.it_interval.tv_usec);
	if (timer_gettime(timer, &tgot) || tgot.it_interval.tv_nsec != 30000000)
		e2e_fail("the POSIX timer (or its id) is gone");
	e2e_pass();
}
