/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * libsvff: take the SR-IOV Virtual Functions of a PF away from the libvirt domains
 * that hold them and give each back exactly, so the PF can be reconfigured under
 * running VMs.
 *
 * Fallible functions return >= 0 on success and a negative errno on failure;
 * svff_exit_code() turns that errno into the documented exit code of the programs.
 */

#include <stdbool.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SVFF_BDF_SIZE 13 /* "dddd:bb:ss.f" and NUL */

enum svff_log_level {
	SVFF_LOG_ERR,
	SVFF_LOG_WARNING,
	SVFF_LOG_INFO, /* one progress line per completed step */
	SVFF_LOG_DEBUG,
	SVFF_LOG_DATA, /* a line of --json output: printed as it is, to stdout */
};

typedef void (*svff_log_fn)(void *userdata, enum svff_log_level level, const char *msg);

enum svff_mode {
	SVFF_MODE_DETACH, /* hot-unplug VFs from their domains */
	SVFF_MODE_PAUSE,  /* keep them in the guests, paused, where QEMU can; else detach */
	SVFF_MODE_AUTO,   /* pause where QEMU can, detach elsewhere, quietly */
};

struct svff_config {
	const char *program;       /* prefix of every message, e.g. "svff-detach" */
	const char *state_dir;     /* NULL: the compiled-in default (/var/lib/svff) */
	const char *runtime_dir;   /* NULL: /run/svff; locks and assignments, gone at boot */
	const char *connect_uri;   /* NULL: qemu:///system */
	const char *proc_root;     /* NULL: /proc; where holders of /dev/vfio/N are searched */
	const char *conf_file;     /* NULL: /etc/svff/svff.conf; the PFs svff manages */
	/* Deadlines; 0: svff.conf's value for the PF, else the default (see svff.conf(5)). */
	unsigned release_timeout_ms; /* a guest releasing a VF; the write of numvfs 0 */
	unsigned ready_timeout_ms;   /* new VFs bound and udev done with them; numvfs N */
	unsigned program_timeout_ms; /* the --program of svff-reconf */
	bool dry_run;              /* print the plan, change nothing */
	enum svff_log_level max_level; /* messages above this level are dropped */
	bool json;                 /* progress as JSON lines (SVFF_LOG_DATA) instead of text */
	const char *fault_step;    /* test builds only: SIGKILL svff-reconf before this step */
	enum svff_mode mode;       /* how svff_detach takes VFs from their domains */
	svff_log_fn log_fn;        /* NULL: errors and warnings to stderr, progress to stdout */
	void *log_userdata;
	/* Every message also to the journal, with the fields of svff-journal(7). */
	bool journal;
	/*
	 * $JOURNAL_STREAM, or NULL: "DEVICE:INODE" of the stream a systemd unit's stdout or
	 * stderr is connected to. Such a stream does not get again what the journal took.
	 */
	const char *journal_stream;
};

/* What an operation applies to: exactly one of the three, or none for "everything". */
struct svff_selector {
	const char *pf;     /* every VF of this PF */
	const char *vf;     /* this VF only */
	const char *domain; /* every VF held by this domain (name or UUID) */
};

enum svff_exit {
	SVFF_EXIT_OK = 0,
	SVFF_EXIT_FAILURE = 1,        /* internal or unexpected error */
	SVFF_EXIT_USAGE = 2,          /* bad option or malformed argument */
	SVFF_EXIT_NO_DEVICE = 3,      /* no PCI device with that address */
	SVFF_EXIT_NOT_SRIOV = 4,      /* device is not an SR-IOV PF (or a VF given as PF) */
	SVFF_EXIT_NO_DOMAIN = 5,      /* no such libvirt domain */
	SVFF_EXIT_LIBVIRT = 6,        /* libvirtd cannot be reached or refused the request */
	SVFF_EXIT_STATE = 7,          /* state directory cannot be used */
	SVFF_EXIT_CORRUPT = 8,        /* a state record is malformed; it is left in place */
	SVFF_EXIT_BUSY = 9,           /* another svff operation holds the lock */
	SVFF_EXIT_PARTIAL = 10,       /* a guest did not release its VF in time */
	SVFF_EXIT_VF_GONE = 11,       /* a recorded VF is gone or of another kind now; kept */
	SVFF_EXIT_STALE = 12,         /* a record's domain is not running (kept) or gone (removed) */
	SVFF_EXIT_NUMVFS = 13,        /* numvfs above sriov_totalvfs or refused by the PF's driver */
	SVFF_EXIT_PROGRAM = 14,       /* the --program cannot be run */
	SVFF_EXIT_ROLLED_BACK = 15,   /* the --program failed or hung; everything was rolled back */
	SVFF_EXIT_HELD = 16,          /* a VF is still held by a process; numvfs cannot change */
	SVFF_EXIT_NOT_READY = 17,     /* a VF was not ready in time; not given back, still recorded */
	SVFF_EXIT_DRIFT = 18,         /* svff-status --check: a managed PF differs from svff.conf */
	/* 128 + N: stopped by signal N (SIGHUP, SIGINT, SIGTERM) at a safe point */
};

