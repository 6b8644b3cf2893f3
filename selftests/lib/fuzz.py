#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Seeded random input to the driver (selftests/tests/fuzz.sh; TAP output).

configfs: random writes, valid and invalid, to every attribute of buses and
nodes, with the nodes up or down, and random mkdir/rmdir of buses and nodes
with good and bad names. A refused write must leave the value as it was, an
accepted one must read back as a legal value, a refused mkdir must create no
netdev, an accepted one exactly its netdev.

sockets: on nodes in random control modes, CAN_RAW sockets with random
options and filters sending random frames of every kind and length (most
refused by the stack, the rest must be taken or dropped by the driver),
CAN_BCM sockets with random cyclic jobs, and AF_PACKET sockets writing random
bytes under the CAN protocols, which reach the driver unchecked. Afterwards
two nodes still exchange a frame exactly and everything tears down.

Each part runs for a bounded time; the seed fixes the input (the timing with
the kernel's work is the machine's). Reproduce with VCB_FUZZ_SEED=<seed>.
"""

import errno
import os
import random
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from vcbtest import Tap, sh  # noqa: E402

CFS = '/sys/kernel/config/vcanbus'
ATTRS = {
    'bus': ['timing', 'rx_overflow', 'frames', 'slipped_ns', 'bit_error_ppm',
            'seed'],
    'node': ['ifindex', 'tx_mailboxes', 'tx_order', 'rx_hold', 'bus_off'],
}
# What each attribute may read back as.
LEGAL = {
    'timing': lambda v: v in ('instant', 'wire'),
    'rx_overflow': lambda v: v in ('hold', 'overrun'),
    'frames': lambda v: v.isdigit(),
    'slipped_ns': lambda v: v.isdigit(),
    'ifindex': lambda v: v.isdigit() and int(v) > 0,
    'tx_mailboxes': lambda v: v.isdigit() and 1 <= int(v) <= 64,
    'tx_order': lambda v: v in ('fifo', 'priority'),
    'rx_hold': lambda v: v in ('0', '1'),
    'bus_off': lambda v: v in ('0', '1'),
    'bit_error_ppm': lambda v: v.isdigit() and int(v) <= 1000000,
    'seed': lambda v: v.isdigit() and int(v) < 2**32,
}
WORDS = ['0', '1', '2', '4', '63', '64', '65', '-1', '4294967296', '0x10',
         ' 8', '8 ', '8\n', '\n', '', 'fifo', 'priority', 'fifo\n',
         'priorityx', 'instant', 'wire', 'instant\n', 'Instant', 'hold',
         'overrun', 'overrun\n', 'Hold', 'y', 'n',
         'on', 'off', '1e3', '+3', '00000000000000000000000000000000001']
NAMES = ['', '.', '..', 'a' * 15, 'a' * 16, 'lo', 'with space', 'per%d',
         'co:lon', 'tab\tname', 'new\nline', 'é', 'x' * 200, 'ok0', 'ok1']





def read(path):
    with open(path) as f:
        return f.read().strip()


def write(path, value):
    """One write(2); the errno, or 0."""
    try:
        fd = os.open(path, os.O_WRONLY)
    except OSError as e:
        return e.errno
    try:
        os.write(fd, value)
        return 0
    except OSError as e:
        return e.errno
    finally:
        os.close(fd)


def kstrtouint(value):
    """The number the kernel's kstrtouint(s, 0) reads (None: invalid)."""
    v = value.decode('latin-1')
    v = v[:-1] if v.endswith('\n') else v
    v = v[1:] if v.startswith('+') else v
    try:
        if v[:2].lower() == '0x':
            return int(v[2:], 16)
        if v.startswith('0'):
            return int(v, 8)
        return int(v, 10) if v.isdigit() else None
    except ValueError:
        return None


def entries(path):
    """A configfs folder's entries, sorted: readdir's order changed in 7.x,
    and a seed must replay the same run on every kernel."""
    return sorted(os.listdir(path))


