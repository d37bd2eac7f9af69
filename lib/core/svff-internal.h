/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <libudev.h>

#include "log-event.h"
#include "macro.h"
#include "svff.h"

struct svff_ctx {
	int refcount;
	char *program;
	char *state_dir;
	char *runtime_dir;
	char *connect_uri;
	char *proc_root;
	char *conf_file;
	unsigned timeout_ms[3]; /* by enum deadline_kind; 0: from svff.conf or the default */
	bool dry_run;
	bool json;
	char *fault_step;
	enum svff_mode mode;
	enum svff_log_level max_level;
	svff_log_fn log_fn;
	void *log_userdata;
	pthread_mutex_t log_lock;
	bool journal;           /* messages go to the journal too */
	bool stdout_is_journal; /* then what the journal took is not printed there again */
	bool stderr_is_journal;
	int (*journal_sendv)(const struct iovec *iov, int n); /* sd_journal_sendv; tests' own */
	struct udev *udev;
	volatile sig_atomic_t interrupt_signal;
	volatile sig_atomic_t interrupt_count;
	sig_atomic_t interrupt_count_seen;
	bool finishing; /* rolling back or giving VFs back: an interruption does not stop it */
};

/*
 * log.c: each failure is logged once, by the caller that knows the most. A message goes
 * to the terminal (ctx->log_fn, else stdout and stderr) and, with config.journal, to the
 * journal with the fields of its thread's log scope and the MESSAGE_ID of its event
 * (log-journal.c, svff-journal(7)).
 */
enum log_dest {
	LOG_TO_TERMINAL = 1 << 0,
	LOG_TO_JOURNAL = 1 << 1, /* alone: news for the journal that the terminal never had */
	LOG_TO_BOTH = LOG_TO_TERMINAL | LOG_TO_JOURNAL,
};
void svff_log_full(struct svff_ctx *ctx, enum svff_log_level level, enum log_event event,
		   int error, unsigned dest, const char *fmt, ...) _printf_(6, 7);
/* At error level, with ERRNO=; returns the (negative) error, for "return log_errno(...)". */
int svff_log_errno(struct svff_ctx *ctx, int error, enum log_event event, const char *fmt, ...)
	_printf_(4, 5);
