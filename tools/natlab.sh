#!/usr/bin/env bash
# The NAT lab: two sites behind NAT routers, joined by a private "internet", all in network namespaces.
#
#   tools/natlab.sh up     [--prefix P] [--nat-a KIND] [--nat-b KIND] [--netem "delay 50ms loss 2%"]
#   tools/natlab.sh nat    [--prefix P] [--nat-a KIND] [--nat-b KIND]   # switch NAT kinds, forget every mapping
#   tools/natlab.sh status [--prefix P]
#   tools/natlab.sh exec   [--prefix P] NODE COMMAND...                  # NODE: internet, router-a, host-b, ...
#   tools/natlab.sh down   [--prefix P]
#   tools/natlab.sh natpmp      [--prefix P] SITE                       # miniupnpd (NAT-PMP only) on router-SITE
#   tools/natlab.sh natpmp-stop [--prefix P] SITE                       # stop it and remove its rules
#
# KIND: full-cone | address-restricted | port-restricted | symmetric (default port-restricted).
#
#   P-internet   198.18.0.1 (control server and relay), 198.18.0.2 and .3 (probe observers); bridge br0, 198.18.0.0/15
#   P-router-a   wan0 198.18.1.1/15, lan0 10.1.0.1/24; nftables NAT of KIND (--nat-a)
#   P-router-b   wan0 198.18.2.1/15, lan0 10.2.0.1/24; nftables NAT of KIND (--nat-b)
#   P-host-a     lan0 10.1.0.2/24, default via 10.1.0.1
#   P-host-b     lan0 10.2.0.2/24, default via 10.2.0.1
#
# The links are veth pairs created inside the namespaces (no interface ever appears in the root namespace), the
# addresses exist only inside them, and nothing routes out: the lab cannot reach or disturb the machine's network.
# NAT-PMP: `natpmp a` runs miniupnpd (miniupnpd-nftables) on router-a, answering on lan0 10.1.0.1:5351. miniupnpd
# refuses to hand out a reserved external address such as the lab's 198.18.1.1, so it announces 198.20.1.1
# (198.20.2.1 for b), which the internet and the other router route to the router's wan0; its mappings DNAT whatever
# arrives on wan0 for the mapped port, so the announced address reaches the host. Its state: the rules in the
# router's `table inet miniupnpd` (`exec router-a nft list table inet miniupnpd`).
# Needs root, iproute2, nftables and conntrack. The prefix (default natlab) keeps several labs apart; the tests use
# a unique one per run.
set -euo pipefail

die() { printf 'natlab: %s\n' "$*" >&2; exit 1; }

prefix=natlab
nat_a=port-restricted
nat_b=port-restricted
netem=""

command=${1:-}
[ -n "$command" ] || die "usage: natlab.sh up|nat|status|exec|down [--prefix P] [--nat-a KIND] [--nat-b KIND] [--netem SPEC]"
shift

while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix=${2:?--prefix needs a value}; shift 2 ;;
        --nat-a) nat_a=${2:?--nat-a needs a kind}; shift 2 ;;
        --nat-b) nat_b=${2:?--nat-b needs a kind}; shift 2 ;;
        --netem) netem=${2:?--netem needs a netem specification}; shift 2 ;;
        --) shift; break ;;
        -*) die "unknown option $1" ;;
        *) break ;;
    esac
done

[[ "$prefix" =~ ^[a-z0-9][a-z0-9-]{0,30}$ ]] || die "prefix '$prefix' must be 1-31 of a-z, 0-9, '-'"

for kind in "$nat_a" "$nat_b"; do
    case "$kind" in
        full-cone | address-restricted | port-restricted | symmetric) ;;
        *) die "NAT kind '$kind' is not one of full-cone, address-restricted, port-restricted, symmetric" ;;
    esac
done

ns() { printf '%s-%s' "$prefix" "$1"; }
in_ns() { local node=$1; shift; ip netns exec "$(ns "$node")" "$@"; }
nodes=(internet router-a router-b host-a host-b)

