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
import subprocess
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Union

from . import _lib
from ._lib import call, dec, enc

__all__ = ["NamespaceFlags", "Sandbox", "SandboxResult", "LIMITS"]


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


class Sandbox(_lib.Owner):
    """A sandbox configuration; :meth:`exec` runs one command under it (any number of times)."""

    def __init__(self, profile: Optional[str] = None) -> None:
        p = ctypes.c_void_p()
        call("nslab_sandbox_config_new", ctypes.byref(p))
        self._ptr: Optional[int] = p.value
        self._egress: Optional[int] = None  # nslab_egress policy, set_egress()
        self._resolv: Optional[str] = None  # the jail's resolv.conf, bound once
        if profile is not None:
            self.load(profile)

    @property
    def _p(self) -> int:
        if self._ptr is None:
            raise ValueError("nslab: the sandbox configuration is closed")
        return self._ptr

    def close(self) -> None:
        if self._resolv is not None:
            import shutil
            shutil.rmtree(os.path.dirname(self._resolv), ignore_errors=True)
            self._resolv = None
        if self._egress is not None:
            _lib.lib().nslab_egress_free(self._egress)
            self._egress = None
        if self._ptr is not None:
            _lib.lib().nslab_sandbox_config_free(self._ptr)
            self._ptr = None

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

    def set_egress(self, allow: Union[str, Sequence[str]], *, reject: bool = False) -> "Sandbox":
        """Filtered egress (`nslab run --allow`): the names and addresses the command may reach.

        Entries are checked now (NslabError naming the entry); each exec() then
        builds a jail and gateway for the policy (root; docs/egress.md).
        """
        L = _lib.lib()
        e = ctypes.c_void_p()
        call("nslab_egress_new", ctypes.byref(e))
        try:
            for entry in [allow] if isinstance(allow, str) else list(allow):
                call("nslab_egress_allow", e.value, enc(entry))
        except BaseException:
            L.nslab_egress_free(e.value)
            raise
        L.nslab_egress_set_deny(e.value, 1 if reject else 0)
        if self._egress is not None:
            L.nslab_egress_free(self._egress)
        self._egress = int(e.value or 0)
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

    def exec(self, argv: Union[str, Sequence[str]], *, capture_output: bool = False,
             text: bool = False, check: bool = False) -> SandboxResult:
        """Run argv (a string runs through ``sh -c``) and wait; the result has the
        exit code and the accounting. capture_output collects stdout/stderr."""
        args = ["sh", "-c", argv] if isinstance(argv, str) else [os.fsdecode(a) for a in argv]
        mem: List[int] = []
        if capture_output:
            mem = [os.memfd_create(n, os.MFD_CLOEXEC) for n in ("nslab-out", "nslab-err")]
            call("nslab_sandbox_config_set_stdio", self._p, -1, mem[0], mem[1])
        session = None
        try:
            if self._egress is not None:
                session = self._start_egress(self._egress)
            res = _lib.SandboxResult()
            call("nslab_sandbox_run", self._p, _lib.argv_array(args), ctypes.byref(res))
            out = _result(res, args)
            if mem:
                data = [os.pread(fd, os.fstat(fd).st_size, 0) for fd in mem]
                got: List[Any] = [d.decode(errors="replace") for d in data] if text else data
                out.stdout, out.stderr = got
        finally:
            if mem:
                call("nslab_sandbox_config_set_stdio", self._p, -1, -1, -1)
                for fd in mem:
                    os.close(fd)
            if session is not None:
                _lib.lib().nslab_egress_session_free(session)
        if check:
            out.check_returncode()
        return out

    def _bind_resolv(self, gate: str) -> None:
        """The jail resolves through the DNS gate: a resolv.conf naming it, bound read-only."""
        if self._resolv is not None:
            return
        import tempfile
        d = tempfile.mkdtemp(prefix="nslab-resolv-")
        os.chmod(d, 0o755)
        path = os.path.join(d, "resolv.conf")
        with open(path, "w") as f:
            f.write(f"nameserver {gate}\noptions edns0\n")
        os.chmod(path, 0o644)
        self._resolv = path
        call("nslab_sandbox_config_add_bind", self._p, enc(path), b"/etc/resolv.conf", 1)

    def _start_egress(self, egress: int) -> int:
        L = _lib.lib()
        s = ctypes.c_void_p()
        call("nslab_egress_start", egress, ctypes.byref(s))
        try:
            call("nslab_sandbox_config_set_netns", self._p, -1,
                 L.nslab_egress_session_netns_fd(s.value))
            self._bind_resolv(dec(L.nslab_egress_session_dns(s.value)))
        except BaseException:
            L.nslab_egress_session_free(s.value)
            raise
        return int(s.value or 0)
