/*
 * Open files that were deleted: their contents come back with them.  One
 * was rotated, as logrotate does: a new file has its name, which must be
 * left as it is (the deleted one comes back beside it).
 */
#include <dirent.h>
#include <sys/stat.h>

#include "e2e.h"

int main(int argc, char **argv)
{
	static const char text[] = "contents of a deleted file\n";
	char buf[64] = "";
	struct stat st;
	struct dirent *e;
	DIR *dir;
	int fd, log, fresh;

	e2e_init(argc, argv);
	fd = open("doomed.txt", O_RDWR | O_CREAT | O_TRUNC, 0640);
	if (fd < 0 || write(fd, text, sizeof(text)) != sizeof(text) || unlink("doomed.txt"))
		e2e_fail("cannot set up the deleted file");
	lseek(fd, 9, SEEK_SET);
	log = open("rotated.log", O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
	if (log < 0 || write(log, "old\n", 4) != 4 || unlink("rotated.log") ||
	    (fresh = open("rotated.log", O_WRONLY | O_CREAT | O_EXCL, 0644)) < 0 || write(fresh, "new\n", 4) != 4 ||
	    close(fresh))
		e2e_fail("cannot rotate the log: %s", strerror(errno));
	e2e_ready(argc, argv);
	e2e_wait();
	if (fstat(fd, &st) || st.st_nlink != 0 || (st.st_mode & 0777) != 0640 || st.st_size != sizeof(text))
		e2e_fail("the file is not the deleted one it was");
	if (lseek(fd, 0, SEEK_CUR) != 9)
		e2e_fail("its position moved");
	if (pread(fd, buf, sizeof(text), 0) != sizeof(text) || memcmp(buf, text, sizeof(text)))
		e2e_fail("its contents changed");
	if (access("doomed.txt", F_OK) == 0)
		e2e_fail("the file came back with a name");
	if (fstat(log, &st) || st.st_nlink != 0 || st.st_size != 4 || write(log, "more\n", 5) != 5)
		e2e_fail("the rotated log is not the deleted one it was");
	fresh = open("rotated.log", O_RDONLY);
	if (fresh < 0 || read(fresh, buf, sizeof(buf)) != 4 || memcmp(buf, "new\n", 4))
		e2e_fail("the log that took the rotated one's name changed");
	dir = opendir(".");
	while (dir && (e = readdir(dir)))
		if (strstr(e->d_name, "rotated.log") && strcmp(e->d_name, "rotated.log"))
			e2e_fail("%s is left beside the log", e->d_name);
	e2e_pass();
}
