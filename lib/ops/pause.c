/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Paused VFs: the guest keeps its PCI device while its QEMU lets go of the host VF
 * (x-vfio-pause), and takes the VF back later (x-vfio-resume), through the QMP commands
 * of svff's QEMU patch (qemu/ in the source tree), sent by libvirt-qemu's passthrough.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pause.h"

#define GROUP_FDNAME "svff-vfio-group"

/* Aliases go into QMP JSON unescaped: libvirt's own are [A-Za-z0-9_-], as are ua- ones. */
static bool alias_is_plain(const char *alias)
{
	if (!alias[0])
		return false;
	for (const char *c = alias; *c; c++)
		if (!(('a' <= *c && *c <= 'z') || ('A' <= *c && *c <= 'Z') ||
		      ('0' <= *c && *c <= '9') || *c == '_' || *c == '-' || *c == '.'))
			return false;
	return true;
}

/* QEMU's "desc" of a QMP error reply, for the user; the whole reply if there is none. */
static void qmp_error_desc(const char *reply, char *buf, size_t size)
{
	const char *desc = strstr(reply, "\"desc\"");
	size_t n = 0;

	if (desc)
		desc = strchr(desc + strlen("\"desc\""), '"');
	if (!desc) {
		snprintf(buf, size, "%s", reply);
		return;
	}
	for (desc++; *desc && *desc != '"' && n + 1 < size; desc++)
		if (*desc != '\\')
			buf[n++] = *desc;
	buf[n] = '\0';
}

/* One QMP command; 0 when QEMU returned, -EREMOTEIO (logged) when it or libvirt refused. */
static int qmp_run(struct svff_ctx *ctx, virDomainPtr dom, const char *cmd, int fd,
		   char **ret_reply)
{
	const char *name = virDomainGetName(dom);
	_cleanup_free_ char *reply = NULL;
	char desc[512];
	int r;

	if (fd >= 0)
		r = virDomainQemuMonitorCommandWithFiles(dom, cmd, 1, &fd, NULL, NULL, &reply, 0);
	else
		r = virDomainQemuMonitorCommand(dom, cmd, &reply, 0);
	if (r < 0)
		return log_errno(ctx, -EREMOTEIO, "domain '%s': libvirt refused '%s': %s", name,
				 cmd, virt_error_message());
	if (!strstr(reply, "\"return\"")) {
		qmp_error_desc(reply, desc, sizeof(desc));
		return log_errno(ctx, -EREMOTEIO, "domain '%s': QEMU refused %s: %s", name, cmd,
				 desc);
	}
	if (ret_reply)
		*ret_reply = TAKE_PTR(reply);
	return 0;
}

bool virt_supports_pause(struct svff_ctx *ctx, virDomainPtr dom)
{
	const char *name = virDomainGetName(dom);
	_cleanup_free_ char *reply = NULL;

	if (virDomainQemuMonitorCommand(dom, "{\"execute\":\"query-commands\"}", &reply, 0) < 0) {
		log_debug(ctx, "cannot ask the QEMU of domain '%s' for its commands: %s", name,
			  virt_error_message());
		return false;
	}
	return strstr(reply, "\"x-vfio-pause\"") != NULL;
}

static int check_alias(struct svff_ctx *ctx, virDomainPtr dom, const char *alias)
{
	if (alias_is_plain(alias))
		return 0;
	return log_errno(ctx, -EINVAL, "domain '%s': device alias '%s' cannot be named in QMP",
			 virDomainGetName(dom), alias);
}

int qmp_vfio_pause(struct svff_ctx *ctx, virDomainPtr dom, const char *alias)
{
	char cmd[256];
	int r = check_alias(ctx, dom, alias);

	if (r < 0)
		return r;
	snprintf(cmd, sizeof(cmd), "{\"execute\":\"x-vfio-pause\",\"arguments\":{\"id\":\"%s\"}}",
		 alias);
	return qmp_run(ctx, dom, cmd, -1, NULL);
}

/* 1 when the device is paused, 0 when not, -errno when QEMU cannot say. */
int qmp_vfio_is_paused(struct svff_ctx *ctx, virDomainPtr dom, const char *alias)
{
	_cleanup_free_ char *reply = NULL;
	char cmd[320];
	int r = check_alias(ctx, dom, alias);

	if (r < 0)
		return r;
	snprintf(cmd, sizeof(cmd),
		 "{\"execute\":\"qom-get\",\"arguments\":{\"path\":\"/machine/peripheral/%s\","
		 "\"property\":\"x-paused\"}}",
		 alias);
	r = qmp_run(ctx, dom, cmd, -1, &reply);
	if (r < 0 || !reply)
		return r < 0 ? r : -EREMOTEIO;
	return strstr(reply, "true") != NULL;
}

/*
 * QEMU runs in libvirt's private /dev, as an unprivileged user, under a device cgroup: it
 * cannot open the group of a VF that did not exist when the domain started. svff opens it
 * and passes the fd (getfd); x-vfio-resume takes the group from it.
 */
int qmp_vfio_resume(struct svff_ctx *ctx, virDomainPtr dom, const char *alias,
		    const struct vf_info *vf)
{
	_cleanup_close_ int group_fd = -EBADF;
	char path[64], cmd[320];
	int r = check_alias(ctx, dom, alias);

	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "/dev/vfio/%d", vf->iommu_group);
	group_fd = open(path, O_RDWR | O_CLOEXEC);
	if (group_fd < 0)
		return log_errno(ctx, negative_errno(), "cannot open '%s' of VF '%s': %m; is it "
				 "bound to vfio-pci and free?", path, vf->bdf);
	r = qmp_run(ctx, dom,
		    "{\"execute\":\"getfd\",\"arguments\":{\"fdname\":\"" GROUP_FDNAME "\"}}",
		    group_fd, NULL);
	if (r < 0)
		return r;
	snprintf(cmd, sizeof(cmd),
		 "{\"execute\":\"x-vfio-resume\",\"arguments\":{\"id\":\"%s\",\"host\":\"%s\","
		 "\"fdname\":\"" GROUP_FDNAME "\"}}",
		 alias, vf->bdf);
	return qmp_run(ctx, dom, cmd, -1, NULL);
}
