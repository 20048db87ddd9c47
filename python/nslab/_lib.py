# SPDX-License-Identifier: MIT
"""Loading libnslab and declaring the C calls this package uses.

The library is looked up in this order: the NSLAB_LIB environment variable
(a path to libnslab.so*, or a directory holding it, e.g. a Meson build
directory), then the dynamic linker's search path (an installed
libnslab.so.0). Its nslab_abi_version() must equal ABI_VERSION.
"""

from __future__ import annotations

import ctypes
import os
import threading
from ctypes import (CFUNCTYPE, POINTER, Structure, c_bool, c_char, c_char_p, c_double, c_int,
                    c_size_t, c_uint, c_uint32, c_uint64, c_ulonglong, c_void_p)
from typing import Any, Optional, Sequence, TypeVar

from .errors import AbiMismatchError, LibraryNotFoundError, error_from

ABI_VERSION = 1  # include/nslab/error.h NSLAB_ABI_VERSION this binding follows
ERROR_MSG_MAX = 512


class Error(Structure):
    _fields_ = [("code", c_int), ("msg", c_char * ERROR_MSG_MAX)]


class SpawnOpts(Structure):
    _fields_ = [("inherit_stdio", c_bool), ("cwd", c_char_p), ("stdio_fds", c_bool),
                ("stdout_fd", c_int), ("stderr_fd", c_int),
                ("env", POINTER(c_char_p))]  # NULL: the lab's environment only


class RouterOpts(Structure):
    _fields_ = [("upstream", c_char_p), ("pool", c_int), ("ip", c_int), ("mtu", c_uint)]


LIMIT_COUNT = 7


class SandboxResult(Structure):
    _fields_ = [("status", c_int), ("exit_code", c_int), ("ended_by", c_int),
                ("limits_reached", c_uint32), ("mechanism", c_int * LIMIT_COUNT),
                ("wall_usec", c_uint64), ("user_usec", c_uint64), ("sys_usec", c_uint64),
                ("maxrss_kib", c_uint64), ("minflt", c_uint64), ("majflt", c_uint64),
                ("nvcsw", c_uint64), ("nivcsw", c_uint64), ("reserved", c_uint64 * 8)]


class LinkStats(Structure):
    _fields_ = [(n, c_uint64) for n in ("passed", "lost", "overflow", "too_big", "reordered",
                                         "duplicated", "corrupted", "bytes")]


class LinkDir(Structure):
    """struct nslab_link_dir (nslab/link.h): one direction of a link condition."""
    _fields_ = [("delay_ns", c_uint64), ("jitter_ns", c_uint64), ("dist", c_int),
                ("delay_corr", c_uint32), ("loss_model", c_int), ("loss", c_uint32),
                ("loss_corr", c_uint32), ("ge_p", c_uint32), ("ge_r", c_uint32),
                ("ge_1h", c_uint32), ("ge_1k", c_uint32), ("rate_bps", c_uint64),
                ("burst", c_uint32), ("limit_bytes", c_uint32), ("limit_ns", c_uint64),
                ("reorder", c_uint32), ("reorder_corr", c_uint32), ("gap", c_uint32),
                ("duplicate", c_uint32), ("duplicate_corr", c_uint32), ("corrupt", c_uint32),
                ("corrupt_corr", c_uint32), ("mtu", c_uint32), ("trace", c_char * 256)]


class LinkCondition(Structure):
    _fields_ = [("up", LinkDir), ("down", LinkDir), ("has_seed", c_bool), ("seed", c_uint64)]


class EgressQuestion(Structure):
    """struct nslab_egress_question: a destination no rule allows (interactive egress)."""
    _fields_ = [("name", c_char_p), ("type", c_char_p), ("addr", c_char_p), ("port", c_uint)]


class SandboxEvent(Structure):
    """struct nslab_sandbox_event."""
    _fields_ = [("kind", c_int), ("pid", c_int), ("limit", c_int),
                ("result", POINTER(SandboxResult))]


EVENT_FUNC = CFUNCTYPE(None, c_char_p, c_char_p, c_void_p)
SANDBOX_EVENT_FUNC = CFUNCTYPE(None, POINTER(SandboxEvent), c_void_p)
ASK_FUNC = CFUNCTYPE(c_int, POINTER(EgressQuestion), c_void_p)

_P = c_void_p  # every opaque nslab object
_E = POINTER(Error)
_PP = POINTER(c_void_p)

