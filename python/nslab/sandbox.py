# SPDX-License-Identifier: MIT
"""The process sandbox, with process-sandbox's method names (nslab/sandbox.h).

    sb = Sandbox()
    sb.set_namespaces(NamespaceFlags.PID | NamespaceFlags.NET)
    sb.set_memory_limit(100 * 1024 * 1024)
    res = sb.exec(["/bin/ls", "-la"])
    print(res.exit_code, res.wall_usec)

Every setter is checked by the C library when called (NslabError naming the
value). The command's namespaces, limits and the sandbox's pid 1 die with
this process.
"""

from __future__ import annotations

import ctypes
import enum
import os
import select
import signal
import subprocess
import weakref
from dataclasses import dataclass, field
from typing import IO, Any, Callable, Dict, List, Optional, Sequence, Union

from . import _lib
from ._lib import call, dec, enc

__all__ = ["NamespaceFlags", "Sandbox", "SandboxResult", "SandboxProcess", "SandboxPool",
           "SandboxEvent", "EgressQuestion", "LIMITS"]


class NamespaceFlags(enum.IntFlag):
    """process-sandbox's SANDBOX_NS_* flags (NSLAB_SANDBOX_NS_*)."""

    USER = 1 << 0
    PID = 1 << 1
    NET = 1 << 2
    MOUNT = 1 << 3
    UTS = 1 << 4
    IPC = 1 << 5
    CGROUP = 1 << 6
    ALL = (1 << 7) - 1


# enum nslab_sandbox_limit
LIMITS = {"memory": 1, "cpu": 2, "pids": 3, "files": 4, "fsize": 5, "timeout": 6}
_LIMIT_NAMES = {v: k for k, v in LIMITS.items()}


@dataclass
class SandboxResult:
    """Why the command ended, and what it used (struct nslab_sandbox_result)."""

    exit_code: int  # shell-style: exit status, 128+N for signal N, 124 for a timeout
    status: int  # waitpid()-style
    ended_by: Optional[str]  # the limit that ended it ("memory", "timeout", ...) or None
    limits_reached: List[str]
    mechanisms: Dict[str, str]  # limit -> "rlimit", "cgroup" or "timer" (set limits only)
    wall_usec: int
    user_usec: int
    sys_usec: int
    maxrss_kib: int
    minflt: int
    majflt: int
    nvcsw: int
    nivcsw: int
    stdout: Any = None
    stderr: Any = None
    args: List[str] = field(default_factory=list)

    @property
    def returncode(self) -> int:
        return self.exit_code

    def check_returncode(self) -> None:
        if self.exit_code != 0:
            raise subprocess.CalledProcessError(self.exit_code, self.args, self.stdout,
                                                self.stderr)


def _result(r: _lib.SandboxResult, args: List[str]) -> SandboxResult:
    L = _lib.lib()
    reached = [name for name, v in LIMITS.items() if r.limits_reached & (1 << v)]
    mech = {name: dec(L.nslab_sandbox_mechanism_name(r.mechanism[v]))
            for name, v in LIMITS.items() if r.mechanism[v] != 0}
    return SandboxResult(r.exit_code, r.status, _LIMIT_NAMES.get(r.ended_by), reached, mech,
                         r.wall_usec, r.user_usec, r.sys_usec, r.maxrss_kib, r.minflt,
                         r.majflt, r.nvcsw, r.nivcsw, args=args)


# enum nslab_sandbox_event_kind
_EVENT_KINDS = {1: "started", 2: "exited", 3: "signaled", 4: "limit_hit", 5: "timeout"}


@dataclass(frozen=True)
class SandboxEvent:
    """One event of a sandbox's life (struct nslab_sandbox_event): ``kind`` is "started",
    "limit_hit" (``limit`` says which), then one of "exited", "signaled", "timeout"
    (with ``result``)."""

    kind: str
    pid: int
    limit: Optional[str]
    result: Optional[SandboxResult]


@dataclass(frozen=True)
class EgressQuestion:
    """A destination no egress rule allows (struct nslab_egress_question): a DNS name
    (``name``, ``type`` "A", ...) or a new connection (``addr``, ``type`` "TCP", ``port``)."""

    name: Optional[str]
    type: str
    addr: Optional[str]
    port: int


# enum nslab_egress_answer
_ANSWERS = {"deny": 0, "allow": 1, "always": 2, False: 0, True: 1}
AskFunc = Callable[[EgressQuestion], Union[str, bool]]


