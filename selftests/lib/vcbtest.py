# SPDX-License-Identifier: GPL-2.0
"""What the Python selftests share: TAP output, commands, configfs, waits,
and a node's CAN state as iproute2 reports it."""

import json
import socket
import subprocess
import sys
import time

CFS = '/sys/kernel/config/vcanbus'


class Tap:
    """kselftest-style TAP: ok/not ok lines, diagnostics, the totals."""

    def __init__(self, plan=None):
        self.n = self.failed = 0
        if plan is not None:
            self.plan(plan)

    @staticmethod
    def plan(n):
        print(f'TAP version 13\n1..{n}', flush=True)

    def ok(self, cond, what, why=''):
        self.n += 1
        print(f'{"ok" if cond else "not ok"} {self.n} {what}', flush=True)
        if not cond:
            self.failed += 1
            if why:
                # Every line a TAP comment, however the caller wrote it.
                print('\n'.join(line if line.startswith('#') else f'# {line}'
                                 for line in str(why).splitlines()),
                      flush=True)
        return cond

    def eq(self, what, want, got):
        return self.ok(want == got, what, f'expected {want!r}, got {got!r}')

    @staticmethod
    def diag(msg):
        print(f'# {msg}', flush=True)

    def finish(self):
        print(f'# Totals: pass:{self.n - self.failed} fail:{self.failed} '
              'xfail:0 xpass:0 skip:0 error:0', flush=True)
        sys.exit(1 if self.failed else 0)


def sh(*argv):
    """Runs a command; True on success."""
    return subprocess.run(argv, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0


def run(*argv):
    """Runs a command that must succeed (raises otherwise)."""
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)


def cfs_write(path, value):
    with open(path, 'w') as f:
        f.write(value)


def cfs_read(path):
    with open(path) as f:
        return f.read().strip()


def await_cond(cond, seconds=30):
    """Polls cond every 10 ms until it holds: a bounded wait for a
    condition, never a fixed sleep."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.01)
    return cond()


def can_info(dev):
    """iproute2's view of a CAN netdev: (info_data, info_xstats, stats64)."""
    out = subprocess.run(['ip', '-j', '-d', '-s', 'link', 'show', dev],
                         check=True, capture_output=True, text=True).stdout
    link = json.loads(out)[0]
    info = link['linkinfo']
    return info['info_data'], info.get('info_xstats', {}), link['stats64']


CAN_RAW_RECV_OWN_MSGS = 4
CAN_RAW_FD_FRAMES = 5


def can_socket(dev, fd=False, own=False):
    """A CAN_RAW socket bound to @dev; @fd: CAN FD frames too; @own: it
    receives its own frames (the echo)."""
    s = socket.socket(socket.AF_CAN, socket.SOCK_RAW, socket.CAN_RAW)
    if fd:
        s.setsockopt(socket.SOL_CAN_RAW, CAN_RAW_FD_FRAMES, 1)
    if own:
        s.setsockopt(socket.SOL_CAN_RAW, CAN_RAW_RECV_OWN_MSGS, 1)
    s.bind((dev,))
    return s