# The router's ruleset for one NAT kind. Linux conntrack already gives every kind its filtering of unsolicited
# packets (address and port dependent); the kinds differ in the mapping and in what is let in besides:
#   port-restricted     masquerade keeps the host's port (endpoint-independent mapping); only replies get in
#   symmetric           masquerade fully-random: a new random port per destination (address and port dependent mapping)
#   address-restricted  as port-restricted, plus: a packet from an address the host sent to, from any port, to a
#                       mapped port is forwarded (set of destination address . host port, refreshed per packet)
#   full-cone           as port-restricted, plus: any packet to a mapped port is forwarded (set of host ports)
# Masquerade keeps ports here because each site has one host, so the mapped port is the host's port and the extra
# DNAT rules can forward to the same port.
ruleset() {
    local kind=$1 host=$2
    local masquerade="masquerade"
    local learn="" admit=""
    case "$kind" in
        symmetric) masquerade="masquerade fully-random" ;;
        full-cone)
            learn='iifname "lan0" oifname "wan0" meta l4proto udp update @mapped_ports { udp sport }'
            admit="iifname \"wan0\" udp dport @mapped_ports dnat to $host"
            ;;
        address-restricted)
            learn='iifname "lan0" oifname "wan0" meta l4proto udp update @contacted { ip daddr . udp sport }'
            admit="iifname \"wan0\" ip saddr . udp dport @contacted dnat to $host"
            ;;
    esac
    cat <<RULES
table ip natlab {
    set mapped_ports { type inet_service; flags dynamic,timeout; timeout 120s; }
    set contacted { type ipv4_addr . inet_service; flags dynamic,timeout; timeout 120s; }
    chain forward {
        type filter hook forward priority filter; policy accept;
        $learn
    }
    chain prerouting {
        type nat hook prerouting priority dstnat; policy accept;
        $admit
    }
    chain postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "wan0" $masquerade
    }
    chain input {
        type filter hook input priority filter; policy accept;
        iifname "wan0" ct state established,related accept
        iifname "wan0" drop
    }
}
RULES
}

configure_router() {
    local router=$1 kind=$2 host=$3
    in_ns "$router" nft delete table ip natlab 2>/dev/null || true
    ruleset "$kind" "$host" | in_ns "$router" nft -f -
    # Forget every mapping of the previous kind: a new kind starts from an empty NAT table.
    in_ns "$router" conntrack -F >/dev/null 2>&1 || true
    printf '%s\n' "$kind" >"/run/netns/.$(ns "$router").kind"
}

natpmp_dir() { printf '/run/natlab-%s-miniupnpd' "$(ns "router-$1")"; }

# The chains miniupnpd fills (its nft_init.sh would add a forward chain with policy drop, which the lab must not get).
miniupnpd_tables() {
    cat <<'RULES'
table inet miniupnpd {
    chain forward {
        type filter hook forward priority filter; policy accept;
        jump miniupnpd
    }
    chain miniupnpd {
    }
    chain prerouting {
        type nat hook prerouting priority dstnat; policy accept;
        jump prerouting_miniupnpd
    }
    chain postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        jump postrouting_miniupnpd
    }
    chain prerouting_miniupnpd {
    }
    chain postrouting_miniupnpd {
    }
}
RULES
}

natpmp_start() {
    local site=$1 number other dir
    case "$site" in a) number=1; other=b ;; b) number=2; other=a ;; *) die "site '$site' is not a or b" ;; esac
    command -v miniupnpd >/dev/null || die "miniupnpd is not installed (Debian: miniupnpd-nftables)"
    dir=$(natpmp_dir "$site")
    [ -e "$dir/miniupnpd.pid" ] && die "miniupnpd already runs on $(ns "router-$site"); run natpmp-stop first"
    mkdir -p "$dir"
    cat >"$dir/miniupnpd.conf" <<CONF
ext_ifname=wan0
listening_ip=lan0
enable_natpmp=yes
enable_upnp=no
ext_ip=198.20.$number.1
secure_mode=yes
system_uptime=no
uuid=6e61746c-6162-4e50-9d50-00000000000$number
upnp_table_name=miniupnpd
upnp_nat_table_name=miniupnpd
allow 1024-65535 10.$number.0.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
CONF
    in_ns "router-$site" nft delete table inet miniupnpd 2>/dev/null || true
    miniupnpd_tables | in_ns "router-$site" nft -f -
    in_ns internet ip route replace "198.20.$number.1/32" via "198.18.$number.1"
    in_ns "router-$other" ip route replace "198.20.$number.1/32" via "198.18.$number.1"
    # Without -d miniupnpd forks into the background and writes its pid file.
    in_ns "router-$site" miniupnpd -f "$dir/miniupnpd.conf" -P "$dir/miniupnpd.pid"
    local waited
    for waited in $(seq 50); do
        [ -s "$dir/miniupnpd.pid" ] && return
        sleep 0.1
    done
    die "miniupnpd on $(ns "router-$site") wrote no pid file within 5 s"
}

