/*
 * A datagram queued from a socket outside the tree bound to a path: the
 * sender goes to a process that is not the tree's (a grandchild whose
 * parent ended), which holds it.  After the restore the datagram is there
 * from the sender's path, an answer sent back reaches the outside process,
 * and the sender's socket file is where it was, with nothing left beside
 * it.
 */
#include <dirent.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "e2e.h"

static socklen_t address(struct sockaddr_un *a, const char *name)
{
	char cwd[256];

	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	/* By absolute path: the dump refuses a sender bound to a relative one. */
	if (!getcwd(cwd, sizeof(cwd)) ||
	    snprintf(a->sun_path, sizeof(a->sun_path), "%s/%s", cwd, name) >= (int)sizeof(a->sun_path))
		e2e_fail("the working directory is too long for a socket's name");
	return sizeof(*a);
}

/* The pid of the outside process, from its file. */
static pid_t outside_pid(void)
{
	FILE *f = fopen("answered", "r");
	int pid = 0;

	if (!f || fscanf(f, "%d", &pid) != 1)
		e2e_fail("the outside process's file says no pid");
	fclose(f);
	return pid;
}

/* Until pid has ended (a zombie for the runner, its subreaper, to reap). */
static void gone(pid_t pid)
{
	char path[64], state = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	for (int i = 0; i < 100; i++) {
		f = fopen(path, "r");
		if (!f || fscanf(f, "%*d (%*[^)]) %c", &state) != 1 || state == 'Z') {
			if (f)
				fclose(f);
			return;
		}
		fclose(f);
		usleep(10000);
	}
	e2e_fail("the outside process does not end");
}

int main(int argc, char **argv)
{
	struct sockaddr_un a, b, from;
	socklen_t alen, blen, flen = sizeof(from);
	struct timeval patience = {10, 0};
	int receiver, sender;
	char buf[16];
	struct stat st;
	struct dirent *e;
	DIR *dir;

	e2e_init(argc, argv);
	alen = address(&a, "receiver.sock");
	blen = address(&b, "sender.sock");
	unlink(a.sun_path), unlink(b.sun_path), unlink("answered");
	receiver = socket(AF_UNIX, SOCK_DGRAM, 0);
	sender = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (receiver < 0 || sender < 0 || bind(receiver, (struct sockaddr *)&a, alen) ||
	    bind(sender, (struct sockaddr *)&b, blen) || sendto(sender, "hello", 5, 0, (struct sockaddr *)&a, alen) != 5 ||
	    setsockopt(sender, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof(patience)))
		e2e_fail("cannot set up: %s", strerror(errno));
	/* The sender goes to a process outside the tree: it waits for the
	 * answer (10 s at most), says so in a file, with its pid, and ends. */
	if (fork() == 0) {
		if (fork() == 0) {
			FILE *f;

			close(receiver);
			if (recv(sender, buf, sizeof(buf), 0) == 6 && !memcmp(buf, "answer", 6) &&
			    (f = fopen("answered.tmp", "w"))) {
				fprintf(f, "%d\n", (int)getpid());
				if (!fclose(f))
					rename("answered.tmp", "answered");
			}
			_exit(0);
		}
		_exit(0);
	}
	wait(NULL);
	close(sender);
	e2e_ready(argc, argv);
	e2e_wait();
	if (recvfrom(receiver, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &flen) != 5 ||
	    memcmp(buf, "hello", 5) || strcmp(from.sun_path, b.sun_path))
		e2e_fail("the datagram is not there from %s", b.sun_path);
	if (sendto(receiver, "answer", 6, 0, (struct sockaddr *)&from, flen) != 6)
		e2e_fail("cannot answer the sender: %s", strerror(errno));
	for (int i = 0; i < 100 && stat("answered", &st); i++)
		usleep(10000);
	if (stat("answered", &st))
		e2e_fail("the answer did not reach the sender outside the tree");
	gone(outside_pid());
	if (lstat(b.sun_path, &st) || !S_ISSOCK(st.st_mode))
		e2e_fail("the sender's socket file is not where it was");
	dir = opendir(".");
	while (dir && (e = readdir(dir)))
		if (strstr(e->d_name, "sender.sock") && strcmp(e->d_name, "sender.sock"))
			e2e_fail("%s is left beside the sender's socket file", e->d_name);
	e2e_pass();
}
