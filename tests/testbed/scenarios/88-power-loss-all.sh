#!/bin/bash
# 88-power-loss-all: the host loses its power at each step of svff-reconf and at each point of
# the atomic write of a record; after each boot, svff's boot job has put the PF back before
# libvirtd autostarts the domains, and both domains have their VF again (nine reboots; see
# power-loss.sh). 86-boot cuts it once, in the 'enable' step.
# testbed: long
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/svff-lib.sh"
. "$(dirname "$0")/power-loss.sh"
power_loss_chain detach disable program enable reattach record-write record-fsync record-rename record-dirsync
