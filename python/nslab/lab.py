# SPDX-License-Identifier: MIT
"""Labs: routers and devices in network namespaces, built by libnslab.

A :class:`Lab` is described (from a YAML file or by builder calls), built on
``with`` (or :meth:`Lab.build`), used, and destroyed on exit, exceptions and
Ctrl-C included: its namespaces are file descriptors held by this process and
its processes die with it, so even a SIGKILL of Python leaves nothing behind.
"""

from __future__ import annotations

import ctypes
import json
import os
import select
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from typing import (IO, TYPE_CHECKING, Any, Callable, Dict, Iterator, List, Mapping, Optional,
                    Sequence, Union)

from . import _lib
from ._lib import Error, call, dec, enc

if TYPE_CHECKING:  # running imports this module
    from .running import RunningLab

__all__ = ["Lab", "Node", "LabProcess", "Event", "Argv"]

Argv = Union[str, Sequence[str]]
_Std = Union[None, int, IO[Any]]

_POOLS = {"public": 0, "private": 1}
_IPMODES = {"dual": 0, "v4": 1, "v6": 2}


@dataclass(frozen=True)
class Event:
    """One event of the lab's stream (docs: events.jsonl): kind and its fields."""

    kind: str
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def seq(self) -> Optional[int]:
        return self.data.get("seq")


def _argv(argv: Argv) -> List[str]:
    """A string runs through ``sh -c`` (like ``nslab exec LAB NODE -- sh -c ...``)."""
    if isinstance(argv, str):
        return ["sh", "-c", argv]
    out = [os.fsdecode(a) for a in argv]
    if not out:
        raise ValueError("nslab: an empty command")
    return out


def _env_array(env: Optional[Mapping[str, str]]) -> Any:
    """KEY=VALUE entries, NULL-terminated (struct nslab_spawn_opts.env); None: no array."""
    if env is None:
        return None
    return _lib.argv_array([f"{k}={v}" for k, v in env.items()])


def _returncode(status: int) -> int:
    """waitpid() status as subprocess reports it: the exit code, or -signal."""
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


class Node:
    """A router or device of a built lab (borrowed from its lab: valid while the lab is)."""

    def __init__(self, lab: "Lab", ptr: int) -> None:
        self._lab = lab
        self._node = ptr
        self._gen = lab._nodes_gen
        self._name = dec(_lib.lib().nslab_node_name(ptr))

    @property
    def _ptr(self) -> int:
        """The C node, only while its lab is open (a closed lab freed it). Looked up by name
        again after a node was added or removed (the lab's nodes move then)."""
        if self._lab._ptr is None:
            raise ValueError(f"nslab: the lab of node {self._name!r} is closed")
        if self._gen != self._lab._nodes_gen:
            ptr = _lib.lib().nslab_lab_node(self._lab._p, enc(self._name))
            if not ptr:
                raise KeyError(f"nslab: node {self._name!r} was removed from its lab")
            self._node, self._gen = ptr, self._lab._nodes_gen
        return self._node

    @property
    def name(self) -> str:
        return self._name

    @property
    def kind(self) -> str:
        return "router" if _lib.lib().nslab_node_kind(self._ptr) == 1 else "device"

    @property
    def ifaces(self) -> List[str]:
        L = _lib.lib()
        return [dec(L.nslab_node_iface_name(self._ptr, i))
                for i in range(L.nslab_node_iface_count(self._ptr))]

    def addr(self, iface: Optional[str] = None, family: Union[int, str] = 4) -> Optional[str]:
        """An address as text (family 4, 6 or "ll" for the IPv6 link-local), None if none."""
        fam = {4: socket.AF_INET, 6: socket.AF_INET6, "ll": 0}.get(family)
        if fam is None:
            raise ValueError(f"nslab: family {family!r}: 4, 6 or 'll'")
        buf = ctypes.create_string_buffer(64)
        err = Error()
        r = _lib.lib().nslab_node_addr(self._ptr, enc(iface), fam, buf, len(buf),
                                      ctypes.byref(err))
        if r == -2:  # ENOENT: the node has no such address
            return None
        _lib.check(r, err)
        return dec(buf.value)

    @property
    def ip(self) -> Optional[str]:
        """The primary interface's IPv4 address."""
        return self.addr(None, 4)

    @property
    def ip6(self) -> Optional[str]:
        """The primary interface's global IPv6 address."""
        return self.addr(None, 6)

    @property
    def netns_fd(self) -> int:
        """The node's network namespace (borrowed: closed with the lab)."""
        return int(_lib.lib().nslab_node_netns_fd(self._ptr))

    def exec(self, argv: Argv, **kw: Any) -> "subprocess.CompletedProcess[Any]":
        return self._lab.exec(self.name, argv, **kw)

    def popen(self, argv: Argv, **kw: Any) -> "LabProcess":
        return self._lab.popen(self.name, argv, **kw)

    def __repr__(self) -> str:
        return f"<nslab.Node {self.name} {self.kind}>"


