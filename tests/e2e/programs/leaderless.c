/* A process whose main thread has ended (pthread_exit) while another runs:
 * for errors.py, which expects criu dump to refuse it and the process to
 * go on; the other thread waits for SIGTERM and reports. */
#include <pthread.h>

#include "e2e.h"

static void *wait_for_term(void *arg)
{
	(void)arg;
	e2e_wait();
	e2e_pass();
}

int main(int argc, char **argv)
{
	pthread_t t;

	e2e_init(argc, argv);
	if (pthread_create(&t, NULL, wait_for_term, NULL))
		e2e_fail("pthread_create");
	e2e_ready(argc, argv);
	pthread_exit(NULL);
}