def _ask_trampoline(fn: AskFunc) -> Any:
    """The C callback for fn; an exception or an unknown answer is a deny (never unwinds
    through C)."""
    def ask(q: Any, _data: Any) -> int:
        try:
            c = q.contents
            ans = fn(EgressQuestion(dec(c.name) if c.name else None, dec(c.type),
                                    dec(c.addr) if c.addr else None, int(c.port)))
            return _ANSWERS.get(ans, 0)
        except BaseException:
            return 0
    return _lib.ASK_FUNC(ask)


def _argv(argv: Union[str, Sequence[str]]) -> List[str]:
    return ["sh", "-c", argv] if isinstance(argv, str) else [os.fsdecode(a) for a in argv]


class Sandbox(_lib.Owner):
    """A sandbox configuration; :meth:`exec` runs one command under it (any number of times)."""

    def __init__(self, profile: Optional[str] = None) -> None:
        p = ctypes.c_void_p()
        call("nslab_sandbox_config_new", ctypes.byref(p))
        self._ptr: Optional[int] = p.value
        # nslab_egress policies of set_egress(): borrowed by the C config and by every
        # sandbox started with it, so freed only at close (the last one is in use)
        self._egress: List[int] = []
        self._ask: Any = None  # the ctypes callback of set_egress(ask=), kept alive
        self._on_event: Any = None  # the ctypes callback of on_event(), kept alive
        # sandboxes and pools started from it: they borrow its egress policy
        self._procs: "weakref.WeakSet[_lib.Owner]" = weakref.WeakSet()
        if profile is not None:
            self.load(profile)

    @property
    def _p(self) -> int:
        if self._ptr is None:
            raise ValueError("nslab: the sandbox configuration is closed")
        return self._ptr

    def close(self) -> None:
        """Free the configuration; sandboxes still running from it, and its pools, are
        ended first (they borrow its egress policy)."""
        for proc in list(self._procs):
            proc.close()
        if self._ptr is not None:
            _lib.lib().nslab_sandbox_config_free(self._ptr)
            self._ptr = None
        for e in self._egress:
            _lib.lib().nslab_egress_free(e)
        self._egress = []

    # --- process-sandbox's names ---------------------------------------------

    def set_namespaces(self, flags: Union[int, NamespaceFlags]) -> "Sandbox":
        call("nslab_sandbox_config_set_namespaces", self._p, int(flags))
        return self

    def set_memory_limit(self, nbytes: int) -> "Sandbox":
        call("nslab_sandbox_config_set_memory_limit", self._p, nbytes)
        return self

    def set_cpu_shares(self, shares: int) -> "Sandbox":
        call("nslab_sandbox_config_set_cpu_shares", self._p, shares)
        return self

    def set_max_fds(self, n: int) -> "Sandbox":
        call("nslab_sandbox_config_set_max_fds", self._p, n)
        return self

    def set_max_processes(self, n: int) -> "Sandbox":
        call("nslab_sandbox_config_set_max_processes", self._p, n)
        return self

    def set_rootfs(self, path: str) -> "Sandbox":
        call("nslab_sandbox_config_set_rootfs", self._p, enc(os.fspath(path)))
        return self

    def set_readonly_root(self, readonly: bool = True) -> "Sandbox":
        _lib.lib().nslab_sandbox_config_set_readonly_root(self._p, readonly)
        return self

    def set_network_enabled(self, enabled: bool) -> "Sandbox":
        """False: a network namespace with loopback only (default); True: the host's network."""
        call("nslab_sandbox_config_set_network", self._p, 1 if enabled else 0)
        return self

    # --- nslab's further settings --------------------------------------------

    def set_limit(self, limit: str, value: int) -> "Sandbox":
        """A limit by name (memory, cpu, pids, files, fsize, timeout; units in nslab/sandbox.h)."""
        if limit not in LIMITS:
            raise ValueError(f"nslab: limit {limit!r}: one of {', '.join(LIMITS)}")
        call("nslab_sandbox_config_set_limit", self._p, LIMITS[limit], value)
        return self

    def set_timeout(self, seconds: float) -> "Sandbox":
        return self.set_limit("timeout", max(1, int(seconds * 1000)))

    def set_cpu_limit(self, seconds: int) -> "Sandbox":
        return self.set_limit("cpu", seconds)

    def set_uid(self, uid: int) -> "Sandbox":
        call("nslab_sandbox_config_set_uid", self._p, uid)
        return self

    def set_gid(self, gid: int) -> "Sandbox":
        call("nslab_sandbox_config_set_gid", self._p, gid)
        return self

    def set_as_root(self, as_root: bool = True) -> "Sandbox":
        _lib.lib().nslab_sandbox_config_set_as_root(self._p, as_root)
        return self

    def add_bind(self, src: str, dst: Optional[str] = None, *, readonly: bool = False,
                 optional: bool = False) -> "Sandbox":
        flags = (1 if readonly else 0) | (2 if optional else 0)
        call("nslab_sandbox_config_add_bind", self._p, enc(src), enc(dst), flags)
        return self

    def add_tmpfs(self, dst: str) -> "Sandbox":
        call("nslab_sandbox_config_add_tmpfs", self._p, enc(dst))
        return self

    def set_cwd(self, path: str) -> "Sandbox":
        call("nslab_sandbox_config_set_cwd", self._p, enc(path))
        return self

    def clear_env(self) -> "Sandbox":
        _lib.lib().nslab_sandbox_config_clear_env(self._p)
        return self

    def set_env(self, name: str, value: Optional[str]) -> "Sandbox":
        call("nslab_sandbox_config_set_env", self._p, enc(name), enc(value))
        return self

    def set_hostname(self, name: str) -> "Sandbox":
        call("nslab_sandbox_config_set_hostname", self._p, enc(name))
        return self

    def set_lab_node(self, lab: str, node: str) -> "Sandbox":
        """Join a node of a lab that is up (`nslab up -d`), as `nslab run --in LAB NODE`."""
        call("nslab_sandbox_config_set_lab_node", self._p, enc(lab), enc(node))
        return self

    def set_egress(self, allow: Union[str, Sequence[str]], *, reject: bool = False,
                   ask: Optional[AskFunc] = None, capture: Union[None, int, IO[Any]] = None,
                   host_ports: Optional[str] = None) -> "Sandbox":
        """Filtered egress (`nslab run --allow`): the names and addresses the command may reach.

        Entries are checked now (NslabError naming the entry); each exec() or
        spawn() then builds a jail, its gateway and DNS gate for the policy,
        with /etc/resolv.conf naming the gate (root; docs/egress.md).

        - ``ask`` (`--interactive`): called with an :class:`EgressQuestion` for each
          new destination no rule allows, on a thread of the session, one at a time;
          it answers "allow", "always" (the name and below; an address: any port),
          "deny" (or True/False). Answers are remembered for the session.
        - ``capture`` (`--capture`): a file or fd the jail's packets go to as pcapng.
        - ``host_ports`` (`--host-port`): "PORT" or "FIRST-LAST", comma-separated:
          the caller's loopback ports the jail reaches at 169.254.53.1 (a bypass).
        """
        L = _lib.lib()
        e = ctypes.c_void_p()
        call("nslab_egress_new", ctypes.byref(e))
        cb = None
        try:
            for entry in [allow] if isinstance(allow, str) else list(allow):
                call("nslab_egress_allow", e.value, enc(entry))
            if host_ports is not None:
                call("nslab_egress_set_host_ports", e.value, enc(host_ports))
            if capture is not None:
                fd = capture if isinstance(capture, int) else capture.fileno()
                call("nslab_egress_set_capture", e.value, fd)
            if ask is not None:
                cb = _ask_trampoline(ask)
                L.nslab_egress_set_ask_func(e.value, cb, None)
            call("nslab_sandbox_config_set_egress", self._p, e.value)
        except BaseException:
            L.nslab_egress_free(e.value)
            raise
        L.nslab_egress_set_deny(e.value, 1 if reject else 0)
        self._egress.append(int(e.value or 0))
        if cb is not None:
            self._ask = cb
        return self

    def on_event(self, fn: Optional[Callable[[SandboxEvent], None]]) -> "Sandbox":
        """Call fn with each :class:`SandboxEvent` of the commands run or spawned from now
        on, in order, from the thread that waits for them (exec(), or wait() of a spawned
        one). An exception of fn is dropped (never unwinds through C). None: no calls."""
        L = _lib.lib()
        if fn is None:
            L.nslab_sandbox_config_set_event_func(self._p, _lib.SANDBOX_EVENT_FUNC(0), None)
            self._on_event = None
            return self
        call_fn = fn

        def trampoline(ev: Any, _data: Any) -> None:
            try:
                e = ev.contents
                res = _result(e.result.contents, []) if e.result else None
                call_fn(SandboxEvent(_EVENT_KINDS.get(e.kind, str(e.kind)), int(e.pid),
                                     _LIMIT_NAMES.get(e.limit), res))
            except BaseException:
                pass
        cb = _lib.SANDBOX_EVENT_FUNC(trampoline)
        L.nslab_sandbox_config_set_event_func(self._p, cb, None)
        self._on_event = cb
        return self

    def load(self, profile: str) -> "Sandbox":
        """Apply a profile file (YAML; LabFileError with the place on a bad one)."""
        call("nslab_sandbox_config_load", self._p, enc(os.fspath(profile)))
        return self

    def describe(self) -> Dict[str, Any]:
        """The effective policy (`nslab run --dry-run`)."""
        import json
        return dict(json.loads(_lib.take_string(
            _lib.lib().nslab_sandbox_config_describe(self._p))))

    # --- running --------------------------------------------------------------

    def _stdio(self, capture: bool) -> List[int]:
        """Memory files for the command's stdout and stderr, set on the config (dup'ed)."""
        if not capture:
            return []
        mem = [os.memfd_create(n, os.MFD_CLOEXEC) for n in ("nslab-out", "nslab-err")]
        try:
            call("nslab_sandbox_config_set_stdio", self._p, -1, mem[0], mem[1])
        except BaseException:
            for fd in mem:
                os.close(fd)
            raise
        return mem

    def _unset_stdio(self, mem: List[int]) -> None:
        if mem:
            call("nslab_sandbox_config_set_stdio", self._p, -1, -1, -1)

    def exec(self, argv: Union[str, Sequence[str]], *, capture_output: bool = False,
             text: bool = False, check: bool = False) -> SandboxResult:
        """Run argv (a string runs through ``sh -c``) and wait; the result has the
        exit code and the accounting. capture_output collects stdout/stderr."""
        args = _argv(argv)
        mem = self._stdio(capture_output)
        try:
            res = _lib.SandboxResult()
            call("nslab_sandbox_run", self._p, _lib.argv_array(args), ctypes.byref(res))
            out = _result(res, args)
            _read_output(out, mem, text)
        finally:
            self._unset_stdio(mem)
            for fd in mem:
                os.close(fd)
        if check:
            out.check_returncode()
        return out

    def spawn(self, argv: Union[str, Sequence[str]], *, capture_output: bool = False,
              text: bool = False) -> "SandboxProcess":
        """Start argv and return at once: a :class:`SandboxProcess` (pid, wait, kill,
        set_limit, ...). The sandbox dies with the handle, with this configuration's
        close() and with this process."""
        args = _argv(argv)
        mem = self._stdio(capture_output)
        h = ctypes.c_void_p()
        try:
            call("nslab_sandbox_spawn", self._p, _lib.argv_array(args), ctypes.byref(h))
        except BaseException:
            for fd in mem:
                os.close(fd)
            raise
        finally:
            self._unset_stdio(mem)
        proc = SandboxProcess(int(h.value or 0), args, mem, text, self)
        self._procs.add(proc)
        return proc

    def pool(self, n: int) -> "SandboxPool":
        """``n`` sandboxes of this configuration prepared ahead (:class:`SandboxPool`)."""
        return SandboxPool(self, n)


