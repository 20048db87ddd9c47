# SPDX-License-Identifier: MIT
"""Run-time changes of a Lab as the CLI offers them (regions, firewall, presets, nat6,
replug, default-via, DNS), the command's environment, and events(follow=True)."""
import errno
import threading
import time

import pytest

from nslab import Lab, NslabError
from nslab.pytest_plugin import require_namespaces


def _ping(lab, node, dest, v6=False):
    argv = ["ping", "-6" if v6 else "-4", "-c1", "-W2", dest]
    return lab.exec(node, argv, capture_output=True).returncode == 0


def test_regions_break_restore_and_words():
    require_namespaces()
    lab = (Lab("pyreg").add_region("eu").add_region("us").add_region("asia")
           .link_regions("eu", "us", "delay", "5ms").link_regions("us", "asia")
           .link_regions("eu", "asia")
           .add_router("dc-eu", region="eu").add_router("dc-us", region="us")
           .add_device("alice", router="dc-eu").add_device("bob", router="dc-us"))
    with lab:
        bob = lab.node("bob").ip
        assert lab.region_path("eu", "us") == ["eu", "us"]
        assert _ping(lab, "alice", bob)
        lab.region("eu", "us", up=False)  # `nslab region LAB eu us break`
        assert lab.region_path("eu", "us") == ["eu", "asia", "us"]
        assert _ping(lab, "alice", bob), "no detour through asia"
        lab.region("eu", "us", up=True)
        assert lab.region_path("eu", "us") == ["eu", "us"]
        lab.region("eu", "us", "delay", "7ms", "up")  # one direction (eu -> us), as the CLI's
        conds = list(lab.events("link_condition"))  # the builder's 5 ms both ways, then this
        assert sorted([conds[-1].data["up"], conds[-1].data["down"]]) == ["delay 5ms",
                                                                          "delay 7ms"], conds
        lab.region("eu", "us", clear=True)
        last = list(lab.events("link_condition"))[-1].data
        assert (last["up"], last["down"]) == ("none", "none"), last
        assert len(list(lab.events("region_link"))) == 2
        with pytest.raises(NslabError) as ei:
            lab.region("eu", "us", "delay", "fast")
        assert ei.value.errno == errno.EINVAL and "fast" in str(ei.value)
        with pytest.raises(NslabError) as ei:
            lab.region("eu", "mars", up=False)
        assert ei.value.errno == errno.ENOENT


def test_firewall_preset_nat6_and_router_preset():
    require_namespaces()
    lab = (Lab("pyfw").add_router("isp")
           .add_router("home", upstream="isp", preset="home")
           .add_router("corp", upstream="isp", firewall="block-inbound", nat6="masquerade")
           .add_device("srv", router="isp").add_device("pc", router="home")
           .add_device("c", router="corp"))
    with lab:
        c = lab.node("c")
        assert lab.node("pc").ip.startswith(("10.", "192.168.", "172.")), "home: private pool"
        assert c.ip6.startswith("fd"), "nat6 masquerade: a private IPv6 pool"
        srv6 = lab.node("srv").ip6
        assert _ping(lab, "c", srv6, v6=True), "masqueraded IPv6 out"
        assert not _ping(lab, "srv", c.ip), "block-inbound let a ping in"
        lab.router("corp", firewall="none")  # `nslab router LAB corp firewall none`
        assert _ping(lab, "srv", c.ip)
        assert [e.data.get("node") for e in lab.events("firewall_changed")] == ["corp"]
        with pytest.raises(NslabError) as ei:
            lab.router("corp", firewall="moat")
        assert "moat" in str(ei.value)
    with pytest.raises(NslabError) as ei:
        Lab("pyfw2").add_router("r", preset="castle")
    assert "castle" in str(ei.value)


def test_device_default_via_and_replug():
    require_namespaces()
    lab = (Lab("pydev").add_router("isp").add_router("home", upstream="isp")
           .add_router("cafe", upstream="isp").add_device("m")
           .add_iface("m", "wlan0", "home").add_iface("m", "eth1", "cafe")
           .set_default_via("m", "wlan0"))
    with lab:
        m = lab.node("m")
        assert m.ip == m.addr("wlan0")
        lab.device("m", default_via="eth1")  # `nslab device LAB m default-via eth1`
        assert m.ip == m.addr("eth1")
        cafe_net = m.addr("eth1").rsplit(".", 1)[0]  # eth1 is on the cafe's subnet
        old = m.addr("wlan0")
        lab.device("m", replug=("wlan0", "cafe"))  # `nslab device LAB m replug wlan0 cafe`
        new = m.addr("wlan0")
        assert new != old and new.rsplit(".", 1)[0] == cafe_net
        ev = list(lab.events("device_replugged"))
        assert len(ev) == 1 and ev[0].data["router"] == "cafe"
        assert len(list(lab.events("default_via_changed"))) == 1
        with pytest.raises(NslabError) as ei:
            lab.device("m", replug=("wlan0", "nosuch"))
        assert "nosuch" in str(ei.value)


