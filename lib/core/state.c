/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "fault.h"
#include "statefile.h"
#include "xml-util.h"

#define RECORD_VERSION "1"
#define MAX_RECORD_SIZE (1024 * 1024)

static const char *const phase_names[_PHASE_MAX] = {
	[PHASE_DETACHING] = "detaching",
	[PHASE_DETACHED] = "detached",
	[PHASE_REATTACHING] = "reattaching",
	[PHASE_ASSIGNED] = "assigned",
	[PHASE_LOST] = "lost",
	[PHASE_PAUSING] = "pausing",
	[PHASE_PAUSED] = "paused",
	[PHASE_RESUMING] = "resuming",
	[PHASE_UNPLUG_PENDING] = "unplug-pending",
	[PHASE_NOT_READY] = "not-ready",
};

const char *phase_to_string(enum phase phase)
{
	return phase < _PHASE_MAX ? phase_names[phase] : "unknown";
}

static int phase_from_string(const char *text, enum phase *ret)
{
	for (int i = 0; i < _PHASE_MAX; i++)
		if (text && strcmp(text, phase_names[i]) == 0) {
			*ret = (enum phase)i;
			return 0;
		}
	return -EBADMSG;
}

/* Why svff must not use this directory, or NULL: it is svff's own. */
static const char *untrusted_because(const char *path, bool create, char *buf, size_t size)
{
	_cleanup_close_ int fd = -EBADF;
	struct stat st;

	if (!create && lstat(path, &st) < 0 && errno == ENOENT)
		return NULL; /* nothing there to trust or not */
	if (create && mkdir(path, 0700) < 0 && errno != EEXIST) {
		snprintf(buf, size, "cannot be created: %s", strerror(errno));
		return buf;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && (errno == ELOOP || errno == ENOTDIR))
		return "is a symbolic link or no directory";
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(buf, size, "cannot be opened: %s", strerror(errno));
		return buf;
	}
	if (st.st_uid != geteuid()) {
		snprintf(buf, size, "is owned by uid %u, not by uid %u", (unsigned)st.st_uid,
			 (unsigned)geteuid());
		return buf;
	}
	if (st.st_mode & 022) {
		snprintf(buf, size, "is group- or world-writable (mode %04o)",
			 (unsigned)(st.st_mode & 07777));
		return buf;
	}
	if (create && access(path, W_OK) < 0) {
		snprintf(buf, size, "is not writable: %s", strerror(errno));
		return buf;
	}
	return NULL;
}

static int check_dir(struct svff_ctx *ctx, const char *what, const char *path, bool create)
{
	char why[256];
	const char *reason = untrusted_because(path, create, why, sizeof(why));

	if (!reason)
		return 0;
	log_error(ctx,
		  "%s '%s' %s; svff refuses to use it: make it a directory owned by root with "
		  "mode 0700, or give another with --state-dir",
		  what, path, reason);
	return -EACCES;
}

/*
 * The state directory (records/, reconf/) and the runtime directory (assigned/, locks/):
 * created mode 0700, and refused unless they are real directories of ours that nobody
 * else can write: everything svff does follows from what it reads there.
 */
int state_prepare(struct svff_ctx *ctx)
{
	static const char *const stores[] = { STORE_RECORDS, STORE_JOURNAL, STORE_ASSIGNED,
					      STORE_LOCKS };
	char path[PATH_MAX];
	int r = check_dir(ctx, "state directory", ctx->state_dir, true);

	if (r == 0)
		r = check_dir(ctx, "runtime directory", ctx->runtime_dir, true);
	for (size_t i = 0; r == 0 && i < ELEMENTSOF(stores); i++) {
		store_path(ctx, stores[i], path, sizeof(path));
		r = check_dir(ctx, "state directory", path, true);
	}
	return r;
}

/* For readers (svff-status): what exists must be trustworthy; nothing is created. */
int state_verify(struct svff_ctx *ctx)
{
	int r = check_dir(ctx, "state directory", ctx->state_dir, false);

	return r < 0 ? r : check_dir(ctx, "runtime directory", ctx->runtime_dir, false);
}

static void record_file_name(const char *pf, unsigned vf_index, char *buf, size_t size)
{
	snprintf(buf, size, "%s-vf%u.xml", pf, vf_index);
}

static xmlNodePtr add_text_child(xmlNodePtr parent, const char *name, const char *text)
{
	return xmlNewTextChild(parent, NULL, (const xmlChar *)name, (const xmlChar *)text);
}

