#!/bin/bash
# 87-power-loss: the host loses its power while svff-reconf is at step 'enable' (numvfs 0 was
# written, the new count not yet), then while svff-detach renames a record into place; after
# each boot, svff's boot job has put the PF back before libvirtd autostarts the domains, and
# both domains have their VF again (see power-loss.sh). 88-power-loss-all cuts at every point.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/svff-lib.sh"
POWER_LOSS_POINTS="enable record-rename"
. "$(dirname "$0")/power-loss.sh"
