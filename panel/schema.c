/* schema.c — the SQLite schema as ordered migrations (schema.h): 1..13 here, 14 on in
 * schema_late.c. store_open() applies every migration whose index is >= PRAGMA user_version,
 * each in its own transaction, then sets user_version. Never edit a migration that has shipped:
 * append a new one at the end of schema_late.c's list. */
#include <stddef.h>

#include "../billing/ledger.h"
#include "schema.h"

static const char *const migrations_1_13[] = {
        /* 1: the whole v1 schema */
        "CREATE TABLE users ("
        "  id INTEGER PRIMARY KEY,"
        "  username TEXT NOT NULL UNIQUE,"
        "  email TEXT,"
        "  password_hash TEXT NOT NULL,"
        "  role TEXT NOT NULL CHECK (role IN ('admin','customer')),"
        "  suspended INTEGER NOT NULL DEFAULT 0,"
        "  created_at INTEGER NOT NULL);"
        "CREATE TABLE sessions ("
        "  id INTEGER PRIMARY KEY,"
        "  token_hash TEXT NOT NULL UNIQUE," /* hex of BLAKE2b(token) */
        "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
        "  csrf_token TEXT NOT NULL,"
        "  ip TEXT,"
        "  created_at INTEGER NOT NULL,"
        "  expires_at INTEGER NOT NULL);"
        "CREATE TABLE api_keys ("
        "  id INTEGER PRIMARY KEY,"
        "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
        "  name TEXT NOT NULL,"
        "  token_hash TEXT NOT NULL UNIQUE,"
        "  created_at INTEGER NOT NULL,"
        "  last_used_at INTEGER);"
        "CREATE TABLE login_failures ("
        "  id INTEGER PRIMARY KEY,"
        "  username TEXT NOT NULL,"
        "  ip TEXT NOT NULL,"
        "  at INTEGER NOT NULL);"
        "CREATE INDEX login_failures_key ON login_failures(username, ip, at);"
        "CREATE TABLE plans ("
        "  id INTEGER PRIMARY KEY,"
        "  name TEXT NOT NULL UNIQUE,"
        "  vcpus INTEGER NOT NULL,"
        "  memory_mib INTEGER NOT NULL,"
        "  disk_gib INTEGER NOT NULL,"
        "  traffic_gib INTEGER NOT NULL DEFAULT 0,"
        "  cpu_weight INTEGER NOT NULL DEFAULT 256,"
        "  cpu_cap_pct INTEGER NOT NULL DEFAULT 0,"
        "  net_mbit INTEGER NOT NULL DEFAULT 0,"
        "  price_month_cents INTEGER NOT NULL DEFAULT 0,"
        "  created_at INTEGER NOT NULL);"
        "CREATE TABLE templates ("
        "  id INTEGER PRIMARY KEY,"
        "  name TEXT NOT NULL UNIQUE,"
        "  os TEXT NOT NULL,"
        "  disk_gib INTEGER NOT NULL,"
        "  boot TEXT NOT NULL CHECK (boot IN ('pvh','pv','hvm')),"
        "  source TEXT,"
        "  created_at INTEGER NOT NULL);"
        "CREATE TABLE ip_pools ("
        "  id INTEGER PRIMARY KEY,"
        "  family INTEGER NOT NULL CHECK (family IN (4,6)),"
        "  cidr TEXT NOT NULL UNIQUE,"
        "  gateway TEXT NOT NULL,"
        "  reserved TEXT NOT NULL DEFAULT '[]'," /* JSON array of addresses */
        "  created_at INTEGER NOT NULL);"
        "CREATE TABLE vps ("
        "  id INTEGER PRIMARY KEY,"
        "  hostname TEXT NOT NULL UNIQUE,"
        "  customer_id INTEGER NOT NULL REFERENCES users(id),"
        "  plan_id INTEGER NOT NULL REFERENCES plans(id),"
        "  template_id INTEGER NOT NULL REFERENCES templates(id),"
        "  domain TEXT NOT NULL UNIQUE,"  /* xvps-<id> */
        "  vifname TEXT NOT NULL UNIQUE," /* xvif<id> */
        "  mac TEXT NOT NULL UNIQUE,"
        "  state TEXT NOT NULL CHECK (state IN"
        "    ('provisioning','running','stopped','suspended','error','deleting')),"
        "  domid INTEGER,"
        "  ssh_keys TEXT NOT NULL DEFAULT '[]',"
        "  sched_weight INTEGER," /* as read back from the hypervisor */
        "  sched_cap_pct INTEGER,"
        "  created_at INTEGER NOT NULL);"
        "CREATE INDEX vps_customer ON vps(customer_id);"
        "CREATE TABLE ip_addresses ("
        "  pool_id INTEGER NOT NULL REFERENCES ip_pools(id),"
        "  address TEXT NOT NULL,"
        "  vps_id INTEGER NOT NULL REFERENCES vps(id) ON DELETE CASCADE,"
        "  PRIMARY KEY (pool_id, address));"
        "CREATE INDEX ip_addresses_vps ON ip_addresses(vps_id);"
        "CREATE TABLE jobs ("
        "  id INTEGER PRIMARY KEY,"
        "  kind TEXT NOT NULL,"
        "  vps_id INTEGER," /* not a foreign key: the job outlives the VPS it deleted */
        "  user_id INTEGER,"
        "  state TEXT NOT NULL CHECK (state IN ('queued','running','done','failed')),"
        "  step TEXT,"
        "  error TEXT,"
        "  attempts INTEGER NOT NULL DEFAULT 0,"
        "  created_at INTEGER NOT NULL,"
        "  started_at INTEGER,"
        "  finished_at INTEGER);"
        "CREATE INDEX jobs_state ON jobs(state, vps_id);"
        "CREATE TABLE audit ("
        "  id INTEGER PRIMARY KEY,"
        "  at INTEGER NOT NULL,"
        "  user_id INTEGER,"
        "  username TEXT NOT NULL,"
        "  ip TEXT NOT NULL,"
        "  action TEXT NOT NULL,"
        "  resource TEXT,"
        "  detail TEXT);",
        /* 2: per-VPS networking (issue 4) */
        "ALTER TABLE ip_pools ADD COLUMN vps_prefix INTEGER;"     /* NULL: one address per VPS;
                                                                     64: a routed /64 (IPv6) */
        "ALTER TABLE ip_addresses ADD COLUMN prefix_len INTEGER;" /* NULL: one address; 64 */
        "ALTER TABLE ip_addresses ADD COLUMN extra INTEGER NOT NULL DEFAULT 0;" /* added by admin */
        "ALTER TABLE ip_addresses ADD COLUMN state TEXT NOT NULL DEFAULT 'active'"
        "  CHECK (state IN ('active','releasing'));" /* releasing: out of the spec, not free yet */
        "ALTER TABLE plans ADD COLUMN smtp_block INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE vps ADD COLUMN throttle_mbit INTEGER NOT NULL DEFAULT 0;" /* 0: none */
        "CREATE TABLE vps_net (" /* the agent's accumulated vif counters, guest's view */
        "  vps_id INTEGER PRIMARY KEY REFERENCES vps(id) ON DELETE CASCADE,"
        "  rx_bytes INTEGER NOT NULL DEFAULT 0,"
        "  tx_bytes INTEGER NOT NULL DEFAULT 0,"
        "  rx_packets INTEGER NOT NULL DEFAULT 0,"
        "  tx_packets INTEGER NOT NULL DEFAULT 0,"
        "  present INTEGER NOT NULL DEFAULT 0,"
        "  sampled_at INTEGER);",
        /* 3: metering (issue 4). vps_net's rx/tx columns become the panel's own monotonic totals;
         * agent_* keep the agent's values of the last sweep, so that a drop in them (the agent
         * lost its counters.json) is noticed and the new values are counted from zero instead of
         * making the totals go down (panel/metering.c). Rows written before this migration took
         * the agent's values as they were: they are the last values seen. */
        "ALTER TABLE vps_net ADD COLUMN agent_rx_bytes INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE vps_net ADD COLUMN agent_tx_bytes INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE vps_net ADD COLUMN agent_rx_packets INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE vps_net ADD COLUMN agent_tx_packets INTEGER NOT NULL DEFAULT 0;"
        "UPDATE vps_net SET agent_rx_bytes=rx_bytes, agent_tx_bytes=tx_bytes,"
        "  agent_rx_packets=rx_packets, agent_tx_packets=tx_packets;",
        /* 4: browser console tokens (issue 6): single use, <= 60 s, bound to a user and a VPS;
         * only a hash of the token is kept (hex of BLAKE2b, as sessions). */
        "CREATE TABLE console_tokens ("
        "  id INTEGER PRIMARY KEY,"
        "  token_hash TEXT NOT NULL UNIQUE,"
        "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
        "  vps_id INTEGER NOT NULL REFERENCES vps(id) ON DELETE CASCADE,"
        "  created_at INTEGER NOT NULL,"
        "  expires_at INTEGER NOT NULL,"
        "  used_at INTEGER);"
        "CREATE INDEX console_tokens_expiry ON console_tokens(expires_at);"
        "CREATE INDEX console_tokens_user ON console_tokens(user_id, expires_at);"
        "CREATE INDEX console_tokens_vps ON console_tokens(vps_id);",
        /* 5: CPU time metering (issue 5). cpu_ns is the panel's own monotonic total (ns, all
         * vcpus); agent_cpu_ns the domain's CPU time since its creation as the agent's
         * "cpu.times" reported it at the last sweep. A domain's CPU time restarts at 0 whenever
         * Xen makes a new domain (every reboot, stop/start), so a value lower than agent_cpu_ns is
         * a new run and is added whole; otherwise the difference is (panel/metering.c). */
        "CREATE TABLE vps_cpu ("
        "  vps_id INTEGER PRIMARY KEY REFERENCES vps(id) ON DELETE CASCADE,"
        "  cpu_ns INTEGER NOT NULL DEFAULT 0,"
        "  agent_cpu_ns INTEGER NOT NULL DEFAULT 0,"
        "  sampled_at INTEGER);",
        /* 6: suspension (issue 13 item 5; panel/suspend.c). One row per suspended VPS, gone when
         * it is lifted (the audit log keeps the history: vps.suspend / vps.unsuspend).
         * suspended_by: 'admin' (POST /vps/{id}/actions/suspend), 'customer' (its customer was
         * suspended: lifted with the customer, never by it alone) or 'quota' (the quota ladder,
         * issue 13 item 4: not lifted while the VPS is over its quota). power_before: what
         * unsuspend restores ('running': a vps.start job; 'stopped': nothing). */
        "CREATE TABLE vps_suspension ("
        "  vps_id INTEGER PRIMARY KEY REFERENCES vps(id) ON DELETE CASCADE,"
        "  suspended_by TEXT NOT NULL CHECK (suspended_by IN ('admin','customer','quota')),"
        "  reason TEXT NOT NULL,"
        "  user_id INTEGER," /* the admin who suspended it; NULL for customer and quota */
        "  suspended_at INTEGER NOT NULL,"
        "  power_before TEXT NOT NULL CHECK (power_before IN ('running','stopped')));"
        /* ... and the cursor of the agent's guest power events (panel/guest_events.c): the
         * "next" of the last vps.events answer applied, so that a restarted xvpsd neither
         * misses nor applies twice a guest's own poweroff, reboot or crash. */
        "ALTER TABLE plans ADD COLUMN on_crash TEXT NOT NULL DEFAULT 'restart'"
        "  CHECK (on_crash IN ('restart','stop'));" /* what the agent does when a guest crashes */
        "CREATE TABLE agent_cursors ("
        "  name TEXT PRIMARY KEY,"
        "  next INTEGER NOT NULL);",
        /* 7: the usage ledger (issue 13; billing/ledger.h): usage_samples (one row per VPS per
         * sweep, kept 48 h), usage_rollups (5m/1h/1d/period, forever), usage_cursor (each VPS's
         * last sample time and anniversary anchor), usage_state (rollup watermarks). No foreign
         * key: a VPS's, customer's or plan's deletion leaves its usage. */
        BILLING_LEDGER_SCHEMA,
        /* 8: traffic quotas (issue 13 item 4; panel/quota.c, billing/quota.h). Per plan: which
         * bytes count against traffic_gib (guest's view: 'out' = what the guest sent), what the
         * ladder does at 100 % and the rate of the throttle. vps_quota: per VPS the ladder's
         * state in its current period (period_start), what the quota throttle replaced
         * (throttle_before, restored on a lift when throttle_mbit is still the quota's) and the
         * traffic an admin added (extra_bytes, counted only in the period extra_period_start).
         * quota_notices: every notice and action, append-only, with its delivery. No foreign key:
         * both outlive the VPS (extra traffic and notices are billing records). */
        "ALTER TABLE plans ADD COLUMN traffic_direction TEXT NOT NULL DEFAULT 'out'"
        "  CHECK (traffic_direction IN ('out','in','both'));"
        "ALTER TABLE plans ADD COLUMN quota_action TEXT NOT NULL DEFAULT 'throttle'"
        "  CHECK (quota_action IN ('throttle','suspend'));"
        "ALTER TABLE plans ADD COLUMN over_quota_mbit INTEGER NOT NULL DEFAULT 1"
        "  CHECK (over_quota_mbit BETWEEN 1 AND 100000);"
        "CREATE TABLE vps_quota ("
        "  vps_id INTEGER PRIMARY KEY,"
        "  period_start INTEGER NOT NULL,"
        "  notified_80 INTEGER NOT NULL DEFAULT 0,"
        "  notified_100 INTEGER NOT NULL DEFAULT 0,"
        "  acted TEXT CHECK (acted IN ('throttle','suspend'))," /* NULL: nothing in force */
        "  throttle_before INTEGER NOT NULL DEFAULT 0,"         /* the admin's throttle_mbit */
        "  throttle_mbit INTEGER NOT NULL DEFAULT 0,"           /* the quota's, when acted */
        "  extra_period_start INTEGER NOT NULL DEFAULT 0,"
        "  extra_bytes INTEGER NOT NULL DEFAULT 0);"
        "CREATE TABLE quota_notices ("
        "  id INTEGER PRIMARY KEY,"
        "  vps_id INTEGER NOT NULL,"
        "  customer_id INTEGER NOT NULL,"
        "  period_start INTEGER NOT NULL,"
        "  kind TEXT NOT NULL"
        "    CHECK (kind IN ('notice_80','notice_100','throttled','suspended','lifted')),"
        "  at INTEGER NOT NULL,"
        "  used_bytes INTEGER NOT NULL,"
        "  included_bytes INTEGER NOT NULL,"
        "  delivered_email TEXT NOT NULL DEFAULT 'off'"
        "    CHECK (delivered_email IN ('off','pending','sent','failed')),"
        "  delivered_webhook TEXT NOT NULL DEFAULT 'off'"
        "    CHECK (delivered_webhook IN ('off','pending','sent','failed')),"
        "  attempts INTEGER NOT NULL DEFAULT 0,"
        "  last_error TEXT);"
        "CREATE INDEX quota_notices_vps ON quota_notices(vps_id, id);"
        /* The running per-period traffic of each VPS (panel/quota.c): the sums of its
         * usage_samples whose t_end falls in period_start's period, fed once per sweep from the
         * samples after quota_cursor's 'sample_id' (so a sweep reads only its own samples, not a
         * period of rollups per VPS); seeded from the ledger's period sum the first time. */
        "CREATE TABLE quota_usage ("
        "  vps_id INTEGER PRIMARY KEY,"
        "  period_start INTEGER NOT NULL,"
        "  rx_bytes INTEGER NOT NULL,"
        "  tx_bytes INTEGER NOT NULL);"
        "CREATE TABLE quota_cursor ("
        "  name TEXT PRIMARY KEY,"
        "  value INTEGER NOT NULL);"
        "CREATE INDEX quota_notices_pending ON quota_notices(delivered_email, delivered_webhook);",
        /* 9: the plan history of every VPS (issue 14 item 1; panel/plan_history.c): one row
         * per stretch of time a VPS spent on one plan, [from_ts, to_ts) in Unix seconds, to_ts
         * NULL while it lasts. Opened when the VPS row is inserted, closed when it is deleted,
         * closed and reopened by a plan change; invoices prorate by the hour from it. No foreign
         * key: it outlives the VPS, its customer and its plan (a billing record). */
        "CREATE TABLE vps_plan_history ("
        "  id INTEGER PRIMARY KEY,"
        "  vps_id INTEGER NOT NULL,"
        "  customer_id INTEGER NOT NULL,"
        "  plan_id INTEGER NOT NULL,"
        "  from_ts INTEGER NOT NULL,"
        "  to_ts INTEGER," /* NULL: the VPS is on this plan now */
        "  CHECK (to_ts IS NULL OR to_ts >= from_ts));"
        "CREATE INDEX vps_plan_history_vps ON vps_plan_history(vps_id, from_ts);"
        "CREATE INDEX vps_plan_history_customer ON vps_plan_history(customer_id, from_ts);"
        "CREATE UNIQUE INDEX vps_plan_history_open ON vps_plan_history(vps_id) WHERE to_ts IS NULL;"
        "INSERT INTO vps_plan_history(vps_id, customer_id, plan_id, from_ts)"
        "  SELECT id, customer_id, plan_id, created_at FROM vps;",
        /* 10: resize (issue 16 item 1; panel/resize.c). The sizes of the VPS's plan that its
         * running domain could not take live (beyond the maxmem / maxvcpus it was created
         * with) and that wait for its next boot, as the agent reported them (vps.ensure's
         * "pending"); NULL: nothing waits. */
        "ALTER TABLE vps ADD COLUMN pending_memory_mib INTEGER;"
        "ALTER TABLE vps ADD COLUMN pending_vcpus INTEGER;",
        /* 11: prices, invoices, credit notes, payments, prepaid balance (issue 14 items 1-3;
         * docs/billing.md, billing/rating.h, panel/invoice*.c, panel/balance.c). Plans gain
         * their other prices; each plan-history stretch snapshots its plan's prices when it is
         * opened (a trigger, whatever code opens it), so a price change only affects stretches
         * that start afterwards. address_history: every address a VPS held, [from_ts, to_ts),
         * kept by triggers on ip_addresses (whose rows are deleted when released). Money records
         * (invoices, invoice_lines, credit_notes, payments, prepaid_debits) are append-only: no
         * foreign key, and triggers refuse UPDATE and DELETE. billing_counters: the gap-free
         * numbers per series and year, bumped in the issuing transaction. vps_suspension is
         * rebuilt to allow suspended_by 'billing' (a prepaid balance below its threshold). */
        "ALTER TABLE plans ADD COLUMN price_hour_microcents INTEGER" /* NULL: month / 730 */
        "  CHECK (price_hour_microcents IS NULL OR price_hour_microcents >= 0);"
        "ALTER TABLE plans ADD COLUMN included_traffic_gib INTEGER" /* NULL: traffic_gib */
        "  CHECK (included_traffic_gib IS NULL OR included_traffic_gib >= 0);"
        "ALTER TABLE plans ADD COLUMN overage_gib_microcents INTEGER NOT NULL DEFAULT 0"
        "  CHECK (overage_gib_microcents >= 0);"
        "ALTER TABLE plans ADD COLUMN ipv4_month_cents INTEGER NOT NULL DEFAULT 0"
        "  CHECK (ipv4_month_cents >= 0);"
        "ALTER TABLE vps_plan_history ADD COLUMN hostname TEXT;"
        "ALTER TABLE vps_plan_history ADD COLUMN plan_name TEXT;"
        "ALTER TABLE vps_plan_history ADD COLUMN price_month_cents INTEGER;"
        "ALTER TABLE vps_plan_history ADD COLUMN price_hour_microcents INTEGER;"
        "ALTER TABLE vps_plan_history ADD COLUMN included_traffic_gib INTEGER;"
        "ALTER TABLE vps_plan_history ADD COLUMN overage_gib_microcents INTEGER;"
        "ALTER TABLE vps_plan_history ADD COLUMN ipv4_month_cents INTEGER;"
        "ALTER TABLE vps_plan_history ADD COLUMN traffic_direction TEXT;"
        "CREATE TRIGGER vps_plan_history_prices AFTER INSERT ON vps_plan_history "
        "WHEN NEW.price_month_cents IS NULL BEGIN "
        "  UPDATE vps_plan_history SET"
        "    (hostname, plan_name, price_month_cents, price_hour_microcents,"
        "     included_traffic_gib, overage_gib_microcents, ipv4_month_cents,"
        "     traffic_direction) = (SELECT (SELECT hostname FROM vps WHERE id=NEW.vps_id),"
        "       p.name, p.price_month_cents, p.price_hour_microcents,"
        "       coalesce(p.included_traffic_gib, p.traffic_gib), p.overage_gib_microcents,"
        "       p.ipv4_month_cents, p.traffic_direction FROM plans p WHERE p.id=NEW.plan_id)"
        "  WHERE id=NEW.id;"
        "END;"
        "UPDATE vps_plan_history SET"
        "  hostname=(SELECT hostname FROM vps WHERE id=vps_plan_history.vps_id),"
        "  plan_name=p.name, price_month_cents=p.price_month_cents,"
        "  included_traffic_gib=p.traffic_gib, overage_gib_microcents=0, ipv4_month_cents=0,"
        "  traffic_direction=p.traffic_direction"
        "  FROM plans AS p WHERE p.id=vps_plan_history.plan_id;"
        "CREATE TABLE address_history ("
        "  id INTEGER PRIMARY KEY,"
        "  vps_id INTEGER NOT NULL,"
        "  customer_id INTEGER NOT NULL,"
        "  pool_id INTEGER NOT NULL,"
        "  address TEXT NOT NULL,"
        "  family INTEGER NOT NULL,"
        "  prefix_len INTEGER,"
        "  extra INTEGER NOT NULL,"
        "  from_ts INTEGER NOT NULL,"
        "  to_ts INTEGER," /* NULL: held now */
        "  CHECK (to_ts IS NULL OR to_ts >= from_ts));"
        "CREATE INDEX address_history_vps ON address_history(vps_id, from_ts);"
        "INSERT INTO address_history(vps_id, customer_id, pool_id, address, family, prefix_len,"
        "  extra, from_ts)"
        "  SELECT a.vps_id, v.customer_id, a.pool_id, a.address, p.family, a.prefix_len, a.extra,"
        "    v.created_at FROM ip_addresses a JOIN vps v ON v.id=a.vps_id"
        "    JOIN ip_pools p ON p.id=a.pool_id WHERE a.state='active';"
        "CREATE TRIGGER address_history_open AFTER INSERT ON ip_addresses BEGIN"
        "  INSERT INTO address_history(vps_id, customer_id, pool_id, address, family,"
        "    prefix_len, extra, from_ts)"
        "  SELECT NEW.vps_id, v.customer_id, NEW.pool_id, NEW.address, p.family, NEW.prefix_len,"
        "    NEW.extra, CAST(strftime('%s','now') AS INTEGER)"
        "  FROM vps v, ip_pools p WHERE v.id=NEW.vps_id AND p.id=NEW.pool_id;"
        "END;"
        "CREATE TRIGGER address_history_release AFTER UPDATE OF state ON ip_addresses"
        "  WHEN NEW.state='releasing' AND OLD.state!='releasing' BEGIN"
        "  UPDATE address_history SET to_ts=max(from_ts, CAST(strftime('%s','now') AS INTEGER))"
        "  WHERE vps_id=OLD.vps_id AND pool_id=OLD.pool_id AND address=OLD.address"
        "    AND to_ts IS NULL;"
        "END;"
        "CREATE TRIGGER address_history_delete AFTER DELETE ON ip_addresses BEGIN"
        "  UPDATE address_history SET to_ts=max(from_ts, CAST(strftime('%s','now') AS INTEGER))"
        "  WHERE vps_id=OLD.vps_id AND pool_id=OLD.pool_id AND address=OLD.address"
        "    AND to_ts IS NULL;"
        "END;"
        "CREATE TABLE settings ("
        "  name TEXT PRIMARY KEY,"
        "  value TEXT NOT NULL);"
        "INSERT INTO settings(name, value) VALUES('currency','EUR'),('provider_name',''),"
        "  ('provider_address','');"
        "CREATE TABLE customer_billing (" /* settings and state, not money records */
        "  customer_id INTEGER PRIMARY KEY,"
        "  prepaid INTEGER NOT NULL DEFAULT 0,"
        "  low_balance_cents INTEGER NOT NULL DEFAULT 0,"
        "  suspend_below_cents INTEGER NOT NULL DEFAULT 0 CHECK (suspend_below_cents <= 0),"
        "  state TEXT NOT NULL DEFAULT 'ok' CHECK (state IN ('ok','low','suspended')),"
        "  anchor INTEGER NOT NULL," /* the anniversary day's origin: the customer's creation */
        "  closed_through INTEGER);" /* the end of the last invoiced range; NULL: not yet */
        "CREATE TABLE billing_state ("
        "  name TEXT PRIMARY KEY,"
        "  value INTEGER NOT NULL);"
        "INSERT INTO billing_state(name, value) VALUES('since',"
        "  CAST(strftime('%s','now') AS INTEGER));" /* no invoice covers time before this */
        "CREATE TABLE billing_counters ("
        "  series TEXT NOT NULL,"
        "  year INTEGER NOT NULL,"
        "  last INTEGER NOT NULL,"
        "  PRIMARY KEY (series, year));"
        "CREATE TABLE invoices ("
        "  id INTEGER PRIMARY KEY,"
        "  number TEXT NOT NULL UNIQUE,"
        "  customer_id INTEGER NOT NULL,"
        "  customer_name TEXT NOT NULL,"
        "  customer_email TEXT,"
        "  currency TEXT NOT NULL,"
        "  period_start INTEGER NOT NULL,"
        "  period_end INTEGER NOT NULL CHECK (period_end > period_start),"
        "  issued_at INTEGER NOT NULL,"
        "  total_cents INTEGER NOT NULL CHECK (total_cents >= 0),"
        "  provider_name TEXT NOT NULL,"
        "  provider_address TEXT NOT NULL);"
        "CREATE UNIQUE INDEX invoices_customer_period ON invoices(customer_id, period_start);"
        "CREATE TABLE invoice_lines ("
        "  id INTEGER PRIMARY KEY,"
        "  invoice_id INTEGER NOT NULL,"
        "  position INTEGER NOT NULL,"
        "  vps_id INTEGER NOT NULL,"
        "  hostname TEXT NOT NULL,"
        "  kind TEXT NOT NULL CHECK (kind IN ('hours','traffic_overage','ipv4')),"
        "  plan_id INTEGER,"
        "  description TEXT NOT NULL,"
        "  quantity INTEGER NOT NULL,"
        "  unit TEXT NOT NULL CHECK (unit IN ('hour','GiB')),"
        "  unit_price_microcents INTEGER NOT NULL,"
        "  cap_cents INTEGER,"
        "  amount_cents INTEGER NOT NULL CHECK (amount_cents >= 0),"
        "  from_ts INTEGER NOT NULL,"
        "  to_ts INTEGER NOT NULL,"
        "  UNIQUE (invoice_id, position));"
        "CREATE TABLE credit_notes ("
        "  id INTEGER PRIMARY KEY,"
        "  number TEXT NOT NULL UNIQUE,"
        "  invoice_id INTEGER NOT NULL,"
        "  customer_id INTEGER NOT NULL,"
        "  amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),"
        "  currency TEXT NOT NULL,"
        "  reason TEXT NOT NULL,"
        "  user_id INTEGER,"
        "  created_at INTEGER NOT NULL);"
        "CREATE INDEX credit_notes_invoice ON credit_notes(invoice_id);"
        "CREATE INDEX credit_notes_customer ON credit_notes(customer_id);"
        "CREATE TABLE payments ("
        "  id INTEGER PRIMARY KEY,"
        "  customer_id INTEGER NOT NULL,"
        "  kind TEXT NOT NULL CHECK (kind IN ('payment','credit')),"
        "  amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),"
        "  currency TEXT NOT NULL,"
        "  reference TEXT,"
        "  note TEXT,"
        "  user_id INTEGER,"
        "  username TEXT,"
        "  created_at INTEGER NOT NULL);"
        "CREATE INDEX payments_customer ON payments(customer_id, id);"
        "CREATE TABLE prepaid_debits (" /* the hourly drawdown of a prepaid customer */
        "  id INTEGER PRIMARY KEY,"
        "  customer_id INTEGER NOT NULL,"
        "  period_start INTEGER NOT NULL," /* the invoice range it belongs to */
        "  at INTEGER NOT NULL,"
        "  amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),"
        "  rated_cents INTEGER NOT NULL);" /* the range's running cost after this debit */
        "CREATE INDEX prepaid_debits_customer ON prepaid_debits(customer_id, period_start);"
        "CREATE TABLE billing_notices ("
        "  id INTEGER PRIMARY KEY,"
        "  customer_id INTEGER NOT NULL,"
        "  kind TEXT NOT NULL CHECK (kind IN ('low_balance','suspended','lifted')),"
        "  at INTEGER NOT NULL,"
        "  balance_cents INTEGER NOT NULL,"
        "  delivered_email TEXT NOT NULL DEFAULT 'off'" /* as quota_notices (quota_notify.c) */
        "    CHECK (delivered_email IN ('off','pending','sent','failed')),"
        "  delivered_webhook TEXT NOT NULL DEFAULT 'off'"
        "    CHECK (delivered_webhook IN ('off','pending','sent','failed')),"
        "  attempts INTEGER NOT NULL DEFAULT 0,"
        "  last_error TEXT);"
        "CREATE INDEX billing_notices_pending ON billing_notices(delivered_email,"
        "  delivered_webhook);"
        "CREATE TRIGGER invoices_no_update BEFORE UPDATE ON invoices BEGIN"
        "  SELECT RAISE(ABORT, 'issued invoices are immutable'); END;"
        "CREATE TRIGGER invoices_no_delete BEFORE DELETE ON invoices BEGIN"
        "  SELECT RAISE(ABORT, 'issued invoices are immutable'); END;"
        "CREATE TRIGGER invoice_lines_no_update BEFORE UPDATE ON invoice_lines BEGIN"
        "  SELECT RAISE(ABORT, 'issued invoices are immutable'); END;"
        "CREATE TRIGGER invoice_lines_no_delete BEFORE DELETE ON invoice_lines BEGIN"
        "  SELECT RAISE(ABORT, 'issued invoices are immutable'); END;"
        "CREATE TRIGGER credit_notes_no_update BEFORE UPDATE ON credit_notes BEGIN"
        "  SELECT RAISE(ABORT, 'credit notes are immutable'); END;"
        "CREATE TRIGGER credit_notes_no_delete BEFORE DELETE ON credit_notes BEGIN"
        "  SELECT RAISE(ABORT, 'credit notes are immutable'); END;"
        "CREATE TRIGGER payments_no_update BEFORE UPDATE ON payments BEGIN"
        "  SELECT RAISE(ABORT, 'payments are immutable'); END;"
        "CREATE TRIGGER payments_no_delete BEFORE DELETE ON payments BEGIN"
        "  SELECT RAISE(ABORT, 'payments are immutable'); END;"
        "CREATE TRIGGER prepaid_debits_no_update BEFORE UPDATE ON prepaid_debits BEGIN"
        "  SELECT RAISE(ABORT, 'prepaid debits are immutable'); END;"
        "CREATE TRIGGER prepaid_debits_no_delete BEFORE DELETE ON prepaid_debits BEGIN"
        "  SELECT RAISE(ABORT, 'prepaid debits are immutable'); END;"
        "CREATE TABLE vps_suspension_new ("
        "  vps_id INTEGER PRIMARY KEY REFERENCES vps(id) ON DELETE CASCADE,"
        "  suspended_by TEXT NOT NULL"
        "    CHECK (suspended_by IN ('admin','customer','quota','billing')),"
        "  reason TEXT NOT NULL,"
        "  user_id INTEGER,"
        "  suspended_at INTEGER NOT NULL,"
        "  power_before TEXT NOT NULL CHECK (power_before IN ('running','stopped')));"
        "INSERT INTO vps_suspension_new SELECT vps_id, suspended_by, reason, user_id,"
        "  suspended_at, power_before FROM vps_suspension;"
        "DROP TABLE vps_suspension;"
        "ALTER TABLE vps_suspension_new RENAME TO vps_suspension;",
        /* 12: API key scopes and the billing-system module API (issue 14 item 4; panel/
         * http_route.c, panel/api_module*.c). scopes: SCOPE_* bits (read-only 1, vps 2, billing
         * 4, admin 8); existing keys keep their user's full rights (admin 15, customer 3).
         * expires_at: unix s, NULL = never. billing_services maps a billing system's service id
         * to the customer and VPS it created (request: hex(BLAKE2b-256) of the canonical JSON of
         * the create call's parameters but the password, to tell a retry from a conflicting
         * reuse); no foreign
         * keys: it outlives the VPS it terminated. sso_tokens: single sign-on links, single use,
         * <= 60 s, stored as hex(BLAKE2b-256(token)). */
        "ALTER TABLE api_keys ADD COLUMN scopes INTEGER NOT NULL DEFAULT 15"
        "  CHECK (scopes BETWEEN 1 AND 15);"
        "ALTER TABLE api_keys ADD COLUMN expires_at INTEGER;"
        "UPDATE api_keys SET scopes = 3"
        "  WHERE user_id IN (SELECT id FROM users WHERE role = 'customer');"
        "CREATE TABLE billing_services ("
        "  service_id TEXT PRIMARY KEY,"
        "  customer_id INTEGER NOT NULL,"
        "  vps_id INTEGER NOT NULL,"
        "  request TEXT NOT NULL,"
        "  created_at INTEGER NOT NULL,"
        "  terminated_at INTEGER);"
        "CREATE INDEX billing_services_vps ON billing_services(vps_id);"
        "CREATE TABLE sso_tokens ("
        "  id INTEGER PRIMARY KEY,"
        "  token_hash TEXT NOT NULL UNIQUE,"
        "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
        "  service_id TEXT NOT NULL,"
        "  created_at INTEGER NOT NULL,"
        "  expires_at INTEGER NOT NULL,"
        "  used_at INTEGER);",
        /* 13: accounts (issue 16 item 5; panel/api_account.c, api_totp.c, api_reset.c).
         * sessions: last_seen_at (minute resolution) and the User-Agent for GET /sessions.
         * users: the TOTP secret (base32; NULL: no two-factor), when it was confirmed (NULL:
         * enrolment pending), the last step a code was accepted at (no replay). totp_recovery:
         * single-use recovery codes as hex(BLAKE2b-256). login_challenges: the second login
         * step (password was right, the code is asked next), <= 5 min, token hashed.
         * password_resets: e-mail links, single use, 15 min, token hashed. The admin setting
         * require_admin_totp is a row of migration 11's settings table. */
        "ALTER TABLE sessions ADD COLUMN last_seen_at INTEGER;"
        "ALTER TABLE sessions ADD COLUMN user_agent TEXT;"
        "ALTER TABLE users ADD COLUMN totp_secret TEXT;"
        "ALTER TABLE users ADD COLUMN totp_enabled_at INTEGER;"
        "ALTER TABLE users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;"
        "CREATE TABLE totp_recovery ("
        "  id INTEGER PRIMARY KEY,"
        "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
        "  code_hash TEXT NOT NULL,"
        "  used_at INTEGER);"
        "CREATE INDEX totp_recovery_user ON totp_recovery(user_id);"
        "CREATE TABLE login_challenges ("
        "  id INTEGER PRIMARY KEY,"
        "  token_hash TEXT NOT NULL UNIQUE,"
        "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
        "  ip TEXT NOT NULL,"
        "  created_at INTEGER NOT NULL,"
        "  expires_at INTEGER NOT NULL);"
        "CREATE TABLE password_resets ("
        "  id INTEGER PRIMARY KEY,"
        "  token_hash TEXT NOT NULL UNIQUE,"
        "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
        "  created_at INTEGER NOT NULL,"
        "  expires_at INTEGER NOT NULL,"
        "  used_at INTEGER);",
        NULL,
};

size_t xvps_migration_count(void)
{
	size_t n = 0, m = 0;

	while (migrations_1_13[n])
		n++;
	while (xvps_migrations_late[m])
		m++;
	return n + m;
}

const char *xvps_migration(size_t i)
{
	size_t n = 0;

	while (migrations_1_13[n])
		n++;
	if (i < n)
		return migrations_1_13[i];
	return i - n < xvps_migration_count() - n ? xvps_migrations_late[i - n] : NULL;
}
