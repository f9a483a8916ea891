/*
 * rss.c - runs a command and prints its peak resident set size in bytes.
 * bench.py measures trainers through this small process: a child forked
 * from Python itself would count the interpreter's pages in its peak.
 */
#define _DEFAULT_SOURCE   /* wait4 */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct rusage ru;
	int status;
	pid_t pid;

	if (argc < 2) {
		fprintf(stderr, "usage: rss COMMAND [ARG...]\n");
		return 2;
	}
	pid = fork();
	if (pid == 0) {
		execvp(argv[1], argv + 1);
		_exit(127);
	}
	if (pid < 0 || wait4(pid, &status, 0, &ru) < 0)
		return 2;
	printf("%ld\n", ru.ru_maxrss * 1024L);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
}
