/* lvm_report.h — the lvm storage driver's readers (provisioning/lvm_report.c): the rows of an
 * `lvs --reportformat json` report and a thin pool's usage from device-mapper. Pure parsing plus
 * one libdevmapper status call; no command is run here. Internal to storage_lvm.c and its tests.
 *
 * Return convention: 0 or a negative errno, with a sentence in err where the function takes one. */
#ifndef XVPS_LVM_REPORT_H
#define XVPS_LVM_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage.h"

/* One row of the lvs report (LVS_FIELDS). attr is lv_attr: [1] permission w/r, [4] state
 * 'a' = active, [7] 'z' = zeroing (pools). */
typedef struct lv_row {
	char name[128];
	char attr[16];
	char pool[128];
	char segtype[32];
	char data_pct[32];
	char meta_pct[32];
	char discards[16];
	uint64_t size;
} lv_row;

typedef struct lv_list {
	lv_row *rows;
	size_t n;
} lv_list;

/* Parses an lvs JSON report ({"report":[{"lv":[{...LVS_FIELDS...}]}]}) into *l (heap rows; free
 * with lvm_list_free). Returns 0 or -EPROTO for anything that is not such a report. */
int lvm_parse_lvs(const char *out, lv_list *l);
void lvm_list_free(lv_list *l);
/* The row named name, or NULL. */
const lv_row *lvm_find_lv(const lv_list *l, const char *name);
/* lv_attr flags: [4] 'a' = active; [1] 'r' = read-only. */
bool lvm_is_active(const lv_row *r);
bool lvm_is_read_only(const lv_row *r);
/* Appends name to out at *pos with device-mapper's mangling ('-' doubled); false when it does
 * not fit. */
bool lvm_dm_mangle(char *out, size_t len, size_t *pos, const char *name);
/* DM_DEVICE_STATUS of the thin-pool device dmname ("vg-pool-tpool", names mangled) through
 * libdevmapper into *u (st_lvm_parse_tpool_status). 0, or -errno when device-mapper cannot
 * answer (no /dev/mapper/control, no such device, not a thin-pool target). */
int lvm_dm_tpool_status(const char *dmname, st_pool_usage *u);
/* "12.50" (an lvs percentage, two decimals) → 1250 hundredths; false for anything else. */
bool lvm_parse_pct(const char *s, uint64_t *out);

/* The refusal rule: need_bytes more may be provisioned in thin pool vg/thin_pool (pool: its lvs
 * row, for the fallback when device-mapper cannot answer; NULL: no fallback, -ENODEV then) only
 * when used + need <= total × (100 − headroom_pct) / 100 and metadata use stays at or below (100 −
 * headroom_pct) %, and the pool is healthy. what names the consumer ("disk xvps-1") in the message.
 * Returns 0, or -ENOSPC / -EIO with err (ST_ERRLEN bytes) set. */
int lvm_check_room(const char *vg, const char *thin_pool, const lv_row *pool, int headroom_pct,
                   uint64_t need_bytes, const char *what, char *err);

#endif
