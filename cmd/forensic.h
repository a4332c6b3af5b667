/*
 * forensic.h — fd-audit's forensic tests (benford, duplicates, gaps, round, weekend, strata,
 * ageing): the auditor's analytics over the store's transactions or a transaction stream.
 * See man/fd-audit.1, FORENSIC TESTS; the arithmetic is lib/fd_forensic.h.
 */
#ifndef FD_CMD_FORENSIC_H
#define FD_CMD_FORENSIC_H

#include <getopt.h>

/* 1 when the command word of this fd-audit command line (its first operand, skipping the
 * options of fd-audit's table other with its option groups, and of the forensic tests) is
 * a forensic test. */
struct fd_cli_opt;
int fd_forensic_wanted(int argc, char **argv, unsigned other_groups, const struct fd_cli_opt *other);

/* fd-audit's main for a forensic test: parses the whole command line itself; returns the
 * exit status. */
int fd_forensic_main(int argc, char **argv);

#endif