static int add_device(xmlDocPtr doc, xmlNodePtr root, const char *device_xml)
{
	_cleanup_(xmlFreeDocp) xmlDocPtr dev = xml_parse(device_xml, strlen(device_xml));
	xmlNodePtr holder, copy;

	if (!dev || !xmlDocGetRootElement(dev))
		return -EBADMSG;
	holder = xmlNewChild(root, NULL, (const xmlChar *)"device", NULL);
	copy = xmlDocCopyNode(xmlDocGetRootElement(dev), doc, 1);
	if (!holder || !copy)
		return -ENOMEM;
	xmlAddChild(holder, copy);
	return 0;
}

int record_serialize(const struct record *record, char **ret_text)
{
	_cleanup_(xmlFreeDocp) xmlDocPtr doc = xmlNewDoc((const xmlChar *)"1.0");
	xmlNodePtr root, node;
	xmlChar *text = NULL;
	char index[16];
	int size, r;

	if (!doc)
		return -ENOMEM;
	root = xmlNewNode(NULL, (const xmlChar *)"svff-record");
	xmlDocSetRootElement(doc, root);
	xmlNewProp(root, (const xmlChar *)"version", (const xmlChar *)RECORD_VERSION);
	add_text_child(root, "pf", record->pf);
	node = xmlNewChild(root, NULL, (const xmlChar *)"vf", NULL);
	snprintf(index, sizeof(index), "%u", record->vf_index);
	xmlNewProp(node, (const xmlChar *)"index", (const xmlChar *)index);
	xmlNewProp(node, (const xmlChar *)"address", (const xmlChar *)record->vf_bdf);
	if (record->vf_class > 0) {
		char class[16];

		snprintf(class, sizeof(class), "0x%06x", record->vf_class);
		xmlNewProp(node, (const xmlChar *)"class", (const xmlChar *)class);
	}
	node = xmlNewChild(root, NULL, (const xmlChar *)"domain", NULL);
	xmlNewProp(node, (const xmlChar *)"uuid", (const xmlChar *)record->domain_uuid);
	xmlNewProp(node, (const xmlChar *)"name", (const xmlChar *)record->domain_name);
	if (record->domain_id > 0) {
		char id[16];

		snprintf(id, sizeof(id), "%u", record->domain_id);
		xmlNewProp(node, (const xmlChar *)"id", (const xmlChar *)id);
	}
	add_text_child(root, "phase", phase_to_string(record->phase));
	r = add_device(doc, root, record->device.xml);
	if (r < 0)
		return r;
	xmlDocDumpFormatMemory(doc, &text, &size, 1);
	if (!text)
		return -ENOMEM;
	*ret_text = strdup((const char *)text);
	xmlFree(text);
	return *ret_text ? 0 : -ENOMEM;
}

static int copy_text(xmlNodePtr node, char *buf, size_t size)
{
	xmlChar *content = node ? xmlNodeGetContent(node) : NULL;
	int r = 0;

	if (!content || strlen((const char *)content) >= size)
		r = -EBADMSG;
	else
		snprintf(buf, size, "%s", (const char *)content);
	xmlFree(content);
	return r;
}

static int copy_attr(xmlNodePtr node, const char *name, char *buf, size_t size)
{
	_cleanup_free_ char *value = xml_attr(node, name);

	if (!value || strlen(value) >= size)
		return -EBADMSG;
	snprintf(buf, size, "%s", value);
	return 0;
}

/* Optional: records written before it was kept have none. */
static int parse_vf_class(xmlNodePtr vf, struct record *record)
{
	_cleanup_free_ char *class = xml_attr(vf, "class");

	return class ? pci_class_parse(class, &record->vf_class) : 0;
}

static int parse_vf(xmlNodePtr vf, struct record *record)
{
	char index[16], *end;
	unsigned long value;

	if (copy_attr(vf, "index", index, sizeof(index)) < 0 ||
	    copy_attr(vf, "address", record->vf_bdf, sizeof(record->vf_bdf)) < 0 ||
	    !bdf_is_valid(record->vf_bdf))
		return -EBADMSG;
	errno = 0;
	value = strtoul(index, &end, 10);
	if (errno != 0 || *end != '\0' || end == index || value > 65535)
		return -EBADMSG;
	record->vf_index = (unsigned)value;
	return parse_vf_class(vf, record);
}

static int parse_device(xmlDocPtr doc, xmlNodePtr holder, struct record *record)
{
	xmlNodePtr dev = holder ? xmlFirstElementChild(holder) : NULL;
	_cleanup_free_ char *text = dev ? xml_node_to_string(doc, dev) : NULL;

	if (!text)
		return -EBADMSG;
	return xml_device_parse(text, &record->device);
}

