#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Fault confinement in wire timing (selftests/tests/errors.sh).

Exact counters, states, statistics and error frames for: a lone node (no
ACK: error-warning at TEC 96, error-passive at 128, then it stays at 128
and keeps retrying; a second node acknowledges and TEC goes to 127), a
one-shot lone node with berr-reporting (one ACK error frame, the frame
aborted, no echo), presume-ack, a node at another bit rate (the sender
goes bus-off after 32 attempts, every receiver counts 32), manual restart
(which drops what the mailboxes held, as can-dev's restart does),
forced bus-off with restart-ms, and injected bit errors, which a
Classical-only node does not count on CAN FD frames; forced bus-off while
the node's frame is on the wire (cut off, TEC stays 256, the restart drops
it); a listen-only node at another bit rate counts an error in good and in
destroyed frames alike.
"""

import os
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(__file__))
from vcbtest import (CFS, Tap, await_cond, can_info, can_socket,  # noqa: E402
                     cfs_read, cfs_write, sh)

BUS = f'{CFS}/errtest'
NODES = ('ea', 'eb', 'ec')
CAN_ERR_FLAG = 0x20000000
CAN_ERR_CRTL, CAN_ERR_PROT, CAN_ERR_ACK = 0x04, 0x08, 0x20
CAN_ERR_BUSOFF, CAN_ERR_BUSERROR, CAN_ERR_CNT = 0x40, 0x80, 0x200
CAN_ERR_CRTL_TX_WARNING, CAN_ERR_CRTL_TX_PASSIVE = 0x08, 0x20
CAN_ERR_PROT_LOC_ACK = 0x19
CAN_RAW_ERR_FILTER = 2
FRAME = struct.pack('=IB3x8s', 0x123, 2, b'\xca\xfe')


def state(dev):
    return can_info(dev)[0]['state']


def tec(dev):
    return can_info(dev)[0]['berr_counter']['tx']


def rec(dev):
    return can_info(dev)[0]['berr_counter']['rx']


def xstat(dev, key):
    return can_info(dev)[1][key]


def stat(dev, key):
    """A netdev statistic from sysfs, e.g. tx_aborted_errors."""
    return int(cfs_read(f'/sys/class/net/{dev}/statistics/{key}'))


def setup(modes):
    """All nodes down; then (node, bitrate, extra ip args) up, in order."""
    for n in NODES:
        sh('ip', 'link', 'set', n, 'down')
    for n, rate, extra in modes:
        sh('ip', 'link', 'set', n, 'type', 'can', 'bitrate', str(rate),
           'one-shot', 'off', 'presume-ack', 'off', 'berr-reporting', 'off',
           'restart-ms', '0', *extra)
        sh('ip', 'link', 'set', n, 'up')


def error_socket(dev):
    """Gets only error frames (and no data frame) of @dev."""
    s = socket.socket(socket.AF_CAN, socket.SOCK_RAW, socket.CAN_RAW)
    s.setsockopt(socket.SOL_CAN_RAW, socket.CAN_RAW_FILTER, b'')
    s.setsockopt(socket.SOL_CAN_RAW, CAN_RAW_ERR_FILTER,
                 struct.pack('=I', 0x1fffffff))
    s.bind((dev,))
    return s


def recv(s):
    """The next frame (10 s at most). A socket bound while its node was
    down reports ENETDOWN once: not an error here."""
    s.settimeout(10)
    try:
        return s.recv(16)
    except OSError as e:
        if e.errno != 100:
            raise
        return s.recv(16)


def pending(s):
    """Everything queued on @s now (the frames were delivered before the
    condition the caller awaited)."""
    out = []
    while True:
        try:
            out.append(s.recv(16, socket.MSG_DONTWAIT))
        except BlockingIOError:
            return out


def err(frame):
    can_id = struct.unpack_from('=I', frame)[0]
    return can_id & ~CAN_ERR_FLAG, frame[8:16]


def lone_node(tap):
    setup([('ea', 500000, [])])
    es = error_socket('ea')
    tx = can_socket('ea')
    tx.send(FRAME)
    tap.ok(await_cond(lambda: xstat('ea', 'bus_error') >= 24),
           'lone node: ACK errors keep coming')
    tap.eq('lone node: error-passive', 'ERROR-PASSIVE', state('ea'))
    tap.eq('lone node: TEC stays at 128 (ACK error while passive)', 128,
           tec('ea'))
    frames = [err(f) for f in pending(es)]
    tap.eq('lone node: two state changes, warning at 96 and passive at 128',
           [(CAN_ERR_CRTL | CAN_ERR_CNT, CAN_ERR_CRTL_TX_WARNING, 96),
            (CAN_ERR_CRTL | CAN_ERR_CNT, CAN_ERR_CRTL_TX_PASSIVE, 128)],
           [(i, d[1], d[6]) for i, d in frames])
    tap.eq('lone node: error_warning, error_passive counted once', (1, 1),
           (xstat('ea', 'error_warning'), xstat('ea', 'error_passive')))
    tap.eq('lone node: nothing sent', 0, stat('ea', 'tx_packets'))

    rx = can_socket('eb')
    sh('ip', 'link', 'set', 'eb', 'type', 'can', 'bitrate', '500000')
    sh('ip', 'link', 'set', 'eb', 'up')
    tap.eq('a second node acknowledges: it gets the frame', FRAME,
           recv(rx))
    tap.ok(await_cond(lambda: stat('ea', 'tx_packets') == 1),
           'the sender counts it sent')
    tap.eq('every bus error was a tx error', xstat('ea', 'bus_error'),
           stat('ea', 'tx_errors'))
    tap.eq('TEC 128 - 1, error-warning', (127, 'ERROR-WARNING'),
           (tec('ea'), state('ea')))
    es.close()
    tx.close()
    rx.close()


def one_shot(tap):
    setup([('ea', 500000, ['one-shot', 'on', 'berr-reporting', 'on'])])
    es = error_socket('ea')
    tx = can_socket('ea', own=True)
    tx.send(FRAME)
    tap.ok(await_cond(lambda: stat('ea', 'tx_aborted_errors') == 1),
           'one-shot: the frame is aborted after one error')
    tap.eq('one-shot: one ACK bus error frame, TEC 8',
           [(CAN_ERR_PROT | CAN_ERR_BUSERROR | CAN_ERR_ACK | CAN_ERR_CNT,
             CAN_ERR_PROT_LOC_ACK, 8)],
           [(i, d[3], d[6]) for i, d in (err(f) for f in pending(es))])
    tap.eq('one-shot: no echo of an aborted frame', [], pending(tx))
    tap.eq('one-shot: TEC 8, still error-active', (8, 'ERROR-ACTIVE'),
           (tec('ea'), state('ea')))
    es.close()
    tx.close()


def presume_ack(tap):
    setup([('ea', 500000, ['presume-ack', 'on'])])
    errors = xstat('ea', 'bus_error')      # can-dev's counts are cumulative
    tx = can_socket('ea', own=True)
    tx.send(FRAME)
    tap.eq('presume-ack: a lone node completes its frame (echo)', FRAME,
           recv(tx))
    tap.eq('presume-ack: no error', (0, 0),
           (tec('ea'), xstat('ea', 'bus_error') - errors))
    tx.close()


def counts(dev):
    x = can_info(dev)[1]
    return [x[k] for k in ('bus_off', 'error_passive', 'error_warning',
                           'restarts')]


def bitrate_mismatch(tap):
    setup([('ea', 500000, []), ('eb', 250000, []), ('ec', 500000, [])])
    before = counts('ea')
    rc = can_socket('ec')
    tx = can_socket('ea')
    tx.send(FRAME)
    tap.ok(await_cond(lambda: state('ea') == 'BUS-OFF'),
           'a node at 250k destroys every 500k frame: the sender goes bus-off')
    tap.eq('after 32 attempts: TEC 256, both receivers REC 32',
           (256, 32, 32), (tec('ea'), rec('eb'), rec('ec')))
    tap.eq('bus_off, error_passive, error_warning counted once', [1, 1, 1],
           [a - b for a, b in zip(counts('ea')[:3], before)])
    tap.eq('receivers stay error-active', ('ERROR-ACTIVE', 'ERROR-ACTIVE'),
           (state('eb'), state('ec')))
    tap.eq('the receiver at the right bit rate got nothing', [], pending(rc))

    sh('ip', 'link', 'set', 'eb', 'down')
    dropped = stat('ea', 'tx_dropped')
    tap.ok(sh('ip', 'link', 'set', 'ea', 'type', 'can', 'restart'),
           'manual restart of the bus-off node')
    tx.send(FRAME)
    tap.eq('the restart dropped the frame it held; a new one goes through',
           (1, FRAME), (stat('ea', 'tx_dropped') - dropped, recv(rc)))
    tap.eq('restarted: error-active, TEC 0, one restart; REC 32 - 1',
           ('ERROR-ACTIVE', 0, 1, 31),
           (state('ea'), tec('ea'), counts('ea')[3] - before[3], rec('ec')))
    rc.close()
    tx.close()


def forced_bus_off(tap):
    setup([('ea', 500000, ['restart-ms', '100']), ('eb', 500000, [])])
    restarts = counts('ea')[3]
    es = error_socket('ea')
    tap.ok(sh('sh', '-c', f'echo 1 > {BUS}/ea/bus_off'),
           'bus_off injection accepted')
    frames = [err(f) for f in pending(es)]
    tap.eq('an error frame says bus-off', [CAN_ERR_BUSOFF | CAN_ERR_CNT],
           [i for i, _ in frames[:1]])
    tap.ok(await_cond(lambda: counts('ea')[3] == restarts + 1 and
                      state('ea') == 'ERROR-ACTIVE'),
           'restart-ms 100 brings it back, error-active')
    rx = can_socket('eb')
    tx = can_socket('ea')
    tx.send(FRAME)
    tap.eq('and it sends again', FRAME, recv(rx))
    tap.ok(not sh('sh', '-c', f'echo 0 > {BUS}/ea/bus_off'),
           'bus_off 0 refused (leaving bus-off is a restart)')
    sh('ip', 'link', 'set', 'ec', 'down')
    tap.ok(not sh('sh', '-c', f'echo 1 > {BUS}/ec/bus_off'),
           'bus_off refused on a node that is down')
    es.close()
    rx.close()
    tx.close()


def bit_errors(tap):
    setup([('ea', 500000, []), ('eb', 500000, [])])
    cfs_write(f'{BUS}/bit_error_ppm', '1000000')
    tap.eq('bit_error_ppm reads back', '1000000', cfs_read(f'{BUS}/bit_error_ppm'))
    tx = can_socket('ea')
    tx.send(FRAME)
    tap.ok(await_cond(lambda: state('ea') == 'BUS-OFF'),
           'every frame hit by a bit error: the sender goes bus-off')
    tap.eq('TEC 256, the receiver REC 32', (256, 32), (tec('ea'), rec('eb')))
    cfs_write(f'{BUS}/bit_error_ppm', '0')
    cfs_write(f'{BUS}/seed', '7')
    tap.eq('seed reads back', '7', cfs_read(f'{BUS}/seed'))
    tap.ok(not sh('sh', '-c', f'echo 1000001 > {BUS}/bit_error_ppm'),
           'bit_error_ppm above 1000000 refused')
    tx.close()


def fd_ignored(tap):
    """A Classical-only node ignores CAN FD frames, errors included."""
    fd = ['dbitrate', '2000000', 'fd', 'on']
    setup([('ea', 500000, fd), ('eb', 500000, fd),
           ('ec', 500000, ['fd', 'off'])])
    cfs_write(f'{BUS}/bit_error_ppm', '1000000')
    tx = can_socket('ea', fd=True)
    tx.send(struct.pack('=IBBxx64s', 0x123, 12, 0, bytes(range(12))))
    tap.ok(await_cond(lambda: state('ea') == 'BUS-OFF'),
           'FD frames hit by bit errors: the sender goes bus-off')
    tap.eq('the FD receiver counts REC 32, the Classical-only node 0',
           (32, 0), (rec('eb'), rec('ec')))
    cfs_write(f'{BUS}/bit_error_ppm', '0')
    tx.close()


def bus_off_on_the_wire(tap):
    """Forced bus-off while the node's own frame is on the wire (250 bit/s:
    the frame takes about 260 ms): the frame is cut off, nobody gets it,
    TEC stays 256 and the queue stays stopped; a restart drops it from the
    mailbox, counted."""
    setup([('ea', 250, []), ('eb', 250, [])])
    rx = can_socket('eb')
    frames = int(cfs_read(f'{BUS}/frames'))
    sent = stat('ea', 'tx_packets')        # counts are cumulative
    tx = can_socket('ea')
    tx.send(FRAME)
    # Written at once from here: a shell would take tens of ms to start.
    cfs_write(f'{BUS}/ea/bus_off', '1')
    tap.eq('bus-off on the wire: injection accepted while the frame is on '
           'the wire', '1', cfs_read(f'{BUS}/ea/bus_off'))
    rx.settimeout(1)
    try:
        got = rx.recv(16)
    except socket.timeout:
        got = None
    tap.eq('bus-off on the wire: the frame is cut off, never received',
           None, got)
    tap.eq('bus-off on the wire: BUS-OFF, TEC 256, nothing sent or completed',
           ('BUS-OFF', 256, 0, frames),
           (state('ea'), tec('ea'), stat('ea', 'tx_packets') - sent,
            int(cfs_read(f'{BUS}/frames'))))
    dropped, aborted = stat('ea', 'tx_dropped'), stat('ea', 'tx_aborted_errors')
    tap.ok(sh('ip', 'link', 'set', 'ea', 'type', 'can', 'restart'),
           'bus-off on the wire: restart')
    tap.eq('bus-off on the wire: the restart drops the mailbox\'s frame',
           (1, 1), (stat('ea', 'tx_dropped') - dropped,
                    stat('ea', 'tx_aborted_errors') - aborted))
    tx.close()
    rx.close()


def listen_only_counts(tap):
    """A listen-only node at another bit rate detects an error in every
    frame, good or destroyed: REC + 1 each (it never drives the bus, so
    the others' frames are not harmed by it)."""
    setup([('ea', 500000, ['one-shot', 'on']), ('eb', 500000, []),
           ('ec', 250000, ['listen-only', 'on'])])
    sent = stat('ea', 'tx_packets')
    aborted = stat('ea', 'tx_aborted_errors')
    tx = can_socket('ea')
    for _ in range(3):
        tx.send(FRAME)
    tap.ok(await_cond(lambda: stat('ea', 'tx_packets') == sent + 3),
           'listen-only at 250k: three good 500k frames go through')
    tap.eq('listen-only at 250k: REC 3 after three good frames', 3, rec('ec'))
    cfs_write(f'{BUS}/bit_error_ppm', '1000000')
    for _ in range(2):
        tx.send(FRAME)
    tap.ok(await_cond(lambda: stat('ea', 'tx_aborted_errors') == aborted + 2),
           'listen-only at 250k: two frames destroyed by bit errors')
    cfs_write(f'{BUS}/bit_error_ppm', '0')
    tap.eq('listen-only at 250k: REC 5, the acknowledging node REC 2',
           (5, 2), (rec('ec'), rec('eb')))
    tx.close()


def main():
    tap = Tap(10 + 4 + 2 + 8 + 6 + 5 + 2 + 5 + 4)
    sh('modprobe', 'vcanbus')
    os.mkdir(BUS)
    try:
        cfs_write(f'{BUS}/timing', 'wire')
        for n in NODES:
            os.mkdir(f'{BUS}/{n}')
        lone_node(tap)
        one_shot(tap)
        presume_ack(tap)
        bitrate_mismatch(tap)
        forced_bus_off(tap)
        bit_errors(tap)
        fd_ignored(tap)
        bus_off_on_the_wire(tap)
        listen_only_counts(tap)
    finally:
        for n in NODES:
            if os.path.isdir(f'{BUS}/{n}'):
                os.rmdir(f'{BUS}/{n}')
        os.rmdir(BUS)
        sh('rmmod', 'vcanbus')
    tap.finish()


if __name__ == '__main__':
    main()