# name: (restype, argtypes)
_PROTOS: dict[str, tuple[Any, list[Any]]] = {
    "nslab_abi_version": (c_int, []),
    "nslab_bootstrap": (c_int, [_E]),
    # labs
    "nslab_lab_from_file": (c_int, [c_char_p, _PP, _E]),
    "nslab_lab_new": (c_int, [c_char_p, _PP, _E]),
    "nslab_lab_free": (_P, [_P]),
    "nslab_lab_add_router": (c_int, [_P, c_char_p, POINTER(RouterOpts), _E]),
    "nslab_lab_add_device": (c_int, [_P, c_char_p, c_char_p, _E]),
    "nslab_lab_add_iface": (c_int, [_P, c_char_p, c_char_p, c_char_p, _E]),
    "nslab_lab_add_node": (c_int, [_P, c_char_p, c_char_p, POINTER(c_char_p), _E]),
    "nslab_lab_remove_node": (c_int, [_P, c_char_p, c_uint, _E]),
    "nslab_lab_set_default_via": (c_int, [_P, c_char_p, c_char_p, _E]),
    "nslab_lab_add_dns": (c_int, [_P, c_char_p, c_char_p, _E]),
    "nslab_lab_set_seed": (None, [_P, c_uint64]),
    "nslab_lab_set_name": (c_int, [_P, c_char_p, _E]),
    "nslab_lab_set_outdir": (c_int, [_P, c_char_p, _E]),
    "nslab_lab_set_link_backend": (c_int, [_P, c_char_p, _E]),
    "nslab_lab_set_event_func": (None, [_P, EVENT_FUNC, c_void_p]),
    "nslab_lab_check": (c_int, [_P, _E]),
    "nslab_lab_build": (c_int, [_P, _E]),
    "nslab_lab_set_nat": (c_int, [_P, c_char_p, c_char_p, _E]),
    "nslab_lab_flush_nat": (c_int, [_P, c_char_p, _E]),
    "nslab_lab_set_condition_words": (c_int, [_P, c_char_p, c_char_p, POINTER(c_char_p),
                                              c_size_t, _E]),
    "nslab_lab_set_condition": (c_int, [_P, c_char_p, c_char_p, c_int, c_void_p, _E]),
    "nslab_lab_link_stats": (c_int, [_P, c_char_p, c_char_p, POINTER(LinkStats),
                                     POINTER(LinkStats), _E]),
    "nslab_lab_set_link_up": (c_int, [_P, c_char_p, c_char_p, c_bool, _E]),
    "nslab_lab_set_dns": (c_int, [_P, c_char_p, c_char_p, _E]),
    "nslab_lab_set_nat6": (c_int, [_P, c_char_p, c_char_p, _E]),
    "nslab_lab_replug": (c_int, [_P, c_char_p, c_char_p, c_char_p, _E]),
    "nslab_lab_set_firewall": (c_int, [_P, c_char_p, c_char_p, _E]),
    "nslab_lab_set_router_preset": (c_int, [_P, c_char_p, c_char_p, _E]),
    "nslab_lab_get_condition": (c_int, [_P, c_char_p, c_char_p, POINTER(LinkCondition), _E]),
    "nslab_link_condition_parse": (c_int, [POINTER(c_char_p), c_size_t, POINTER(LinkCondition),
                                           _E]),
    "nslab_link_dir_format": (c_char_p, [POINTER(LinkDir), c_char_p, c_size_t]),
    "nslab_lab_add_region": (c_int, [_P, c_char_p, _E]),
    "nslab_lab_link_regions": (c_int, [_P, c_char_p, c_char_p, POINTER(LinkCondition), _E]),
    "nslab_lab_set_router_region": (c_int, [_P, c_char_p, c_char_p, _E]),
    "nslab_lab_region_link_set": (c_int, [_P, c_char_p, c_char_p, c_bool, _E]),
    "nslab_lab_region_path": (c_int, [_P, c_char_p, c_char_p, c_char_p, c_size_t, _E]),
    "nslab_lab_set_region_condition": (c_int, [_P, c_char_p, c_char_p, c_int,
                                               POINTER(LinkCondition), _E]),
    "nslab_lab_set_region_condition_words": (c_int, [_P, c_char_p, c_char_p, POINTER(c_char_p),
                                                     c_size_t, _E]),
    "nslab_lab_emit_app": (None, [_P, c_char_p, c_double, c_char_p]),
    # labs that are up, through their supervisor's control socket
    "nslab_ctl_list": (c_int, [POINTER(POINTER(c_char_p)), _E]),
    "nslab_strv_free": (None, [POINTER(c_char_p)]),
    "nslab_ctl_status": (c_int, [c_char_p, POINTER(c_void_p), _E]),
    "nslab_ctl_outdir": (c_int, [c_char_p, POINTER(c_void_p), _E]),
    "nslab_ctl_table": (c_int, [c_char_p, POINTER(c_void_p), _E]),
    "nslab_ctl_down": (c_int, [c_char_p, _E]),
    "nslab_ctl_exec_detached": (c_int, [c_char_p, c_char_p, POINTER(c_char_p), POINTER(c_int),
                                        _E]),
    "nslab_ctl_set_nat": (c_int, [c_char_p, c_char_p, c_char_p, _E]),
    "nslab_ctl_flush_nat": (c_int, [c_char_p, c_char_p, _E]),
    "nslab_ctl_set_firewall": (c_int, [c_char_p, c_char_p, c_char_p, _E]),
    "nslab_ctl_set_default_via": (c_int, [c_char_p, c_char_p, c_char_p, _E]),
    "nslab_ctl_replug": (c_int, [c_char_p, c_char_p, c_char_p, c_char_p, _E]),
    "nslab_ctl_link": (c_int, [c_char_p, c_char_p, c_char_p, POINTER(c_char_p), c_size_t, c_uint,
                               POINTER(c_void_p), _E]),
    "nslab_ctl_region": (c_int, [c_char_p, c_char_p, c_char_p, POINTER(c_char_p), c_size_t,
                                 c_uint, POINTER(c_void_p), _E]),
    "nslab_lab_name": (c_char_p, [_P]),
    "nslab_lab_is_rootless": (c_bool, [_P]),
    "nslab_lab_node_count": (c_size_t, [_P]),
    "nslab_lab_node_at": (_P, [_P, c_size_t]),
    "nslab_lab_node": (_P, [_P, c_char_p]),
    "nslab_lab_table": (c_int, [_P, POINTER(c_void_p), _E]),
    "nslab_node_name": (c_char_p, [_P]),
    "nslab_node_kind": (c_int, [_P]),
    "nslab_node_iface_count": (c_size_t, [_P]),
    "nslab_node_iface_name": (c_char_p, [_P, c_size_t]),
    "nslab_node_addr": (c_int, [_P, c_char_p, c_int, c_char_p, c_size_t, _E]),
    "nslab_node_netns_fd": (c_int, [_P]),
    "nslab_node_spawn": (c_int, [_P, POINTER(c_char_p), POINTER(SpawnOpts), _PP, _E]),
    "nslab_proc_wait": (c_int, [_P, POINTER(c_int), _E]),
    "nslab_proc_pid": (c_int, [_P]),
    "nslab_proc_fd": (c_int, [_P]),
    "nslab_proc_free": (_P, [_P]),
    # firewall tests
    "nslab_fwtest_from_file": (c_int, [c_char_p, c_uint, _PP, _E]),
    "nslab_fwtest_warnings": (c_char_p, [_P]),
    "nslab_fwtest_free": (_P, [_P]),
    "nslab_fwtest_select": (c_int, [_P, c_char_p, _E]),
    "nslab_fwtest_set_order": (c_int, [_P, c_int, c_ulonglong, _E]),
    "nslab_fwtest_set_jobs": (c_int, [_P, c_uint, _E]),
    "nslab_fwtest_run": (c_int, [_P, c_void_p, c_void_p, _E]),
    "nslab_fwtest_count": (c_size_t, [_P]),
    "nslab_fwtest_name": (c_char_p, [_P, c_size_t]),
    "nslab_fwtest_status": (c_int, [_P, c_size_t]),
    "nslab_fwtest_ms": (c_double, [_P, c_size_t]),
    "nslab_fwtest_log": (c_char_p, [_P, c_size_t]),
    "nslab_fwtest_report": (c_int, [_P, c_int, c_bool, c_void_p, _E]),
    "nslab_fwtest_check_rules": (c_int, [c_char_p, c_uint, _E]),
    # sandbox
    "nslab_sandbox_config_new": (c_int, [_PP, _E]),
    "nslab_sandbox_config_free": (_P, [_P]),
    "nslab_sandbox_config_set_namespaces": (c_int, [_P, c_uint, _E]),
    "nslab_sandbox_config_set_network": (c_int, [_P, c_int, _E]),
    "nslab_sandbox_config_set_netns": (c_int, [_P, c_int, c_int, _E]),
    "nslab_sandbox_config_set_lab_node": (c_int, [_P, c_char_p, c_char_p, _E]),
    "nslab_sandbox_config_set_uid": (c_int, [_P, c_uint, _E]),
    "nslab_sandbox_config_set_gid": (c_int, [_P, c_uint, _E]),
    "nslab_sandbox_config_set_as_root": (None, [_P, c_bool]),
    "nslab_sandbox_config_set_limit": (c_int, [_P, c_int, c_uint64, _E]),
    "nslab_sandbox_config_set_memory_limit": (c_int, [_P, c_uint64, _E]),
    "nslab_sandbox_config_set_max_fds": (c_int, [_P, c_uint, _E]),
    "nslab_sandbox_config_set_max_processes": (c_int, [_P, c_uint, _E]),
    "nslab_sandbox_config_set_cpu_shares": (c_int, [_P, c_uint, _E]),
    "nslab_sandbox_config_set_rootfs": (c_int, [_P, c_char_p, _E]),
    "nslab_sandbox_config_set_readonly_root": (None, [_P, c_bool]),
    "nslab_sandbox_config_add_bind": (c_int, [_P, c_char_p, c_char_p, c_uint, _E]),
    "nslab_sandbox_config_add_tmpfs": (c_int, [_P, c_char_p, _E]),
    "nslab_sandbox_config_set_cwd": (c_int, [_P, c_char_p, _E]),
    "nslab_sandbox_config_set_env": (c_int, [_P, c_char_p, c_char_p, _E]),
    "nslab_sandbox_config_clear_env": (None, [_P]),
    "nslab_sandbox_config_set_hostname": (c_int, [_P, c_char_p, _E]),
    "nslab_sandbox_config_set_stdio": (c_int, [_P, c_int, c_int, c_int, _E]),
    "nslab_sandbox_config_load": (c_int, [_P, c_char_p, _E]),
    "nslab_sandbox_config_describe": (c_void_p, [_P]),
    "nslab_sandbox_run": (c_int, [_P, POINTER(c_char_p), POINTER(SandboxResult), _E]),
    "nslab_sandbox_config_set_egress": (c_int, [_P, _P, _E]),
    "nslab_sandbox_config_set_event_func": (None, [_P, SANDBOX_EVENT_FUNC, c_void_p]),
    "nslab_sandbox_spawn": (c_int, [_P, POINTER(c_char_p), _PP, _E]),
    "nslab_sandbox_pid": (c_int, [_P]),
    "nslab_sandbox_pidfd": (c_int, [_P]),
    "nslab_sandbox_wait": (c_int, [_P, POINTER(SandboxResult), _E]),
    "nslab_sandbox_kill": (c_int, [_P, c_int, _E]),
    "nslab_sandbox_free": (_P, [_P]),
    "nslab_sandbox_set_limit": (c_int, [_P, c_int, c_uint64, _E]),
    "nslab_sandbox_deny_syscalls": (c_int, [_P, POINTER(c_char_p), c_size_t, _E]),
    "nslab_sandbox_drop_cap": (c_int, [_P, c_int, _E]),
    "nslab_sandbox_pool_new": (c_int, [_P, c_uint, _PP, _E]),
    "nslab_sandbox_pool_spawn": (c_int, [_P, POINTER(c_char_p), _PP, _E]),
    "nslab_sandbox_pool_free": (_P, [_P]),
    "nslab_sandbox_limit_name": (c_char_p, [c_int]),
    "nslab_sandbox_mechanism_name": (c_char_p, [c_int]),
    # egress
    "nslab_egress_new": (c_int, [_PP, _E]),
    "nslab_egress_free": (_P, [_P]),
    "nslab_egress_allow": (c_int, [_P, c_char_p, _E]),
    "nslab_egress_set_deny": (None, [_P, c_int]),
    "nslab_egress_set_host_ports": (c_int, [_P, c_char_p, _E]),
    "nslab_egress_set_ask_func": (None, [_P, ASK_FUNC, c_void_p]),
    "nslab_egress_set_capture": (c_int, [_P, c_int, _E]),
    "nslab_egress_start": (c_int, [_P, _PP, _E]),
    "nslab_egress_session_netns_fd": (c_int, [_P]),
    "nslab_egress_session_dns": (c_char_p, [_P]),
    "nslab_egress_session_free": (_P, [_P]),
}


