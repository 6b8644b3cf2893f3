#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Fault confinement in wire timing (selftests/tests/errors.sh).

Exact counters, states, statistics and error frames (their kind,
location and the bus bits they take) for: a lone node (no ACK:
error-warning at TEC 96, error-passive at 128, then it stays at 128 and
keeps retrying; a second node acknowledges and TEC goes to 127), a
one-shot lone node with berr-reporting (one ACK error frame, a transmit
error, the frame aborted, no echo), presume-ack, a node at another bit
rate (it destroys frames until rule 2's REC + 8 makes it error-passive
after 15, then they go through), the bus-off recovery sequence after a
restart (128 x 11 bits), forced bus-off with restart-ms, injected bit
errors, a Classical-only node and a non-ISO node on a CAN FD bus, forced
bus-off while the node's frame is on the wire (cut off, TEC stays 256,
the restart drops it), a listen-only node at another bit rate (it counts
an error in good and in destroyed frames alike), and suspend transmission
of an error-passive node.
"""

import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import canbits  # noqa: E402
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
CAN_ERR_LOSTARB = 0x02
CAN_ERR_PROT_FORM, CAN_ERR_PROT_STUFF = 0x02, 0x04
CAN_ERR_PROT_BIT0, CAN_ERR_PROT_BIT1, CAN_ERR_PROT_TX = 0x08, 0x10, 0x80
SO_TIMESTAMPNS = 35
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


def recv_fd(s):
    """The next CAN FD frame (10 s at most)."""
    s.settimeout(10)
    return s.recv(72)


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
    tap.eq('one-shot: one ACK bus error frame (a transmit error), TEC 8',
           [(CAN_ERR_PROT | CAN_ERR_BUSERROR | CAN_ERR_ACK | CAN_ERR_CNT,
             CAN_ERR_PROT_TX, CAN_ERR_PROT_LOC_ACK, 8)],
           [(i, d[2], d[3], d[6]) for i, d in (err(f) for f in pending(es))])
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
    """eb at 250k on a 500k bus: error-active, it destroys every frame with
    its error flag at bit 6 (a form error); the sender and ec flag after it,
    so eb sees dominant bits after its own flag: REC + 1 + 8 (rule 2) per
    frame, error-passive after 15 frames (REC 135), when the sender's TEC is
    15 x 8 = 120. Then its flag is passive and the frame goes through."""
    setup([('ea', 500000, ['berr-reporting', 'on']),
           ('eb', 250000, ['berr-reporting', 'on']),
           ('ec', 500000, ['berr-reporting', 'on'])])
    before = counts('ea')
    bits = int(cfs_read(f'{BUS}/bits'))
    ea, eb, ec = error_socket('ea'), error_socket('eb'), error_socket('ec')
    rc = can_socket('ec')
    tx = can_socket('ea')
    tx.send(FRAME)
    tap.eq('a node at 250k destroys 500k frames until it is error-passive: '
           'then the frame goes through', FRAME, recv(rc))
    tap.eq('after 15 destroyed frames: sender TEC 15 x 8 - 1, the node at '
           '250k REC 15 x 9 + 1, the other receiver REC 15 - 1',
           (119, 136, 14), (tec('ea'), rec('eb'), rec('ec')))
    tap.eq('states: sender error-warning, the node at 250k error-passive',
           ('ERROR-WARNING', 'ERROR-PASSIVE'), (state('ea'), state('eb')))
    tap.eq('bus_off, error_passive, error_warning of the sender', [0, 0, 1],
           [a - b for a, b in zip(counts('ea')[:3], before)])
    # Each destroyed frame: 7 bits up to the first flag bit, the flag and
    # the followers' flags (6 + 6), the delimiter (8).
    done = canbits.frame_bits(0x123, False, False, False, False, False, 2,
                              b'\xca\xfe')['total']
    tap.eq('bus bits: 15 destroyed frames of 7 + 20 bits, then the frame',
           15 * 27 + done, int(cfs_read(f'{BUS}/bits')) - bits)
    loc = canbits.LOC['ID28_21']
    tap.eq('sender: 15 bit errors (BIT1, sent in the identifier), each with '
           'its error frame', 15 * [(CAN_ERR_PROT_TX | CAN_ERR_PROT_BIT1, loc)],
           [(d[2], d[3]) for i, d in (err(f) for f in pending(ea))
            if i & CAN_ERR_PROT])
    tap.eq('node at 250k: 15 form errors at bit 6, then one as passive',
           16 * [(CAN_ERR_PROT_FORM, loc)],
           [(d[2], d[3]) for i, d in (err(f) for f in pending(eb))
            if i & CAN_ERR_PROT])
    tap.eq('the other receiver: 15 stuff errors (the error flags)',
           15 * [(CAN_ERR_PROT_STUFF, loc)],
           [(d[2], d[3]) for i, d in (err(f) for f in pending(ec))
            if i & CAN_ERR_PROT])
    for s in (ea, eb, ec, rc, tx):
        s.close()


def restart(tap):
    """After a restart from bus-off a node must see 128 sequences of 11
    recessive bits before it takes part in the bus: on an idle bus at
    10 kbit/s, 140.8 ms after the restart."""
    setup([('ea', 10000, []), ('eb', 10000, [])])
    rc = can_socket('eb')
    rc.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    tx = can_socket('ea')
    tap.ok(sh('sh', '-c', f'echo 1 > {BUS}/ea/bus_off'), 'restart: bus-off')
    restarted = time.clock_gettime_ns(time.CLOCK_REALTIME)
    tap.ok(sh('ip', 'link', 'set', 'ea', 'type', 'can', 'restart'),
           'restart: manual restart')
    tap.eq('restart: error-active, TEC 0', ('ERROR-ACTIVE', 0),
           (state('ea'), tec('ea')))
    tx.send(FRAME)
    rc.settimeout(10)
    buf, anc, _, _ = rc.recvmsg(16, socket.CMSG_SPACE(16))
    sec, nsec = [struct.unpack('=qq', d[:16]) for lvl, k, d in anc
                 if lvl == socket.SOL_SOCKET and k == SO_TIMESTAMPNS][0]
    bits = canbits.frame_bits(0x123, False, False, False, False, False, 2,
                              b'\xca\xfe')['total']
    start = sec * 10**9 + nsec - bits * 100000
    tap.ok(buf == FRAME and start - restarted >= 128 * 11 * 100000,
           'restart: its next frame starts no earlier than 128 x 11 bits '
           f'(140.8 ms) after the restart ({(start - restarted) / 1e6:.1f} '
           'ms)')
    rc.close()
    tx.close()


def suspend(tap):
    """Suspend transmission: an error-passive transmitter waits 8 bits more
    after its frame's intermission. ea (one-shot) is made error-passive by
    20 frames destroyed by bit errors (TEC 160); with the bus held back,
    ea queues 3 frames with ID 0x100 and eb 3 with ID 0x200: ea's lower ID
    would win every time, but after each of its frames eb starts first.
    Alone (queued, again, while the bus is held back), ea's frames are
    spaced by 3 + 8 bits."""
    setup([('ea', 125000, ['one-shot', 'on']), ('eb', 125000, []),
           ('ec', 125000, [])])
    aborted = stat('ea', 'tx_aborted_errors')
    cfs_write(f'{BUS}/bit_error_ppm', '1000000')
    tx = can_socket('ea')
    for _ in range(20):
        send_retry(tx, FRAME)
    tap.ok(await_cond(lambda: stat('ea', 'tx_aborted_errors') == aborted + 20),
           'suspend: 20 frames destroyed')
    cfs_write(f'{BUS}/bit_error_ppm', '0')
    tap.eq('suspend: ea error-passive, TEC 160', ('ERROR-PASSIVE', 160),
           (state('ea'), tec('ea')))
    rc = can_socket('ec')
    rc.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    rc.setsockopt(socket.SOL_SOCKET, 33, 1 << 24)        # SO_RCVBUFFORCE
    hb = can_socket('eb')
    filler = struct.pack('=IB3x8s', 0x7ff, 0, b'')

    def held(burst):
        """Fills ec's queue (held) with 1024 fillers of eb, so the bus holds
        back; then sends @burst, releases ec and returns the burst as ec
        receives it, with its timestamps: every frame of it was queued
        before the first went out, whatever the machine's speed."""
        cfs_write(f'{BUS}/ec/rx_hold', '1')
        frames = int(cfs_read(f'{BUS}/frames'))
        for _ in range(1024):
            send_retry(hb, filler)
        tap.ok(await_cond(lambda: int(cfs_read(f'{BUS}/frames')) ==
                          frames + 1024),
               'suspend: the held receiver\'s queue is full: the bus holds back')
        for sock, f in burst:
            sock.send(f)
        cfs_write(f'{BUS}/ec/rx_hold', '0')
        got = []
        for _ in range(1024 + len(burst)):
            data, anc, _, _ = rc.recvmsg(16, socket.CMSG_SPACE(16))
            sec, nsec = [struct.unpack('=qq', d[:16]) for lvl, k, d in anc
                         if lvl == socket.SOL_SOCKET and k == SO_TIMESTAMPNS][0]
            got.append((data, sec * 10**9 + nsec))
        return got[1024:]

    ea = [struct.pack('=IB3x8s', 0x100, 1, bytes([i])) for i in range(3)]
    eb = [struct.pack('=IB3x8s', 0x200, 1, bytes([i])) for i in range(3)]
    got = held([x for a, b in zip(ea, eb) for x in ((tx, a), (hb, b))])
    tap.eq('suspend: after each frame of the error-passive ea, eb goes first',
           [ea[0], eb[0], ea[1], eb[1], ea[2], eb[2]], [d for d, _ in got])
    # Alone: two frames of ea, 8 bits of suspend between them.
    stamps = [t for _, t in held([(tx, f) for f in ea[:2]])]
    bits = canbits.frame_bits(0x100, False, False, False, False, False, 1,
                              ea[1][8:9])['total']
    tap.eq('suspend: alone, its frames are spaced by frame + 3 + 8 bits',
           (bits + 3 + 8) * 8000, stamps[1] - stamps[0])
    tap.eq('suspend: ea TEC 160 - 5', 155, tec('ea'))
    for s in (tx, hb, rc):
        s.close()