def netdevs():
    return set(os.listdir('/sys/class/net'))


def random_value(rng):
    r = rng.random()
    if r < 0.6:
        return rng.choice(WORDS).encode()
    if r < 0.8:
        return str(rng.randint(-2**40, 2**40)).encode()
    return bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))


def random_name(rng):
    if rng.random() < 0.5:
        return rng.choice(NAMES)
    alphabet = 'abcz09_-.:% \t'  # '/' would make a path, not a name
    return ''.join(rng.choice(alphabet) for _ in range(rng.randint(1, 20)))


def fuzz_configfs(rng, seconds, tap):
    sh('modprobe', 'vcanbus')
    os.mkdir(f'{CFS}/fzb')
    for n in ('fz0', 'fz1'):
        os.mkdir(f'{CFS}/fzb/{n}')
    writes = refused = mkdirs = 0
    problems = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and len(problems) < 5:
        buses = entries(CFS)
        r = rng.random()
        if r < 0.1:
            # Up or down a node: some attributes refuse changes while up.
            nodes = [n for b in buses for n in entries(f'{CFS}/{b}')
                     if os.path.isdir(f'{CFS}/{b}/{n}')]
            if nodes:
                sh('ip', 'link', 'set', rng.choice(nodes),
                   rng.choice(['up', 'down']))
            continue
        if r < 0.25:
            # mkdir or rmdir of a bus or node with a random name.
            bus = rng.choice(buses) if buses else None
            parent = CFS if (not bus or rng.random() < 0.3) \
                else f'{CFS}/{bus}'
            name = random_name(rng)
            path = f'{parent}/{name}'
            before = netdevs()
            if rng.random() < 0.7:
                try:
                    os.mkdir(path)
                    ok = True
                except (OSError, ValueError):
                    ok = False
                mkdirs += 1
                made = netdevs() - before
                if parent != CFS and ok and made != {name}:
                    problems.append(f'mkdir {path!r} made netdevs {made}')
                if (parent == CFS or not ok) and made:
                    problems.append(f'mkdir {path!r} ({ok}) made {made}')
            else:
                try:
                    os.rmdir(path)
                except (OSError, ValueError):
                    pass
            continue
        # A random write to a random attribute.
        targets = []
        for b in buses:
            targets += [(f'{CFS}/{b}', a) for a in ATTRS['bus']]
            for n in entries(f'{CFS}/{b}'):
                if os.path.isdir(f'{CFS}/{b}/{n}'):
                    targets += [(f'{CFS}/{b}/{n}', a) for a in ATTRS['node']]
        if not targets:
            continue
        d, attr = rng.choice(targets)
        path = f'{d}/{attr}'
        value = random_value(rng)
        try:
            old = read(path)
        except OSError:
            continue
        err = write(path, value)
        writes += 1
        try:
            new = read(path)
        except OSError:
            continue
        if err:
            refused += 1
            if new != old:
                problems.append(f'refused {value!r} -> {path} '
                                f'({errno.errorcode.get(err)}) changed '
                                f'{old!r} to {new!r}')
        if not LEGAL[attr](new):
            problems.append(f'{path} reads {new!r} after {value!r}')
        # An accepted write took the value written.
        if not err and attr == 'tx_mailboxes' and \
                new != str(kstrtouint(value)):
            problems.append(f'{path} reads {new!r} after {value!r}')
    tap.diag(f'configfs: {writes} writes ({refused} refused), '
             f'{mkdirs} mkdirs')
    tap.ok(writes > 100 and refused > 0 and writes > refused,
           'configfs: random writes, some accepted, some refused')
    tap.ok(not problems, 'configfs: refused writes and names changed '
           'nothing, accepted ones read back legal', '; '.join(problems))
    teardown(tap, 'configfs')


