#!/usr/bin/env python3
"""Writes src/cnr/cnr.order: the managed methods `cnr` executes on its hot paths, in first-call order.

Why: the kernel maps file pages around every page fault (fault-around, 64 KiB), so a verb that runs 2,000 methods
scattered over a 7 MB code section keeps most of that section resident. ILC's --order (IlcOrderFile) places the
listed methods first and, with --file-layout:MethodOrder, the type data they use next to them, so the hot path
touches a few hundred KiB instead (README, start-up cost).

How: a breakpoint tracer. cnr runs under ptrace with an int3 on the first byte of every managed method (from the
image's symbol file, out/publish/cnr.dbg); each hit is recorded once, the byte restored and the thread resumed.
Processes cnr starts are followed until they exec (the container's init is cnr-init, another image) and then let
go. The scenarios are the verbs of `make bench` on a busybox bundle with runc's default config.

Usage (root, after `make all`; `make order` runs it in a private mount namespace and rebuilds):
  unshare -m --propagation private python3 tests/method-order.py
"""
import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile

libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.restype = ctypes.c_long
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]

PTRACE_TRACEME, PTRACE_PEEKTEXT, PTRACE_POKETEXT, PTRACE_CONT = 0, 1, 4, 7
PTRACE_GETREGS, PTRACE_SETREGS, PTRACE_DETACH, PTRACE_SETOPTIONS = 12, 13, 17, 0x4200
O_TRACECLONE, O_TRACEFORK, O_TRACEVFORK, O_TRACEEXEC, O_EXITKILL = 0x8, 0x2, 0x4, 0x10, 0x100000
EVENT_FORK, EVENT_VFORK, EVENT_CLONE, EVENT_EXEC = 1, 2, 3, 4
PTRACE_GETEVENTMSG = 0x4201
WALL = 0x40000000


class Regs(ctypes.Structure):
    _fields_ = [(n, ctypes.c_ulonglong) for n in (
        "r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi orig_rax rip cs eflags rsp ss fs_base gs_base "
        "ds es fs gs").split()]


def ptrace(req, pid, addr=0, data=0):
    ctypes.set_errno(0)
    r = libc.ptrace(req, pid, ctypes.c_void_p(addr), ctypes.c_void_p(data))
    if r == -1 and ctypes.get_errno() != 0:
        raise OSError(ctypes.get_errno(), f"ptrace {req} pid {pid} addr {addr:#x}")
    return r


def managed_methods(image):
    """Address -> mangled name of every method in the image's __managedcode section."""
    sections = subprocess.check_output(["readelf", "-SW", image], text=True)
    start = end = None
    for line in sections.splitlines():
        parts = line.replace("[ ", "[").split()
        if len(parts) > 5 and parts[1] == "__managedcode":
            start, end = int(parts[3], 16), int(parts[3], 16) + int(parts[5], 16)
    dbg = image + ".dbg" if os.path.exists(image + ".dbg") else image
    methods = {}
    for line in subprocess.check_output(["nm", "--defined-only", dbg], text=True).splitlines():
        parts = line.split(" ", 2)
        if len(parts) == 3 and parts[1] in "tT":
            addr = int(parts[0], 16)
            if start <= addr < end and addr not in methods:
                methods[addr] = parts[2]
    return methods


class Image:
    """One traced image: its methods, their first bytes, what ran and in which order."""
    def __init__(self, path):
        self.path = os.path.realpath(path)
        self.methods = managed_methods(path)
        self.original = {}
        self.seen = set()
        self.order = []

    def plant(self, pid):
        """An int3 on every method of this image not yet seen, in process pid."""
        for addr in self.methods:
            if addr in self.seen:
                continue
            word_addr = addr & ~7
            word = ptrace(PTRACE_PEEKTEXT, pid, word_addr) & 0xFFFFFFFFFFFFFFFF
            shift = (addr - word_addr) * 8
            byte = (word >> shift) & 0xFF
            if byte == 0xCC:
                continue
            self.original[addr] = byte
            poke(pid, word_addr, (word & ~(0xFF << shift)) | (0xCC << shift))


def poke(pid, addr, word):
    ptrace(PTRACE_POKETEXT, pid, addr, word - (1 << 64) if word >= 1 << 63 else word)


