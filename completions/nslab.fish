# SPDX-License-Identifier: MIT
# fish completion for nslab(1): commands, their options, lab names (nslab ls),
# node names (nslab status LAB --json) and files.

set -l commands up ls status exec shell router device add remove down cleanup test trace run sim link region dns serve help version

# The operands typed after the command so far (options skipped).
function __nslab_operands
    set -l words (commandline -opc)
    set -e words[1]
    set -l seen_cmd 0
    for w in $words
        switch $w
            case '-*'
                continue
        end
        if test $seen_cmd -eq 0
            set seen_cmd 1
            continue
        end
        echo $w
    end
end

function __nslab_operand_count
    test (count (__nslab_operands)) -eq $argv[1]
end

function __nslab_nodes
    set -l lab (__nslab_operands)[1]
    test -n "$lab"; or return
    nslab status $lab --json 2>/dev/null | string match -ar '"name":"[^"]*","kind":"(?:router|device)"' |
        string replace -r '"name":"([^"]*)".*' '$1'
end

complete -c nslab -f
complete -c nslab -s h -l help -d 'print the help and exit'
complete -c nslab -s v -l verbose -d 'more output'
complete -c nslab -n "not __fish_seen_subcommand_from $commands" -l version -d 'print the version and exit'

complete -c nslab -n "not __fish_seen_subcommand_from $commands" -a up -d 'build a lab from a YAML file and hold it'
complete -c nslab -n "not __fish_seen_subcommand_from $commands" -a ls -d 'list your labs that are up'
complete -c nslab -n "not __fish_seen_subcommand_from $commands" -a status -d 'nodes, interfaces and addresses of a lab'
complete -c nslab -n "not __fish_seen_subcommand_from $commands" -a exec -d 'run a command inside a node'
complete -c nslab -n "not __fish_seen_subcommand_from $commands" -a shell -d 'an interactive shell inside a node'
complete -c nslab -n "not __fish_seen_subcommand_from $commands" -a router -d 'change a router of a running lab (its NAT, IPv6 NAT and firewall)'
complete -c nslab -n "not __fish_seen_subcommand_from $commands" -a device -d 'change a device of a running lab (default interface, replug, renew-ip, add-iface, remove-iface)'
complete -c nslab -n "not __fish_seen_subcommand_from $commands" -a add -d 'add a router or a device to a running lab'
complete -c nslab -n '__fish_seen_subcommand_from add; and __nslab_operand_count 1' -a 'router device'
complete -c nslab -n "not __fish_seen_subcommand_from $commands" -a remove -d 'remove a router or a device from a running lab'
complete -c nslab -n '__fish_seen_subcommand_from remove' -l force -d "a router's devices and downstream routers too"
complete -c nslab -n '__fish_seen_subcommand_from remove; and __nslab_operand_count 1' -a '(__nslab_nodes)'
complete -c nslab -n "not __fish_seen_subcommand_from $commands" -a down -d 'tear a lab down'
complete -c nslab -n "not __fish_seen_subcommand_from $commands" -a cleanup -d 'remove what up --persist left'
complete -c nslab -n "not __fish_seen_subcommand_from $commands" -a test -d 'run firewall tests'
complete -c nslab -n "not __fish_seen_subcommand_from $commands" -a trace -d 'one packet through a ruleset'
complete -c nslab -n "not __fish_seen_subcommand_from $commands" -a run -d 'run a command in a sandbox'
complete -c nslab -n "not __fish_seen_subcommand_from $commands" -a sim -d 'run scripted scenarios over labs'
complete -c nslab -n '__fish_seen_subcommand_from sim' -s d -l outdir -r -d 'the run directory'
complete -c nslab -n '__fish_seen_subcommand_from sim' -s f -l format -x -a 'text json junit tap' -d 'report format'
complete -c nslab -n '__fish_seen_subcommand_from sim' -s o -l output -r -d 'report file'
complete -c nslab -n '__fish_seen_subcommand_from sim' -s q -l quiet -d 'only the sims that did not pass'
complete -c nslab -n "not __fish_seen_subcommand_from $commands" -a link -d 'show or change a link\'s condition'
complete -c nslab -n '__fish_seen_subcommand_from link' -l presets -d 'list the built-in presets'
complete -c nslab -n '__fish_seen_subcommand_from link' -l json -d 'the answer as JSON'
complete -c nslab -n "not __fish_seen_subcommand_from $commands" -a region -d 'break, restore or change the link between two regions'
complete -c nslab -n '__fish_seen_subcommand_from region' -l json -d 'the answer as JSON'
complete -c nslab -n '__fish_seen_subcommand_from region' -a 'break restore show clear'
complete -c nslab -n "not __fish_seen_subcommand_from $commands" -a dns -d "set or remove a name of a running lab's DNS"
complete -c nslab -n '__fish_seen_subcommand_from dns' -a 'set remove'
complete -c nslab -n "not __fish_seen_subcommand_from $commands" -a help -d "a command's usage and options"
complete -c nslab -n "not __fish_seen_subcommand_from $commands" -a version -d 'print the version'