class LabProcess(_lib.Owner):
    """A command started in a node: the parts of :class:`subprocess.Popen` that apply.

    ``stdout``/``stderr`` are readable files when PIPE was asked. The process
    is killed when the handle is closed or collected, and when the lab ends.
    """

    def __init__(self, proc: int, args: List[str], stdout: Optional[IO[Any]],
                 stderr: Optional[IO[Any]]) -> None:
        self._proc: Optional[int] = proc
        self.args = args
        self.stdout = stdout
        self.stderr = stderr
        self.stdin = None
        self.pid: int = int(_lib.lib().nslab_proc_pid(proc))
        self.returncode: Optional[int] = None

    def _reap(self) -> int:
        if self.returncode is None:
            assert self._proc is not None
            st = ctypes.c_int()
            call("nslab_proc_wait", self._proc, ctypes.byref(st))
            self.returncode = _returncode(st.value)
        return self.returncode

    def _ended(self, timeout: Optional[float]) -> bool:
        if self.returncode is not None:
            return True
        assert self._proc is not None
        fd = _lib.lib().nslab_proc_fd(self._proc)
        if fd < 0:
            return True
        p = select.poll()
        p.register(fd, select.POLLIN)
        return bool(p.poll(None if timeout is None else max(0, int(timeout * 1000))))

    def poll(self) -> Optional[int]:
        return self._reap() if self._ended(0) else None

    def wait(self, timeout: Optional[float] = None) -> int:
        if not self._ended(timeout):
            raise subprocess.TimeoutExpired(self.args, timeout or 0)
        return self._reap()

    def send_signal(self, sig: int) -> None:
        if self.returncode is not None or self._proc is None:
            return
        fd = _lib.lib().nslab_proc_fd(self._proc)
        if fd >= 0:
            signal.pidfd_send_signal(fd, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def communicate(self, timeout: Optional[float] = None) -> tuple[Any, Any]:
        """Read stdout and stderr to their end, then wait (as Popen.communicate)."""
        out, err = _drain([self.stdout, self.stderr], timeout, self.args)
        self.wait(timeout)
        return out, err

    def close(self) -> None:
        for f in (self.stdout, self.stderr):
            if f is not None:
                f.close()
        if self._proc is not None:
            _lib.lib().nslab_proc_free(self._proc)  # kills it if still running
            self._proc = None


def _drain(files: List[Optional[IO[Any]]], timeout: Optional[float],
           args: List[str]) -> tuple[Any, Any]:
    """Read every given file to EOF without threads (a poll loop)."""
    import time
    chunks: dict[int, list[bytes]] = {}
    live = {}
    for f in files:
        if f is not None:
            live[f.fileno()] = f
            chunks[f.fileno()] = []
    end = None if timeout is None else time.monotonic() + timeout
    p = select.poll()
    for fd in live:
        p.register(fd, select.POLLIN)
    while live:
        left = None if end is None else max(0.0, end - time.monotonic())
        if left == 0.0:
            raise subprocess.TimeoutExpired(args, timeout or 0)
        for fd, _ in p.poll(None if left is None else int(left * 1000) + 1):
            data = os.read(fd, 65536)
            if data:
                chunks[fd].append(data)
            else:
                p.unregister(fd)
                del live[fd]
    res: list[Any] = []
    for f in files:
        if f is None:
            res.append(None)
            continue
        data = b"".join(chunks[f.fileno()])
        res.append(data.decode() if "b" not in getattr(f, "mode", "rb") else data)
    return res[0], res[1]


def _std_fd(spec: _Std, default: int) -> tuple[int, Optional[int]]:
    """(fd for the child, our end to read if PIPE)."""
    if spec is None:
        return default, None
    if spec == subprocess.PIPE:
        r, w = os.pipe2(os.O_CLOEXEC)
        return w, r
    if spec == subprocess.DEVNULL:
        return os.open(os.devnull, os.O_WRONLY | os.O_CLOEXEC), None
    if isinstance(spec, int):
        return spec, None
    return spec.fileno(), None


class Lab:
    """A lab: described, then built (``with Lab(...) as lab`` or :meth:`build`), then closed.

    ``Lab("name")`` starts an empty description for the builder calls;
    :meth:`from_file` reads a lab file (errors as :class:`nslab.LabFileError`).
    """

    def __init__(self, name: str = "lab", *, outdir: Optional[str] = None,
                 seed: Optional[int] = None, link_backend: Optional[str] = None,
                 _ptr: Optional[int] = None) -> None:
        self._ptr: Optional[int] = None
        self._events: List[Event] = []
        self._listeners: List[Callable[[Event], None]] = []
        # events may come from the library's threads too: followers wait on this
        self._ev_cond = threading.Condition(threading.RLock())
        self._built = False
        self._nodes_gen = 0  # bumped by add_node()/remove_node(): Node handles look up again
        _lib.bootstrap()
        if _ptr is None:
            p = ctypes.c_void_p()
            call("nslab_lab_new", enc(name), ctypes.byref(p))
            _ptr = p.value
        self._ptr = _ptr
        # kept referenced: the C library calls it for as long as the lab lives
        self._event_cb = _lib.EVENT_FUNC(self._on_event)
        _lib.lib().nslab_lab_set_event_func(self._ptr, self._event_cb, None)
        if outdir is not None:
            call("nslab_lab_set_outdir", self._ptr, enc(os.fspath(outdir)))
        if seed is not None:
            _lib.lib().nslab_lab_set_seed(self._ptr, seed)
        if link_backend is not None:  # "auto", "wire" or "netem", over the file's
            call("nslab_lab_set_link_backend", self._ptr, enc(link_backend))
        self.outdir = None if outdir is None else os.fspath(outdir)

    @classmethod
    def from_file(cls, path: Union[str, "os.PathLike[str]"], *, name: Optional[str] = None,
                  outdir: Optional[str] = None, link_backend: Optional[str] = None) -> "Lab":
        """Read a lab file (not built yet). Raises LabFileError with file, line, column."""
        _lib.bootstrap()
        p = ctypes.c_void_p()
        call("nslab_lab_from_file", enc(os.fspath(path)), ctypes.byref(p))
        lab = cls(outdir=outdir, link_backend=link_backend, _ptr=p.value)
        if name is not None:
            call("nslab_lab_set_name", lab._p, enc(name))
        return lab

    @property
    def _p(self) -> int:
        if self._ptr is None:
            raise ValueError("nslab: the lab is closed")
        return self._ptr

    # --- events -----------------------------------------------------------

    def _on_event(self, kind: Optional[bytes], text: Optional[bytes], _data: Any) -> None:
        try:
            data = json.loads(dec(text)) if text else {}
        except ValueError:
            data = {"raw": dec(text)}
        ev = Event(dec(kind), data)
        with self._ev_cond:
            self._events.append(ev)
            self._ev_cond.notify_all()
        for fn in list(self._listeners):
            try:
                fn(ev)
            except Exception:  # never unwind through C
                pass

    def events(self, kind: Optional[str] = None, *, follow: bool = False,
               timeout: Optional[float] = None) -> Iterator[Event]:
        """The lab's events, oldest first (the events.jsonl stream), optionally of one kind.

        Without ``follow`` the iterator ends at the last event so far (iterating
        again sees the ones that came meanwhile). With ``follow`` it then
        blocks for the next one, as ``tail -f``: it ends when ``timeout``
        seconds pass without a new event (None: never) or when the lab is
        closed. Callbacks given to :meth:`on_event` see each as it happens.
        """
        i = 0
        while True:
            with self._ev_cond:
                if i >= len(self._events):
                    if not follow or not self._wait_event(i, timeout):
                        return
                ev = self._events[i]
            i += 1
            if kind is None or ev.kind == kind:
                yield ev

    def _wait_event(self, i: int, timeout: Optional[float]) -> bool:
        """Wait (holding _ev_cond) until event i exists; False on timeout or close."""
        end = None if timeout is None else time.monotonic() + timeout
        while i >= len(self._events) and self._ptr is not None:
            left = None if end is None else end - time.monotonic()
            if left is not None and left <= 0:
                return False
            self._ev_cond.wait(left)
        return i < len(self._events)

    def on_event(self, fn: Callable[[Event], None]) -> None:
        self._listeners.append(fn)

    # --- builder ------------------------------------------------------------

    def add_router(self, name: str, *, upstream: Optional[str] = None, pool: str = "public",
                   ip: str = "dual", mtu: int = 0, nat: Optional[str] = None,
                   nat6: Optional[str] = None, firewall: Optional[str] = None,
                   preset: Optional[str] = None, region: Optional[str] = None) -> "Lab":
        """A router, as a lab file's ``routers:`` entry: ``preset`` first (home, isp-cgnat,
        corporate, ...), then ``nat``, ``nat6`` and ``firewall`` over it (docs/nat.md);
        ``region`` for a router without an upstream (see :meth:`add_region`)."""
        if pool not in _POOLS:
            raise ValueError(f"nslab: pool {pool!r}: public or private")
        if ip not in _IPMODES:
            raise ValueError(f"nslab: ip {ip!r}: dual, v4 or v6")
        opts = _lib.RouterOpts(enc(upstream), _POOLS[pool], _IPMODES[ip], mtu)
        call("nslab_lab_add_router", self._p, enc(name), ctypes.byref(opts))
        for fn, value in (("nslab_lab_set_router_preset", preset), ("nslab_lab_set_nat", nat),
                          ("nslab_lab_set_nat6", nat6), ("nslab_lab_set_firewall", firewall),
                          ("nslab_lab_set_router_region", region)):
            if value is not None:
                call(fn, self._p, enc(name), enc(value))
        return self

    def add_region(self, name: str) -> "Lab":
        """A region (lab file ``regions:``): routers put in it with ``add_router(region=)``."""
        call("nslab_lab_add_region", self._p, enc(name))
        return self

    def link_regions(self, a: str, b: str, *words: str) -> "Lab":
        """A link between regions a and b (``region_links:``), its condition from netem-like
        words (``"delay", "80ms"``; built-in presets), ``up`` being a -> b."""
        cond = None
        if words:
            c = _lib.LinkCondition()
            call("nslab_link_condition_parse", _lib.words(words), len(words), ctypes.byref(c))
            cond = ctypes.byref(c)
        call("nslab_lab_link_regions", self._p, enc(a), enc(b), cond)
        return self

    def add_device(self, name: str, router: Optional[str] = None) -> "Lab":
        call("nslab_lab_add_device", self._p, enc(name), enc(router))
        return self

    def add_node(self, kind: str, name: str, **keys: Any) -> "Lab":
        """As `nslab add LAB KIND NAME KEY VALUE...` on a built lab: a ``"router"`` or
        ``"device"`` with the keys of its lab file entry (``upstream="isp", nat="home"``;
        ``router="home"``). A dict or list value is written as YAML flow (JSON), a bool as
        true/false. The lab is unchanged when it fails."""
        kv: list[Optional[bytes]] = []
        for k, v in keys.items():
            text = (json.dumps(v) if isinstance(v, (dict, list))
                    else ("true" if v else "false") if isinstance(v, bool) else str(v))
            kv += [enc(k), enc(text)]
        arr = (ctypes.c_char_p * (len(kv) + 1))(*kv, None)
        call("nslab_lab_add_node", self._p, enc(kind), enc(name), arr)
        self._nodes_gen += 1
        return self

    def remove_node(self, name: str, force: bool = False) -> None:
        """As `nslab remove LAB NAME [--force]`: the node's processes killed, its namespace
        gone; a router with devices or routers behind it only with ``force`` (they go too)."""
        try:
            call("nslab_lab_remove_node", self._p, enc(name), 1 if force else 0)
        finally:
            self._nodes_gen += 1

    def add_iface(self, device: str, ifname: str, router: str) -> "Lab":
        call("nslab_lab_add_iface", self._p, enc(device), enc(ifname), enc(router))
        return self

    def set_default_via(self, device: str, ifname: str) -> "Lab":
        call("nslab_lab_set_default_via", self._p, enc(device), enc(ifname))
        return self

    def add_dns(self, hostname: str, target: str) -> "Lab":
        call("nslab_lab_add_dns", self._p, enc(hostname), enc(target))
        return self

    def set_dns(self, hostname: str, target: Optional[str]) -> "Lab":
        """Set (a node's name or an address) or remove (None) a name of the lab's /etc/hosts,
        before the build or while the lab runs (the next lookup sees it)."""
        call("nslab_lab_set_dns", self._p, enc(hostname), enc(target))
        return self

    def check(self) -> None:
        """Validate and plan addresses without building (errors name FILE:LINE:COL)."""
        call("nslab_lab_check", self._p)

    def build(self) -> "Lab":
        if not self._built:
            call("nslab_lab_build", self._p)
            self._built = True
        return self

    def close(self) -> None:
        """Destroy the lab: its processes killed, its namespaces dropped. Idempotent."""
        if self._ptr is not None:
            _lib.lib().nslab_lab_free(self._ptr)
            with self._ev_cond:  # followers of events() end
                self._ptr = None
                self._ev_cond.notify_all()

    def __enter__(self) -> "Lab":
        try:
            return self.build()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    # --- reading ------------------------------------------------------------

    @property
    def name(self) -> str:
        return dec(_lib.lib().nslab_lab_name(self._p))

    @property
    def rootless(self) -> bool:
        return bool(_lib.lib().nslab_lab_is_rootless(self._p))

    @property
    def nodes(self) -> List[Node]:
        L = _lib.lib()
        return [Node(self, L.nslab_lab_node_at(self._p, i))
                for i in range(L.nslab_lab_node_count(self._p))]

    def node(self, name: str) -> Node:
        ptr = _lib.lib().nslab_lab_node(self._p, enc(name))
        if not ptr:
            raise KeyError(f"nslab: lab '{self.name}' has no node '{name}'")
        return Node(self, ptr)

    def table(self) -> str:
        """Nodes, interfaces and addresses as `nslab up` prints them."""
        out = ctypes.c_void_p()
        call("nslab_lab_table", self._p, ctypes.byref(out))
        return _lib.take_string(out.value)

    # --- running commands -----------------------------------------------------

    def _spawn(self, node: str, argv: List[str], out_fd: int, err_fd: int, inherit: bool,
               cwd: Optional[str], env: Optional[Mapping[str, str]] = None) -> int:
        n = self.node(node)
        envp = _env_array(env)  # referenced until the call returns
        opts = _lib.SpawnOpts(inherit, enc(cwd), not inherit, out_fd, err_fd,
                              ctypes.cast(envp, ctypes.POINTER(ctypes.c_char_p)))
        proc = ctypes.c_void_p()
        call("nslab_node_spawn", n._ptr, _lib.argv_array(argv), ctypes.byref(opts),
             ctypes.byref(proc))
        return int(proc.value or 0)

    def popen(self, node: str, argv: Argv, *, stdout: _Std = None, stderr: _Std = None,
              text: bool = False, cwd: Optional[str] = None,
              env: Optional[Mapping[str, str]] = None) -> LabProcess:
        """Start argv in node; stdout/stderr as subprocess takes them (PIPE, DEVNULL, fd, file);
        ``env`` is set over the lab's environment (NSLAB_IP_* and the caller's)."""
        args = _argv(argv)
        if stdout is None and stderr is None:
            proc = self._spawn(node, args, -1, -1, True, cwd, env)
            return LabProcess(proc, args, None, None)
        ofd, oread = _std_fd(stdout, 1)
        if stderr == subprocess.STDOUT:
            efd, eread = ofd, None
        else:
            efd, eread = _std_fd(stderr, 2)
        try:
            proc = self._spawn(node, args, ofd, efd, False, cwd, env)
        except BaseException:
            for fd in (oread, eread):
                if fd is not None:
                    os.close(fd)
            raise
        finally:
            # the child has its copies; ours (pipe write ends, /dev/null) go
            for spec, fd in ((stdout, ofd), (stderr, efd)):
                if spec in (subprocess.PIPE, subprocess.DEVNULL) and fd not in (1, 2):
                    try:
                        os.close(fd)
                    except OSError:
                        pass
        mode = "r" if text else "rb"
        out = os.fdopen(oread, mode) if oread is not None else None
        err = os.fdopen(eread, mode) if eread is not None else None
        return LabProcess(proc, args, out, err)

    def exec(self, node: str, argv: Argv, *, check: bool = False, capture_output: bool = False,
             stdout: _Std = None, stderr: _Std = None, timeout: Optional[float] = None,
             text: bool = False, cwd: Optional[str] = None,
             env: Optional[Mapping[str, str]] = None) -> "subprocess.CompletedProcess[Any]":
        """Run argv in node and wait, as :func:`subprocess.run` does.

        ``capture_output`` (or stdout/stderr=PIPE) collects the output in memory
        files (no threads, no pipe to fill). A timeout kills the command and
        raises :class:`subprocess.TimeoutExpired`; ``check`` raises
        :class:`subprocess.CalledProcessError` for a non-zero exit.
        """
        args = _argv(argv)
        if capture_output:
            stdout = stderr = subprocess.PIPE
        mem: dict[str, int] = {}
        fds = []
        for key, spec in (("out", stdout), ("err", stderr)):
            if spec == subprocess.PIPE:
                mem[key] = os.memfd_create("nslab-" + key, os.MFD_CLOEXEC)
                fds.append(mem[key])
            elif key == "err" and spec == subprocess.STDOUT:
                fds.append(fds[0])
            else:
                fds.append(_std_fd(spec, 1 if key == "out" else 2)[0])
        try:
            inherit = stdout is None and stderr is None
            proc = LabProcess(self._spawn(node, args, fds[0], fds[1], inherit, cwd, env), args,
                              None, None)
            with proc:
                try:
                    code = proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
                    o, e = self._read_mem(mem, text)
                    raise subprocess.TimeoutExpired(args, timeout or 0, o, e) from None
            o, e = self._read_mem(mem, text)
        finally:
            for spec, fd in zip((stdout, stderr), fds):
                if spec == subprocess.DEVNULL:
                    os.close(fd)
            for fd in mem.values():
                os.close(fd)
        cp: subprocess.CompletedProcess[Any] = subprocess.CompletedProcess(args, code, o, e)
        if check:
            cp.check_returncode()
        return cp

    @staticmethod
    def _read_mem(mem: dict[str, int], text: bool) -> tuple[Any, Any]:
        res: List[Any] = []
        for key in ("out", "err"):
            fd = mem.get(key)
            if fd is None:
                res.append(None)
                continue
            size = os.fstat(fd).st_size
            data = os.pread(fd, size, 0) if size else b""
            res.append(data.decode(errors="replace") if text else data)
        return res[0], res[1]

    # --- run-time changes (as `nslab link` and `nslab router` offer them) ----

    def link(self, node: str, iface: str, *words: str, clear: bool = False,
             up: Optional[bool] = None) -> None:
        """Set a link's condition from words (``"delay", "20ms", "loss", "1%"`` or a preset),
        clear it, or unplug/plug it (``up=False``/``True``)."""
        if clear:
            call("nslab_lab_set_condition", self._p, enc(node), enc(iface), 0, None)
        if words:
            arr = (ctypes.c_char_p * len(words))(*[enc(w) for w in words])
            call("nslab_lab_set_condition_words", self._p, enc(node), enc(iface), arr,
                 len(words))
        if up is not None:
            call("nslab_lab_set_link_up", self._p, enc(node), enc(iface), up)

    def link_stats(self, node: str, iface: str) -> dict[str, dict[str, int]]:
        """Counters of both directions of a conditioned link: {"up": {...}, "down": {...}}."""
        up, down = _lib.LinkStats(), _lib.LinkStats()
        call("nslab_lab_link_stats", self._p, enc(node), enc(iface), ctypes.byref(up),
             ctypes.byref(down))
        return {k: {n: getattr(s, n) for n, _ in _lib.LinkStats._fields_}
                for k, s in (("up", up), ("down", down))}

    def link_condition(self, node: str, iface: str) -> Dict[str, str]:
        """A link's condition in netem's words: {"up": "delay 20ms", "down": "none"}."""
        c = _lib.LinkCondition()
        call("nslab_lab_get_condition", self._p, enc(node), enc(iface), ctypes.byref(c))
        return {"up": _dir_text(c.up), "down": _dir_text(c.down)}

    def router(self, name: str, *, nat: Optional[str] = None, flush_nat: bool = False,
               firewall: Optional[str] = None) -> None:
        """As `nslab router`: change a router's NAT preset, flush its mappings, or set its
        firewall preset (``release`` lets a captive portal's client out); docs/nat.md."""
        if nat is not None:
            call("nslab_lab_set_nat", self._p, enc(name), enc(nat))
        if flush_nat:
            call("nslab_lab_flush_nat", self._p, enc(name))
        if firewall is not None:
            call("nslab_lab_set_firewall", self._p, enc(name), enc(firewall))

    def device(self, name: str, *, default_via: Optional[str] = None,
               replug: Optional[tuple[str, str]] = None) -> None:
        """As `nslab device`: ``default_via=IFACE`` moves the device's default routes to
        that interface; ``replug=(IFACE, ROUTER)`` plugs the interface into another router
        (new addresses; :attr:`Node.ip` follows)."""
        if replug is not None:
            iface, router = replug
            call("nslab_lab_replug", self._p, enc(name), enc(iface), enc(router))
        if default_via is not None:
            call("nslab_lab_set_default_via", self._p, enc(name), enc(default_via))

    def region(self, a: str, b: str, *words: str, clear: bool = False,
               up: Optional[bool] = None) -> None:
        """As `nslab region`: set the condition of the link of regions a and b from words
        (``up``/``down`` last for one direction, a -> b being up), clear it, or break
        (``up=False``: traffic goes around it where a path is left) and restore it."""
        if clear:
            call("nslab_lab_set_region_condition", self._p, enc(a), enc(b), 0, None)
        if words:
            call("nslab_lab_set_region_condition_words", self._p, enc(a), enc(b),
                 _lib.words(words), len(words))
        if up is not None:
            call("nslab_lab_region_link_set", self._p, enc(a), enc(b), up)

    def region_path(self, a: str, b: str) -> List[str]:
        """The regions traffic from a to b crosses now, a and b included; NslabError with
        errno EHOSTUNREACH when no path is left."""
        buf = ctypes.create_string_buffer(1024)
        call("nslab_lab_region_path", self._p, enc(a), enc(b), buf, len(buf))
        return dec(buf.value).split()

    def emit(self, node: str, event: Mapping[str, Any]) -> None:
        """Put a program's own event into the lab's stream (an "app" event of node)."""
        text = json.dumps(dict(event), separators=(",", ":"))
        _lib.lib().nslab_lab_emit_app(self._p, enc(node), time.time(), enc(text))

    @staticmethod
    def running() -> List[str]:
        """Names of the calling user's labs that are up (`nslab ls`)."""
        from .running import running
        return running()

    @staticmethod
    def attach(name: str) -> "RunningLab":
        """A lab that is up (`nslab up -d`), driven through its supervisor's control socket."""
        from .running import RunningLab
        return RunningLab(name)


def _dir_text(d: Any) -> str:
    buf = ctypes.create_string_buffer(512)
    return dec(_lib.lib().nslab_link_dir_format(ctypes.byref(d), buf, len(buf)))