def send_retry(s, frame):
    """Sends, waiting out a full queue (ENOBUFS)."""
    while True:
        try:
            s.send(frame)
            return
        except OSError:
            time.sleep(0.001)


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


def mixed_fd(tap):
    """A Classical-only node (fd off) destroys CAN FD frames at their FDF
    bit (a form error) while it is error-active, REC + 9 per frame, as on
    a real bus mixing Classical and FD controllers; after 15 frames it is
    error-passive and they go through. A non-ISO CAN FD node sees ISO
    frames with a CRC error, flagged after the ACK delimiter: the others
    acknowledged, then see its flag in the EOF (a form error; the sender a
    bit error)."""
    fd = ['dbitrate', '2000000', 'fd', 'on', 'berr-reporting', 'on']
    frame = struct.pack('=IBBxx64s', 0x123, 12, 0, bytes(range(12)))
    ref = canbits.frame_bits(0x123, False, False, True, False, False, 9,
                             bytes(range(12)))
    setup([('ea', 500000, fd), ('eb', 500000, fd),
           ('ec', 500000, ['fd', 'off', 'berr-reporting', 'on'])])
    bits = int(cfs_read(f'{BUS}/bits'))
    ec = error_socket('ec')
    rx = can_socket('eb', fd=True)
    tx = can_socket('ea', fd=True)
    tx.send(frame)
    tap.eq('a Classical-only node destroys FD frames until it is '
           'error-passive, then they go through', frame[:5],
           recv_fd(rx)[:5])
    tap.eq('after 15 destroyed FD frames: sender TEC 119, the Classical-only '
           'node REC 136, the FD receiver REC 14', (119, 136, 14),
           (tec('ea'), rec('ec'), rec('eb')))
    tap.eq('the Classical-only node: form errors at the FDF bit (r0)',
           16 * [(CAN_ERR_PROT_FORM, canbits.LOC['RES0'])],
           [(d[2], d[3]) for i, d in (err(f) for f in pending(ec))
            if i & CAN_ERR_PROT])
    tap.eq('bus bits: 15 frames cut after the FDF bit + 20, then one',
           15 * (ref['fdf'] + 1 + 20) + ref['total'],
           int(cfs_read(f'{BUS}/bits')) - bits)
    for s in (ec, rx, tx):
        s.close()

    setup([('ea', 500000, fd), ('eb', 500000, fd),
           ('ec', 500000, fd + ['fd-non-iso', 'on'])])
    ea, eb, ec = error_socket('ea'), error_socket('eb'), error_socket('ec')
    bits = int(cfs_read(f'{BUS}/bits'))
    rx = can_socket('eb', fd=True)
    tx = can_socket('ea', fd=True)
    tx.send(frame)
    tap.eq('a non-ISO node destroys ISO FD frames until error-passive',
           frame[:5], recv_fd(rx)[:5])
    tap.eq('TEC 119, the non-ISO node REC 136, the ISO receiver REC 14',
           (119, 136, 14), (tec('ea'), rec('ec'), rec('eb')))
    eof = canbits.LOC['EOF']
    tap.eq('sender: bit errors in the EOF; non-ISO node: CRC errors; ISO '
           'receiver: form errors in the EOF',
           (15 * [(CAN_ERR_PROT_TX | CAN_ERR_PROT_BIT1, eof)],
            16 * [(0, canbits.LOC['CRC_SEQ'])],
            15 * [(CAN_ERR_PROT_FORM, eof)]),
           tuple([(d[2], d[3]) for i, d in (err(f) for f in pending(s))
                  if i & CAN_ERR_PROT] for s in (ea, ec, eb)))
    # Each destroyed frame: up to the ACK delimiter, then 20 bits.
    total = ref['total']
    tap.eq('bus bits: 15 frames cut after the ACK delimiter + 20, then one',
           15 * (total - 7 + 20) + total,
           int(cfs_read(f'{BUS}/bits')) - bits)
    for s in (ea, eb, ec, rx, tx):
        s.close()


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
    tap = Tap(10 + 4 + 2 + 8 + 4 + 6 + 5 + 8 + 5 + 4 + 7)
    sh('modprobe', 'vcanbus')
    os.mkdir(BUS)
    try:
        cfs_write(f'{BUS}/timing', 'wire')
        # The suspend test holds the bus back for want of room.
        cfs_write(f'{BUS}/rx_overflow', 'hold')
        for n in NODES:
            os.mkdir(f'{BUS}/{n}')
        lone_node(tap)
        one_shot(tap)
        presume_ack(tap)
        bitrate_mismatch(tap)
        restart(tap)
        forced_bus_off(tap)
        bit_errors(tap)
        mixed_fd(tap)
        bus_off_on_the_wire(tap)
        listen_only_counts(tap)
        suspend(tap)
    finally:
        for n in NODES:
            if os.path.isdir(f'{BUS}/{n}'):
                os.rmdir(f'{BUS}/{n}')
        os.rmdir(BUS)
        sh('rmmod', 'vcanbus')
    tap.finish()


if __name__ == '__main__':
    main()