# up
complete -c nslab -n '__fish_seen_subcommand_from up' -s d -l detach -d 'return once the lab is ready'
complete -c nslab -n '__fish_seen_subcommand_from up' -s n -l name -x -d 'name the lab'
complete -c nslab -n '__fish_seen_subcommand_from up' -s o -l outdir -x -a '(__fish_complete_directories)' -d 'events, state and logs here'
complete -c nslab -n '__fish_seen_subcommand_from up' -l persist -d 'name namespaces /run/netns/LAB-NODE'
complete -c nslab -n '__fish_seen_subcommand_from up' -l link-backend -x -a 'auto wire netem' -d 'condition links with'
complete -c nslab -n '__fish_seen_subcommand_from up' -s q -l quiet -d 'print no table and no progress'
complete -c nslab -n '__fish_seen_subcommand_from up' -F

# labs and nodes
complete -c nslab -n '__fish_seen_subcommand_from status down cleanup exec shell; and __nslab_operand_count 0' -a '(nslab ls -q 2>/dev/null)'
complete -c nslab -n '__fish_seen_subcommand_from exec shell; and __nslab_operand_count 1' -a '(__nslab_nodes)'
complete -c nslab -n '__fish_seen_subcommand_from status' -l json -d 'state as JSON'
complete -c nslab -n '__fish_seen_subcommand_from help' -a "$commands"

# test and trace
complete -c nslab -n '__fish_seen_subcommand_from test' -s f -l format -x -a 'text tap junit json' -d 'report format'
complete -c nslab -n '__fish_seen_subcommand_from test' -s o -l output -r -d 'write the report to FILE'
complete -c nslab -n '__fish_seen_subcommand_from test' -l coverage -d 'every rule with its hit count'
complete -c nslab -n '__fish_seen_subcommand_from test' -s k -l only -x -d 'only tests whose name contains TEXT'
complete -c nslab -n '__fish_seen_subcommand_from test' -s q -l quiet -d 'print only tests that did not pass'
complete -c nslab -n '__fish_seen_subcommand_from test' -l check -r -d 'only load a ruleset'
complete -c nslab -n '__fish_seen_subcommand_from test' -l compare -d 'verdicts that differ, OLD vs NEW'
complete -c nslab -n '__fish_seen_subcommand_from test trace' -l allow-include -d 'accept include in rulesets'
complete -c nslab -n '__fish_seen_subcommand_from test' -F
complete -c nslab -n '__fish_seen_subcommand_from trace' -s r -l rules -r -d 'the ruleset'
complete -c nslab -n '__fish_seen_subcommand_from trace' -s t -l topology -x -a 'direct gateway' -d 'topology'
complete -c nslab -n '__fish_seen_subcommand_from ls' -l json -d 'as JSON'
complete -c nslab -n '__fish_seen_subcommand_from ls' -s q -l quiet -d 'names only'
complete -c nslab -n '__fish_seen_subcommand_from cleanup' -l all -d "every user's labs"
complete -c nslab -n '__fish_seen_subcommand_from exec; and __nslab_operand_count 0' -s d -l detach -d 'run in the background'
complete -c nslab -n '__fish_seen_subcommand_from exec; and __nslab_operand_count 0' -l sandbox -r -d 'in a sandbox, with this profile'