/* Optional: records written before it was kept have none. */
static int parse_domain_id(xmlNodePtr domain, struct record *record)
{
	_cleanup_free_ char *id = domain ? xml_attr(domain, "id") : NULL;
	char *end;
	unsigned long value;

	if (!id)
		return 0;
	errno = 0;
	value = strtoul(id, &end, 10);
	if (errno != 0 || *end != '\0' || end == id || id[0] == '-' || value > INT_MAX)
		return -EBADMSG;
	record->domain_id = (unsigned)value;
	return 0;
}

static int parse_fields(xmlDocPtr doc, xmlNodePtr root, struct record *record)
{
	_cleanup_free_ char *version = xml_attr(root, "version");
	char phase[32];
	xmlNodePtr domain = xml_child(root, "domain");

	if (!version || strcmp(version, RECORD_VERSION) != 0)
		return -EBADMSG;
	if (copy_text(xml_child(root, "pf"), record->pf, sizeof(record->pf)) < 0 ||
	    !bdf_is_valid(record->pf) || parse_vf(xml_child(root, "vf"), record) < 0 ||
	    copy_attr(domain, "uuid", record->domain_uuid, sizeof(record->domain_uuid)) < 0 ||
	    copy_attr(domain, "name", record->domain_name, sizeof(record->domain_name)) < 0 ||
	    parse_domain_id(domain, record) < 0 ||
	    copy_text(xml_child(root, "phase"), phase, sizeof(phase)) < 0 ||
	    phase_from_string(phase, &record->phase) < 0)
		return -EBADMSG;
	return parse_device(doc, xml_child(root, "device"), record);
}

int record_parse(const char *text, size_t size, struct record **ret_record)
{
	_cleanup_(xmlFreeDocp) xmlDocPtr doc = xml_parse(text, size);
	xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
	_cleanup_(record_freep) struct record *record = calloc(1, sizeof(*record));
	int r;

	if (!record)
		return -ENOMEM;
	if (!root || !xmlStrEqual(root->name, (const xmlChar *)"svff-record"))
		/* cppcheck-suppress memleak ; freed by its cleanup attribute */
		return -EBADMSG;
	r = parse_fields(doc, root, record);
	if (r < 0)
		return r;
	*ret_record = TAKE_PTR(record);
	return 0;
}

void record_free(struct record *record)
{
	if (!record)
		return;
	free(record->device.xml);
	free(record);
}

void records_free(struct record **records, size_t n)
{
	for (size_t i = 0; i < n; i++)
		record_free(records[i]);
	free(records);
}

static int open_records_dir(struct svff_ctx *ctx, const char *store)
{
	return state_dir_open(ctx, store);
}

/* Test builds: SVFF_FAULT_STEP=reboot:record-STEP reboots between the writer's steps. */
static void record_write_step(void *userdata, const char *step)
{
	char name[32];

	snprintf(name, sizeof(name), "record-%s", step);
	fault_reboot(userdata, name);
}

int record_save(struct svff_ctx *ctx, const char *store, const struct record *record)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_close_ int dir_fd = -EBADF;
	char name[64];
	int r;

	r = record_serialize(record, &text);
	if (r < 0)
		return log_errno(ctx, r, "cannot build the record of VF %u of PF '%s'",
				 record->vf_index, record->pf);
	dir_fd = open_records_dir(ctx, store);
	record_file_name(record->pf, record->vf_index, name, sizeof(name));
	r = dir_fd < 0 ? dir_fd
		       : state_file_write_steps(dir_fd, name, text,
						strcmp(store, STORE_RECORDS) == 0 ? record_write_step
										  : NULL,
						ctx);
	if (r < 0) {
		char dir[PATH_MAX];

		store_path(ctx, store, dir, sizeof(dir));
		errno = -r;
		return log_errno(ctx, r, "cannot write record '%s/%s': %m", dir, name);
	}
	return 0;
}

static int load_named(struct svff_ctx *ctx, const char *store, int dir_fd, const char *name,
		      struct record **ret_record)
{
	_cleanup_free_ char *text = NULL;
	char store_dir[PATH_MAX];
	size_t size;
	int r;

	store_path(ctx, store, store_dir, sizeof(store_dir));
	r = state_file_read_at(dir_fd, name, MAX_RECORD_SIZE, &text, &size);
	if (r == -ENOENT)
		return r;
	if (r == 0)
		r = record_parse(text, size, ret_record);
	if (r == -EBADMSG)
		return log_errno(ctx, r,
				 "state record '%s/%s' is corrupt; it is left untouched: "
				 "inspect it, fix or move it away, then run the command again",
				 store_dir, name);
	if (r < 0) {
		errno = -r;
		return log_errno(ctx, r, "cannot read state record '%s/%s': %m", store_dir,
				 name);
	}
	return 0;
}

