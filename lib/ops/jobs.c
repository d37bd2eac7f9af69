/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "jobs.h"

struct domain_job *job_list_get(struct job_list *list, const char *uuid, const char *name)
{
	struct domain_job *grown, *job;

	for (size_t i = 0; i < list->n; i++)
		if (strcmp(list->jobs[i].domain_uuid, uuid) == 0)
			return &list->jobs[i];
	grown = realloc(list->jobs, (list->n + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	list->jobs = grown;
	job = &list->jobs[list->n++];
	memset(job, 0, sizeof(*job));
	snprintf(job->domain_uuid, sizeof(job->domain_uuid), "%s", uuid);
	snprintf(job->domain_name, sizeof(job->domain_name), "%s", name);
	return job;
}

int job_add_record(struct domain_job *job, struct record *record)
{
	struct record **grown = realloc(job->records, (job->n_records + 1) * sizeof(*grown));

	if (!grown)
		return -ENOMEM;
	job->records = grown;
	job->records[job->n_records++] = record;
	return 0;
}

/*
 * Keep the error that tells the user most: a timeout or a vanished VF is a
 * partial result, any other failure outranks it.
 */
int merge_result(int result, int r)
{
	if (r >= 0)
		return result;
	if (result == 0 || result == -ETIMEDOUT || result == -ENXIO || result == -ESTALE)
		return r;
	return result;
}

struct job_thread_args {
	struct domain_job *job;
	void (*work)(struct domain_job *job);
	struct log_scope scope; /* of the thread that waits for this one */
};

static void *job_thread(void *userdata)
{
	struct job_thread_args *args = userdata;

	log_scope_push(args->scope.pf, args->scope.vf, args->scope.domain, args->scope.step);
	args->work(args->job);
	return NULL;
}

int job_list_run(struct job_list *list, struct svff_ctx *ctx, struct virt *virt,
		 void (*work)(struct domain_job *job))
{
	_cleanup_free_ struct job_thread_args *args = calloc(list->n + 1, sizeof(*args));
	_cleanup_free_ bool *started = calloc(list->n + 1, sizeof(*started));
	int result = 0;

	if (!args || !started)
		return -ENOMEM;
	for (size_t i = 0; i < list->n; i++) {
		list->jobs[i].ctx = ctx;
		list->jobs[i].virt = virt;
		args[i] = (struct job_thread_args){ .job = &list->jobs[i], .work = work,
						    .scope = log_scope_current() };
		started[i] = pthread_create(&list->jobs[i].thread, NULL, job_thread, &args[i]) == 0;
		if (!started[i])
			work(&list->jobs[i]); /* no thread to spare: do it here, in turn */
	}
	for (size_t i = 0; i < list->n; i++) {
		if (started[i])
			pthread_join(list->jobs[i].thread, NULL);
		result = merge_result(result, list->jobs[i].result);
	}
	return result;
}

void job_list_free(struct job_list *list)
{
	for (size_t i = 0; i < list->n; i++) {
		records_free(list->jobs[i].records, list->jobs[i].n_records);
		if (list->jobs[i].dom)
			virDomainFree(list->jobs[i].dom);
	}
	free(list->jobs);
	list->jobs = NULL;
	list->n = 0;
}
