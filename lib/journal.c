/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <libxml/tree.h>

#include "ops.h"
#include "xml-util.h"

#define JOURNAL_STORE "reconf"

static void journal_path(struct svff_ctx *ctx, const char *pf, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s/%s.xml", ctx->state_dir, JOURNAL_STORE, pf);
}

static int ensure_store(struct svff_ctx *ctx)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", ctx->state_dir, JOURNAL_STORE);
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return log_errno(ctx, negative_errno(), "cannot create '%s': %m", path);
	return 0;
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

/* Written like a record: temp file, fsync, rename, fsync of the directory. */
int journal_save(struct svff_ctx *ctx, const struct reconf_journal *journal)
{
	_cleanup_free_ char *text = journal_text(journal);
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	_cleanup_close_ int fd = -EBADF, dir_fd = -EBADF;
	int r = ensure_store(ctx);

	if (r < 0)
		return r;
	if (!text)
		return -ENOMEM;
	journal_path(ctx, journal->pf, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) || fsync(fd) < 0 ||
	    rename(tmp, path) < 0) {
		r = negative_errno();
		unlink(tmp);
		errno = -r;
		return log_errno(ctx, r, "cannot write '%s': %m", path);
	}
	snprintf(tmp, sizeof(tmp), "%s/%s", ctx->state_dir, JOURNAL_STORE);
	dir_fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return dir_fd >= 0 && fsync(dir_fd) == 0 ? 0 : negative_errno();
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

/* -ENOENT quietly when no reconfiguration of the PF was interrupted. */
int journal_load(struct svff_ctx *ctx, const char *pf, struct reconf_journal *ret_journal)
{
	char path[PATH_MAX];
	_cleanup_(xmlFreeDocp) xmlDocPtr doc = NULL;
	xmlNodePtr root;
	xmlChar *step;
	struct reconf_journal journal = { 0 };

	journal_path(ctx, pf, path, sizeof(path));
	if (access(path, F_OK) < 0)
		return -ENOENT;
	doc = xmlReadFile(path, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	root = doc ? xmlDocGetRootElement(doc) : NULL;
	step = root ? xmlNodeGetContent(xml_child(root, "step")) : NULL;
	if (!root || !step || number_child(root, "from", &journal.from_numvfs) < 0 ||
	    number_child(root, "to", &journal.to_numvfs) < 0) {
		xmlFree(step);
		return log_errno(ctx, -EBADMSG,
				 "'%s' is corrupt; it is left untouched: check the PF's numvfs, "
				 "then move the file away",
				 path);
	}
	snprintf(journal.pf, sizeof(journal.pf), "%s", pf);
	snprintf(journal.step, sizeof(journal.step), "%s", (const char *)step);
	xmlFree(step);
	*ret_journal = journal;
	return 0;
}

int journal_remove(struct svff_ctx *ctx, const char *pf)
{
	char path[PATH_MAX];

	journal_path(ctx, pf, path, sizeof(path));
	if (unlink(path) < 0 && errno != ENOENT)
		return log_errno(ctx, negative_errno(), "cannot remove '%s': %m", path);
	return 0;
}

int journal_recover(struct svff_ctx *ctx, const char *pf)
{
	_cleanup_(pf_info_freep) struct pf_info *info = NULL;
	struct reconf_journal journal;
	int r = journal_load(ctx, pf, &journal);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	r = sysfs_pf_load(ctx, pf, &info);
	if (r < 0)
		return r;
	if (info->numvfs == 0 && journal.from_numvfs > 0) {
		log_info(ctx, "PF '%s': a reconfiguration to %u VFs was interrupted at step '%s'; "
			 "numvfs goes back to %u", pf, journal.to_numvfs, journal.step,
			 journal.from_numvfs);
		r = numvfs_write(ctx, pf, journal.from_numvfs,
				 now_usec() + (usec_t)ctx->timeout_ms * 1000ULL);
		if (r < 0)
			return log_errno(ctx, r, "cannot restore numvfs of PF '%s'", pf);
		r = vfs_wait_ready(ctx, pf, journal.from_numvfs,
				   now_usec() + (usec_t)ctx->timeout_ms * 1000ULL);
		if (r < 0)
			return r;
	}
	return journal_remove(ctx, pf);
}
