/* ipam_addr.h — the pieces of ipam_addr.c's address arithmetic that ipam.c's database code
 * uses (the public interface is ipam.h). Pure: nothing here touches SQLite.
 * Return convention: int functions return 0 or -errno; bool functions answer whether the
 * value parsed / fitted. */
#ifndef XVPS_PANEL_IPAM_ADDR_H
#define XVPS_PANEL_IPAM_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipam.h"

/* A candidate of a pool: an address as a number for a single-address pool, the number of a
 * /64 inside the network for a routed one. */
typedef unsigned __int128 ipam_cand;

/* Parses a textual address of family (4 | 6) into network-order bytes. */
bool ipam_parse_addr(int family, const char *s, uint8_t out[16]);
/* The candidate address text s stands for in pool p; false when s is not of p's family. */
bool ipam_candidate_of(const ipam_pool *p, const char *s, ipam_cand *out);
/* The text of candidate v of pool p (a /64: its network address). */
void ipam_candidate_text(const ipam_pool *p, ipam_cand v, char out[IPAM_ADDR_MAX]);
/* Appends v to the heap array *arr (*n items, *cap room). false on OOM. */
bool ipam_cand_push(ipam_cand **arr, size_t *n, size_t *cap, ipam_cand v);
/* The lowest candidate of p that is neither in *taken (any order: it is sorted in place, and
 * the gateway and reserved candidates are appended) nor fixed. 0 with *found, -ENOSPC when
 * there is none, -ENOMEM. */
int ipam_lowest_free(const ipam_pool *p, ipam_cand **taken, size_t *n, size_t *cap,
                     ipam_cand *found);
/* s without a "/len" suffix (copied into buf when it has one); *len_out: the length, -1 when
 * there is none, -2 when it is not a number 0..128 or s is too long. */
const char *ipam_strip_len(const char *s, char buf[IPAM_ADDR_MAX], int *len_out);
/* Parses an address the caller asked for and checks that pool p may hand it out; the address
 * must lie inside p. 0 with its canonical text in text_out, or -EINVAL with *why. */
int ipam_wanted_check(const ipam_pool *p, const char *want, char text_out[IPAM_ADDR_MAX],
                      const char **why);

#endif
