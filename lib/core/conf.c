/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <glib.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "statefile.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(GKeyFile *, g_key_file_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(GError *, g_error_free);

static void g_strfreevp(char ***p)
{
	g_strfreev(*p);
}

static void g_freep(char **p)
{
	g_free(*p);
}

#define MAX_CONF_SIZE (1024 * 1024)

/* The file as read once: its name for messages, its text for line numbers. */
struct conf_source {
	const char *path;
	const char *text;
};

static const char *const known_keys[] = {
	"driver",	   "numvfs",	      "release-timeout", "ready-timeout",
	"program-timeout", "detach-timeout", "start-wait",	  "autoprobe",
};

/* By enum deadline_kind; detach-timeout is release-timeout's older name. */
static const char *const timeout_keys[] = { "release-timeout", "ready-timeout",
					    "program-timeout" };

static bool is_known_key(const char *key)
{
	for (size_t i = 0; i < ELEMENTSOF(known_keys); i++)
		if (strcmp(key, known_keys[i]) == 0)
			return true;
	return false;
}

static bool is_group_line(const char *line, const char *group)
{
	size_t len = strlen(group);

	return line[0] == '[' && strncmp(line + 1, group, len) == 0 && line[len + 1] == ']';
}

static bool is_key_line(const char *line, const char *key)
{
	size_t len = strlen(key);

	return strncmp(line, key, len) == 0 && (line[len] == '=' || line[len] == ' ');
}

/* GKeyFile does not tell where a value stands: find the line of [group] key, or [group]. */
static unsigned line_of(const char *text, const char *group, const char *key)
{
	_cleanup_(g_strfreevp) char **lines = g_strsplit(text, "\n", -1);
	unsigned group_line = 0;

	for (unsigned i = 0; lines[i]; i++) {
		const char *line = lines[i] + strspn(lines[i], " \t");

		if (line[0] == '[')
			group_line = is_group_line(line, group) ? i + 1 : 0;
		else if (group_line && key && is_key_line(line, key))
			return i + 1;
	}
	return group_line;
}

/* GKeyFile quotes a line it cannot parse, but does not number it. */
static unsigned first_unparsable_line(const char *text)
{
	_cleanup_(g_strfreevp) char **lines = g_strsplit(text, "\n", -1);

	for (unsigned i = 0; lines[i]; i++) {
		const char *line = lines[i] + strspn(lines[i], " \t");

		if (*line && *line != '#' && *line != '[' && !strchr(line, '='))
			return i + 1;
	}
	return 0;
}

static int invalid(struct svff_ctx *ctx, const struct conf_source *src, const char *group, const char *key,
		   const char *why)
{
	return log_errno(ctx, -EBADMSG, "%s: line %u: [%s] %s%s%s; fix the file (see svff.conf(5))",
			 src->path, line_of(src->text, group, key), group, key ? key : "",
			 key ? ": " : "", why);
}

/* An optional number of seconds or VFs; 0 when absent. */
static int read_number(struct svff_ctx *ctx, GKeyFile *file, const struct conf_source *src,
		       const char *group, const char *key, unsigned max, unsigned *ret)
{
	_cleanup_(g_freep) char *text = g_key_file_get_value(file, group, key, NULL);
	char *end;
	unsigned long value;

	if (!text)
		return 0;
	errno = 0;
	value = strtoul(text, &end, 10);
	if (errno != 0 || *end != '\0' || end == text || value > max || text[0] == '-')
		return invalid(ctx, src, group, key, "is not a whole number in range");
	*ret = (unsigned)value;
	return 0;
}

/* yes/no, true/false, 1/0; absent: off when the VFs go to vfio-pci, else on. */
static int read_autoprobe(struct svff_ctx *ctx, GKeyFile *file, const struct conf_source *src,
			  const char *group, struct managed_pf *pf)
{
	_cleanup_(g_freep) char *text = g_key_file_get_value(file, group, "autoprobe", NULL);
	static const char *const on[] = { "yes", "true", "1" }, *const off[] = { "no", "false", "0" };

	pf->autoprobe = strcmp(pf->driver, "vfio-pci") != 0;
	if (!text)
		return 0;
	for (size_t i = 0; i < ELEMENTSOF(on); i++) {
		if (strcmp(text, on[i]) == 0) {
			pf->autoprobe = true;
			return 0;
		}
		if (strcmp(text, off[i]) == 0) {
			pf->autoprobe = false;
			return 0;
		}
	}
	return invalid(ctx, src, group, "autoprobe", "is not yes or no");
}

static int check_keys(struct svff_ctx *ctx, GKeyFile *file, const struct conf_source *src,
		      const char *group)
{
	_cleanup_(g_strfreevp) char **keys = g_key_file_get_keys(file, group, NULL, NULL);

	for (char **key = keys; key && *key; key++)
		if (!is_known_key(*key))
			return invalid(ctx, src, group, *key, "is not a known key");
	return 0;
}

