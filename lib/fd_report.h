/*
 * fd_report.h — what fd-case shows: one case as text (fd-case show), Markdown or HTML
 * (fd-case report), and the store's dashboard as HTML (fd-case dashboard).
 *
 * Reports are self-contained: no network access, no external style sheet, font or script;
 * charts are inline SVG drawn here (see man/fd-case.1 for what each page shows).  Every chart
 * of the dashboard states the dates it covers (<p class="range" data-from data-to>), and
 * numbers on the page carry thousands separators.  Markdown reports carry
 * the same SVG inline (renderers that strip HTML still have the tables).  Every text from the
 * store is escaped for its context (fd_report_html_escape; Markdown table cells have '|' and
 * line breaks neutralised).
 *
 * The numbers a reader checks are marked for machines too: dashboard cards carry
 * data-value attributes with the plain number (<div class="card" id="card-transactions"
 * data-value="100000">), report tables have ids (txns, timeline, entities).
 *
 * Both read through fd_case (fd_case_load and the view permission), render into out (appended;
 * the caller writes it with fd_out) and never touch the store otherwise.
 * now is the time the report says it was generated, and the end of "age".
 */
#ifndef FD_REPORT_H
#define FD_REPORT_H

#include <stdint.h>

#include "fd_buf.h"
#include "fd_err.h"
#include "fd_store.h"

enum fd_report_format { FD_REPORT_TEXT, FD_REPORT_MD, FD_REPORT_HTML };

/* Render case id in format.  FD_EUSAGE "no case 7"; FD_EPERM (view); FD_EIO. */
int fd_report_case(struct fd_store *st, int64_t id, int format, int64_t now, struct fd_buf *out,
		   struct fd_err *err);

/* Render the dashboard page (HTML).  FD_EPERM (view); FD_EIO. */
int fd_report_dashboard(struct fd_store *st, int64_t now, struct fd_buf *out, struct fd_err *err);

/* Append s (NUL-terminated; NULL appends nothing) with & < > " ' escaped for HTML text and
 * attribute values; control bytes other than tab and newline become U+FFFD.  0 or -1. */
int fd_report_html_escape(struct fd_buf *b, const char *s);

/* One line describing a case event ("OPEN -> IN_PROGRESS: starting", "assigned to alice"),
 * from its kind and details JSON, appended to out.  0 or -1. */
int fd_report_event_line(const char *kind, const char *details, struct fd_buf *out);

#endif
