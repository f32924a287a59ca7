/* schema_late.c — migrations 14 on (schema.h; the first 13 are in schema.c). Append a new
 * migration at the end of this list, as one self-contained string; never edit a shipped one. */
#include <stddef.h>

#include "schema.h"

const char *const xvps_migrations_late[] = {
        /* 14: job step durations (issue 17 item 6; panel/job_timing.c). One row per step a job
         * went through: the panel's own steps (source 'panel': ensure, remove, ...) and the
         * agent's sub-steps inside one agent call (source 'agent': storage.clone, xl.create,
         * netfilter, ...), each with its wall-clock duration in microseconds (a monotonic
         * clock; NULL while the panel step runs). A panel step's row is written when it opens,
         * so its agent sub-steps follow it in id order. Kept with the job (jobs are never deleted);
         * not a foreign key, like jobs. */
        "CREATE TABLE job_steps ("
        "  id INTEGER PRIMARY KEY,"
        "  job_id INTEGER NOT NULL,"
        "  step TEXT NOT NULL,"
        "  source TEXT NOT NULL CHECK (source IN ('panel','agent')),"
        "  started_at INTEGER NOT NULL,"
        "  duration_us INTEGER CHECK (duration_us >= 0));"
        "CREATE INDEX job_steps_job ON job_steps(job_id, id);",
        /* 15: reverse DNS (issue 16 item 4; panel/rdns.c, api_rdns.c). rdns_ptr: one PTR per
         * address (canonical text), held through the ip_addresses row (pool_id, holder): the
         * address itself, or the routed /64 it lies in; published: PowerDNS accepted it.
         * rdns_removals: the retry queue of PTRs to delete from PowerDNS (rdns.c drains it).
         * The trigger moves a released address's PTRs there, whether the row goes alone
         * (address removed) or with its VPS (ON DELETE CASCADE). */
        "CREATE TABLE rdns_ptr ("
        "  address TEXT PRIMARY KEY,"
        "  family INTEGER NOT NULL CHECK (family IN (4, 6)),"
        "  vps_id INTEGER NOT NULL,"
        "  pool_id INTEGER NOT NULL,"
        "  holder TEXT NOT NULL,"
        "  name TEXT NOT NULL,"
        "  zone TEXT NOT NULL,"
        "  published INTEGER NOT NULL DEFAULT 0,"
        "  updated_at INTEGER NOT NULL);"
        "CREATE INDEX rdns_ptr_holder ON rdns_ptr(pool_id, holder);"
        "CREATE INDEX rdns_ptr_vps ON rdns_ptr(vps_id);"
        "CREATE TABLE rdns_removals ("
        "  id INTEGER PRIMARY KEY,"
        "  address TEXT NOT NULL,"
        "  zone TEXT NOT NULL,"
        "  queued_at INTEGER NOT NULL,"
        "  attempts INTEGER NOT NULL DEFAULT 0,"
        "  last_error TEXT);"
        "CREATE TRIGGER rdns_released AFTER DELETE ON ip_addresses BEGIN"
        "  INSERT INTO rdns_removals (address, zone, queued_at)"
        "    SELECT address, zone, CAST(strftime('%s', 'now') AS INTEGER) FROM rdns_ptr"
        "    WHERE pool_id = old.pool_id AND holder = old.address AND published = 1;"
        "  DELETE FROM rdns_ptr WHERE pool_id = old.pool_id AND holder = old.address;"
        "END;",
        /* 16: issue 16 item 8 (customers order for themselves; panel/limits.c, api_limits.c):
         * customer_limits, one row per customer an admin gave limits (no row: none); a NULL
         * max_* is no limit; plans_all 0: only the plans in customer_plans. Settings, not
         * money or audit records: they go with the customer or the plan. */
        "CREATE TABLE customer_limits ("
        "  customer_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,"
        "  max_vps INTEGER CHECK (max_vps >= 0),"
        "  max_vcpus INTEGER CHECK (max_vcpus >= 0),"
        "  max_memory_mib INTEGER CHECK (max_memory_mib >= 0),"
        "  max_disk_gib INTEGER CHECK (max_disk_gib >= 0),"
        "  plans_all INTEGER NOT NULL DEFAULT 1,"
        "  updated_at INTEGER NOT NULL);"
        "CREATE TABLE customer_plans ("
        "  customer_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
        "  plan_id INTEGER NOT NULL REFERENCES plans(id) ON DELETE CASCADE,"
        "  PRIMARY KEY (customer_id, plan_id));",
        /* 17: issue 16 item 2: guest settings (panel/guest_settings.c). vps.root_password_hash:
         * crypt(3) of the last root password reset (never the password), NULL: none;
         * password_serial: resets so far (the guest applies each serial once);
         * guest_pending: the settings changed since the domain was last created from its
         * seed, space-separated ("hostname ssh_keys root_password"), NULL: none.
         * ip_pools.resolvers: JSON array of up to 3 DNS resolver addresses, NULL: none. */
        "ALTER TABLE vps ADD COLUMN root_password_hash TEXT;"
        "ALTER TABLE vps ADD COLUMN password_serial INTEGER NOT NULL DEFAULT 0"
        "  CHECK (password_serial BETWEEN 0 AND 4294967295);"
        "ALTER TABLE vps ADD COLUMN guest_pending TEXT;"
        "ALTER TABLE ip_pools ADD COLUMN resolvers TEXT;",
        /* 18: official cloud images as templates (issue 16 item 7; panel/template_import.c,
         * api_images.c). templates.seed: what the agent writes for the template's VPS (xvps:
         * seed.h; nocloud: a cloud-init NoCloud cidata disk). templates.state: importing while
         * the job template.import (jobs.template_id) downloads and converts the image; only a
         * ready template is offered to orders. import_url / import_file / import_sha256: where
         * the image came from. The admin settings images.allow_http and images.max_gib are rows
         * of the settings table. */
        "ALTER TABLE templates ADD COLUMN seed TEXT NOT NULL DEFAULT 'xvps' "
        "  CHECK (seed IN ('xvps','nocloud'));"
        "ALTER TABLE templates ADD COLUMN state TEXT NOT NULL DEFAULT 'ready' "
        "  CHECK (state IN ('importing','ready'));"
        "ALTER TABLE templates ADD COLUMN import_url TEXT;"
        "ALTER TABLE templates ADD COLUMN import_file TEXT;"
        "ALTER TABLE templates ADD COLUMN import_sha256 TEXT;"
        "ALTER TABLE jobs ADD COLUMN template_id INTEGER;" /* not a foreign key, as vps_id */
        "CREATE INDEX jobs_template ON jobs(template_id);",
        /* 19: rescue mode (issue 16 item 3; panel/api_rescue.c). vps.rescue is part of the
         * desired state: 1 = the VPS boots the rescue system with its own disk as the second
         * disk (reconcile and a host reboot keep it so) until the customer leaves rescue. */
        "ALTER TABLE vps ADD COLUMN rescue INTEGER NOT NULL DEFAULT 0 CHECK (rescue IN (0, 1));",
        NULL,
};
