/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "virt.h"

/* The records one domain's worker handles; domains run concurrently. */
struct domain_job {
	struct svff_ctx *ctx;
	struct virt *virt;
	virDomainPtr dom;        /* NULL when the domain could not be found */
	char domain_name[256];
	char domain_uuid[VIR_UUID_STRING_BUFLEN];
	struct record **records;
	size_t n_records;
	enum svff_mode mode; /* detach: how VFs leave the domain */
	bool pause;          /* detach: its QEMU pauses them */
	int result;
	pthread_t thread;
};

struct job_list {
	struct domain_job *jobs;
	size_t n;
};

struct domain_job *job_list_get(struct job_list *list, const char *uuid, const char *name);
int job_add_record(struct domain_job *job, struct record *record);
int job_list_run(struct job_list *list, struct svff_ctx *ctx, struct virt *virt,
		 void (*work)(struct domain_job *job));
void job_list_free(struct job_list *list);
int merge_result(int result, int r);
