#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Wire timing, checked against the bit-level reference (selftests/tests/wire.sh).

Frame spacing: the receiver wb is held (rx_hold) and filled with 1024
frames, so the bus stalls; wa then queues a burst of random frames in its
64 mailboxes; on release the burst goes out back to back, and the
receiver's timestamps (the end of each frame on the bus clock) must be
spaced by exactly the reference duration of each frame plus the 3-bit
intermission, at 125k, 500k and 1M and for CAN FD at 1M/5M with and
without BRS.

Arbitration: the same way, wa queues frames with ID 0x200 and wc with ID
0x100 while the bus is stalled; on release all of wc's go first, then
wa's, and wa counts one lost arbitration per frame of wc, wc none.

Random frames come from a seeded generator: the output names the seed.
"""

import os
import random
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import canbits  # noqa: E402
from vcbtest import (CFS, Tap, await_cond, can_info, can_socket,  # noqa: E402
                     cfs_read, cfs_write, run, sh)

BUS = f'{CFS}/wiretest'
EFF, RTR = 0x80000000, 0x40000000
BRS = 0x01
SO_TIMESTAMPNS = 35
SO_RCVBUFFORCE = 33
FILL = 1024            # a receive queue's length (VCANBUS_RXQ_LEN)


def arbitration_lost(dev):
    return can_info(dev)[1]['arbitration_lost']


def pack(frame):
    can_id, fd, flags, data = frame
    if fd:
        return struct.pack('=IBBxx64s', can_id, len(data), flags, data)
    length = data if can_id & RTR else len(data)
    payload = b'' if can_id & RTR else data
    return struct.pack('=IB3x8s', can_id, length, payload)


def unfdf(buf):
    """Without CANFD_FDF, which 6.2 and later set on every FD frame."""
    if len(buf) == 72:
        buf = buf[:5] + bytes([buf[5] & ~0x04]) + buf[6:]
    return buf


def send_all(s, frames):
    for f in frames:
        buf = pack(f)
        while True:
            try:
                s.send(buf)
                break
            except OSError:         # ENOBUFS: the queue is full, retry
                time.sleep(0.001)


def recv_all(s, n):
    """n frames with their timestamps in ns."""
    out = []
    s.settimeout(10)
    for _ in range(n):
        buf, anc, _, _ = s.recvmsg(72, socket.CMSG_SPACE(16))
        ts = None
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                sec, nsec = struct.unpack('=qq', data[:16])
                ts = sec * 10**9 + nsec
        out.append((buf, ts))
    return out


def random_frame(rng, fd):
    eff = rng.random() < 0.5
    can_id = rng.randrange(1 << 29) if eff else rng.randrange(1 << 11)
    can_id |= EFF if eff else 0
    if fd:
        # Half of them with a length no DLC has: the bus pads them.
        n = rng.choice(canbits.FD_DLC_TO_LEN if rng.random() < 0.5 else
                       range(65))
        return (can_id, True, BRS if rng.random() < 0.7 else 0,
                bytes(rng.randrange(256) for _ in range(n)))
    if rng.random() < 0.2:
        return (can_id | RTR, False, 0, rng.randrange(9))  # RTR: data = DLC
    n = rng.randrange(9)
    return (can_id, False, 0, bytes(rng.randrange(256) for _ in range(n)))


def on_wire(frame):
    """The frame as the bus carries and delivers it: a CAN FD payload
    padded with zeros to the length of the smallest DLC that holds it."""
    can_id, fd, flags, data = frame
    if fd:
        n = canbits.FD_DLC_TO_LEN[canbits.fd_len_to_dlc(len(data))]
        data = data.ljust(n, b'\0')
    return can_id, fd, flags, data


def reference(frame):
    """canbits' frame_bits() result for one of our frames."""
    can_id, fd, flags, data = on_wire(frame)
    eff = bool(can_id & EFF)
    rtr = bool(can_id & RTR)
    bare = can_id & (0x1fffffff if eff else 0x7ff)
    if fd:
        dlc = canbits.fd_len_to_dlc(len(data))
    else:
        dlc = data if rtr else len(data)
    return canbits.frame_bits(bare, eff, rtr, fd, bool(flags & BRS), False,
                              dlc, b'' if rtr else data)


def duration_ns(frame, bitrate, dbitrate, intermission=True):
    """Reference: the frame's time on the wire plus the intermission."""
    d = canbits.duration_ns(reference(frame), bitrate, dbitrate)
    if not intermission:
        return int(d)
    d += canbits.INTERMISSION_BITS * canbits.Fraction(10**9, bitrate)
    assert d.denominator == 1, 'bit times are whole ns at these rates'
    return int(d)