def _read_output(out: SandboxResult, mem: List[int], text: bool) -> None:
    if mem:
        data = [os.pread(fd, os.fstat(fd).st_size, 0) for fd in mem]
        got: List[Any] = [d.decode(errors="replace") for d in data] if text else data
        out.stdout, out.stderr = got


def _limit(name: str) -> int:
    if name not in LIMITS:
        raise ValueError(f"nslab: limit {name!r}: one of {', '.join(LIMITS)}")
    return LIMITS[name]


class SandboxProcess(_lib.Owner):
    """A started sandbox (nslab_sandbox_spawn()): the command's ``pid``, ``pidfd``,
    :meth:`poll`, :meth:`wait` (a :class:`SandboxResult`), :meth:`kill`, and the
    run-time tightenings :meth:`set_limit`, :meth:`deny_syscalls`, :meth:`drop_cap`.
    Closing (or collecting) the handle kills the sandbox if it still runs."""

    def __init__(self, handle: int, args: List[str], mem: List[int], text: bool,
                 owner: Any) -> None:
        self._h: Optional[int] = handle
        self._owner = owner  # the config or pool it came from outlives it
        self._mem = mem
        self._text = text
        self.args = args
        self.pid: int = int(_lib.lib().nslab_sandbox_pid(handle))
        self.result: Optional[SandboxResult] = None

    @property
    def _p(self) -> int:
        if self._h is None:
            raise ValueError("nslab: the sandbox handle is closed")
        return self._h

    @property
    def pidfd(self) -> int:
        """Readable once the sandbox is gone (borrowed)."""
        return int(_lib.lib().nslab_sandbox_pidfd(self._p))

    @property
    def returncode(self) -> Optional[int]:
        return None if self.result is None else self.result.exit_code

    def _ended(self, timeout: Optional[float]) -> bool:
        if self.result is not None:
            return True
        p = select.poll()
        p.register(self.pidfd, select.POLLIN)
        return bool(p.poll(None if timeout is None else max(0, int(timeout * 1000))))

    def poll(self) -> Optional[SandboxResult]:
        return self.wait() if self._ended(0) else None

    def wait(self, timeout: Optional[float] = None) -> SandboxResult:
        """The result once the sandbox is gone; TimeoutExpired after timeout seconds."""
        if not self._ended(timeout):
            raise subprocess.TimeoutExpired(self.args, timeout or 0)
        if self.result is None:
            res = _lib.SandboxResult()
            call("nslab_sandbox_wait", self._p, ctypes.byref(res))
            self.result = _result(res, self.args)
            _read_output(self.result, self._mem, self._text)
        return self.result

    def send_signal(self, sig: int) -> None:
        """Signal the command; SIGKILL ends the whole sandbox."""
        if self.result is None:
            call("nslab_sandbox_kill", self._p, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def set_limit(self, limit: str, value: int) -> None:
        """Lower a limit of the running sandbox (raising one: NslabError EPERM)."""
        call("nslab_sandbox_set_limit", self._p, _limit(limit), value)

    def deny_syscalls(self, *names: str) -> None:
        """Refuse these system calls from now on (seccomp filters only stack)."""
        call("nslab_sandbox_deny_syscalls", self._p, _lib.words(names), len(names))

    def drop_cap(self, cap: int) -> None:
        """Drop a capability (a CAP_* number) from every process of the sandbox."""
        call("nslab_sandbox_drop_cap", self._p, cap)

    def close(self) -> None:
        if self._h is not None:
            _lib.lib().nslab_sandbox_free(self._h)  # kills it if still running
            self._h = None
        for fd in self._mem:
            os.close(fd)
        self._mem = []


class SandboxPool(_lib.Owner):
    """Sandboxes of a configuration prepared ahead, for many short runs
    (nslab_sandbox_pool_new()): the configuration is copied, its stdio included;
    limits are rlimits. Every sandbox started from the pool ends with it."""

    def __init__(self, sandbox: Sandbox, n: int) -> None:
        p = ctypes.c_void_p()
        call("nslab_sandbox_pool_new", sandbox._p, n, ctypes.byref(p))
        self._ptr: Optional[int] = p.value
        self._sandbox = sandbox  # its egress policy is borrowed
        self._procs: "weakref.WeakSet[SandboxProcess]" = weakref.WeakSet()
        sandbox._procs.add(self)  # closed with it

    def spawn(self, argv: Union[str, Sequence[str]]) -> SandboxProcess:
        if self._ptr is None:
            raise ValueError("nslab: the pool is closed")
        args = _argv(argv)
        h = ctypes.c_void_p()
        call("nslab_sandbox_pool_spawn", self._ptr, _lib.argv_array(args), ctypes.byref(h))
        proc = SandboxProcess(int(h.value or 0), args, [], False, self)
        self._procs.add(proc)
        return proc

    def exec(self, argv: Union[str, Sequence[str]], *, check: bool = False) -> SandboxResult:
        """spawn() and wait()."""
        with self.spawn(argv) as proc:
            res = proc.wait()
        if check:
            res.check_returncode()
        return res

    def close(self) -> None:
        for proc in list(self._procs):
            proc.close()
        if self._ptr is not None:
            _lib.lib().nslab_sandbox_pool_free(self._ptr)
            self._ptr = None
