/* ctl_rdns.h — xvpsctl's reverse DNS commands (ctl_rdns.c; issue 16 item 4). */
#ifndef XVPS_CTL_RDNS_H
#define XVPS_CTL_RDNS_H

#include "ctl.h"

/* rdns get VPS_ID | rdns set VPS_ID ADDRESS NAME | rdns clear VPS_ID ADDRESS. 0, 1 (the API
 * refused: its problem on stderr) or 2 (usage). */
int rdns_cmd(const ctl *c, int argc, char **argv);

#endif
