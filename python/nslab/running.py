# SPDX-License-Identifier: MIT
"""Labs that are up (`nslab up -d`), driven through their supervisor's control socket.

    with Lab.attach("office") as lab:           # nothing is built: the lab is someone else's
        print(lab.node("laptop").ip)
        lab.link("laptop", "eth0", "delay", "50ms")
        cp = lab.exec("laptop", ["ping", "-c1", "server-1.office.test"], capture_output=True)

Reading and run-time changes are libnslab's nslab_ctl_* calls (the same
requests `nslab status/link/region/router/device/down` make). Commands run
through the `nslab exec` command (:func:`nslab.__main__.command`): that client
enters the node's namespaces from a process of its own, which a threaded
Python process could not do for a rootless lab, and its child dies with it,
so ``timeout`` and ``kill()`` end the command. Events are read from the lab's
events.jsonl in its output directory.
"""

from __future__ import annotations

import ctypes
import json
import os
import select
import subprocess
import time
from typing import IO, Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

from . import _lib
from ._lib import call, dec, enc
from .lab import Argv, Event, _argv

__all__ = ["RunningLab", "RunningNode", "running"]

# nslab/control.h NSLAB_CTL_LINK_*
_LINK_JSON, _LINK_CLEAR, _LINK_DOWN, _LINK_UP = 1, 2, 4, 8


def running() -> List[str]:
    """Names of the calling user's labs that are up."""
    L = _lib.lib()
    arr = ctypes.POINTER(ctypes.c_char_p)()
    call("nslab_ctl_list", ctypes.byref(arr))
    names = []
    try:
        i = 0
        while arr[i] is not None:
            names.append(dec(arr[i]))
            i += 1
    finally:
        L.nslab_strv_free(arr)
    return names


def _fetch(fn: str, *args: Any) -> str:
    out = ctypes.c_void_p()
    call(fn, *args, ctypes.byref(out))
    return _lib.take_string(out.value)


class RunningNode:
    """A node of a running lab, as its status showed it when :meth:`RunningLab.node` was called."""

    def __init__(self, lab: "RunningLab", data: Dict[str, Any]) -> None:
        self._lab = lab
        self.data = data

    @property
    def name(self) -> str:
        return str(self.data["name"])

    @property
    def kind(self) -> str:
        return str(self.data["kind"])

    @property
    def ifaces(self) -> List[str]:
        return [str(i["name"]) for i in self.data.get("ifaces", [])]

    def _primary(self) -> Dict[str, Any]:
        want = self.data.get("primary")
        for i in self.data.get("ifaces", []):
            if i["name"] == want:
                return dict(i)
        return {}

    @property
    def ip(self) -> Optional[str]:
        a = self._primary().get("ip4")
        return None if a is None else str(a).split("/")[0]

    @property
    def ip6(self) -> Optional[str]:
        a = self._primary().get("ip6")
        return None if a is None else str(a).split("/")[0]

    def exec(self, argv: Argv, **kw: Any) -> "subprocess.CompletedProcess[Any]":
        return self._lab.exec(self.name, argv, **kw)

    def __repr__(self) -> str:
        return f"<nslab.RunningNode {self.name} {self.kind}>"


