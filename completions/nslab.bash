# SPDX-License-Identifier: MIT
# bash completion for nslab(1): commands, their options, lab names (nslab ls),
# node names (nslab status LAB --json) and files.

# _nslab_nodes NSLAB LAB: the routers and devices of a lab that is up.
_nslab_nodes()
{
	"$1" status "$2" --json 2>/dev/null |
		grep -oE '"name":"[^"]*","kind":"(router|device)"' | cut -d'"' -f4
}

# _nslab_files EXT...: files with those extensions, and directories.
_nslab_files()
{
	if declare -F _filedir >/dev/null; then
		local IFS='|'
		_filedir "@($*)"
	else
		local IFS=$'\n'
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
}

# _nslab_run NSLAB: nslab run's options, their values, then the command and its files.
_nslab_run()
{
	local i w cmdword= inlab=
	local valued="--net --log --allow --allow-file --deny --dns-deny --dns-upstream --ttl-grace --egress --mem --cpu --pids --fds --fsize --timeout --rootfs --bind --ro-bind \
--tmpfs --chdir --seccomp --cap-add --uid --gid --hostname --env --profile --json --pcap --ask-timeout --host-port"

	for ((i = 2; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if [[ $w == -- || $w != -* ]]; then
			[[ $w == -- ]] && ((i++))
			cmdword=$i
			break
		fi
		if [[ $w == --in ]]; then
			((i += 2))
		elif [[ " $valued " == *" $w "* ]]; then
			((i++))
		fi
	done
	if [[ $cmdword ]]; then
		if ((COMP_CWORD == cmdword)); then
			COMPREPLY=($(compgen -c -- "$cur"))
		else
			COMPREPLY=($(compgen -f -- "$cur"))
		fi
		return
	fi
	# --in LAB NODE: the node, after the lab
	if ((COMP_CWORD >= 4)) && [[ ${COMP_WORDS[COMP_CWORD - 2]} == --in ]]; then
		COMPREPLY=($(compgen -W "$(_nslab_nodes "$1" "$prev")" -- "$cur"))
		return
	fi
	case $prev in
	--in) COMPREPLY=($(compgen -W "$("$1" ls -q 2>/dev/null)" -- "$cur")) ;;
	--net) COMPREPLY=($(compgen -W "none host" -- "$cur")) ;;
	--seccomp)
		_nslab_files json
		COMPREPLY+=($(compgen -W "default none" -- "$cur"))
		;;
	--profile) _nslab_files yaml yml ;;
	--rootfs | --chdir) COMPREPLY=($(compgen -d -- "$cur")) ;;
	--bind | --ro-bind | --json | --allow-file | --log | --pcap) COMPREPLY=($(compgen -f -- "$cur")) ;;
	--deny) COMPREPLY=($(compgen -W "drop reject" -- "$cur")) ;;
	--dns-deny) COMPREPLY=($(compgen -W "refused nxdomain" -- "$cur")) ;;
	--egress) COMPREPLY=($(compgen -W "pasta veth proxy" -- "$cur")) ;;
	--cap-add)
		COMPREPLY=($(compgen -W "CAP_CHOWN CAP_DAC_OVERRIDE CAP_FOWNER CAP_KILL CAP_SETUID \
CAP_SETGID CAP_NET_BIND_SERVICE CAP_NET_RAW CAP_NET_ADMIN CAP_SYS_ADMIN CAP_SYS_PTRACE \
CAP_SYS_CHROOT CAP_SYS_TIME CAP_MKNOD CAP_AUDIT_WRITE CAP_SETFCAP" -- "$cur"))
		;;
	--mem | --cpu | --pids | --fds | --fsize | --timeout | --tmpfs | --uid | --gid | \
		--hostname | --env | --allow | --dns-upstream | --ttl-grace | --ask-timeout | --host-port) ;;
	*)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$valued --in --ro --as-root --clearenv --dry-run \