/* -ENOENT quietly when the VF has no record. */
int record_load(struct svff_ctx *ctx, const char *store, const char *pf, unsigned vf_index,
		struct record **ret_record)
{
	_cleanup_close_ int dir_fd = open_records_dir(ctx, store);
	char name[64];

	if (dir_fd < 0)
		return dir_fd;
	record_file_name(pf, vf_index, name, sizeof(name));
	return load_named(ctx, store, dir_fd, name, ret_record);
}

int record_remove(struct svff_ctx *ctx, const char *store, const struct record *record)
{
	_cleanup_close_ int dir_fd = open_records_dir(ctx, store);
	char name[64], dir[PATH_MAX];

	record_file_name(record->pf, record->vf_index, name, sizeof(name));
	store_path(ctx, store, dir, sizeof(dir));
	if (dir_fd < 0 || (unlinkat(dir_fd, name, 0) < 0 && errno != ENOENT) ||
	    fsync(dir_fd) < 0)
		return log_errno(ctx, dir_fd < 0 ? dir_fd : negative_errno(),
				 "cannot remove record '%s/%s'", dir, name);
	return 0;
}

static bool is_record_name(const char *name)
{
	size_t len = strlen(name);

	return name[0] != '.' && len > 4 && strcmp(name + len - 4, ".xml") == 0;
}

/*
 * Every readable record. Corrupt ones are reported and left in place; the
 * result is then -EBADMSG, with the good records still returned.
 */
int records_load_all(struct svff_ctx *ctx, const char *store, struct record ***ret_records,
		     size_t *ret_n)
{
	int dir_fd = open_records_dir(ctx, store);
	_cleanup_(closedirp) DIR *dir = dir_fd >= 0 ? fdopendir(dir_fd) : NULL;
	struct record **records = NULL;
	struct dirent *de;
	size_t n = 0;
	int result = 0;

	if (!dir) {
		if (dir_fd >= 0)
			close(dir_fd);
		*ret_records = NULL;
		*ret_n = 0;
		return dir_fd == -ENOENT ? 0 : dir_fd;
	}
	while ((de = readdir(dir))) {
		struct record *record = NULL, **grown;
		int r;

		if (!is_record_name(de->d_name))
			continue;
		r = load_named(ctx, store, dirfd(dir), de->d_name, &record);
		if (r < 0) {
			result = result ? result : r;
			continue;
		}
		grown = realloc(records, (n + 1) * sizeof(*records));
		if (!grown) {
			record_free(record);
			records_free(records, n);
			return -ENOMEM;
		}
		records = grown;
		records[n++] = record;
	}
	*ret_records = records;
	*ret_n = n;
	return result;
}

static bool process_exists(struct svff_ctx *ctx, int pid)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%d", ctx->proc_root, pid);
	return access(path, F_OK) == 0;
}

/*
 * Remove what writes cut short by a crash or a power loss left: temporary files whose
 * writer is gone. One whose pid is alive is left (it may be writing now; a pid reused
 * since a reboot is replaced by that process's next write of the same name). Returns
 * how many were removed.
 */
int store_clean_temp(struct svff_ctx *ctx, const char *store)
{
	int dir_fd = state_dir_open(ctx, store);
	_cleanup_(closedirp) DIR *dir = dir_fd >= 0 ? fdopendir(dir_fd) : NULL;
	char path[PATH_MAX];
	struct dirent *de;
	int pid, n = 0;

	if (!dir) {
		if (dir_fd >= 0)
			close(dir_fd);
		return dir_fd == -ENOENT ? 0 : dir_fd;
	}
	store_path(ctx, store, path, sizeof(path));
	while ((de = readdir(dir))) {
		if (!state_file_is_temp(de->d_name, &pid) || process_exists(ctx, pid))
			continue;
		if (unlinkat(dirfd(dir), de->d_name, 0) < 0 && errno != ENOENT)
			return log_errno(ctx, negative_errno(), "cannot remove '%s/%s': %m", path,
					 de->d_name);
		log_info(ctx, "removed '%s/%s', left by a write cut short (a crash or a power loss)",
			 path, de->d_name);
		n++;
	}
	if (n > 0 && fsync(dirfd(dir)) < 0)
		return log_errno(ctx, negative_errno(), "cannot sync '%s': %m", path);
	return n;
}