def _candidates() -> list[str]:
    env = os.environ.get("NSLAB_LIB")
    if env:
        if os.path.isdir(env):
            return [os.path.join(env, n) for n in ("libnslab.so", "libnslab.so.0")]
        return [env]
    return ["libnslab.so.0", "libnslab.so"]


def _load() -> ctypes.CDLL:
    tried = []
    for path in _candidates():
        try:
            lib = ctypes.CDLL(path, use_errno=True)
        except OSError as e:
            tried.append(f"{path}: {e}")
            continue
        return lib
    raise LibraryNotFoundError("nslab: cannot load libnslab (" + "; ".join(tried) +
                               "); set NSLAB_LIB to the library or its build directory")


def _declare(lib: ctypes.CDLL) -> None:
    try:
        abi = lib.nslab_abi_version
    except AttributeError:
        raise AbiMismatchError(f"nslab: {lib._name} has no nslab_abi_version(): "
                               f"older than this binding (ABI {ABI_VERSION})") from None
    abi.restype, abi.argtypes = c_int, []
    got = abi()
    if got != ABI_VERSION:
        raise AbiMismatchError(f"nslab: {lib._name} has ABI {got}, this binding needs "
                               f"{ABI_VERSION}")
    for name, (res, args) in _PROTOS.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = res, args


