# bash completion for svff-reconf, svff-detach, svff-reattach, svff-status and svff-apply.
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Options come from each program's --help, PF addresses from the SR-IOV PFs in sysfs
# (a sriov_totalvfs attribute), VF addresses from the VFs (a physfn link), domain names
# from `virsh list --all --name` on the URI of --connect, $LIBVIRT_DEFAULT_URI or
# qemu:///system, as the programs use.

# The options of program $1, one a line, with a '=' after those that take a value
# ("--pf BDF" in the help), as the program's --help lists them; remembered per program.
declare -gA _svff_options_of

_svff_options()
{
	local program=$1 line word i
	local -a words

	if [[ -z ${_svff_options_of[$program]+set} ]]; then
		_svff_options_of[$program]=$(LC_ALL=C "$program" --help 2>/dev/null |
			while IFS= read -r line; do
				[[ $line =~ ^\ \ +- ]] || continue
				read -ra words <<<"$line"
				for ((i = 0; i < ${#words[@]}; i++)); do
					word=${words[i]%,}
					[[ $word =~ ^--?[A-Za-z] ]] || break
					[[ ${words[i + 1]-} =~ ^[A-Z] ]] && word+="="
					printf '%s\n' "$word"
				done
			done)
	fi
	printf '%s\n' "${_svff_options_of[$program]}"
}

# The PCI addresses of the devices that have sysfs entry $1 (sriov_totalvfs: PFs,
# physfn: VFs).
_svff_devices()
{
	local device

	for device in /sys/bus/pci/devices/*; do
		if [[ -e $device/$1 || -L $device/$1 ]]; then
			printf '%s\n' "${device##*/}"
		fi
	done
}

_svff_domains()
{
	local uri=$1

	command -v virsh >/dev/null || return 0
	timeout 5 virsh --readonly --connect "$uri" list --all --name 2>/dev/null
}

# COMPREPLY: the lines of standard input that begin with $1, quoted for the shell.
_svff_reply()
{
	local cur=$1 line

	while IFS= read -r line; do
		if [[ -n $line && $line == "$cur"* ]]; then
			COMPREPLY+=("$(printf '%q' "$line")")
		fi
	done
}

# The value of option $1 on the command line before the word being completed, or "".
_svff_value_of()
{
	local option=$1 i

	for ((i = 1; i < COMP_CWORD; i++)); do
		if [[ ${COMP_WORDS[i]} == "$option" ]]; then
			if [[ ${COMP_WORDS[i + 1]} == = ]]; then
				printf '%s' "${COMP_WORDS[i + 2]}"
			else
				printf '%s' "${COMP_WORDS[i + 1]}"
			fi
		fi
	done
}

_svff()
{
	local program=$1 cur=${COMP_WORDS[COMP_CWORD]} prev='' i options

	COMPREPLY=()
	if ((COMP_CWORD > 0)); then
		prev=${COMP_WORDS[COMP_CWORD - 1]}
	fi
	# "--pf=0000:0" arrives as the words "--pf" "=" "0000:0" ('=' breaks words).
	if [[ $cur == = ]]; then
		cur=
	elif [[ $prev == = ]] && ((COMP_CWORD > 1)); then
		prev=${COMP_WORDS[COMP_CWORD - 2]}
	fi

	# svff-reconf --program PATH [ARG...]: the rest of the line is the program's.
	for ((i = 1; i < COMP_CWORD; i++)); do
		if [[ ${COMP_WORDS[i]} == --program ]]; then
			if ((i + 1 == COMP_CWORD)); then
				compopt -o filenames 2>/dev/null
				mapfile -t COMPREPLY < <(compgen -c -- "$cur"; compgen -f -- "$cur")
			else
				compopt -o default 2>/dev/null
			fi
			return 0
		fi
	done

	options=$(_svff_options "$program")
	case $prev in
	--pf)
		_svff_reply "$cur" < <(_svff_devices sriov_totalvfs)
		return 0
		;;
	--vf)
		_svff_reply "$cur" < <(_svff_devices physfn)
		return 0
		;;
	--domain)
		local uri
		uri=$(_svff_value_of --connect)
		_svff_reply "$cur" < <(_svff_domains "${uri:-${LIBVIRT_DEFAULT_URI:-qemu:///system}}")
		return 0
		;;
	--mode)
		_svff_reply "$cur" < <(printf '%s\n' detach pause auto)
		return 0
		;;
	--numvfs)
		local pf total
		pf=$(_svff_value_of --pf)
		if [[ $pf =~ ^[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$ ]] &&
			read -r total 2>/dev/null </sys/bus/pci/devices/"$pf"/sriov_totalvfs &&
			[[ $total =~ ^[0-9]+$ ]]; then
			_svff_reply "$cur" < <(seq 0 "$total")
		fi
		return 0
		;;
	--state-dir)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -d -- "$cur")
		return 0
		;;
	esac
	# Any other option that takes a value (a URI, seconds): nothing to offer.
	if [[ $prev == -* ]] && grep -qxF -- "$prev=" <<<"$options"; then
		return 0
	fi

	if [[ $cur == -* || -z $cur ]]; then
		_svff_reply "$cur" <<<"${options//=/}"
	fi
	return 0
}

complete -F _svff svff-reconf svff-detach svff-reattach svff-status svff-apply
