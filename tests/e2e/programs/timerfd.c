/*
 * timerfds: a periodic CLOCK_MONOTONIC timer (first expiry in 1 s, then
 * every 50 ms); a one-shot CLOCK_REALTIME timer set with an absolute time
 * an hour ahead; a non-blocking one-shot CLOCK_BOOTTIME timer that expired
 * before the dump, its expiration not read yet.
 */
#include <stdint.h>
#include <sys/timerfd.h>
#include <time.h>

#include "e2e.h"

static uint64_t ns(struct timespec t) { return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec; }

int main(int argc, char **argv)
{
	struct itimerspec periodic = {{0, 50000000}, {1, 0}}, abs = {{0, 0}, {0, 0}}, soon = {{0, 0}, {0, 1000000}};
	struct itimerspec cur;
	struct timespec now;
	uint64_t ticks;
	int per, hour, past;

	e2e_init(argc, argv);
	per = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	hour = timerfd_create(CLOCK_REALTIME, 0);
	past = timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK);
	clock_gettime(CLOCK_REALTIME, &now);
	abs.it_value.tv_sec = now.tv_sec + 3600;
	if (per < 0 || hour < 0 || past < 0 || timerfd_settime(per, 0, &periodic, NULL) ||
	    timerfd_settime(hour, TFD_TIMER_ABSTIME, &abs, NULL) || timerfd_settime(past, 0, &soon, NULL))
		e2e_fail("cannot set up the timerfds: %s", strerror(errno));
	usleep(20000);

	e2e_ready(argc, argv);
	e2e_wait();

	if (!(fcntl(per, F_GETFD) & FD_CLOEXEC) || !(fcntl(past, F_GETFL) & O_NONBLOCK))
		e2e_fail("the timerfds' flags changed");
	if (read(past, &ticks, sizeof(ticks)) != sizeof(ticks) || ticks != 1)
		e2e_fail("the expired timerfd lost its expiration");
	if (read(past, &ticks, sizeof(ticks)) != -1 || errno != EAGAIN)
		e2e_fail("the expired timerfd expires again");
	timerfd_gettime(per, &cur);
	if (ns(cur.it_interval) != 50000000)
		e2e_fail("the periodic timerfd's interval is %llu ns", (unsigned long long)ns(cur.it_interval));
	if (read(per, &ticks, sizeof(ticks)) != sizeof(ticks) || ticks < 1)
		e2e_fail("the periodic timerfd does not expire");
	timerfd_gettime(hour, &cur);
	if (cur.it_value.tv_sec < 3500 || cur.it_value.tv_sec > 3600 || cur.it_interval.tv_sec || cur.it_interval.tv_nsec)
		e2e_fail("the hour timerfd expires in %ld s", (long)cur.it_value.tv_sec);
	e2e_pass();
}