struct svff_ctx;

int svff_ctx_new(const struct svff_config *config, struct svff_ctx **ret_ctx);
struct svff_ctx *svff_ctx_unref(struct svff_ctx *ctx);

/* Validate "dddd:bb:ss.f" (or "bb:ss.f", domain 0); write the canonical form. */
int svff_bdf_parse(const char *text, char ret_bdf[SVFF_BDF_SIZE]);

/* Hot-unplug every selected VF from its running domain and record it for reattach. */
int svff_detach(struct svff_ctx *ctx, const struct svff_selector *selector);

/* Give every selected recorded VF back to its domain, at its recorded guest address. */
int svff_reattach(struct svff_ctx *ctx, const struct svff_selector *selector);

/*
 * Print PFs, VFs, drivers, holders, recorded phases and, for the PFs of svff.conf, whether
 * they match it; pf may be NULL for all.
 */
int svff_status(struct svff_ctx *ctx, const char *pf, bool json, FILE *out);
/* The same; -EDOM (SVFF_EXIT_DRIFT) when a managed PF differs from svff.conf. */
int svff_status_check(struct svff_ctx *ctx, const char *pf, bool json, FILE *out);

/*
 * Make every PF of svff.conf (or the one given) match it: an interrupted
 * reconfiguration's numvfs first, else numvfs=, autoprobe=, each VF on driver= and
 * ready. Never calls libvirt (it runs at boot before libvirtd); refuses to change numvfs
 * while a VF is in use. With dry_run, prints the plan and changes nothing.
 */
int svff_apply(struct svff_ctx *ctx, const char *pf);

/*
 * The libvirt qemu hook: argv[1..3] as libvirt passes them, the domain XML from
 * stdin. It never calls libvirt (libvirtd waits for it).
 */
int svff_hook_qemu(struct svff_ctx *ctx, const char *operation, const char *sub_operation,
		   const char *xml, size_t xml_size);

/*
 * A udev event of a PCI function ("add", "change", "remove"). On add of a VF of a
 * managed PF: bound to its configured driver; 1 when a VF lost under a running
 * domain is back and should be given back (ret_pf names its PF), else 0.
 */
int svff_udev_event(struct svff_ctx *ctx, const char *action, const char *bdf,
		    char ret_pf[SVFF_BDF_SIZE]);

struct svff_reconf_request {
	const char *pf;
	unsigned numvfs;
	char *const *program; /* NULL, or argv of a program run between numvfs 0 and N */
	enum svff_mode mode;
};

/*
 * Reconfigure a PF under running domains: take every VF from its domain, numvfs
 * 0, the program, numvfs N, every surviving VF back. Any failure rolls back.
 */
int svff_reconf(struct svff_ctx *ctx, const struct svff_reconf_request *request);

int svff_exit_code(int error);

/*
 * Ask a running operation to stop at its next safe point (undoing what it did, or
 * finishing what cannot be undone); it then fails with -EINTR. Async-signal-safe: call
 * it from a SIGINT, SIGTERM or SIGHUP handler. A second call makes the waits still
 * running say what they wait for.
 */
void svff_interrupt(struct svff_ctx *ctx, int signo);
/* The signal given to svff_interrupt(), 0 if none: the exit code is then 128 + it. */
int svff_interrupt_signal(const struct svff_ctx *ctx);
const char *svff_version(void);

#ifdef __cplusplus
}
#endif