static int read_pf(struct svff_ctx *ctx, GKeyFile *file, const struct conf_source *src, const char *group,
		   struct managed_pf *pf)
{
	_cleanup_(g_freep) char *driver = g_key_file_get_value(file, group, "driver", NULL);
	int r;

	if (svff_bdf_parse(group, pf->bdf) < 0)
		return invalid(ctx, src, group, NULL, "is not a PCI address (dddd:bb:ss.f)");
	r = check_keys(ctx, file, src, group);
	if (r < 0)
		return r;
	snprintf(pf->driver, sizeof(pf->driver), "%s", driver ? driver : "vfio-pci");
	if (!pf->driver[0] || strchr(pf->driver, '/') || strlen(pf->driver) >= sizeof(pf->driver) - 1)
		return invalid(ctx, src, group, "driver", "is not a driver name");
	pf->start_wait_s = 60;
	r = read_autoprobe(ctx, file, src, group, pf);
	if (r == 0)
		r = read_number(ctx, file, src, group, "numvfs", 65535, &pf->numvfs);
	if (r == 0)
		r = read_number(ctx, file, src, group, "detach-timeout", 86400,
				&pf->timeout_s[DEADLINE_RELEASE]);
	for (size_t i = 0; r == 0 && i < ELEMENTSOF(timeout_keys); i++)
		r = read_number(ctx, file, src, group, timeout_keys[i], 86400, &pf->timeout_s[i]);
	if (r == 0)
		r = read_number(ctx, file, src, group, "start-wait", 86400, &pf->start_wait_s);
	return r;
}

static int read_groups(struct svff_ctx *ctx, GKeyFile *file, const struct conf_source *src,
		       struct svff_conf *conf)
{
	gsize n;
	_cleanup_(g_strfreevp) char **groups = g_key_file_get_groups(file, &n);

	conf->pfs = calloc(n + 1, sizeof(*conf->pfs));
	if (!conf->pfs)
		return -ENOMEM;
	for (gsize i = 0; i < n; i++) {
		int r = read_pf(ctx, file, src, groups[i], &conf->pfs[i]);

		if (r < 0)
			return r;
		/* [03:00.0] and [0000:03:00.0] are one PF: one group's settings would be lost. */
		if (conf_find_pf(conf, conf->pfs[i].bdf))
			return invalid(ctx, src, groups[i], NULL, "names a PF listed above already");
		conf->n_pfs++;
	}
	return 0;
}

/*
 * The PFs svff manages. A missing file means none: the hook and the udev helper
 * then do nothing. A file that cannot be parsed is an error naming file and line.
 */
int conf_load(struct svff_ctx *ctx, const char *path, struct svff_conf **ret_conf)
{
	_cleanup_(g_key_file_freep) GKeyFile *file = g_key_file_new();
	_cleanup_(g_error_freep) GError *error = NULL;
	_cleanup_free_ char *text = NULL;
	struct svff_conf *conf = calloc(1, sizeof(*conf));
	struct conf_source src = { .path = path };
	size_t size = 0;
	int r;

	if (!conf)
		return -ENOMEM;
	r = state_file_read(path, MAX_CONF_SIZE, &text, &size);
	if (r == -ENOENT) {
		*ret_conf = conf;
		return 0;
	}
	if (r < 0) {
		conf_free(conf);
		errno = -r;
		return log_errno(ctx, r == -EBADMSG ? r : -EBADMSG,
				 "%s: cannot be read: %s; it must be a regular file of at most "
				 "1 MiB (see svff.conf(5))",
				 path, r == -EBADMSG ? "not a regular file, or too large" : strerror(-r));
	}
	src.text = text;
	if (memchr(text, '\0', size) ||
	    !g_key_file_load_from_data(file, text, size, G_KEY_FILE_NONE, &error)) {
		conf_free(conf);
		return log_errno(ctx, -EBADMSG, "%s: line %u: %s; fix the file (see svff.conf(5))",
				 path, first_unparsable_line(text),
				 error ? error->message : "a NUL byte");
	}
	r = read_groups(ctx, file, &src, conf);
	if (r < 0) {
		conf_free(conf);
		return r;
	}
	*ret_conf = conf;
	return 0;
}

int conf_load_quietly(struct svff_ctx *ctx, const char *path, struct svff_conf **ret_conf)
{
	return conf_load(NULL, path, ret_conf);
}

void conf_free(struct svff_conf *conf)
{
	if (!conf)
		return;
	free(conf->pfs);
	free(conf);
}

const struct managed_pf *conf_find_pf(const struct svff_conf *conf, const char *bdf)
{
	for (size_t i = 0; i < conf->n_pfs; i++)
		if (strcmp(conf->pfs[i].bdf, bdf) == 0)
			return &conf->pfs[i];
	return NULL;
}
