/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What svff-status asks of libvirt, and nothing else: connect ($LIBVIRT_DEFAULT_URI), list
 * the running domains, read each one's XML. tests/bench/scale.sh measures it beside
 * svff-status, so that what is svff's own work shows apart from libvirt's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <libvirt/libvirt.h>

int main(void)
{
	virConnectPtr conn = virConnectOpen(NULL);
	virDomainPtr *doms = NULL;
	int n;

	if (!conn) {
		fprintf(stderr, "bench-virt-list: cannot connect to libvirt\n");
		return 1;
	}
	n = virConnectListAllDomains(conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
	for (int i = 0; i < n; i++) {
		free(virDomainGetXMLDesc(doms[i], 0));
		virDomainFree(doms[i]);
	}
	free(doms);
	virConnectClose(conn);
	return n < 0;
}
