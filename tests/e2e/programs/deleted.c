/* An open file that was deleted: its contents come back with it. */
#include <sys/stat.h>

#include "e2e.h"

int main(int argc, char **argv)
{
	static const char text[] = "contents of a deleted file\n";
	char buf[64] = "";
	struct stat st;
	int fd;

	e2e_init(argc, argv);
	fd = open("doomed.txt", O_RDWR | O_CREAT | O_TRUNC, 0640);
	if (fd < 0 || write(fd, text, sizeof(text)) != sizeof(text) || unlink("doomed.txt"))
		e2e_fail("cannot set up the deleted file");
	lseek(fd, 9, SEEK_SET);
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
	e2e_pass();
}