def configure(nodes, bitrate, dbitrate):
    for n in nodes:
        run('ip', 'link', 'set', n, 'down')
        cmd = ['ip', 'link', 'set', n, 'type', 'can', 'bitrate', str(bitrate)]
        if dbitrate:
            cmd += ['dbitrate', str(dbitrate), 'fd', 'on']
        else:
            cmd += ['fd', 'off']
        run(*cmd)
        cfs_write(f'{BUS}/{n}/tx_mailboxes', '64')
        run('ip', 'link', 'set', n, 'up')


def stall(fd):
    """Fills wb's receive queue (held) with frames of wa: the next frame
    on the bus stalls. Returns the receiving socket and the bus's count."""
    rx = can_socket('wb', fd)
    rx.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 1 << 24)
    rx.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    base = int(cfs_read(f'{BUS}/frames'))
    cfs_write(f'{BUS}/wb/rx_hold', '1')
    tx = can_socket('wa', fd)
    send_all(tx, [FILLER] * FILL)
    tx.close()
    await_cond(lambda: int(cfs_read(f'{BUS}/frames')) == base + FILL)
    return rx, base + FILL


def release(tap, rx, frames_before, what):
    tap.ok(int(cfs_read(f'{BUS}/frames')) == frames_before,
           f'{what}: nothing completes while the receiver is full')
    cfs_write(f'{BUS}/wb/rx_hold', '0')
    got = recv_all(rx, FILL)
    tap.ok(all(len(b) >= 16 and struct.unpack_from('=I', b)[0] == 0x7ff
               for b, _ in got), f'{what}: {FILL} fill frames first')


def check_spacing(tap, got, frames, bitrate, dbitrate, what):
    bad = []
    for i in range(1, len(frames)):
        want = duration_ns(frames[i], bitrate, dbitrate)
        have = got[i][1] - got[i - 1][1]
        if have != want:
            bad.append((i, have, want))
    tap.ok(not bad, f'{what}: {len(frames) - 1} frames spaced by their exact '
           'duration + intermission', f'(index, got ns, want ns): {bad[:5]}')


STATS = ('frames', 'bits', 'busy_ns', 'arbitration_lost', 'errors')


def bus_stats():
    return [int(cfs_read(f'{BUS}/{k}')) for k in STATS]


def check_stats(tap, before, frames, bitrate, dbitrate, lost, what):
    """The bus statistics grew by exactly what the frames take."""
    want = [len(frames),
            sum(r['total'] for r in map(reference, frames)),
            sum(duration_ns(f, bitrate, dbitrate, False) for f in frames),
            lost, 0]
    got = [a - b for a, b in zip(bus_stats(), before)]
    tap.eq(f'{what}: bus statistics {"/".join(STATS)} grew exactly',
           want, got)


FILLER = (0x7ff, False, 0, b'')


def spacing(tap, rng, bitrate, dbitrate):
    fd = bool(dbitrate)
    what = f'{bitrate // 1000}k' + (f'/{dbitrate // 1000}k FD' if fd else '')
    configure(['wa', 'wb', 'wc'], bitrate, dbitrate)
    before = bus_stats()
    rx, count = stall(fd)
    frames = [random_frame(rng, fd) for _ in range(40)]
    tx = can_socket('wa', fd)
    send_all(tx, frames)
    release(tap, rx, count, what)
    got = recv_all(rx, len(frames))
    want = [pack(on_wire(f)) for f in frames]
    have = [unfdf(b[:len(w)]) for (b, _), w in zip(got, want)]
    bad = [(i, h.hex(), w.hex()) for i, (h, w) in enumerate(zip(have, want))
           if h != w]
    tap.ok(not bad, f'{what}: the burst arrives exactly, in order',
           f'first difference (index, got, want): {bad[:1]}')
    check_spacing(tap, got, frames, bitrate, dbitrate, what)
    check_stats(tap, before, [FILLER] * FILL + frames, bitrate, dbitrate, 0,
                what)
    tx.close()
    rx.close()