#define svff_log(ctx, level, ...) svff_log_full(ctx, level, LOG_EVENT_NONE, 0, LOG_TO_BOTH, __VA_ARGS__)
#define log_error(ctx, ...) svff_log(ctx, SVFF_LOG_ERR, __VA_ARGS__)
#define log_warning(ctx, ...) svff_log(ctx, SVFF_LOG_WARNING, __VA_ARGS__)
#define log_info(ctx, ...) svff_log(ctx, SVFF_LOG_INFO, __VA_ARGS__)
#define log_debug(ctx, ...) svff_log(ctx, SVFF_LOG_DEBUG, __VA_ARGS__)
#define log_errno(ctx, error, ...) svff_log_errno(ctx, error, LOG_EVENT_NONE, __VA_ARGS__)
/* A message that marks an event: LOG_EVENT_VF_DETACHED and the like (log-event.h). */
#define log_event(ctx, level, event, ...)                                                \
	svff_log_full(ctx, level, LOG_EVENT_##event, 0, LOG_TO_BOTH, __VA_ARGS__)
#define log_event_errno(ctx, error, event, ...)                                          \
	svff_log_errno(ctx, error, LOG_EVENT_##event, __VA_ARGS__)
#define log_journal(ctx, level, event, ...)                                              \
	svff_log_full(ctx, level, LOG_EVENT_##event, 0, LOG_TO_JOURNAL, __VA_ARGS__)

/*
 * What the messages of this thread are about, each a journal field (NULL: not known):
 * operations narrow it where they start on a PF, a VF, a domain or a step, and every
 * message inside carries it. Per thread, as domains are handled in threads of their own
 * (jobs.c hands each the scope of the thread that started it). The strings must outlive
 * the scope.
 */
struct log_scope {
	const char *pf;     /* SVFF_PF */
	const char *vf;     /* SVFF_VF */
	const char *domain; /* SVFF_DOMAIN: the domain's name */
	const char *step;   /* SVFF_STEP: a step of svff-reconf */
};
/* Set the non-NULL fields; returns the scope as it was, for log_scope_restore(). */
struct log_scope log_scope_push(const char *pf, const char *vf, const char *domain,
				const char *step);
void log_scope_restore(const struct log_scope *saved);
struct log_scope log_scope_current(void);
#define LOG_SCOPE_CONCAT_(a, b) a##b
#define LOG_SCOPE_NAME_(line) LOG_SCOPE_CONCAT_(log_scope_saved_, line)
/* Narrow the scope until the end of the enclosing block. */
#define LOG_SCOPE(pf, vf, domain, step)                                                  \
	_cleanup_(log_scope_restore) _unused_ const struct log_scope LOG_SCOPE_NAME_(     \
		__LINE__) = log_scope_push(pf, vf, domain, step)

/* log-journal.c: the journal's side of a message. */
struct journal_fields {
	struct iovec iov[10];
	size_t n;
	size_t used;
	char buf[4096]; /* the fields' text: iov points into it, so the struct is not copied */
};
/* MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, MESSAGE_ID, ERRNO and the scope's SVFF_* fields. */
void journal_fields_build(struct journal_fields *f, const char *program,
			  enum svff_log_level level, enum log_event event, int error,
			  const struct log_scope *scope, const char *msg);
/* 0 when the journal took it; -errno (no journal here: a container, a test) otherwise. */
int journal_send(struct svff_ctx *ctx, enum svff_log_level level, enum log_event event,
		 int error, const char *msg);
/* Whether fd is the stream $JOURNAL_STREAM ("DEVICE:INODE") names: a unit's journal. */
bool journal_stream_is(int fd, const char *journal_stream);

/* time.c */
typedef unsigned long long usec_t;
usec_t now_usec(void);
double seconds_since(usec_t start);
/* Sleep for a short poll interval; only for polls that have a deadline. */
void poll_pause(void);
/* Where the clocks stood: wall (monotonic), svff's CPU time and its children's. */
struct cost_mark {
	usec_t wall;
	usec_t cpu;          /* the process's, all its threads */
	usec_t children_cpu; /* of the children that ended and were waited for */
};
void cost_mark_now(struct cost_mark *ret);
/* What a step cost since the mark: the time svff worked, and the time it waited. */
struct cost {
	double seconds;              /* wall time */
	double cpu_seconds;          /* svff's own work (user and system) */
	double children_cpu_seconds; /* its children's: the numvfs writer, the --program */
	double wait_seconds;         /* the rest of the wall time: waiting on guests, libvirt,
				      * the kernel, udev and children */
};
void cost_since(const struct cost_mark *start, struct cost *ret);

/* interrupt.c: safe points. */
/* The signal that asked svff to stop, unless it is finishing; 0 to go on. */
int svff_interrupted(struct svff_ctx *ctx);
/* Called by every wait: after another signal, say what is being waited for. */
void interrupt_say_waiting(struct svff_ctx *ctx, const char *what);

/* deadline.c: each kind of wait has its own deadline, named alike everywhere. */
enum deadline_kind {
	DEADLINE_RELEASE, /* a guest letting go of a VF; numvfs 0; a bind */
	DEADLINE_READY,   /* new VFs there, bound, udev done; numvfs N */
	DEADLINE_PROGRAM, /* svff-reconf's --program */
};
unsigned deadline_seconds(struct svff_ctx *ctx, const char *pf, enum deadline_kind kind);
usec_t deadline_from_now(struct svff_ctx *ctx, const char *pf, enum deadline_kind kind);
/* "--ready-timeout" and "ready-timeout": what the user sets it with */
const char *deadline_option(enum deadline_kind kind);

/* bdf.c */
bool bdf_is_valid(const char *bdf);

/* sysfs.c: PCI and SR-IOV attributes, through libudev. */
struct vf_info {
	unsigned index;
	char bdf[SVFF_BDF_SIZE];
	char driver[64]; /* "" when unbound */
	int iommu_group; /* -1 when none */
	char vfio_device[16]; /* its VFIO device cdev, "vfioX"; "" when none (see holder.c) */
	unsigned pci_class; /* its kind: 0x020000 Ethernet, 0x010802 NVMe...; 0 if unknown */
};

struct pf_info {
	char bdf[SVFF_BDF_SIZE];
	char driver[64];
	unsigned totalvfs;
	unsigned numvfs;
	unsigned offset; /* routing ID of VF n: the PF's + offset + n * stride */
	pid_t busy_writer; /* > 0: a numvfs write by this process is blocked; numvfs unknown */
	unsigned busy_numvfs;
	unsigned stride;
	int autoprobe; /* sriov_drivers_autoprobe: 1, 0, or -1 when the kernel has none */
	size_t n_vfs;
	struct vf_info *vfs;
};

/* -EBUSY (logged) while a numvfs write of the PF is blocked: reading numvfs would block. */
int sysfs_pf_load(struct svff_ctx *ctx, const char *bdf, struct pf_info **ret_pf);
/* The same without the VFs (n_vfs 0): numvfs and the layout, at a cost independent of numvfs. */
int sysfs_pf_load_counts(struct svff_ctx *ctx, const char *bdf, struct pf_info **ret_pf);
/* Driver, totalvfs, offset and stride only: never blocks, not even then. */
int sysfs_pf_load_layout(struct svff_ctx *ctx, const char *bdf, struct pf_info **ret_pf);
bool sysfs_pf_exists(struct svff_ctx *ctx, const char *bdf);
void pf_info_free(struct pf_info *pf);
int pf_info_dup(const struct pf_info *pf, struct pf_info **ret_pf);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct pf_info *, pf_info_free);
int sysfs_pf_list(struct svff_ctx *ctx, char (**ret_bdfs)[SVFF_BDF_SIZE], size_t *ret_n);
int sysfs_vf_parent(struct svff_ctx *ctx, const char *vf_bdf, char ret_pf[SVFF_BDF_SIZE],
		    unsigned *ret_index);
/* Quietly: 1 and the VF's PF; 0 when it is no VF; -ENODEV when there is no such device. */
int sysfs_vf_physfn(struct svff_ctx *ctx, const char *vf_bdf, char ret_pf[SVFF_BDF_SIZE]);
/* The VF's index from the PF's layout (never blocks behind a numvfs write); logged. */
int sysfs_vf_index(struct svff_ctx *ctx, const char *pf_bdf, const char *vf_bdf,
		   unsigned *ret_index);
const struct vf_info *pf_find_vf_by_bdf(const struct pf_info *pf, const char *bdf);
const struct vf_info *pf_find_vf_by_index(const struct pf_info *pf, unsigned index);
int pf_vf_slot(const struct pf_info *pf, const char *bdf, unsigned *ret_index);
int sysfs_bind_driver(struct svff_ctx *ctx, const char *bdf, const char *driver,
		      usec_t deadline);
int sysfs_write_attr(const char *path, const char *value);
/* A PCI class code as sysfs spells it ("0x020000"): -EBADMSG unless 1 to 0xffffff. */
int pci_class_parse(const char *text, unsigned *ret);

/* monitor.c: udev events instead of sleeps. */
int sysfs_wait_driver(struct svff_ctx *ctx, const char *bdf, const char *driver,
		      usec_t deadline);
/* driver NULL: bound to any driver. */
bool sysfs_has_driver(struct svff_ctx *ctx, const char *bdf, const char *driver);
struct udev_monitor *pci_monitor(struct svff_ctx *ctx, const char *source);

/* numvfs.c: sriov_numvfs is written by a child that holds nothing of svff's. */
struct numvfs_writer {
	pid_t pid;
	unsigned numvfs;
};
int numvfs_write(struct svff_ctx *ctx, const char *pf, unsigned numvfs, usec_t deadline,
		 pid_t *ret_pid);
/* numvfs N (> 0) with every new VF ready, the readiness watch begun first; READY deadline. */
int numvfs_write_ready(struct svff_ctx *ctx, const char *pf, unsigned numvfs);
/* sriov_drivers_autoprobe as svff.conf says, for a PF listed there; else nothing. */
int pf_apply_autoprobe(struct svff_ctx *ctx, const char *pf);
/* 1 when a write of the PF's numvfs is still under way (ret filled), else 0. */
int numvfs_writer_find(struct svff_ctx *ctx, const char *pf, struct numvfs_writer *ret);
/* Field 22 of /proc/PID/stat: with the pid, names one process for all time. */
int process_start_time(struct svff_ctx *ctx, pid_t pid, unsigned long long *ret);

/* ready.c: a VF goes to a guest only when it is ready. */
struct ready_watch {
	struct udev_monitor *kernel;
	struct udev_monitor *udev;
	struct _GHashTable *devices; /* BDF -> the sequence numbers of its events */
};
/* Begun before numvfs changes: every event of the new VFs is then seen. */
int ready_watch_begin(struct svff_ctx *ctx, struct ready_watch *ret_watch);
void ready_watch_end(struct ready_watch *watch);
int vfs_wait_ready(struct svff_ctx *ctx, struct ready_watch *watch, const char *pf,
		   unsigned numvfs, usec_t deadline);
int vf_wait_ready(struct svff_ctx *ctx, const char *pf, const char *bdf, usec_t deadline);
void configured_driver(struct svff_ctx *ctx, const char *pf, char *buf, size_t size);

/* holder.c: who has a VF open through VFIO: its group's node or its device cdev. */
struct vfio_holder {
	pid_t pid;
	char node[64]; /* the node it has open: /dev/vfio/N or /dev/vfio/devices/vfioX */
};
int vfio_holder_find(struct svff_ctx *ctx, int group, const char *device,
		     struct vfio_holder *ret_holder);
int vfio_wait_released(struct svff_ctx *ctx, int group, const char *device, usec_t deadline);
/* Every VFIO node's first holder, from one walk of /proc: for callers asking of many VFs. */
struct vfio_holders {
	struct _GHashTable *nodes; /* node -> its first holder */
};
int vfio_holders_scan(struct svff_ctx *ctx, struct vfio_holders *ret);
/* What vfio_holder_find() says of the VF, from the scan: 1 and the holder, or 0. */
int vfio_holders_find(const struct vfio_holders *holders, int group, const char *device,
		      struct vfio_holder *ret_holder);
void vfio_holders_done(struct vfio_holders *holders);
/* -ETXTBSY, naming the process, when any VF of the PF is held: numvfs must not change. */
int pf_check_not_held(struct svff_ctx *ctx, const struct pf_info *pf);

/* xml.c: domain and device XML, through libxml2. */
struct hostdev {
	char source_bdf[SVFF_BDF_SIZE];
	char guest_address[SVFF_BDF_SIZE]; /* "" when libvirt has not placed it */
	char alias[128];                   /* "" when none */
	bool is_interface;                 /* <interface type='hostdev'> */
	bool managed;
	char *xml; /* the device element, as libvirt gave it */
};

int xml_domain_hostdevs(const char *domain_xml, struct hostdev **ret_devs, size_t *ret_n);
int xml_domain_parse(const char *xml, size_t size, char ret_name[256], char ret_uuid[37],
		     struct hostdev **ret_devs, size_t *ret_n);
void hostdevs_free(struct hostdev *devs, size_t n);
int xml_device_parse(const char *device_xml, struct hostdev *ret_dev);
int xml_device_for_attach(const char *device_xml, const char *source_bdf, char **ret_xml);
const struct hostdev *hostdevs_find_source(const struct hostdev *devs, size_t n,
					   const char *bdf);

/* state.c: one record per (PF, VF index), written ahead of each action. */
enum phase {
	PHASE_DETACHING,
	PHASE_DETACHED,
	PHASE_REATTACHING,
	PHASE_ASSIGNED, /* in assigned/: the domain was started with this VF */
	PHASE_LOST,     /* the VF vanished under a running domain; give it back when it returns */
	PHASE_PAUSING,  /* the domain's QEMU is asked to let go of the VF, keeping the guest's device */
	PHASE_PAUSED,   /* the guest keeps a paused device; QEMU holds nothing of the host VF */
	PHASE_RESUMING, /* QEMU is given the VF back */
	PHASE_UNPLUG_PENDING, /* the guest has not let go yet; QEMU may still remove it later */
	PHASE_NOT_READY,      /* detached; its VF exists again but is not ready for the guest */
	_PHASE_MAX,
};

struct record {
	char pf[SVFF_BDF_SIZE];
	unsigned vf_index;
	char vf_bdf[SVFF_BDF_SIZE]; /* the VF's address when it was detached */
	unsigned vf_class;          /* its PCI class then; 0: not recorded (older records) */
	char domain_uuid[37];
	char domain_name[256];
	unsigned domain_id; /* libvirt's ID of the domain's run when recorded; 0: unknown */
	enum phase phase;
	struct hostdev device; /* guest address, alias and the XML to reattach */
	int iommu_group;       /* of the VF now; found at run time, never saved */
	char vfio_device[16];  /* likewise: the VF's VFIO device cdev now, "" when none */
};

const char *phase_to_string(enum phase phase);
/* The record's PF, VF and domain are what the messages are about until the block ends. */
#define LOG_SCOPE_RECORD(record)                                                         \
	LOG_SCOPE((record)->pf, (record)->vf_bdf, (record)->domain_name, NULL)
int state_prepare(struct svff_ctx *ctx);
int state_verify(struct svff_ctx *ctx);
/*
 * Records to act on live in records/ and the journal in reconf/, under the state
 * directory; what the hook saw domains start with (assigned/) and the locks (locks/) are
 * runtime state, under the runtime directory.
 */
#define STORE_RECORDS "records"
#define STORE_ASSIGNED "assigned"
#define STORE_LOCKS "locks"
#define STORE_JOURNAL "reconf"
/* The directory of a store: "DIR/STORE". */
void store_path(const struct svff_ctx *ctx, const char *store, char *buf, size_t size);
int record_save(struct svff_ctx *ctx, const char *store, const struct record *record);
int record_load(struct svff_ctx *ctx, const char *store, const char *pf, unsigned vf_index,
		struct record **ret_record);
int record_remove(struct svff_ctx *ctx, const char *store, const struct record *record);
int records_load_all(struct svff_ctx *ctx, const char *store, struct record ***ret_records,
		     size_t *ret_n);
void record_free(struct record *record);
void records_free(struct record **records, size_t n);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct record *, record_free);
int record_serialize(const struct record *record, char **ret_text);
/* Temporary files of writes a crash cut short, in records/ or reconf/: removed. */
int store_clean_temp(struct svff_ctx *ctx, const char *store);
int record_parse(const char *text, size_t size, struct record **ret_record);

/* lock.c */
enum lock_scope {
	LOCK_SCOPE_ONE_PF,  /* the global lock shared, then the PF's exclusively */
	LOCK_SCOPE_ALL_PFS, /* the global lock exclusively */
};
struct op_lock {
	int global_fd;
	size_t n_pf_fds;
	int pf_fds[32];
};
int op_lock_acquire(struct svff_ctx *ctx, enum lock_scope scope, const char *pf,
		    struct op_lock *ret_lock);
void op_lock_release(struct op_lock *lock);
int pf_lock_share(struct svff_ctx *ctx, const char *pf, int *ret_fd);
int lock_wait(struct svff_ctx *ctx, const char *name, usec_t deadline, int *ret_fd);
