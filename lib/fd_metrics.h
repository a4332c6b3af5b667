/*
 * fd_metrics.h — Prometheus textfile output (node_exporter's textfile collector format).
 *
 * A tool collects samples during its run and writes them at the end, atomically (temporary
 * file and rename, fd_io.h), so the collector never reads half a file.  Every file carries
 * fd_run_duration_seconds, fd_run_success and fd_run_timestamp_seconds for the tool; the tool
 * adds its own figures.  Metric names are fd_<tool>_<what>[_total|_seconds|_bytes]; each gets
 * its # HELP and # TYPE lines once, before its first sample.
 */
#ifndef FD_METRICS_H
#define FD_METRICS_H

#include "fd_err.h"

struct fd_metrics;

/* tool: "fd-ingest" (the label value).  NULL when out of memory. */
struct fd_metrics *fd_metrics_create(const char *tool);
void fd_metrics_free(struct fd_metrics *m);

/*
 * Add a sample.  type is "counter" or "gauge" ("histogram" samples are added as their
 * _bucket/_sum/_count series with fd_metrics_histogram).  labels is the text inside the braces,
 * e.g. "result=\"accepted\"", or NULL; the tool label is added to every sample.
 */
void fd_metrics_add(struct fd_metrics *m, const char *name, const char *type, const char *help,
		    const char *labels, double value);

/* A histogram from bucket upper bounds (ascending, +Inf implied) and cumulative counts. */
void fd_metrics_histogram(struct fd_metrics *m, const char *name, const char *help,
			  const double *bounds, const long long *cumulative, size_t nb, double sum,
			  long long count);

/* Write the file (adds the fd_run_* samples with success and duration).  FD_EIO on error. */
int fd_metrics_write(struct fd_metrics *m, const char *path, int success, double duration_s,
		     struct fd_err *err);

#endif