def teardown(tap, what):
    for b in entries(CFS):
        for n in entries(f'{CFS}/{b}'):
            if os.path.isdir(f'{CFS}/{b}/{n}'):
                sh('ip', 'link', 'set', n, 'down')
                os.rmdir(f'{CFS}/{b}/{n}')
        os.rmdir(f'{CFS}/{b}')
    tap.ok(sh('rmmod', 'vcanbus'), f'{what}: everything removed, rmmod')


def random_frame(rng, fd_sock):
    """Bytes for a CAN_RAW write: mostly well-sized, any content."""
    r = rng.random()
    if r < 0.45:
        size = 16                       # CAN_MTU
    elif r < 0.9:
        size = 72 if fd_sock or rng.random() < 0.5 else 16
    else:
        size = rng.randint(0, 80)
    can_id = rng.choice([rng.randrange(0x800), rng.randrange(2**29) | 0x80000000,
                         rng.randrange(2**32)])
    length = rng.choice([rng.randint(0, 8), rng.randint(0, 64),
                         rng.randrange(256)])
    head = struct.pack('=IBBBB', can_id, length, rng.randrange(256),
                       rng.randrange(256), rng.randrange(256))
    body = bytes(rng.randrange(256) for _ in range(max(0, size - 8)))
    return (head + body)[:size]


def set_modes(rng, node):
    sh('ip', 'link', 'set', node, 'down')
    cmd = ['ip', 'link', 'set', node, 'type', 'can', 'bitrate',
           rng.choice(['125000', '500000', '1000000'])]
    if rng.random() < 0.6:
        cmd += ['dbitrate', '2000000', 'fd', 'on']
    else:
        cmd += ['fd', 'off']
    for mode in ['loopback', 'listen-only', 'one-shot', 'presume-ack',
                 'cc-len8-dlc']:
        cmd += [mode, 'on' if rng.random() < 0.3 else 'off']
    sh(*cmd)
    sh('ip', 'link', 'set', node, 'up')


def bcm_job(rng, node):
    """A CAN_BCM TX_SETUP with random frames, some malformed."""
    s = socket.socket(socket.AF_CAN, socket.SOCK_DGRAM, socket.CAN_BCM)
    s.connect((node,))
    nframes = rng.randint(0, 3)
    flags = rng.choice([0x0001 | 0x0002, 0x0002, 0x0800, rng.randrange(2**16)])
    # struct bcm_msg_head: opcode, flags, count, ival1, ival2, can_id, nframes
    head = struct.pack('=IIIxxxxqqqqII', 1, flags, rng.randint(0, 5),
                       0, rng.randint(0, 2000), 0, rng.randint(1000, 5000),
                       rng.randrange(0x800), nframes)
    fsize = 72 if flags & 0x0800 else 16
    body = b''.join(random_frame(rng, fsize == 72)[:fsize].ljust(fsize, b'\0')
                    for _ in range(nframes))
    try:
        s.send(head + body)
    except OSError:
        pass
    return s


