/* panel_testdb.h — SQLite helpers shared by the panel's unit suites (panel_testdb.c). */
#ifndef XVPS_TEST_PANEL_TESTDB_H
#define XVPS_TEST_PANEL_TESTDB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

struct FTW;

/* An nftw(3) callback that removes each path: nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS). */
int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw);
/* A fresh store for one test: makes the directory /tmp/xvps-<tag>-XXXXXX into tmp (len bytes)
 * and opens (migrates) tmp/xvps.db on this thread; a failure fails the test. */
void testdb_open(char *tmp, size_t len, const char *tag);
/* Closes this thread's store connection and removes tmp (testdb_open's directory). */
void testdb_close(const char *tmp);
/* The rows most panel suites start from: user 1 "alice" (a customer), plan 1 "p" (1 vCPU,
 * 256 MiB, 2 GiB) and template 1 "t" (debian, pvh). */
void testdb_base_rows(void);
/* Runs sql (one or more statements) on db(); a failure fails the test with SQLite's message. */
void exec_sql(const char *sql);
/* The first column of sql's first row as an integer: -1 when no row, -2 when it is NULL. */
int64_t query_int(const char *sql);

#endif