_lib: Optional[ctypes.CDLL] = None
_lock = threading.Lock()


def lib() -> ctypes.CDLL:
    """The loaded and checked libnslab (loaded on first use)."""
    global _lib
    if _lib is None:
        with _lock:
            if _lib is None:
                loaded = _load()
                _declare(loaded)
                _lib = loaded
    return _lib


def path() -> str:
    return str(lib()._name)


def enc(s: Optional[str]) -> Optional[bytes]:
    return None if s is None else os.fsencode(s)


def dec(b: Optional[bytes]) -> str:
    return "" if b is None else b.decode("utf-8", "replace")


def argv_array(argv: list[str]) -> Any:
    arr = (c_char_p * (len(argv) + 1))()
    for i, a in enumerate(argv):
        arr[i] = os.fsencode(a)
    arr[len(argv)] = None
    return arr


def check(r: int, err: Error) -> int:
    """Raise the exception for a failed call (r < 0), else return r."""
    if r < 0:
        code = err.code if err.code > 0 else -r
        raise error_from(code, err.msg.decode("utf-8", "replace"))
    return r


def call(name: str, *args: Any) -> int:
    """Call a fallible function whose last argument is nslab_error *err."""
    err = Error()
    return check(getattr(lib(), name)(*args, ctypes.byref(err)), err)


