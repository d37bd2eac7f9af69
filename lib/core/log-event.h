/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The kinds of event svff's messages mark, each with the fixed MESSAGE_ID of its journal
 * entries (made once with systemd-id128 new; never change one). Listed here only: the
 * catalog (udev/svff.catalog, "# SVFF_<NAME>" above each entry) and svff-journal(7) name
 * them alike, and a unit test holds the catalog to this list.
 */
#define SVFF_LOG_EVENTS(X)                                                               \
	X(VF_DETACHED, "6b2472c1995b4b11a414debea8036086")                               \
	X(VF_PAUSED, "01f18061a41644c7af0146148be0d781")                                 \
	X(VF_REATTACHED, "b9827be2712245ffbc8f13ca8ee40a1d")                             \
	X(VF_RESUMED, "16bc8594946740e3bc127b87f61e428f")                                \
	X(VF_NOT_RELEASED, "60d770751a5b4dfba89152c4a48b7091")                           \
	X(VF_NOT_READY, "0472b91ff11244149a20b644087dd1b8")                              \
	X(VF_LOST, "a6cae12deea64b6289981548a6981b83")                                   \
	X(VF_BOUND, "6226d5a0835e4f2ea513c13bdcf3dff9")                                  \
	X(RECONF_STEP_DONE, "4431efc1af414d678e795e46dc32aee9")                          \
	X(RECONF_STEP_FAILED, "af3d882a5db648ccb5e3e8cabf8d2bd4")                        \
	X(RECONF_DONE, "6d1040839b854cdfaa513d64b215c20f")                               \
	X(RECONF_FAILED, "a1b30ae708ff478fbcd1347673b719d6")                             \
	X(RECONF_ROLLED_BACK, "63262563bec44e5fab8c75b27bcb7591")                        \
	X(HOOK_REFUSED, "b05d81d282e641c09e4cd294eb3f4166")                              \
	X(HOOK_ASSIGNED, "11323b2250924b0a85a0d6a8fa64e9a6")                             \
	X(RECORD_KEPT, "c457f63a458e4099a52ce9b8c1a24853")                               \
	X(RECORD_DROPPED, "ce497d5ce3cf4622a1aef3d0e4ff56a4")                            \
	X(PF_APPLIED, "99b53dd6a77c490aad679e6b1ea8e29f")

enum log_event {
	LOG_EVENT_NONE, /* a message that marks no event: no MESSAGE_ID */
#define LOG_EVENT_ENUM(name, id) LOG_EVENT_##name,
	SVFF_LOG_EVENTS(LOG_EVENT_ENUM)
#undef LOG_EVENT_ENUM
	_LOG_EVENT_MAX,
};

/* The MESSAGE_ID (32 hex digits), NULL for LOG_EVENT_NONE. */
const char *log_event_id(enum log_event event);
/* "SVFF_VF_DETACHED": the event's name in the catalog and the man page. */
const char *log_event_name(enum log_event event);