class RunningLab(_lib.Owner):
    """A lab another process serves. close() (or the with block's end) only lets go of it;
    :meth:`down` brings it down."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._exe: Optional[str] = None  # the nslab command, looked up on first exec
        self.status()  # NslabError ESRCH now if no such lab is up

    def close(self) -> None:
        pass  # no connection is held between calls

    # --- reading ------------------------------------------------------------

    def status(self) -> Dict[str, Any]:
        """The lab's status (`nslab status --json`): nodes, interfaces, addresses, NAT."""
        return dict(json.loads(_fetch("nslab_ctl_status", enc(self.name))))

    def table(self) -> str:
        return _fetch("nslab_ctl_table", enc(self.name))

    @property
    def rootless(self) -> bool:
        return bool(self.status().get("rootless"))

    @property
    def outdir(self) -> Optional[str]:
        """The lab's output directory, or None without one."""
        out = ctypes.c_void_p()
        err = _lib.Error()
        r = _lib.lib().nslab_ctl_outdir(enc(self.name), ctypes.byref(out), ctypes.byref(err))
        if r == -2:  # ENOENT: the lab has none
            return None
        _lib.check(r, err)
        return _lib.take_string(out.value)

    @property
    def nodes(self) -> List[RunningNode]:
        return [RunningNode(self, n) for n in self.status()["nodes"] if n.get("kind") != "root"]

    def node(self, name: str) -> RunningNode:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(f"nslab: lab '{self.name}' has no node '{name}'")

    def events(self, kind: Optional[str] = None, *, follow: bool = False,
               timeout: Optional[float] = None) -> Iterator[Event]:
        """The lab's events (its outdir's events.jsonl), as :meth:`Lab.events`: with
        ``follow`` it waits for more until ``timeout`` seconds pass without one."""
        d = self.outdir
        if d is None:
            raise ValueError(f"nslab: lab '{self.name}' has no output directory (up --outdir)")
        path = os.path.join(d, "events.jsonl")
        with open(path, "rb") as f:
            watch = _Watch(path) if follow else None
            try:
                yield from _read_events(f, kind, watch, timeout)
            finally:
                if watch is not None:
                    watch.close()

    # --- running commands (through `nslab exec`) ------------------------------

    def _cmd(self, node: str, argv: Argv) -> Tuple[List[str], List[str]]:
        if self._exe is None:
            from .__main__ import command
            self._exe = command()
            if self._exe is None:
                raise FileNotFoundError("nslab: the nslab command is not installed "
                                        "(set NSLAB to its path)")
        args = _argv(argv)
        return [self._exe, "exec", self.name, node, "--"] + args, args

    def exec(self, node: str, argv: Argv, *, check: bool = False, capture_output: bool = False,
             stdout: Any = None, stderr: Any = None, timeout: Optional[float] = None,
             text: bool = False, cwd: Optional[str] = None,
             env: Optional[Mapping[str, str]] = None) -> "subprocess.CompletedProcess[Any]":
        """Run argv in node and wait, as :meth:`Lab.exec` (env: over the caller's)."""
        full, args = self._cmd(node, argv)
        cp = subprocess.run(full, capture_output=capture_output, stdout=stdout, stderr=stderr,
                            timeout=timeout, text=text, cwd=cwd, env=_merged(env))
        cp.args = args
        if check:
            cp.check_returncode()
        return cp

    def popen(self, node: str, argv: Argv, *, stdout: Any = None, stderr: Any = None,
              text: bool = False, cwd: Optional[str] = None,
              env: Optional[Mapping[str, str]] = None) -> "subprocess.Popen[Any]":
        """Start argv in node: a :class:`subprocess.Popen` of its `nslab exec` (killing it
        kills the command)."""
        full, _ = self._cmd(node, argv)
        return subprocess.Popen(full, stdout=stdout, stderr=stderr, text=text, cwd=cwd,
                                env=_merged(env))

    def exec_detached(self, node: str, argv: Argv) -> int:
        """Start argv in node to outlive this process (`nslab exec -d`): it runs until it
        ends or the lab goes down, its output in the lab's outdir. Return: its pid in the
        lab's PID namespace."""
        pid = ctypes.c_int()
        call("nslab_ctl_exec_detached", enc(self.name), enc(node),
             _lib.argv_array(_argv(argv)), ctypes.byref(pid))
        return pid.value

    # --- run-time changes (the supervisor's) ------------------------------------

    def link(self, node: str, iface: str, *words: str, clear: bool = False,
             up: Optional[bool] = None) -> str:
        """As :meth:`Lab.link`; returns the link's condition and counters after the change."""
        return self._link("nslab_ctl_link", node, iface, words, clear, up)

    def region(self, a: str, b: str, *words: str, clear: bool = False,
               up: Optional[bool] = None) -> str:
        """As :meth:`Lab.region`; returns the region link's state and paths after the change."""
        return self._link("nslab_ctl_region", a, b, words, clear, up)

    def _link(self, fn: str, x: str, y: str, words: Sequence[str], clear: bool,
              up: Optional[bool]) -> str:
        text = ""
        steps: List[Tuple[Sequence[str], int]] = []
        if clear:
            steps.append(((), _LINK_CLEAR))
        if words:
            steps.append((words, 0))
        if up is not None:
            steps.append(((), _LINK_UP if up else _LINK_DOWN))
        for ws, flags in steps or [((), 0)]:
            text = _fetch(fn, enc(self.name), enc(x), enc(y), _lib.words(ws), len(ws), flags)
        return text

    def router(self, name: str, *, nat: Optional[str] = None, flush_nat: bool = False,
               firewall: Optional[str] = None) -> None:
        if nat is not None:
            call("nslab_ctl_set_nat", enc(self.name), enc(name), enc(nat))
        if flush_nat:
            call("nslab_ctl_flush_nat", enc(self.name), enc(name))
        if firewall is not None:
            call("nslab_ctl_set_firewall", enc(self.name), enc(name), enc(firewall))

    def device(self, name: str, *, default_via: Optional[str] = None,
               replug: Optional[Tuple[str, str]] = None) -> None:
        if replug is not None:
            call("nslab_ctl_replug", enc(self.name), enc(name), enc(replug[0]), enc(replug[1]))
        if default_via is not None:
            call("nslab_ctl_set_default_via", enc(self.name), enc(name), enc(default_via))

    def down(self) -> None:
        """Bring the lab down and wait until it is gone."""
        call("nslab_ctl_down", enc(self.name))

    def __repr__(self) -> str:
        return f"<nslab.RunningLab {self.name}>"


