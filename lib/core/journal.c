/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <libxml/tree.h>

#include "journal.h"
#include "statefile.h"
#include "xml-util.h"

#define JOURNAL_STORE STORE_JOURNAL
#define MAX_JOURNAL_SIZE 4096

static void journal_name(const char *pf, char *buf, size_t size)
{
	snprintf(buf, size, "%s.xml", pf);
}

static int open_store(struct svff_ctx *ctx, bool create)
{
	char path[PATH_MAX];

	store_path(ctx, JOURNAL_STORE, path, sizeof(path));
	if (create && mkdir(path, 0700) < 0 && errno != EEXIST)
		return log_errno(ctx, negative_errno(), "cannot create '%s': %m", path);
	return state_dir_open(ctx, JOURNAL_STORE);
}

static char *journal_text(const struct reconf_journal *journal)
{
	char *text = NULL;

	if (asprintf(&text,
		     "<svff-reconf version=\"1\">\n  <pf>%s</pf>\n  <from>%u</from>\n"
		     "  <to>%u</to>\n  <step>%s</step>\n</svff-reconf>\n",
		     journal->pf, journal->from_numvfs, journal->to_numvfs, journal->step) < 0)
		return NULL;
	return text;
}

int journal_save(struct svff_ctx *ctx, const struct reconf_journal *journal)
{
	_cleanup_free_ char *text = journal_text(journal);
	_cleanup_close_ int dir_fd = open_store(ctx, true);
	char name[64];
	int r;

	if (dir_fd < 0)
		return dir_fd;
	if (!text)
		return -ENOMEM;
	journal_name(journal->pf, name, sizeof(name));
	r = state_file_write_at(dir_fd, name, text);
	if (r < 0) {
		errno = -r;
		return log_errno(ctx, r, "cannot write '%s/%s/%s': %m", ctx->state_dir,
				 JOURNAL_STORE, name);
	}
	return 0;
}

static int number_child(xmlNodePtr root, const char *name, unsigned *ret)
{
	xmlChar *text = xmlNodeGetContent(xml_child(root, name));
	char *end;
	unsigned long value = text ? strtoul((const char *)text, &end, 10) : 0;
	int r = text && *text && *end == '\0' && value <= 65535 ? 0 : -EBADMSG;

	if (r == 0)
		*ret = (unsigned)value;
	xmlFree(text);
	return r;
}

static bool is_step_name(const char *step)
{
	static const char *const names[] = { "detach", "disable", "program", "enable",
					     "ready",  "reattach" };

	for (size_t i = 0; i < ELEMENTSOF(names); i++)
		if (strcmp(step, names[i]) == 0)
			return true;
	return false;
}

int journal_parse(const char *text, size_t size, const char *pf,
		  struct reconf_journal *ret_journal)
{
	_cleanup_(xmlFreeDocp) xmlDocPtr doc = xml_parse(text, size);
	xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
	_cleanup_free_ char *version = root ? xml_attr(root, "version") : NULL;
	struct reconf_journal journal = { 0 };
	xmlChar *step, *journal_pf;
	int r = 0;

	if (!root || !xmlStrEqual(root->name, (const xmlChar *)"svff-reconf") || !version ||
	    strcmp(version, "1") != 0)
		return -EBADMSG;
	step = xmlNodeGetContent(xml_child(root, "step"));
	journal_pf = xmlNodeGetContent(xml_child(root, "pf"));
	if (!step || !journal_pf || strcmp((const char *)journal_pf, pf) != 0 ||
	    strlen((const char *)step) >= sizeof(journal.step) ||
	    !is_step_name((const char *)step) ||
	    number_child(root, "from", &journal.from_numvfs) < 0 ||
	    number_child(root, "to", &journal.to_numvfs) < 0)
		r = -EBADMSG;
	if (r == 0) {
		snprintf(journal.pf, sizeof(journal.pf), "%s", pf);
		snprintf(journal.step, sizeof(journal.step), "%s", (const char *)step);
		*ret_journal = journal;
	}
	xmlFree(step);
	xmlFree(journal_pf);
	return r;
}

/* -ENOENT quietly when no reconfiguration of the PF was interrupted. */
int journal_load(struct svff_ctx *ctx, const char *pf, struct reconf_journal *ret_journal)
{
	_cleanup_close_ int dir_fd = open_store(ctx, false);
	_cleanup_free_ char *text = NULL;
	char name[64];
	size_t size;
	int r;

	if (dir_fd == -ENOENT)
		return -ENOENT;
	if (dir_fd < 0)
		return log_errno(ctx, dir_fd, "cannot open '%s/%s'", ctx->state_dir, JOURNAL_STORE);
	journal_name(pf, name, sizeof(name));
	r = state_file_read_at(dir_fd, name, MAX_JOURNAL_SIZE, &text, &size);
	if (r == -ENOENT)
		return r;
	if (r == 0)
		r = journal_parse(text, size, pf, ret_journal);
	if (r == -EBADMSG)
		return log_errno(ctx, r,
				 "'%s/%s/%s' is corrupt; it is left untouched: check the PF's "
				 "numvfs, then move the file away",
				 ctx->state_dir, JOURNAL_STORE, name);
	if (r < 0) {
		errno = -r;
		return log_errno(ctx, r, "cannot read '%s/%s/%s': %m", ctx->state_dir,
				 JOURNAL_STORE, name);
	}
	return 0;
}

int journal_unfinished(struct svff_ctx *ctx, const char *pf, struct reconf_journal *ret_journal)
{
	int r = journal_load(ctx, pf, ret_journal);

	return r == -ENOENT ? 0 : r < 0 ? r : 1;
}

int journal_remove(struct svff_ctx *ctx, const char *pf)
{
	_cleanup_close_ int dir_fd = open_store(ctx, false);
	char name[64];

	if (dir_fd == -ENOENT)
		return 0;
	journal_name(pf, name, sizeof(name));
	if (dir_fd < 0 || (unlinkat(dir_fd, name, 0) < 0 && errno != ENOENT) || fsync(dir_fd) < 0)
		return log_errno(ctx, dir_fd < 0 ? dir_fd : negative_errno(),
				 "cannot remove '%s/%s/%s': %m", ctx->state_dir, JOURNAL_STORE,
				 name);
	return 0;
}

/* The interrupted reconfiguration left numvfs at 0: put the old count back. */
static int restore_numvfs(struct svff_ctx *ctx, const struct reconf_journal *journal)
{
	log_info(ctx, "PF '%s': a reconfiguration to %u VFs was interrupted at step '%s'; "
		 "numvfs goes back to %u", journal->pf, journal->to_numvfs, journal->step,
		 journal->from_numvfs);
	return numvfs_write_ready(ctx, journal->pf, journal->from_numvfs);
}

int journal_recover(struct svff_ctx *ctx, const char *pf)
{
	_cleanup_(pf_info_freep) struct pf_info *info = NULL;
	struct reconf_journal journal;
	LOG_SCOPE(pf, NULL, NULL, NULL);
	int r = journal_unfinished(ctx, pf, &journal);

	if (r <= 0)
		return r;
	r = sysfs_pf_load(ctx, pf, &info);
	if (r < 0)
		return r;
	if (info->numvfs == 0 && journal.from_numvfs > 0) {
		r = restore_numvfs(ctx, &journal);
		/* Restored but not ready: the records wait, the journal's job is done. */
		if (r < 0 && r != -EINPROGRESS)
			return r;
	}
	return journal_remove(ctx, pf) < 0 ? -EIO : r;
}