# run (its command's words are not completed past the options)
complete -c nslab -n '__fish_seen_subcommand_from run' -l net -x -a 'none host' -d 'the network'
complete -c nslab -n '__fish_seen_subcommand_from run' -l in -x -a '(nslab ls -q 2>/dev/null)' -d "a lab node's network: --in LAB NODE"
complete -c nslab -n '__fish_seen_subcommand_from run' -l mem -x -d 'memory limit (K, M, G)'
complete -c nslab -n '__fish_seen_subcommand_from run' -l cpu -x -d 'CPU seconds'
complete -c nslab -n '__fish_seen_subcommand_from run' -l pids -x -d 'processes at once'
complete -c nslab -n '__fish_seen_subcommand_from run' -l fds -x -d 'open files per process'
complete -c nslab -n '__fish_seen_subcommand_from run' -l fsize -x -d 'largest file written'
complete -c nslab -n '__fish_seen_subcommand_from run' -l timeout -x -d 'wall-clock limit'
complete -c nslab -n '__fish_seen_subcommand_from run' -l rootfs -x -a '(__fish_complete_directories)' -d 'the root directory'
complete -c nslab -n '__fish_seen_subcommand_from run' -l ro -d 'the root read-only'
complete -c nslab -n '__fish_seen_subcommand_from run' -l bind -r -d 'bind SRC[:DST]'
complete -c nslab -n '__fish_seen_subcommand_from run' -l ro-bind -r -d 'bind SRC[:DST] read-only'
complete -c nslab -n '__fish_seen_subcommand_from run' -l tmpfs -x -d 'a tmpfs at DST'
complete -c nslab -n '__fish_seen_subcommand_from run' -l chdir -x -d 'the working directory inside'
complete -c nslab -n '__fish_seen_subcommand_from run' -l seccomp -r -a 'default none' -d 'default, none or FILE.json'
complete -c nslab -n '__fish_seen_subcommand_from run' -l cap-add -x -a 'CAP_NET_RAW CAP_NET_ADMIN CAP_NET_BIND_SERVICE CAP_SYS_ADMIN CAP_SYS_PTRACE CAP_CHOWN CAP_KILL CAP_SETUID CAP_SETGID' -d 'keep a capability'
complete -c nslab -n '__fish_seen_subcommand_from run' -l uid -x -d 'the uid inside'
complete -c nslab -n '__fish_seen_subcommand_from run' -l gid -x -d 'the gid inside'
complete -c nslab -n '__fish_seen_subcommand_from run' -l as-root -d 'uid 0 inside'
complete -c nslab -n '__fish_seen_subcommand_from run' -l hostname -x -d 'the host name inside'
complete -c nslab -n '__fish_seen_subcommand_from run' -l env -x -d 'set K=V'
complete -c nslab -n '__fish_seen_subcommand_from run' -l clearenv -d 'an empty environment'
complete -c nslab -n '__fish_seen_subcommand_from run' -l profile -r -d 'options from a YAML file'
complete -c nslab -n '__fish_seen_subcommand_from run' -l dry-run -d 'print the policy as JSON'
complete -c nslab -n '__fish_seen_subcommand_from run' -l stats -d 'the accounting on stderr'
complete -c nslab -n '__fish_seen_subcommand_from run' -l json -r -d 'the result record'
complete -c nslab -n '__fish_seen_subcommand_from run' -l allow -x -d 'allow names, addresses, prefixes'
complete -c nslab -n '__fish_seen_subcommand_from run' -l allow-file -r -d 'an allow-list file'
complete -c nslab -n '__fish_seen_subcommand_from run' -l deny -x -a 'drop reject' -d 'what a packet not allowed gets'
complete -c nslab -n '__fish_seen_subcommand_from run' -l dns-deny -x -a 'refused nxdomain' -d 'the answer to a name not allowed'
complete -c nslab -n '__fish_seen_subcommand_from run' -l dns-upstream -x -d 'where allowed queries go'
complete -c nslab -n '__fish_seen_subcommand_from run' -l ttl-grace -x -d 'seconds past the TTL'
complete -c nslab -n '__fish_seen_subcommand_from run' -l ipv6 -d 'IPv6 in the jail'
complete -c nslab -n '__fish_seen_subcommand_from run' -l log -r -d 'the JSON log of a filtered run'
complete -c nslab -n '__fish_seen_subcommand_from run' -l analyse -d 'allow everything, report every DNS query'
complete -c nslab -n '__fish_seen_subcommand_from run' -l egress -x -a 'pasta veth proxy' -d 'the way out'
complete -c nslab -n '__fish_seen_subcommand_from run' -l interactive -d 'ask on the terminal about each new destination'
complete -c nslab -n '__fish_seen_subcommand_from run' -l ask-timeout -x -d 'no answer within this is a deny'
complete -c nslab -n '__fish_seen_subcommand_from run' -l pcap -r -d 'the jail packets as pcapng'
complete -c nslab -n '__fish_seen_subcommand_from run' -l host-port -x -d 'expose host loopback ports inside'
complete -c nslab -n '__fish_seen_subcommand_from run' -l no-log -d 'no JSON log, no live lines'
complete -c nslab -n '__fish_seen_subcommand_from run' -s q -l quiet -d 'no live lines (the log is still written)'
complete -c nslab -n '__fish_seen_subcommand_from run' -a '(__fish_complete_command)'
complete -c nslab -n "not __fish_seen_subcommand_from $commands" -a serve -d 'serve run directories and live labs over HTTP'
complete -c nslab -n '__fish_seen_subcommand_from serve' -l bind -x -d 'listen on ADDR:PORT'
complete -c nslab -n '__fish_seen_subcommand_from serve' -l open -d 'open the URL in the browser'
complete -c nslab -n '__fish_seen_subcommand_from serve' -l playground -d 'accept firewall test suites by POST'
complete -c nslab -n '__fish_seen_subcommand_from serve' -l rate -x -d 'requests per second per address'
complete -c nslab -n '__fish_seen_subcommand_from serve' -l ui -r -a '(__fish_complete_directories)' -d 'the built web UI'
