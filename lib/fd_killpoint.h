/*
 * fd_killpoint.h — a test hook: die of SIGKILL at a named point.
 *
 * When the environment variable FD_KILL_AT names a point the process reaches, the process
 * raises SIGKILL there, so that a test can check that a write killed at exactly that instant
 * leaves the evidence as it was before or as it is after (never between) without guessing
 * with a sleep.  FD_KILL_AT is read once; unset or empty (the only case outside tests), every
 * call is one load and one branch.  Points (documented in fd.7):
 *
 *	after-insert          fd_ingest: the first batch of rows is inserted, not committed
 *	before-commit         fd_ingest: everything written, just before COMMIT
 *	after-commit          fd_ingest: committed, before the outputs are renamed into place
 *	before-rename         fd_out_commit: the temporary is complete and synced, not renamed
 *
 * This is no way around anything: a process may always kill itself.
 */
#ifndef FD_KILLPOINT_H
#define FD_KILLPOINT_H

/* Raise SIGKILL when $FD_KILL_AT equals point. */
void fd_killpoint(const char *point);

#endif