_libc = ctypes.CDLL(None, use_errno=True)
_libc.open_memstream.restype = c_void_p
_libc.open_memstream.argtypes = [POINTER(c_void_p), POINTER(c_size_t)]
_libc.fclose.argtypes = [c_void_p]
_libc.free.argtypes = [c_void_p]


def words(ws: Sequence[str]) -> Any:
    """A C array of the given words (const char *const *, no terminator)."""
    return (c_char_p * max(1, len(ws)))(*[os.fsencode(w) for w in ws])


def take_string(p: Optional[int]) -> str:
    """A malloc'd C string returned by the library, freed here."""
    if not p:
        return ""
    try:
        return dec(ctypes.string_at(p))
    finally:
        _libc.free(p)


def to_memory(write: Any) -> str:
    """Run write(FILE *) on a memory stream and return what it wrote."""
    buf, size = c_void_p(), c_size_t()
    f = _libc.open_memstream(ctypes.byref(buf), ctypes.byref(size))
    if not f:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    try:
        write(f)
    finally:
        _libc.fclose(f)
        try:
            text = dec(ctypes.string_at(buf.value, size.value)) if buf.value else ""
        finally:
            _libc.free(buf)
    return text


_boot_lock = threading.Lock()
_booted: Optional[bool] = None


def bootstrap() -> bool:
    """Prepare this process for labs and firewall tests, once.

    Without root the process enters a user namespace of its own mapping the
    caller to 0 (it must still be single-threaded then: call this before
    starting threads). Return: True when rootless.
    """
    global _booted
    with _boot_lock:
        if _booted is None:
            _booted = call("nslab_bootstrap") == 1
        return _booted


_Self = TypeVar("_Self", bound="Owner")


class Owner:
    """An owner of C resources: close() frees them; a with block and the
    garbage collector both call it (errors at collection are dropped)."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self: _Self) -> _Self:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass
