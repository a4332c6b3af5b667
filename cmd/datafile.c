/* datafile.c — see datafile.h. */
#include "datafile.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fd_buf.h"
#include "banned.h"

char *fd_datafile_find(const char *argv0, const char *env, const char *tree_rel, const char *what,
		       const char *option, struct fd_err *err)
{
	char exe[PATH_MAX], *slash, *cand[3] = {NULL, NULL, NULL}, *found = NULL;
	const char *e = env ? getenv(env) : NULL, *name = strrchr(tree_rel, '/');
	struct fd_buf tried = FD_BUF_INIT;
	ssize_t k;
	size_t i, nc = 0;

	name = name ? name + 1 : tree_rel;
	if (e && *e)
		return strdup(e);
	k = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (k > 0)
		exe[k] = '\0';
	else if (!(argv0 && strchr(argv0, '/') && realpath(argv0, exe)))
		exe[0] = '\0';
	/* exe -> the directory above the binary's: /x/bin/fd-score -> /x */
	for (i = 0; i < 2 && exe[0]; i++) {
		if ((slash = strrchr(exe, '/')))
			*slash = '\0';
		else
			exe[0] = '\0';
	}
	if (exe[0] || k > 0) {
		struct fd_buf b = FD_BUF_INIT;

		fd_buf_addf(&b, "%s/%s", exe, tree_rel);
		cand[nc++] = fd_buf_detach(&b, NULL);
		fd_buf_addf(&b, "%s/share/fd/%s", exe, name);
		cand[nc++] = fd_buf_detach(&b, NULL);
	}
#ifdef FD_PREFIX
	{
		struct fd_buf b = FD_BUF_INIT;

		fd_buf_addf(&b, "%s/share/fd/%s", FD_PREFIX, name);
		cand[nc++] = fd_buf_detach(&b, NULL);
	}
#endif
	for (i = 0; i < nc; i++) {
		if (!cand[i])
			continue;
		if (!found && access(cand[i], F_OK) == 0) {
			found = cand[i];
			cand[i] = NULL;
		} else if (!found)
			fd_buf_addf(&tried, "%s%s", tried.len ? ", " : "", cand[i]);
		free(cand[i]);
	}
	if (!found)
		fd_err_set(err, FD_EIO, "no %s: give %s FILE or set %s (not found: %s)", what, option,
			   env ? env : "its variable", tried.s ? tried.s : "no tools directory");
	fd_buf_release(&tried);
	return found;
}

char *fd_datafile_dir(const char *argv0, const char *tree_rel)
{
	struct fd_err e = {0};
	char *p = fd_datafile_find(argv0, NULL, tree_rel, "file", "an option", &e);
	char *slash = p ? strrchr(p, '/') : NULL;

	if (slash)
		*slash = '\0';
	return p;
}
