#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# 99-package: svff's Debian package upgraded, removed, purged and installed again, as an admin
# does it, on a host where a domain (keep) holds VFs of a PF svff manages (listed in svff.conf).
# (a) apt install of a second build with a higher version: keep runs on in the same QEMU with
# its VF, its guest resets the device; libvirtd is not restarted; the hook's record of keep's
# VF and svff's record of a VF svff-detach took survive, the new svff-reattach gives that VF
# back and the new hook records a domain started afterwards. (b) apt remove: the hook, the
# programs and the udev rule are gone, svff.conf and the records stay; a domain with a VF of
# the managed PF starts, while libvirtd still knows the vanished hook and after its reload.
# (c) apt purge: /etc/svff, /var/lib/svff and /run/svff are gone, keep's guest still uses its
# VF. (d) apt install again while keep runs: postinst asks for a reload instead of restarting
# libvirtd; libvirtd runs the hook again after the reload, not before.
# testbed: needs upgrade-deb
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/svff-lib.sh"
trap 'undo_manage_pf; jobs -p | xargs -r kill 2>/dev/null' EXIT

deb=$(echo "$TB_DEB_DIR"/svff_*.deb)
upgrade_deb=$(echo "$TB_DEB_UPGRADE_DIR"/svff_*.deb)
[[ -f $deb && -f $upgrade_deb ]] ||
	fail "no svff packages in $TB_DEB_DIR and $TB_DEB_UPGRADE_DIR (the host builds them unless --meson-install)"
version=$(dpkg-deb -f "$deb" Version)
upgrade_version=$(dpkg-deb -f "$upgrade_deb" Version)
assert "$upgrade_version is a higher version than $version" dpkg --compare-versions "$upgrade_version" gt "$version"
assert_eq "svff's package as the runner installed it" "installed $version" "$(svff_package_status)"

pf0=$(pf 0)
vfs_create "$pf0" 3
manage_pf "$pf0"
vf0=$(vf "$pf0" 0) vf1=$(vf "$pf0" 1) vf2=$(vf "$pf0" 2)

# libvirtd_pid: libvirtd's main process
libvirtd_pid() { systemctl show -P MainPID "$TB_LIBVIRTD.service"; }

# the domain next, with VF 2 at guest bus 1, started by start_next: without waiting for its
# guest (the hook has done its work when virsh start returns), it must run, its QEMU holding
# the VF; the scenario destroys it soon after
domain_xml next "console=ttyS0 panic=-1 loglevel=$GUEST_LOGLEVEL" 2 "$(hostdev_xml next 0 "$vf2" 1)" \
	>/run/svff-testbed/next.xml
virsh -q define /run/svff-testbed/next.xml >/dev/null || fail "virsh define next failed"
start_next() {
	virsh -q start next && [[ $(virsh domstate next) == running && $(vfio_holder "$vf2") == "$(domain_pid next)" ]]
}

# keep_runs_on: keep runs in the QEMU it started with, holding VF 0, and its guest resets the
# device without error
keep_runs_on() {
	local out
	assert_eq "keep runs in the same QEMU" "$keep_pid" "$(domain_pid keep)"
	assert_xml_has_alias keep ua-keep-0
	assert_eq "host: VF 0 held by keep's QEMU" "$keep_pid" "$(vfio_holder "$vf0")"
	out=$(guest_probe keep) || fail "keep's guest cannot reset its VF: $out"
	ok "keep's guest resets its VF: $out"
}

step "keep starts with VF 0 and VF 1; svff-detach takes VF 1 (a record in $SVFF_STATE)"
domain_start keep --probe "$vf0@1" "$vf1@2"
guest_sees keep 0000:01:00.0
guest_sees keep 0000:02:00.0
assert "the hook recorded keep's VF 0" grep -q 'name="keep"' "$(assignment_file "$pf0" 0)"
assert_svff_exit "svff-detach --vf $vf1" 0 svff-detach --vf "$vf1"
guest_lost keep 0000:02:00.0
assert_eq "VF 1's record" detached "$(record_phase "$pf0" 1)"
keep_pid=$(domain_pid keep) daemon_pid=$(libvirtd_pid)
assignment=$(sha256sum <"$(assignment_file "$pf0" 0)") records=$(state_digest)

