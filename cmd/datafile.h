/*
 * datafile.h — where a tool finds the data files it uses by default (rules/default.rules,
 * models/default.fdm): the same search for every tool, so an uninstalled build and an
 * installed one behave alike.
 */
#ifndef FD_DATAFILE_H
#define FD_DATAFILE_H

#include "fd_err.h"

/*
 * The default data file: $env when set and not empty; else, beside the running binary's
 * directory D (through /proc/self/exe, else argv0 when it holds a '/'), D/../tree_rel (the
 * source tree, for an uninstalled build: "rules/default.rules") then D/../share/fd/NAME (an
 * installed PREFIX/bin; NAME is tree_rel's last component); then FD_PREFIX/share/fd/NAME when
 * the build defines FD_PREFIX.  The first that exists wins.  Returns a malloc'd path, or NULL
 * with err (FD_EIO) saying "no WHAT: give OPTION FILE or set ENV (not found: ...)", where what
 * names the file ("rules file", "model") and option the tool's option ("--rules").
 * This is the search fd-rules has used since it was written (its own copy in cmd/fd-rules.c).
 */
char *fd_datafile_find(const char *argv0, const char *env, const char *tree_rel, const char *what,
		       const char *option, struct fd_err *err);

/* The directory of the bundled file tree_rel (the same search without an environment
 * variable: "TREE/rules" or "PREFIX/share/fd"), malloc'd; NULL when there is none.  For the
 * files that come with a bundled one (the list files of rules/default.rules). */
char *fd_datafile_dir(const char *argv0, const char *tree_rel);

#endif
