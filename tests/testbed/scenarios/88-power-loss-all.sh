#!/bin/bash
# 88-power-loss-all: 87-power-loss's checks after a power loss at each step of svff-reconf and
# at each point of the atomic write of a record (nine reboots; see power-loss.sh).
# testbed: long
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/svff-lib.sh"
POWER_LOSS_POINTS="detach disable program enable reattach record-write record-fsync record-rename record-dirsync"
. "$(dirname "$0")/power-loss.sh"
