/* test_auth.c — panel/auth.c and panel/audit.c without HTTP: argon2id hashing, user creation,
 * the first-start admin account and the audit rows. Uses tiny argon2id limits (tests only). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/util.h"
#include "../../panel/api.h"
#include "../../panel/audit.h"
#include "../../panel/auth.h"
#include "../../panel/config.h"
#include "../../panel/http.h"
#include "../../panel/store.h"

__attribute__((weak)) xvps_app *g_app;
static xvps_app app;
static char tmp[64];

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(p);
}

static void setup(void)
{
	char path[128];

	cr_assert_geq(sodium_init(), 0);
	snprintf(tmp, sizeof(tmp), "/tmp/xvps-auth-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	memset(&app, 0, sizeof(app));
	snprintf(app.cfg.state_dir, sizeof(app.cfg.state_dir), "%s", tmp);
	app.cfg.pwhash_opslimit = 1;
	app.cfg.pwhash_memlimit = 64 * 1024;
	g_app = &app;
	snprintf(path, sizeof(path), "%s/xvps.db", tmp);
	cr_assert_eq(store_open(path), 0);
	unsetenv("XVPS_ADMIN_PASSWORD");
	unsetenv("XVPS_ADMIN_EMAIL");
}

static void teardown(void)
{
	store_close_thread();
	g_app = NULL;
	nftw(tmp, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

TestSuite(auth, .init = setup, .fini = teardown);

Test(auth, hash_then_verify_roundtrips)
{
	char h[128];

	cr_assert_eq(auth_hash_password("correct horse battery", h), 0);
	cr_assert(auth_verify_password(h, "correct horse battery"));
}

Test(auth, wrong_password_does_not_verify)
{
	char h[128];

	cr_assert_eq(auth_hash_password("correct horse battery", h), 0);
	cr_assert_not(auth_verify_password(h, "correct horse batterY"));
	cr_assert_not(auth_verify_password(h, ""));
	cr_assert_not(auth_verify_password("not a hash", "correct horse battery"));
	cr_assert_not(auth_verify_password(NULL, "x"));
}

Test(auth, hash_is_argon2id_with_configured_limits_and_a_fresh_salt)
{
	char a[128], b[128];

	cr_assert_eq(auth_hash_password("same password", a), 0);
	cr_assert_eq(auth_hash_password("same password", b), 0);
	cr_assert_eq(strncmp(a, "$argon2id$", 10), 0, "got %s", a);
	cr_assert_not_null(strstr(a, "$m=64,t=1,"), "got %s", a);
	cr_assert_str_neq(a, b, "each hash has its own salt");
}

static const char *user_hash(const char *username, char *role_out, size_t role_len)
{
	static char hash[128];
	sqlite3_stmt *st = db_stmt("SELECT password_hash, role FROM users WHERE username = ?");

	sqlite3_bind_text(st, 1, username, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_ROW)
		return NULL;
	snprintf(hash, sizeof(hash), "%s", (const char *)sqlite3_column_text(st, 0));
	if (role_out)
		snprintf(role_out, role_len, "%s", (const char *)sqlite3_column_text(st, 1));
	sqlite3_reset(st);
	return hash;
}

Test(auth, create_user_stores_a_hash_and_reports_conflicts)
{
	bool conflict = true;
	int64_t id = auth_create_user("alice", "alice@example.com", "s3cret-pass", "customer",
	                              &conflict);
	char role[16];
	const char *h;

	cr_assert_gt(id, 0);
	cr_assert_not(conflict);
	h = user_hash("alice", role, sizeof(role));
	cr_assert_not_null(h);
	cr_assert_str_eq(role, "customer");
	cr_assert_eq(strstr(h, "s3cret-pass"), NULL, "no clear text");
	cr_assert(auth_verify_password(h, "s3cret-pass"));

	cr_assert_eq(auth_create_user("alice", NULL, "other-pass", "customer", &conflict), -1);
	cr_assert(conflict, "a duplicate user name is a conflict");
	cr_assert_eq(auth_create_user("bob", NULL, "other-pass", "root", &conflict), -1);
	cr_assert_not(conflict, "a bad role is an error, not a conflict");
}

static void read_pw_file(char *out, size_t len)
{
	char path[128];
	struct stat st;
	FILE *f;

	snprintf(path, sizeof(path), "%s/admin-password", tmp);
	cr_assert_eq(stat(path, &st), 0, "password file exists");
	cr_assert_eq(st.st_mode & 0777, 0600);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	cr_assert_not_null(fgets(out, (int)len, f));
	fclose(f);
	out[strcspn(out, "\n")] = '\0';
}

Test(auth, bootstrap_writes_a_private_generated_password_once)
{
	char pw[128], pw2[128], role[16];
	const char *h;

	cr_assert_eq(auth_bootstrap_admin(), 0);
	read_pw_file(pw, sizeof(pw));
	cr_assert_geq(strlen(pw), 32, "24 random bytes of text");
	h = user_hash("admin", role, sizeof(role));
	cr_assert_not_null(h);
	cr_assert_str_eq(role, "admin");
	cr_assert(auth_verify_password(h, pw));

	cr_assert_eq(auth_bootstrap_admin(), 0, "second start is a no-op");
	read_pw_file(pw2, sizeof(pw2));
	cr_assert_str_eq(pw, pw2);
	cr_assert(auth_verify_password(user_hash("admin", NULL, 0), pw));
}

Test(auth, bootstrap_takes_the_password_from_the_environment)
{
	char path[128];

	setenv("XVPS_ADMIN_PASSWORD", "admin-from-env", 1);
	cr_assert_eq(auth_bootstrap_admin(), 0);
	cr_assert(auth_verify_password(user_hash("admin", NULL, 0), "admin-from-env"));
	snprintf(path, sizeof(path), "%s/admin-password", tmp);
	cr_assert_neq(access(path, F_OK), 0, "no file when the password was given");
}

Test(auth, bootstrap_refuses_a_too_short_environment_password)
{
	setenv("XVPS_ADMIN_PASSWORD", "short", 1);
	cr_assert_eq(auth_bootstrap_admin(), -1);
	cr_assert_null(user_hash("admin", NULL, 0));
}

Test(auth, bootstrap_takes_the_email_from_the_environment)
{
	sqlite3_stmt *st;

	setenv("XVPS_ADMIN_PASSWORD", "admin-from-env", 1);
	setenv("XVPS_ADMIN_EMAIL", "root@example.net", 1);
	cr_assert_eq(auth_bootstrap_admin(), 0);
	st = db_stmt("SELECT email FROM users WHERE username = 'admin'");
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_assert_str_eq((const char *)sqlite3_column_text(st, 0), "root@example.net");
	sqlite3_reset(st);
}

Test(auth, bootstrap_refuses_a_bad_environment_email)
{
	setenv("XVPS_ADMIN_PASSWORD", "admin-from-env", 1);
	setenv("XVPS_ADMIN_EMAIL", "admin@@example", 1);
	cr_assert_eq(auth_bootstrap_admin(), -1);
	cr_assert_null(user_hash("admin", NULL, 0), "no admin made with a bad e-mail");
}

Test(auth, identify_without_credentials_is_anonymous)
{
	http_req rq = {.method = "GET", .path = "/api/v1/me"};
	bool csrf_ok = false;

	rq.user.id = 77;
	cr_assert_not(auth_identify(&rq, &csrf_ok));
	cr_assert_eq(rq.user.id, 0);
}

Test(auth, audit_records_who_what_and_where)
{
	http_req rq = {.method = "POST", .path = "/x"};
	sqlite3_stmt *st;

	snprintf(rq.ip, sizeof(rq.ip), "192.0.2.7");
	rq.user.id = 0;
	audit(&rq, "login.failed", NULL, "mallory");
	audit_system("vps.reconcile", "vps/3", NULL);
	st = db_stmt("SELECT username, ip, action, resource, detail, user_id FROM audit "
	             "ORDER BY id");
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_assert_str_eq((const char *)sqlite3_column_text(st, 0), "-");
	cr_assert_str_eq((const char *)sqlite3_column_text(st, 1), "192.0.2.7");
	cr_assert_str_eq((const char *)sqlite3_column_text(st, 2), "login.failed");
	cr_assert_eq(sqlite3_column_type(st, 3), SQLITE_NULL);
	cr_assert_str_eq((const char *)sqlite3_column_text(st, 4), "mallory");
	cr_assert_eq(sqlite3_column_type(st, 5), SQLITE_NULL);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_assert_str_eq((const char *)sqlite3_column_text(st, 0), "system");
	cr_assert_str_eq((const char *)sqlite3_column_text(st, 1), "-");
	cr_assert_str_eq((const char *)sqlite3_column_text(st, 3), "vps/3");
	sqlite3_reset(st);
}