step "(a) upgrade: apt install ${upgrade_deb##*/} over $version"
assert_svff_exit "apt install ${upgrade_deb##*/}" 0 tb_apt install "$upgrade_deb"
assert_eq "svff upgraded" "installed $upgrade_version" "$(svff_package_status)"
assert "postinst did not restart libvirtd" not grep -qF "restarting $TB_LIBVIRTD" <<<"$SVFF_OUT"
assert_eq "libvirtd runs on (main pid)" "$daemon_pid" "$(libvirtd_pid)"
keep_runs_on
assert_eq "the hook's record of keep's VF 0 survives" "$assignment" "$(sha256sum <"$(assignment_file "$pf0" 0)")"
assert_eq "svff's record of VF 1 survives" "$records" "$(state_digest)"
assert_svff_exit "the new svff-reattach gives VF 1 back from the old one's record" 0 svff-reattach --vf "$vf1"
guest_sees keep 0000:02:00.0
assert_eq "records left" 0 "$(record_count)"
assert "next starts with VF 2" start_next
assert "the new hook recorded next's VF 2" grep -q 'name="next"' "$(assignment_file "$pf0" 2)"
virsh -q destroy next
assert_within 10 "and forgets it when next stops" not test -e "$(assignment_file "$pf0" 2)"

step "(b) apt remove svff, keep running with VF 1 taken again (a record to keep)"
assert_svff_exit "svff-detach --vf $vf1" 0 svff-detach --vf "$vf1"
guest_lost keep 0000:02:00.0
assert_svff_exit "apt remove svff" 0 tb_apt remove svff
assert_output_has "prerm says that VFs are still recorded" "still recorded in /var/lib/svff/records"
assert_eq "svff removed" "config-files $upgrade_version" "$(svff_package_status)"
for file in /etc/libvirt/hooks/qemu.d/svff /usr/lib/libvirt/svff-qemu-hook /usr/libexec/svff \
	/usr/bin/svff-reattach /usr/lib/udev/rules.d/60-svff.rules; do
	assert "$file is gone" not test -e "$file" -o -L "$file"
done
assert "svff.conf is kept" grep -qxF "[$pf0]" /etc/svff/svff.conf
assert_eq "VF 1's record is kept" detached "$(record_phase "$pf0" 1)"
keep_runs_on
# libvirtd found a hook at its start and lists qemu.d again at every call: svff's is gone
assert "next starts with VF 2 of the managed PF, the hook gone, libvirtd not reloaded" start_next
assert "nothing recorded next's VF 2" not test -e "$(assignment_file "$pf0" 2)"
virsh -q destroy next
assert "libvirtd reloads" systemctl reload "$TB_LIBVIRTD.service"
assert "next starts after the reload too" start_next
virsh -q destroy next

step "(c) apt purge svff, keep running"
assert_svff_exit "apt purge svff" 0 tb_apt purge svff
assert "svff purged ($(svff_package_status))" eval '[[ $(svff_package_status) == not-installed* ]]'
for dir in /etc/svff /var/lib/svff /run/svff; do
	assert "$dir is gone" not test -e "$dir"
done
keep_runs_on

step "(d) apt install ${deb##*/} again, keep running"
assert_svff_exit "apt install ${deb##*/}" 0 tb_apt install "$deb"
assert_eq "svff installed" "installed $version" "$(svff_package_status)"
assert_output_has "postinst asks for a reload, as a domain runs" "systemctl reload $TB_LIBVIRTD.service"
assert_eq "libvirtd was not restarted" "$daemon_pid" "$(libvirtd_pid)"
assert "the hook is back" test -x /etc/libvirt/hooks/qemu.d/svff
assert "svff.conf is the package's again, listing no PF" not grep -q '^\[' /etc/svff/svff.conf
manage_pf "$pf0"
# libvirtd reloaded without any hook in (b): it runs none until it reloads again
assert "next starts before the reload" start_next
assert "libvirtd did not run the new hook before its reload" not test -e "$(assignment_file "$pf0" 2)"
virsh -q destroy next
assert "libvirtd reloads" systemctl reload "$TB_LIBVIRTD.service"
assert "next starts after the reload" start_next
assert "the hook recorded next's VF 2" grep -q 'name="next"' "$(assignment_file "$pf0" 2)"
virsh -q destroy next
keep_runs_on