def _merged(env: Optional[Mapping[str, str]]) -> Optional[Dict[str, str]]:
    if env is None:
        return None
    out = dict(os.environ)
    out.update(env)
    return out


class _Watch:
    """inotify on one file: readable when it was written (libc through ctypes)."""

    IN_MODIFY, IN_CLOEXEC = 0x2, 0o2000000

    def __init__(self, path: str) -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        self.fd = int(libc.inotify_init1(self.IN_CLOEXEC))
        if self.fd < 0 or libc.inotify_add_watch(self.fd, os.fsencode(path),
                                                 self.IN_MODIFY) < 0:
            e = ctypes.get_errno()
            if self.fd >= 0:
                os.close(self.fd)
            raise OSError(e, f"inotify {path}: {os.strerror(e)}")

    def wait(self, timeout: Optional[float]) -> bool:
        p = select.poll()
        p.register(self.fd, select.POLLIN)
        if not p.poll(None if timeout is None else max(0, int(timeout * 1000))):
            return False
        os.read(self.fd, 4096)
        return True

    def close(self) -> None:
        os.close(self.fd)


def _read_events(f: IO[bytes], kind: Optional[str], watch: Optional[_Watch],
                 timeout: Optional[float]) -> Iterator[Event]:
    partial = b""
    while True:
        chunk = f.read()
        if chunk:
            lines = (partial + chunk).split(b"\n")
            partial = lines.pop()  # a line still being written
            for line in lines:
                if not line.strip():
                    continue
                data = json.loads(line)
                ev = Event(str(data.get("kind", "")), data)
                if kind is None or ev.kind == kind:
                    yield ev
            continue
        if watch is None:
            return
        end = None if timeout is None else time.monotonic() + timeout
        if not watch.wait(timeout if end is None else max(0.0, end - time.monotonic())):
            return

