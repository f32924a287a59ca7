/* schema.h — the SQLite schema as ordered migrations (schema.c holds 1..13, schema_late.c 14
 * on). store.c applies them; a migration's number is its index + 1 (PRAGMA user_version). */
#ifndef XVPS_PANEL_SCHEMA_H
#define XVPS_PANEL_SCHEMA_H

#include <stddef.h>

/* Migrations 14 on, NULL-terminated (schema_late.c). */
extern const char *const xvps_migrations_late[];

/* How many migrations there are (the schema version of this xvpsd). */
size_t xvps_migration_count(void);
/* Migration i (0-based: migration i + 1's SQL), or NULL when i >= xvps_migration_count(). */
const char *xvps_migration(size_t i);

#endif