--stats --ipv6 --analyse --interactive --no-log -q --quiet -- -h --help -v --verbose" -- "$cur"))
		else
			COMPREPLY=($(compgen -c -- "$cur"))
		fi
		;;
	esac
}

_nslab()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local nslab=${COMP_WORDS[0]} cmd= cmdi=0 i w dashdash=
	local commands="up ls status exec shell router device add remove down cleanup test trace run sim link region dns serve help version"
	local common="-h --help -v --verbose"
	local -a ops=()

	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-*) ;;
		*)
			cmd=${COMP_WORDS[i]}
			cmdi=$i
			break
			;;
		esac
	done
	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$common --version" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$commands" -- "$cur"))
		fi
		return
	fi

	if [[ $cmd == run ]]; then
		_nslab_run "$nslab"
		return
	fi

	# the operands before the word being completed (options and their values skipped)
	for ((i = cmdi + 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if [[ $cmd == exec && ($dashdash || ${#ops[@]} -ge 2) ]]; then
			# after LAB NODE: an optional "--", then the command's words
			[[ $w == -- && ! $dashdash && ${#ops[@]} -eq 2 ]] && dashdash=1 && continue
			dashdash=1
			ops+=("$w")
			continue
		fi
		case $w in
		--) dashdash=1 ;;
		-n | --name | -o | --outdir | --output | -f | --format | -k | --only | --check | \
			-r | --rules | -t | --topology | --sandbox | --bind | --rate | --ui) ((i++)) ;;
		-*) ;;
		*) ops+=("$w") ;;
		esac
	done

	case $cmd in
	exec)
		if [[ $dashdash || ${#ops[@]} -ge 2 ]]; then
			# the command in the node: a command name, then files
			if [[ ${#ops[@]} -le 2 ]]; then
				COMPREPLY=($(compgen -c -- "$cur"))
			else
				COMPREPLY=($(compgen -f -- "$cur"))
			fi
			return
		fi
		;;
	esac

	case $prev in
	-f | --format)
		[[ $cmd == test ]] && COMPREPLY=($(compgen -W "text tap junit json" -- "$cur")) && return
		;;
	-t | --topology)
		[[ $cmd == trace ]] && COMPREPLY=($(compgen -W "direct gateway" -- "$cur")) && return
		;;
	--check | -r | --rules)
		_nslab_files nft
		return
		;;
	--sandbox)
		[[ $cmd == exec ]] && _nslab_files yaml yml && return
		;;
	-o | --outdir | --output)
		if [[ $cmd == up ]]; then
			COMPREPLY=($(compgen -d -- "$cur"))
		else
			COMPREPLY=($(compgen -f -- "$cur"))
		fi
		return
		;;
	--ui)
		[[ $cmd == serve ]] && COMPREPLY=($(compgen -d -- "$cur")) && return
		;;
	-n | --name | -k | --only | --bind | --rate)
		return
		;;
	esac

	if [[ $cur == -* ]]; then
		case $cmd in
		up) w="-d --detach -n --name -o --outdir --persist --link-backend -q --quiet" ;;
		status) w="--json" ;;
		ls) w="--json -q --quiet" ;;
		cleanup) w="--all" ;;
		exec) w="-d --detach --sandbox --" ;;
		test) w="-f --format -o --output --coverage -k --only -q --quiet --check --compare --allow-include" ;;
		trace) w="-r --rules -t --topology --allow-include" ;;
		sim) w="-d --outdir -f --format -o --output -q --quiet -j --jobs" ;;
		serve) w="--bind --open --playground --rate --ui" ;;
		link | region) w="--json" ;;
		remove) w="--force" ;;
		*) w= ;;
		esac
		COMPREPLY=($(compgen -W "$w $common" -- "$cur"))
		return
	fi

	case $cmd in
	up) _nslab_files yaml yml ;;
	test) _nslab_files yaml yml nft ;;
	sim) _nslab_files yaml yml ;;
	serve) COMPREPLY=($(compgen -d -- "$cur")) ;;
	region)
		if [[ ${#ops[@]} -eq 0 ]]; then
			COMPREPLY=($(compgen -W "$("$nslab" ls -q 2>/dev/null)" -- "$cur"))
		elif [[ ${#ops[@]} -eq 3 ]]; then
			COMPREPLY=($(compgen -W "break restore show clear" -- "$cur"))
		fi
		;;
	add)
		# LAB router|device NAME, then keys of its lab file entry and their values
		if [[ ${#ops[@]} -eq 0 ]]; then
			COMPREPLY=($(compgen -W "$("$nslab" ls -q 2>/dev/null)" -- "$cur"))
		elif [[ ${#ops[@]} -eq 1 ]]; then
			COMPREPLY=($(compgen -W "router device" -- "$cur"))
		elif [[ ${#ops[@]} -ge 3 && $(((${#ops[@]} - 3) % 2)) -eq 0 ]]; then
			if [[ ${ops[1]} == router ]]; then
				w="upstream region preset nat nat6 nat64_size firewall ip pool mtu rules_file block_icmp_frag_needed"
			else
				w="router ifaces default_via count"
			fi
			COMPREPLY=($(compgen -W "$w" -- "$cur"))
		elif [[ ${#ops[@]} -ge 4 ]]; then
			case $prev in
			upstream | router | region) w=$(_nslab_nodes "$nslab" "${ops[0]}") ;;
			nat) w="none home full-cone restricted-cone corporate cloud-nat cgnat" ;;
			nat6) w="none nptv6 masquerade nat64" ;;
			preset) w="home public public-v4 isp-cgnat isp-v6 corporate hotel cloud" ;;
			firewall) w="none block-inbound corporate captive-portal" ;;
			ip) w="dual v4 v6" ;;
			pool) w="public private" ;;
			*) w= ;;
			esac
			COMPREPLY=($(compgen -W "$w" -- "$cur"))
		fi
		;;
	remove)
		if [[ ${#ops[@]} -eq 0 ]]; then
			COMPREPLY=($(compgen -W "$("$nslab" ls -q 2>/dev/null)" -- "$cur"))
		elif [[ ${#ops[@]} -eq 1 ]]; then
			COMPREPLY=($(compgen -W "$(_nslab_nodes "$nslab" "${ops[0]}")" -- "$cur"))
		fi
		;;
	dns)
		if [[ ${#ops[@]} -eq 0 ]]; then
			COMPREPLY=($(compgen -W "$("$nslab" ls -q 2>/dev/null)" -- "$cur"))
		elif [[ ${#ops[@]} -eq 1 ]]; then
			COMPREPLY=($(compgen -W "set remove" -- "$cur"))
		elif [[ ${#ops[@]} -eq 3 && ${ops[1]} == set ]]; then
			COMPREPLY=($(compgen -W "$(_nslab_nodes "$nslab" "${ops[0]}")" -- "$cur"))
		fi
		;;
	down | status | cleanup)
		[[ ${#ops[@]} -eq 0 ]] && COMPREPLY=($(compgen -W "$("$nslab" ls -q 2>/dev/null)" -- "$cur"))
		;;
	exec | shell)
		if [[ ${#ops[@]} -eq 0 ]]; then
			COMPREPLY=($(compgen -W "$("$nslab" ls -q 2>/dev/null)" -- "$cur"))
		elif [[ ${#ops[@]} -eq 1 ]]; then
			COMPREPLY=($(compgen -W "$(_nslab_nodes "$nslab" "${ops[0]}")" -- "$cur"))
		fi
		;;
	help) [[ ${#ops[@]} -eq 0 ]] && COMPREPLY=($(compgen -W "$commands" -- "$cur")) ;;
	esac
}
complete -F _nslab nslab