class Tracer:
    """Follows cnr and every process it starts, across verbs: the init that `create` leaves waiting runs on
    when `start` (another cnr) lets it go, still traced. Processes are told apart by the image they run: the
    init executes a sealed copy of cnr-init (SealedExe), so the file's size says which image it is."""
    def __init__(self, images):
        self.images = images
        self.by_size = {os.path.getsize(image.path): image for image in images}
        self.image_of = {}  # tid -> Image, or None for a process running some other program

    def run(self, args):
        """Runs the first image with args; returns its exit status once it has exited, leaving its children traced."""
        main_image = self.images[0]
        pid = os.fork()
        if pid == 0:
            libc.ptrace(PTRACE_TRACEME, 0, None, None)
            devnull = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(devnull, fd)
            os.execv(main_image.path, [main_image.path] + args)
        os.waitpid(pid, 0)  # stopped at exec
        ptrace(PTRACE_SETOPTIONS, pid, 0, O_TRACECLONE | O_TRACEFORK | O_TRACEVFORK | O_TRACEEXEC | O_EXITKILL)
        main_image.plant(pid)
        self.image_of[pid] = main_image
        ptrace(PTRACE_CONT, pid, 0, 0)
        return self.loop(until=pid)

    def loop(self, until=None):
        while self.image_of:
            try:
                tid, status = os.waitpid(-1, WALL)
            except ChildProcessError:
                self.image_of.clear()
                return
            if os.WIFEXITED(status) or os.WIFSIGNALED(status):
                self.image_of.pop(tid, None)
                if tid == until:
                    return os.waitstatus_to_exitcode(status)
                continue
            sig = os.WSTOPSIG(status)
            event = status >> 16
            deliver = 0
            if event in (EVENT_FORK, EVENT_VFORK, EVENT_CLONE):
                child = ctypes.c_ulong()
                ptrace(PTRACE_GETEVENTMSG, tid, 0, ctypes.addressof(child))
                self.image_of[child.value] = self.image_of.get(tid)
            elif event == EVENT_EXEC:
                try:
                    image = self.by_size.get(os.stat(f"/proc/{tid}/exe").st_size)
                except OSError:
                    image = None
                if image is None:  # now some other program: let it go
                    self.image_of.pop(tid, None)
                    ptrace(PTRACE_DETACH, tid, 0, 0)
                    continue
                self.image_of[tid] = image
                image.plant(tid)
            elif event == 0 and sig == signal.SIGTRAP:
                image = self.image_of.get(tid)
                regs = Regs()
                ptrace(PTRACE_GETREGS, tid, 0, ctypes.addressof(regs))
                addr = regs.rip - 1
                if image is not None and addr in image.original:
                    word_addr = addr & ~7
                    word = ptrace(PTRACE_PEEKTEXT, tid, word_addr) & 0xFFFFFFFFFFFFFFFF
                    shift = (addr - word_addr) * 8
                    if (word >> shift) & 0xFF == 0xCC:
                        poke(tid, word_addr, (word & ~(0xFF << shift)) | (image.original[addr] << shift))
                    if addr not in image.seen:
                        image.seen.add(addr)
                        image.order.append(image.methods[addr])
                    regs.rip = addr
                    ptrace(PTRACE_SETREGS, tid, 0, ctypes.addressof(regs))
                else:
                    deliver = sig
            elif event == 0 and sig != signal.SIGSTOP:
                deliver = sig
            elif event == 0 and sig == signal.SIGSTOP and tid not in self.image_of:
                self.image_of[tid] = None  # a new thread or process, reported before its parent's event
            try:
                ptrace(PTRACE_CONT, tid, 0, deliver)
            except OSError:
                self.image_of.pop(tid, None)


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    rootfs = os.path.join(root, "bundles/mybox/rootfs")
    work = tempfile.mkdtemp(prefix="cnr-order-")
    # cnr finds cnr-init beside its own file: both images with their symbol files in one directory.
    for src in ("out/publish/cnr", "out/publish/cnr.dbg", "out/publish-init/cnr-init", "out/publish-init/cnr-init.dbg"):
        shutil.copy(os.path.join(root, src), work)
    images = [Image(os.path.join(work, "cnr")), Image(os.path.join(work, "cnr-init"))]
    cnr = images[0].path
    state = os.path.join(work, "state")
    try:
        bundles = {}
        for name, argv in (("true", ["/bin/true"]), ("sleep", ["/bin/sleep", "600"])):
            b = os.path.join(work, name)
            os.makedirs(b)
            subprocess.check_call([cnr, "spec", "--bundle", b], stdout=subprocess.DEVNULL)
            cfg = json.load(open(os.path.join(b, "config.json")))
            cfg["root"]["path"] = rootfs
            cfg["process"]["terminal"] = False
            cfg["process"]["args"] = argv
            json.dump(cfg, open(os.path.join(b, "config.json"), "w"))
            bundles[name] = b
        g = ["--root", state]
        scenarios = [
            g + ["run", "--bundle", bundles["true"], "o-run"],
            g + ["create", "--bundle", bundles["sleep"], "o-life"],
            g + ["state", "o-life"],
            g + ["start", "o-life"],
            g + ["state", "o-life"],
            g + ["exec", "o-life", "/bin/true"],
            g + ["list"],
            g + ["ps", "o-life"],
            g + ["pause", "o-life"],
            g + ["resume", "o-life"],
            g + ["kill", "o-life", "KILL"],
            g + ["delete", "o-life"],
            g + ["create", "--bundle", bundles["sleep"], "o-force"],
            g + ["delete", "--force", "o-force"],
            g + ["run", "--detach", "--bundle", bundles["sleep"], "o-detach"],
            g + ["delete", "--force", "o-detach"],
        ]
        tracer = Tracer(images)
        for args in scenarios:
            before = [len(image.order) for image in images]
            if (rc := tracer.run(args)) != 0:
                sys.exit(f"method-order: cnr {' '.join(args)} exited with {rc}: the lists would miss that verb's methods")
            print(f"method-order: {' '.join(args[2:4]):24} new methods: cnr {len(images[0].order) - before[0]:5}, "
                  f"cnr-init {len(images[1].order) - before[1]:5}", file=sys.stderr)
        for cid in ("o-run", "o-life", "o-force", "o-detach"):
            subprocess.call([cnr, "--root", state, "delete", "--force", cid],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        tracer.loop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for image, out in zip(images, ("src/cnr/cnr.order", "src/cnr-init/cnr-init.order")):
        with open(os.path.join(root, out), "w") as f:
            f.write("\n".join(image.order) + "\n")
        print(f"method-order: {os.path.basename(image.path)}: {len(image.order)} of {len(image.methods)} managed methods "
              f"executed; wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