def arbitration(tap, rng):
    configure(['wa', 'wb', 'wc'], 500000, None)
    before = bus_stats()
    rx, count = stall(False)
    lost_a, lost_c = arbitration_lost('wa'), arbitration_lost('wc')
    high = [(0x200, False, 0, bytes([i])) for i in range(30)]
    low = [(0x100, False, 0, bytes([i])) for i in range(30)]
    ta, tc = can_socket('wa', False), can_socket('wc', False)
    send_all(ta, high)
    send_all(tc, low)
    release(tap, rx, count, 'arbitration')
    got = recv_all(rx, 60)
    tap.ok([b[:16] for b, _ in got] == [pack(f) for f in low + high],
           'arbitration: the lower ID wins every time both are pending')
    tap.ok(arbitration_lost('wa') - lost_a == 30,
           'arbitration: the loser counts each lost arbitration',
           f'{arbitration_lost("wa") - lost_a} counted, 30 expected')
    tap.ok(arbitration_lost('wc') == lost_c,
           'arbitration: the winner counts none')
    check_spacing(tap, got, low + high, 500000, None, 'arbitration')
    check_stats(tap, before, [FILLER] * FILL + low + high, 500000, None, 30,
                'arbitration')
    ta.close()
    tc.close()
    rx.close()


def saturation():
    """Diagnostic, not a pass/fail result (timing belongs in benchmarks):
    cangen floods a 500k bus from wa (random base frames, no gap, polling
    on ENOBUFS, so its mailboxes stay full) while candump logs them on wb;
    the frame rate on the bus clock (candump's timestamps, in us) and on
    the guest's wall clock against the theoretical maximum for the frames
    that went out, and canbusload -e's view meanwhile."""
    n = 12000       # about 2.5 s: canbusload reports once a second
    configure(['wa', 'wb', 'wc'], 500000, None)
    # -T: ends 3 s after the last frame, even if its socket dropped some.
    dump = subprocess.Popen(['candump', '-L', '-r', str(1 << 24), '-T',
                             '3000', 'wb'], stdout=subprocess.PIPE,
                            text=True)
    load = subprocess.Popen(['stdbuf', '-oL', 'canbusload', '-e',
                             'wb@500000'], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    await_cond(lambda: ' wb ' in cfs_read('/proc/net/can/rcvlist_all'))
    start = time.monotonic()
    run('cangen', 'wa', '-g', '0', '-p', '10', '-n', str(n))
    wall = time.monotonic() - start
    log = dump.communicate()[0].splitlines()
    load.terminate()
    out = load.communicate()[0]
    frames, stamps = [], []
    for line in log:                # (1700000000.123456) wb 123#DEADBEEF
        stamp, _, frame = line.split()
        can_id, data = frame.split('#')
        stamps.append(round(float(stamp[1:-1]) * 1e6))
        frames.append((int(can_id, 16), False, 0, bytes.fromhex(data)))
    # From the second frame on the bus was busy: the theory is the sum of
    # their durations and intermissions.
    theory = sum(duration_ns(f, 500000, None) for f in frames[1:]) / 1000
    bus = stamps[-1] - stamps[0]
    print(f'# saturated 500k, {len(frames)} of {n} cangen frames logged: '
          'bus clock '
          f'{(len(frames) - 1) * 1e6 / bus:.1f} frames/s, theory '
          f'{(len(frames) - 1) * 1e6 / theory:.1f} frames/s (ratio '
          f'{theory / bus:.4f}); cangen wrote {n / wall:.1f} '
          'frames/s', flush=True)
    busy = [x for x in out.splitlines() if 'wb@' in x and x.split()[1] != '0']
    for line in busy:
        print(f'# canbusload -e: {line.strip()}', flush=True)


def main():
    seed = int(os.environ.get('VCB_WIRE_SEED', '1'))
    rng = random.Random(seed)
    tap = Tap(2 + 5 * 4 + 7 + 1)
    print(f'# seed {seed} (VCB_WIRE_SEED)', flush=True)
    run('modprobe', 'vcanbus')
    os.mkdir(BUS)
    try:
        tap.ok(cfs_read(f'{BUS}/timing') == 'wire',
               'a new bus is in wire timing')
        cfs_write(f'{BUS}/timing', 'instant')
        cfs_write(f'{BUS}/timing', 'wire')
        tap.ok(cfs_read(f'{BUS}/timing') == 'wire',
               'timing wire accepted after instant')
        for n in ('wa', 'wb', 'wc'):
            os.mkdir(f'{BUS}/{n}')
        for bitrate, dbitrate in ((125000, None), (500000, None),
                                  (1000000, None), (1000000, 5000000)):
            spacing(tap, rng, bitrate, dbitrate)
        arbitration(tap, rng)
        saturation()
    finally:
        for n in ('wa', 'wb', 'wc'):
            if os.path.isdir(f'{BUS}/{n}'):
                os.rmdir(f'{BUS}/{n}')
        os.rmdir(BUS)
    tap.ok(sh('rmmod', 'vcanbus'), 'rmmod')
    tap.finish()


if __name__ == '__main__':
    main()
