/* fd_metrics.c — see fd_metrics.h. */
#include "fd_metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fd_buf.h"
#include "fd_io.h"
#include "banned.h"

struct fd_metrics {
	char *tool;
	struct fd_buf text;
	struct fd_buf seen;  /* "\nname\n" for each metric whose header is written */
	int oom;
};

struct fd_metrics *fd_metrics_create(const char *tool)
{
	struct fd_metrics *m = calloc(1, sizeof(*m));

	if (!m || !(m->tool = strdup(tool))) {
		free(m);
		return NULL;
	}
	return m;
}

void fd_metrics_free(struct fd_metrics *m)
{
	if (!m)
		return;
	free(m->tool);
	fd_buf_release(&m->text);
	fd_buf_release(&m->seen);
	free(m);
}

static void header(struct fd_metrics *m, const char *name, const char *type, const char *help)
{
	struct fd_buf key = FD_BUF_INIT;

	fd_buf_addf(&key, "\n%s\n", name);
	if (!key.s) {
		m->oom = 1;
		return;
	}
	if (!m->seen.s || !strstr(m->seen.s, key.s)) {
		m->oom |= fd_buf_add(&m->seen, key.s, key.len) != 0;
		m->oom |= fd_buf_addf(&m->text, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type) != 0;
	}
	fd_buf_release(&key);
}

static void sample(struct fd_metrics *m, const char *name, const char *labels, double v)
{
	char num[40];

	if (isnan(v))
		snprintf(num, sizeof(num), "NaN");
	else if (isinf(v))
		snprintf(num, sizeof(num), v > 0 ? "+Inf" : "-Inf");
	else if (v == floor(v) && fabs(v) < 1e15)
		snprintf(num, sizeof(num), "%.0f", v);
	else
		snprintf(num, sizeof(num), "%.9g", v);
	m->oom |= fd_buf_addf(&m->text, "%s{tool=\"%s\"%s%s} %s\n", name, m->tool,
			      labels && *labels ? "," : "", labels ? labels : "", num) != 0;
}

void fd_metrics_add(struct fd_metrics *m, const char *name, const char *type, const char *help,
		    const char *labels, double value)
{
	if (!m)
		return;
	header(m, name, type, help);
	sample(m, name, labels, value);
}

void fd_metrics_histogram(struct fd_metrics *m, const char *name, const char *help,
			  const double *bounds, const long long *cumulative, size_t nb, double sum,
			  long long count)
{
	struct fd_buf n = FD_BUF_INIT;
	char le[48];
	size_t i;

	if (!m)
		return;
	header(m, name, "histogram", help);
	fd_buf_addf(&n, "%s_bucket", name);
	for (i = 0; i < nb; i++) {
		snprintf(le, sizeof(le), "le=\"%.9g\"", bounds[i]);
		sample(m, n.s, le, (double)cumulative[i]);
	}
	sample(m, n.s, "le=\"+Inf\"", (double)count);
	fd_buf_reset(&n);
	fd_buf_addf(&n, "%s_sum", name);
	sample(m, n.s, NULL, sum);
	fd_buf_reset(&n);
	fd_buf_addf(&n, "%s_count", name);
	sample(m, n.s, NULL, (double)count);
	fd_buf_release(&n);
}

int fd_metrics_write(struct fd_metrics *m, const char *path, int success, double duration_s,
		     struct fd_err *err)
{
	struct fd_out *out;
	struct timespec ts;
	int rc;

	clock_gettime(CLOCK_REALTIME, &ts);
	fd_metrics_add(m, "fd_run_duration_seconds", "gauge", "Duration of the tool's last run.", NULL, duration_s);
	fd_metrics_add(m, "fd_run_success", "gauge", "1 when the tool's last run succeeded, else 0.", NULL,
		       success ? 1 : 0);
	fd_metrics_add(m, "fd_run_timestamp_seconds", "gauge", "When the tool's last run ended (Unix time).",
		       NULL, (double)ts.tv_sec);
	if (m->oom)
		return fd_err_set(err, FD_EIO, "out of memory writing metrics");
	if ((rc = fd_out_open(&out, path, NULL, err)))
		return rc;
	fd_out_write_buf(out, &m->text);
	return fd_out_commit(out, err);
}
