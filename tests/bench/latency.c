/*
 * latency.c — per-transaction round-trip latency of a line-at-a-time scorer through pipes.
 *
 * Not part of `make test`; scripts/bench_score.sh builds and runs it:
 *
 *	cc -O2 -std=c11 -D_GNU_SOURCE -o build/latency tests/bench/latency.c
 *	build/latency [-n ROWS] [-w WARMUP] CSV -- COMMAND [ARGS...]
 *
 * It starts COMMAND with its standard input and output on pipes, writes the CSV's header line,
 * then for each of the next WARMUP + ROWS lines (defaults 10,000 and 100,000): writes the line,
 * reads one line back, and times that round trip with CLOCK_MONOTONIC.  The command must answer
 * each input line with exactly one output line and no header (fd-score --flush --format
 * ndjson).  The first WARMUP round trips are not counted (page faults, caches, the feature
 * state's first allocations).  It prints the count, mean, p50, p90, p99, p99.9 and the maximum
 * in microseconds, and the rows/s of the whole timed run; the exit status is the command's
 * (1 when it fails, or answers out of step).
 *
 * What is measured is the whole path a caller sees: a write(2) into the pipe, the scorer's
 * wake-up, read, parse, features, rules, model and output, its write(2), and this program's
 * wake-up and read(2).  Two processes ping-ponging on two cores (or sharing one) include the
 * scheduler's wake-up latency, which on a loaded machine dominates the tail.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read until a line feed; bytes after it stay in buf for the next call. */
static char rbuf[1 << 16];
static size_t rlen;

static int read_line(int fd)
{
	for (;;) {
		char *nl = memchr(rbuf, '\n', rlen);
		ssize_t r;

		if (nl) {
			size_t used = (size_t)(nl - rbuf) + 1;

			memmove(rbuf, rbuf + used, rlen - used);
			rlen -= used;
			return 0;
		}
		if (rlen == sizeof(rbuf))
			rlen = 0;  /* an absurdly long line: keep reading to its end */
		r = read(fd, rbuf + rlen, sizeof(rbuf) - rlen);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		rlen += (size_t)r;
	}
}

static double pct(const double *v, size_t n, double q)
{
	size_t k = (size_t)(q * (double)(n - 1) + 0.5);

	return v[k < n ? k : n - 1];
}

int main(int argc, char **argv)
{
	long rows = 100000, warm = 10000;
	int i, to[2], from[2], status;
	FILE *fp;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	pid_t pid;
	double *lat, t_start, t_end, sum = 0;
	long n = 0, k;

	for (i = 1; i < argc && argv[i][0] == '-' && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
			rows = strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "-w") == 0 && i + 1 < argc)
			warm = strtol(argv[++i], NULL, 10);
		else
			break;
	}
	if (i + 2 >= argc || strcmp(argv[i + 1], "--") != 0 || rows <= 0 || warm < 0) {
		fprintf(stderr, "usage: latency [-n ROWS] [-w WARMUP] CSV -- COMMAND [ARGS...]\n");
		return 2;
	}
	if (!(fp = fopen(argv[i], "r"))) {
		fprintf(stderr, "latency: cannot open '%s': %s\n", argv[i], strerror(errno));
		return 4;
	}
	if (!(lat = malloc((size_t)rows * sizeof(*lat))))
		return 4;
	signal(SIGPIPE, SIG_IGN);
	if (pipe(to) || pipe(from))
		return 4;
	if ((pid = fork()) < 0)
		return 4;
	if (pid == 0) {
		dup2(to[0], 0);
		dup2(from[1], 1);
		close(to[0]);
		close(to[1]);
		close(from[0]);
		close(from[1]);
		execvp(argv[i + 2], argv + i + 2);
		fprintf(stderr, "latency: cannot run '%s': %s\n", argv[i + 2], strerror(errno));
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	/* the header first: the scorer reads it before the first record */
	if ((len = getline(&line, &cap, fp)) <= 0 || write_all(to[1], line, (size_t)len)) {
		fprintf(stderr, "latency: no header line\n");
		return 1;
	}
	t_start = 0;
	for (k = 0; k < warm + rows && (len = getline(&line, &cap, fp)) > 0; k++) {
		double t0;

		if (k == warm)
			t_start = now_us();
		t0 = now_us();
		if (write_all(to[1], line, (size_t)len) || read_line(from[0])) {
			fprintf(stderr, "latency: the command stopped answering after %ld lines\n", k);
			return 1;
		}
		if (k >= warm) {
			lat[n] = now_us() - t0;
			sum += lat[n];
			n++;
		}
	}
	t_end = now_us();
	close(to[1]);
	while (read_line(from[0]) == 0)
		;
	waitpid(pid, &status, 0);
	if (n == 0) {
		fprintf(stderr, "latency: fewer than %ld lines after the warm-up\n", warm + 1);
		return 1;
	}
	qsort(lat, (size_t)n, sizeof(*lat), cmp_double);
	printf("%ld round trips (after %ld warm-up): mean %.1f us, p50 %.1f us, p90 %.1f us, p99 %.1f us, "
	       "p99.9 %.1f us, max %.1f us; %.0f rows/s\n",
	       n, warm, sum / (double)n, pct(lat, (size_t)n, 0.5), pct(lat, (size_t)n, 0.9),
	       pct(lat, (size_t)n, 0.99), pct(lat, (size_t)n, 0.999), lat[n - 1],
	       (double)n / ((t_end - t_start) / 1e6));
	free(lat);
	free(line);
	fclose(fp);
	return WIFEXITED(status) ? (WEXITSTATUS(status) ? 1 : 0) : 1;
}