def test_set_dns_and_env():
    require_namespaces()
    with (Lab("pydns").add_router("gw").add_device("alice", router="gw")
          .add_device("bob", router="gw")) as lab:
        bob = lab.node("bob").ip
        lab.set_dns("api.pydns.test", "bob")
        cp = lab.exec("alice", ["getent", "ahostsv4", "api.pydns.test"], capture_output=True,
                      text=True)
        assert cp.returncode == 0 and cp.stdout.split()[0] == bob
        lab.set_dns("api.pydns.test", None)
        assert lab.exec("alice", ["getent", "hosts", "api.pydns.test"]).returncode != 0
        assert len(list(lab.events("dns_changed"))) == 2
        cp = lab.exec("alice", "echo $GREETING $NSLAB_IP_BOB", env={"GREETING": "hi"},
                      capture_output=True, text=True)
        assert cp.stdout.split() == ["hi", bob]
        p = lab.popen("alice", "echo $GREETING", env={"GREETING": "ho"}, stdout=-1, text=True)
        assert p.communicate(10)[0] == "ho\n"
        p.close()


def test_events_follow_blocks_times_out_and_ends_with_the_lab():
    require_namespaces()
    lab = Lab("pyev").add_router("gw").add_device("alice", router="gw").build()
    try:
        # a timeout ends the iterator after the events so far
        t = time.monotonic()
        got = list(lab.events(follow=True, timeout=0.3))
        assert time.monotonic() - t >= 0.3 and got[-1].kind == "lab_built"
        # an event from another thread wakes a follower
        gate = threading.Event()

        def emitter():
            gate.wait(10)
            lab.emit("alice", {"step": 1})
        th = threading.Thread(target=emitter)
        th.start()
        it = lab.events("app", follow=True, timeout=30)
        gate.set()
        ev = next(it)
        assert ev.data["event"] == {"step": 1} and ev.data["node"] == "alice"
        th.join(10)
        # closing the lab ends a follower without a timeout
        seen = []
        started = threading.Event()

        def follower():
            started.set()
            seen.extend(lab.events("nothing-ever", follow=True))
        th = threading.Thread(target=follower)
        th.start()
        started.wait(10)
    finally:
        lab.close()
    th.join(10)
    assert not th.is_alive() and seen == []


def test_add_and_remove_node():
    require_namespaces()
    with Lab("pyadd").add_router("isp").add_device("srv", router="isp") as lab:
        srv = lab.node("srv")
        lab.add_node("router", "home", upstream="isp", nat="home")
        lab.add_node("device", "m", router="home")
        lab.add_node("router", "corp", upstream="isp",
                     nat={"mapping": "edm", "filtering": "apdf"}, block_icmp_frag_needed=True)
        assert srv.ip.startswith("198.18."), "a Node from before the adds still works"
        m = lab.node("m")
        assert m.ip.startswith("10."), "behind home's NAT: a private address"
        assert _ping(lab, "m", srv.ip)
        assert not _ping(lab, "srv", m.ip)
        assert [e.data["node"] for e in lab.events("router_added") if e.data.get("live")] == [
            "home", "corp"]
        with pytest.raises(NslabError) as ei:
            lab.add_node("device", "d", router="nowhere")
        assert ei.value.errno == errno.EINVAL and "nowhere" in str(ei.value)
        with pytest.raises(KeyError):
            lab.node("d")
        with pytest.raises(NslabError) as ei:
            lab.remove_node("home")
        assert ei.value.errno == errno.EBUSY and "m" in str(ei.value)
        lab.remove_node("home", force=True)
        with pytest.raises(KeyError):
            m.ip  # the handle of a removed node says so
        assert [e.data["removed"] for e in lab.events("node_removed")] == [["home", "m"]]
        assert _ping(lab, "srv", lab.node("srv").ip)


def _ra_default_dev(lab, node):
    out = lab.exec(node, ["ip", "-6", "route", "show", "default", "proto", "ra"],
                   capture_output=True).stdout.decode()
    return [w for line in out.splitlines() for w in [line.split(" dev ")[1].split()[0]]]


def _wait(pred, secs=5.0):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)  # polling a condition, bounded: SLAAC is the device kernel's
    return False


def test_ra_default_via_and_nodes_without_supervisor(srcdir):
    """Under RA provisioning, through the C API alone (no supervisor to answer
    solicitations): default-via moves the RA-learnt default route, a router added
    advertises and a device added behind it configures by SLAAC."""
    require_namespaces()
    with Lab.from_file(srcdir / "examples/ra-two-routers.yaml", name="pyra") as lab:
        srv6 = lab.node("srv").ip6
        assert _wait(lambda: _ra_default_dev(lab, "d") == ["eth0"]), _ra_default_dev(lab, "d")
        lab.set_default_via("d", "wlan0")
        assert _ra_default_dev(lab, "d") == ["wlan0"], "at once, the old one gone"
        assert _ping(lab, "d", srv6, v6=True)
        assert [e.data["iface"] for e in lab.events("default_via_changed")] == ["wlan0"]
        lab.add_node("router", "hotel", upstream="isp")
        lab.add_node("device", "g", router="hotel")
        # the add returns once g's kernel took hotel's RA: no solicitation is answered here
        assert _ra_default_dev(lab, "g") == ["eth0"], "no RA from hotel"
        g6 = lab.node("g").ip6
        out = lab.exec("g", ["ip", "-6", "addr", "show", "dev", "eth0"],
                       capture_output=True).stdout.decode()
        assert f"inet6 {g6}/64" in out and "dynamic" in out, (g6, out)
        assert _ping(lab, "g", srv6, v6=True)
        lab.remove_node("hotel", force=True)
        with pytest.raises(KeyError):
            lab.node("g")
        assert _ping(lab, "d", srv6, v6=True)