def fuzz_sockets(rng, seconds, tap):
    sh('modprobe', 'vcanbus')
    os.mkdir(f'{CFS}/fzs')
    nodes = ['fs0', 'fs1', 'fs2']
    for n in nodes:
        os.mkdir(f'{CFS}/fzs/{n}')
        sh('ip', 'link', 'set', n, 'up')
    socks = []
    sent = refused = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        r = rng.random()
        node = rng.choice(nodes)
        try:
            if r < 0.03:
                set_modes(rng, node)
            elif r < 0.08 or not socks:
                s = socket.socket(socket.AF_CAN, socket.SOCK_RAW,
                                  socket.CAN_RAW)
                s.setblocking(False)
                s.bind((node,))
                socks.append(s)
                if len(socks) > 16:
                    socks.pop(0).close()
            elif r < 0.18:
                # CAN_RAW options 1..8 (filter, err filter, loopback, recv
                # own, fd, join filters, xl, xl vcid) and beyond.
                s = rng.choice(socks)
                opt = rng.randint(1, 10)
                if opt == 1 and rng.random() < 0.5:
                    val = b''.join(struct.pack('=II', rng.randrange(2**32),
                                               rng.randrange(2**32))
                                   for _ in range(rng.randint(0, 40)))
                else:
                    val = bytes(rng.randrange(256)
                                for _ in range(rng.choice([0, 1, 4, 8, 13])))
                try:
                    s.setsockopt(socket.SOL_CAN_RAW, opt, val)
                except OSError:
                    pass
            elif r < 0.22:
                try:
                    job = bcm_job(rng, node)
                except OSError:
                    continue
                # Some jobs end at once, the others run until the end.
                if rng.random() < 0.3:
                    job.close()
                else:
                    socks.append(job)
            elif r < 0.30:
                proto = rng.choice([0x000C, 0x000D, 0x000E, 0x0003])
                p = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                                  socket.htons(proto))
                p.bind((node, proto))
                try:
                    p.send(bytes(rng.randrange(256)
                                 for _ in range(rng.randint(1, 100))))
                    sent += 1
                except OSError:
                    refused += 1
                p.close()
            else:
                s = rng.choice([x for x in socks
                                if x.type == socket.SOCK_RAW] or [None])
                if s is None:
                    continue
                fd_sock = rng.random() < 0.5
                try:
                    s.send(random_frame(rng, fd_sock))
                    sent += 1
                except OSError:
                    refused += 1
                # Drain what arrived, as a reader would.
                for x in socks:
                    for _ in range(8):
                        try:
                            x.recv(128, socket.MSG_DONTWAIT)
                        except OSError:
                            break
        except OSError:
            pass
    for s in socks:
        s.close()
    tap.diag(f'sockets: {sent} writes taken, {refused} refused')
    tap.ok(sent > 50 and refused > 0, 'sockets: random writes, some taken, '
           'some refused')

    # The nodes still work: a plain frame from fs0 reaches fs1 exactly.
    # The bus is in wire timing (the default): fs2, at whatever bit rate
    # the fuzzing left, goes down so as not to flag errors on the frame.
    for n in nodes:
        sh('ip', 'link', 'set', n, 'down')
    for n in nodes[:2]:
        sh('ip', 'link', 'set', n, 'type', 'can', 'bitrate', '500000',
           'fd', 'off', 'loopback', 'off', 'listen-only', 'off',
           'one-shot', 'off', 'presume-ack', 'off', 'cc-len8-dlc', 'off')
        write(f'{CFS}/fzs/{n}/rx_hold', b'0')
        sh('ip', 'link', 'set', n, 'up')
    rx = socket.socket(socket.AF_CAN, socket.SOCK_RAW, socket.CAN_RAW)
    rx.bind(('fs1',))
    rx.settimeout(5)
    tx = socket.socket(socket.AF_CAN, socket.SOCK_RAW, socket.CAN_RAW)
    tx.bind(('fs0',))
    frame = struct.pack('=IB3x8s', 0x123, 4, b'\xde\xad\xbe\xef')
    tx.send(frame)
    try:
        got = rx.recv(16)
        # Frames still queued from the fuzzing may come first.
        while got != frame:
            got = rx.recv(16)
    except OSError as e:
        got = str(e)
    tap.ok(got == frame, 'sockets: afterwards a frame goes fs0 -> fs1',
           f'got {got!r}')
    rx.close()
    tx.close()
    teardown(tap, 'sockets')


def main():
    seed = int(sys.argv[1])
    seconds = float(sys.argv[2])
    tap = Tap(6)
    tap.diag(f'seed {seed}, {seconds:g} s per part: reproduce with '
             f'VCB_FUZZ_SEED={seed} VCB_FUZZ_SECONDS={seconds:g}')
    fuzz_configfs(random.Random(seed), seconds, tap)
    fuzz_sockets(random.Random(seed + 1), seconds, tap)
    tap.finish()


if __name__ == '__main__':
    main()