natpmp_stop() {
    local site=$1 dir pid
    dir=$(natpmp_dir "$site")
    if [ -s "$dir/miniupnpd.pid" ]; then
        pid=$(cat "$dir/miniupnpd.pid")
        kill "$pid" 2>/dev/null || true
    fi
    in_ns "router-$site" nft delete table inet miniupnpd 2>/dev/null || true
    rm -rf "$dir"
}

up() {
    local node
    for node in "${nodes[@]}"; do
        ip netns list | grep -qx "$(ns "$node")\( (id: [0-9]*)\)\?" && die "$(ns "$node") exists; run down first"
    done
    # A lab that fails half-built is removed again.
    trap 'down' EXIT
    for node in "${nodes[@]}"; do
        ip netns add "$(ns "$node")"
        in_ns "$node" ip link set lo up
    done

    in_ns internet ip link add br0 type bridge
    in_ns internet ip link set br0 up
    in_ns internet ip addr add 198.18.0.1/15 dev br0
    in_ns internet ip addr add 198.18.0.2/15 dev br0
    in_ns internet ip addr add 198.18.0.3/15 dev br0

    local site number
    for site in a b; do
        number=$([ "$site" = a ] && echo 1 || echo 2)
        # WAN: router's wan0 <-> a port on the internet's bridge.
        in_ns "router-$site" ip link add wan0 type veth peer name "port-$site" netns "$(ns internet)"
        in_ns internet ip link set "port-$site" master br0 up
        in_ns "router-$site" ip addr add "198.18.$number.1/15" dev wan0
        in_ns "router-$site" ip link set wan0 up
        # LAN: router's lan0 <-> host's lan0.
        in_ns "router-$site" ip link add lan0 type veth peer name lan0 netns "$(ns "host-$site")"
        in_ns "router-$site" ip addr add "10.$number.0.1/24" dev lan0
        in_ns "router-$site" ip link set lan0 up
        in_ns "host-$site" ip addr add "10.$number.0.2/24" dev lan0
        in_ns "host-$site" ip link set lan0 up
        in_ns "host-$site" ip route add default via "10.$number.0.1"
        in_ns "router-$site" sysctl -qw net.ipv4.ip_forward=1
        if [ -n "$netem" ]; then
            # shellcheck disable=SC2086 # the specification is words for tc
            in_ns "router-$site" tc qdisc add dev wan0 root netem $netem ||
                die "tc netem '$netem' failed (is the kernel's sch_netem module available?)"
        fi
    done

    configure_router router-a "$nat_a" 10.1.0.2
    configure_router router-b "$nat_b" 10.2.0.2
    trap - EXIT
}

down() {
    local node
    for node in "${nodes[@]}"; do
        # Processes left in the lab (a killed test's connet) would keep its namespace alive after the name is gone.
        [ -e "/run/netns/$(ns "$node")" ] && ip netns pids "$(ns "$node")" | xargs -r kill -KILL 2>/dev/null || true
        ip netns delete "$(ns "$node")" 2>/dev/null || true
        rm -f "/run/netns/.$(ns "$node").kind"
    done
    rm -rf "$(natpmp_dir a)" "$(natpmp_dir b)"
}

status() {
    local node
    for node in "${nodes[@]}"; do
        if ! [ -e "/run/netns/$(ns "$node")" ]; then
            printf '%s: absent\n' "$(ns "$node")"
            continue
        fi
        printf '%s:' "$(ns "$node")"
        [ -f "/run/netns/.$(ns "$node").kind" ] && printf ' nat %s,' "$(cat "/run/netns/.$(ns "$node").kind")"
        in_ns "$node" ip -4 -brief addr show | awk '$1 != "lo" { printf " %s", $1; for (i = 3; i <= NF; i++) printf " %s", $i }'
        printf '\n'
    done
}

case "$command" in
    up) up ;;
    nat)
        configure_router router-a "$nat_a" 10.1.0.2
        configure_router router-b "$nat_b" 10.2.0.2
        ;;
    down) down ;;
    status) status ;;
    natpmp) natpmp_start "${1:?natpmp needs a site (a or b)}" ;;
    natpmp-stop) natpmp_stop "${1:?natpmp-stop needs a site (a or b)}" ;;
    exec)
        [ $# -ge 2 ] || die "exec needs a node and a command"
        node=$1; shift
        [[ " ${nodes[*]} " == *" $node "* ]] || die "node '$node' is not one of ${nodes[*]}"
        exec ip netns exec "$(ns "$node")" "$@"
        ;;
    *) die "unknown command '$command' (up, nat, status, exec, down, natpmp, natpmp-stop)" ;;
esac
