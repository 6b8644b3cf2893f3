#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""make bench, in the guest: every measurement, side by side in one boot.

  instant   flood: frames/s from one node to another of an instant-timing
            bus, against a vxcan pair and one vcan (two sockets) in the same
            run, same frame mix, same window (Classical and CAN FD); the same
            bus with its delivery NAPI threaded; the same two
            nodes on a 64-node bus, the others down, and on another with the
            others up; then 1 sender to 2..63 receiving nodes, the bus's
            poll in softirq and threaded (and, for scale, to as many
            sockets on one vcan); for k = 2, 8, 32 a separate run of each
            counts the frames per NAPI poll call (napi:napi_poll)
  wire      saturate: one sender keeps a wire-timing bus busy at 125k,
            500k, 1M (Classical, 8 bytes) and 1M/5M (CAN FD, 64 bytes, BRS),
            with 4 and with 32 transmit mailboxes; frames/s against the
            theory for that exact frame (canbits.py), and how late each
            frame reached the receiver after its end on the bus
  queueing  eight senders, IDs 0x010..0x080, Poisson arrivals, 90 % load at
            500k: each ID's wait for the bus
  busload   a 64-node bus at 1M: the same eight senders at 90 % load and 56
            receiving nodes, one of them read: every frame must arrive; its
            lateness after its end on the bus
  profile   (not run by default) perf record -a of 1 -> 1 and 1 -> 8 on a
            64-node bus with the others up, of 1 -> 1 with them down, and of
            busload's eight senders: the most sampled functions of each in
            $VCB_OUT/profile-*.txt, for docs/design.md
  xl        (kernels with CAN XL, 6.19 on; make bench runs it on the
            newest kernel in a guest of its own) saturate with a 2048-byte
            CAN XL frame at 500 kbit/s nominal and 10 Mbit/s XL data, 4 and
            32 mailboxes, against the theory for that exact frame
  bridge    two hosts (namespaces, a veth pair), each with its own bus,
            joined by vcanbridge over UDP (pycan, cannelloni), TCP and
            corosync (a daemon in each host; selftests/lib/corosync.py):
            frames/s, one-way latency at a fixed rate, CPU time per frame

Instant 1 -> 1 runs VCB_BENCH_REPEAT times (5), the rest up to 3 times
(queueing once), interleaved, the contenders of each repetition in a
random order (VCB_BENCH_SEED), so that drift hits every contender alike;
every interface gets the same qdisc (pfifo, 1000 frames).
Results go to $VCB_OUT/bench.jsonl, one JSON object per run; report.py
turns them into docs/bench.md. A run whose tool finds a lost, repeated or
reordered frame is a failed TAP result and gives no figure.
"""

import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys

HERE = os.path.dirname(os.path.realpath(__file__))
TOP = os.path.realpath(os.path.join(HERE, '..', '..'))
sys.path.insert(0, os.path.join(TOP, 'selftests', 'lib'))
import canbits  # noqa: E402
import corosync  # noqa: E402
from vcbtest import CFS, Tap, await_cond, cfs_write, run, sh  # noqa: E402

SO_TIMESTAMPNS = 35
TOOLS = os.path.join(TOP, 'build', 'bench')
BRIDGE = os.path.join(TOP, 'build', 'userspace', 'vcanbridge')
OUT = os.environ.get('VCB_OUT', '/tmp')
RESULTS = os.path.join(OUT, 'bench.jsonl')
REPEAT = int(os.environ.get('VCB_BENCH_REPEAT', '5'))
FRAMES = int(os.environ.get('VCB_BENCH_FRAMES', '200000'))
WINDOW = 256
SIZES = [1, 2, 4, 8, 16, 32, 63]
# 1 -> 1 on the 64-node bus of the 1 -> k part, the other nodes down, and
# on a second 64-node bus with the others up (they receive every frame,
# nobody reads them): labels, in bench-info.json.
IDLE_NODES = f'vcanbus + {max(SIZES) - 1} nodes down'
IDLE_UP = f'vcanbus + {max(SIZES) - 1} nodes up'
# The contenders of a repetition run in a random order, so that drift and
# warm-up favour none; the seed goes into bench-info.json.
SEED = int(os.environ.get('VCB_BENCH_SEED', str(random.randrange(1 << 31))))
rng = random.Random(SEED)

tap = Tap()


def tool(argv, what, after=None, **meta):
    """Runs a measurement; its JSON with @meta, and what @after(result)
    adds to it, goes to RESULTS."""
    p = subprocess.run([os.path.join(TOOLS, argv[0])] + argv[1:],
                       capture_output=True, text=True, timeout=1200)
    ok = p.returncode == 0
    tap.ok(ok, what, (p.stderr or p.stdout).strip().replace('\n', '\n# '))
    if not ok:
        return None
    res = json.loads(p.stdout)
    res.update(meta)
    if after:
        after(res)
    with open(RESULTS, 'a') as f:
        f.write(json.dumps(res) + '\n')
    return res


def same_queue(name):
    """Every contender's interface alike: a pfifo qdisc of 1000 frames
    (vcan and vxcan come without a queue, candevs with pfifo_fast)."""
    run('ip', 'link', 'set', name, 'txqueuelen', '1000')
    run('tc', 'qdisc', 'replace', 'dev', name, 'root', 'pfifo', 'limit',
        '1000')


def node_up(bus, name, *can_args):
    run('mkdir', f'{CFS}/{bus}/{name}')
    if can_args:
        run('ip', 'link', 'set', name, 'type', 'can', *can_args)
    same_queue(name)
    run('ip', 'link', 'set', name, 'up')


def bus_make(bus, timing):
    os.mkdir(f'{CFS}/{bus}')
    cfs_write(f'{CFS}/{bus}/timing', timing)
    # As every run in bench.md was measured: a slow reader holds the bus
    # back (wire timing now overruns by default) and no frame is lost.
    cfs_write(f'{CFS}/{bus}/rx_overflow', 'hold')


def bus_remove(bus):
    for n in os.listdir(f'{CFS}/{bus}'):
        if os.path.isdir(f'{CFS}/{bus}/{n}'):
            os.rmdir(f'{CFS}/{bus}/{n}')
    os.rmdir(f'{CFS}/{bus}')


def set_up(names, up):
    for n in names:
        run('ip', 'link', 'set', n, 'up' if up else 'down')


def threaded(bus, on):
    """The bus's delivery NAPI (every node's receiving) in a kernel
    thread, or back in the softirq of the CPU that completed the frame."""
    cfs_write(f'{CFS}/{bus}/threaded', '1' if on else '0')


TRACING = '/sys/kernel/tracing'
NAPI_HIST = 'hist:keys=dev_name:vals=hitcount,work'
# The k of the batching runs (napi_batches()).
POLL_SIZES = (2, 8, 32)


def napi_hist(on):
    """The histogram of napi:napi_poll per device, on or off: turning a
    tracepoint on patches kernel code (see main()), so once per k."""
    events = f'{TRACING}/events/napi/napi_poll'
    if on and not os.path.isdir(events):
        run('mount', '-t', 'tracefs', 'nodev', TRACING)
    # Appended: an open with O_TRUNC would remove every trigger.
    with open(f'{events}/trigger', 'a') as f:
        f.write(NAPI_HIST if on else '!' + NAPI_HIST)


def napi_polls(argv):
    """Runs the flood @argv (no figure of its own) on a cleared histogram:
    {device: (poll calls, frames they handed to the stack)}; the backlog
    of vcan and vxcan is '(no_device)'."""
    events = f'{TRACING}/events/napi/napi_poll'
    with open(f'{events}/trigger', 'a') as f:
        f.write(NAPI_HIST + ':clear')
    p = subprocess.run([os.path.join(TOOLS, argv[0])] + argv[1:],
                       capture_output=True, text=True, timeout=1200)
    with open(f'{events}/hist') as f:
        hist = f.read()
    if p.returncode:
        raise RuntimeError(f'{argv}: {p.stderr.strip()}')
    return {m[1]: (int(m[2]), int(m[3])) for m in re.finditer(
        r'dev_name:\s*(\S+)\s*}\s*hitcount:\s*(\d+)\s+work:\s*(\d+)', hist)}


def napi_batches(k, rx):
    """How many frames each NAPI poll call hands to the stack, 1 -> k,
    softirq and threaded polls, against vcan's backlog: the batching that
    threaded polls may gain (docs/design.md). A separate run: the
    histogram costs time, the timed runs have none."""
    n = 20000
    try:
        napi_hist(True)
    except OSError as e:
        tap.ok(False, f'instant 1->{k}: frames per NAPI poll', str(e))
        return
    # The bus's NAPI is on a device named after the bus.
    for iface, tx, devs in (('vcanbus', 'ik0', ['ik']),
                            ('vcanbus threaded', 'ik0', ['ik']),
                            ('vcan', 'vc0', ['(no_device)'])):
        argv = ['flood', '--tx', tx, '--frames', str(n), '--window',
                str(WINDOW), '--label', f'{iface} 1->{k} polls']
        for r in (rx if iface != 'vcan' else ['vc0'] * k):
            argv += ['--rx', r]
        if iface.endswith('threaded'):
            threaded('ik', True)
        try:
            hist = napi_polls(argv)
            polls = sum(hist.get(d, (0, 0))[0] for d in devs)
            work = sum(hist.get(d, (0, 0))[1] for d in devs)
            ok = polls > 0 and work >= n
            detail = f'{polls} polls, {work} frames' if ok else str(hist)
        except (OSError, RuntimeError) as e:
            ok, detail = False, str(e)
        finally:
            if iface.endswith('threaded'):
                threaded('ik', False)
        tap.ok(ok, f'instant 1->{k}: {iface}, frames per NAPI poll', detail)
        if ok:
            with open(RESULTS, 'a') as f:
                f.write(json.dumps(dict(bench='polls', iface=iface,
                                        receivers=k, frames=n, polls=polls,
                                        work=work)) + '\n')
    napi_hist(False)


def instant():
    """vcanbus against vxcan and vcan, then the bus's size."""
    can_args = ('bitrate', '500000', 'dbitrate', '2000000', 'fd', 'on')
    bus_make('ib', 'instant')
    for n in ('ib0', 'ib1'):
        node_up('ib', n, *can_args)
    # The 1 -> k part's bus, all but two nodes down for now: 1 -> 1 on it
    # shows what idle nodes cost (the scheduler walks every node).
    bus_make('ik', 'instant')
    nodes = [f'ik{i}' for i in range(max(SIZES) + 1)]
    for n in nodes:
        node_up('ik', n, *can_args)
    set_up(nodes[2:], False)
    bus_make('iu', 'instant')
    for i in range(max(SIZES) + 1):
        node_up('iu', f'iu{i}', *can_args)
    run('ip', 'link', 'add', 'vxa', 'type', 'vxcan', 'peer', 'name', 'vxb')
    run('ip', 'link', 'add', 'vc0', 'type', 'vcan')
    for n in ('vxa', 'vxb', 'vc0'):
        same_queue(n)
    set_up(['vxa', 'vxb', 'vc0'], True)
    # "vcanbus threaded": the bus's delivery NAPI in a kernel thread
    # (configfs: ib/threaded), as any admin can set.
    pairs = [('vcanbus', 'ib0', ['ib1']), ('vxcan', 'vxa', ['vxb']),
             ('vcan', 'vc0', ['vc0']), ('vcanbus threaded', 'ib0', ['ib1']),
             (IDLE_NODES, 'ik0', ['ik1']), (IDLE_UP, 'iu0', ['iu1'])]
    for rep in range(REPEAT):
        for fd in (False, True):
            for iface, tx, rx in rng.sample(pairs, len(pairs)):
                kind = 'fd' if fd else 'cc'
                # 62 receiving nodes: an eighth of the frames, as long.
                n = FRAMES // 8 if iface == IDLE_UP else FRAMES
                argv = ['flood', '--tx', tx, '--frames', str(n),
                        '--window', str(WINDOW), '--label', f'{iface} {kind}']
                for r in rx:
                    argv += ['--rx', r]
                if iface.endswith('threaded'):
                    threaded('ib', True)
                tool(argv + (['--fd'] if fd else []),
                     f'instant 1->1 {kind}: {iface}, run {rep + 1}',
                     bench='instant', iface=iface, kind=kind, rep=rep)
                if iface.endswith('threaded'):
                    threaded('ib', False)
    # 1 -> k: k receiving nodes up (a node that is up gets every frame,
    # read or not), and as many sockets on one vcan for scale; and the
    # same bus with its NAPI threaded, which the scheduler may put on
    # another CPU than the one that completed the frame.
    for k in SIZES[1:]:
        set_up(nodes[2:k + 1], True)
        n = max(FRAMES // k, 10000)
        for rep in range(min(REPEAT, 3)):
            for iface, tx, rx in rng.sample(
                    [('vcanbus', 'ik0', nodes[1:k + 1]),
                     ('vcanbus threaded', 'ik0', nodes[1:k + 1]),
                     ('vcan', 'vc0', ['vc0'] * k)], 3):
                argv = ['flood', '--tx', tx, '--frames', str(n), '--window',
                        str(WINDOW), '--label', f'{iface} 1->{k}']
                for r in rx:
                    argv += ['--rx', r]
                if iface.endswith('threaded'):
                    threaded('ik', True)
                tool(argv, f'instant 1->{k}: {iface}, run {rep + 1}',
                     bench='scale', iface=iface, receivers=k, rep=rep)
                if iface.endswith('threaded'):
                    threaded('ik', False)
        if k in POLL_SIZES:
            napi_batches(k, nodes[1:k + 1])
    run('ip', 'link', 'del', 'vxa')
    run('ip', 'link', 'del', 'vc0')
    bus_remove('ib')
    bus_remove('ik')
    bus_remove('iu')


# The frames saturate.c and queueing.c send, for the theory.
SAT_CC = dict(can_id=0x123, eff=False, rtr=False, fd=False, brs=False,
              esi=False, dlc=8, data=bytes.fromhex('deadbeef01234567'))
SAT_FD = dict(can_id=0x123, eff=False, rtr=False, fd=True, brs=True,
              esi=False, dlc=15, data=bytes((i * 37 + 11) & 0xff
                                            for i in range(64)))
WIRE = [('125k', 125000, None, SAT_CC), ('500k', 500000, None, SAT_CC),
        ('1M', 1000000, None, SAT_CC), ('1M/5M FD', 1000000, 5000000, SAT_FD)]
# The sender's transmit mailboxes: the default, and a controller with a
# deep TX FIFO (m_can, flexcan), which rides out the host's timer lag.
MAILBOXES = [4, 32]


def frame_ns(frame, bitrate, dbitrate):
    """Wire time of the frame with its intermission, in ns (exact)."""
    bits = canbits.frame_bits(**frame)
    return (canbits.duration_ns(bits, bitrate, dbitrate) +
            canbits.INTERMISSION_BITS * 10**9 / bitrate), bits


def wire():
    bus_make('wb', 'wire')
    node_up('wb', 'wb0')
    node_up('wb', 'wb1')
    for rep in range(min(REPEAT, 3)):
        for (name, rate, drate, frame), boxes in ((w, m) for m in MAILBOXES
                                                  for w in WIRE):
            args = ['bitrate', str(rate)]
            if drate:
                args += ['dbitrate', str(drate), 'fd', 'on']
            else:
                args += ['fd', 'off']
            set_up(['wb0', 'wb1'], False)
            cfs_write(f'{CFS}/wb/wb0/tx_mailboxes', str(boxes))
            for n in ('wb0', 'wb1'):
                run('ip', 'link', 'set', n, 'type', 'can', *args)
            set_up(['wb0', 'wb1'], True)
            per, bits = frame_ns(frame, rate, drate)
            tool(['saturate', '--tx', 'wb0', '--rx', 'wb1', '--seconds', '5',
                  '--label', name] + (['--fd'] if drate else []),
                 f'wire {name}, {boxes} mailboxes: saturated bus, '
                 f'run {rep + 1}',
                 bench='wire', config=name, bitrate=rate, dbitrate=drate,
                 mailboxes=boxes, frame_bits=bits['total'],
                 theory_fps=float(10**9 / per), rep=rep)
    bus_remove('wb')


def can_set_xl(ifname, bitrate, xbitrate):
    """ip link set IF type can bitrate B fd off xl on xbitrate X, over
    rtnetlink (iproute2 in Debian has no "xl"): can-dev wants the nominal
    and the XL data bit timing in the request that turns XL on."""
    import struct
    rtm_newlink, ifla_linkinfo, info_kind, info_data = 16, 18, 1, 2
    can_bittiming, can_ctrlmode, can_xl_data_bittiming = 1, 5, 18
    ctrlmode_fd, ctrlmode_xl = 0x20, 0x1000

    def attr(kind, payload):
        n = 4 + len(payload)
        return struct.pack('=HH', n, kind) + payload + bytes(-n % 4)

    data = (attr(can_bittiming, struct.pack('=8I', bitrate, *[0] * 7)) +
            attr(can_xl_data_bittiming, struct.pack('=8I', xbitrate,
                                                    *[0] * 7)) +
            attr(can_ctrlmode, struct.pack('=II', ctrlmode_fd | ctrlmode_xl,
                                           ctrlmode_xl)))
    info = attr(ifla_linkinfo, attr(info_kind, b'can\0') +
                attr(info_data | 0x8000, data))
    body = struct.pack('=BxHiII', 0, 0, socket.if_nametoindex(ifname), 0,
                       0) + info
    msg = struct.pack('=IHHII', 16 + len(body), rtm_newlink, 0x5, 1, 0) + body
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0) as nl:
        nl.send(msg)
        reply = nl.recv(4096)
    err = struct.unpack_from('=i', reply, 16)[0]
    if err:
        raise OSError(-err, f'{ifname}: xl on, xbitrate {xbitrate}: '
                      f'{os.strerror(-err)}')


# xl: one 2048-byte XL frame, priority 0x123, data (i * 37 + 11) & 0xff as
# saturate.c writes it, at 500 kbit/s nominal and 10 Mbit/s XL data.
XL_LEN, XL_RATE, XL_XRATE = 2048, 500000, 10000000


def xl():
    release = tuple(int(v) for v in os.uname().release.split('.')[:2])
    if release < (6, 19):
        tap.ok(True, f'xl: # SKIP Linux {os.uname().release} has no CAN XL')
        return
    data = bytes((i * 37 + 11) & 0xff for i in range(XL_LEN))
    bits = canbits.xl_frame_bits(0x123, data)
    per = (canbits.xl_duration_ns(bits, XL_RATE, XL_XRATE) +
           canbits.INTERMISSION_BITS * 10**9 / XL_RATE)
    bus_make('xb', 'wire')
    for n in ('xb0', 'xb1'):
        run('mkdir', f'{CFS}/xb/{n}')
        can_set_xl(n, XL_RATE, XL_XRATE)
        same_queue(n)
    for rep in range(min(REPEAT, 3)):
        for boxes in MAILBOXES:
            set_up(['xb0', 'xb1'], False)
            cfs_write(f'{CFS}/xb/xb0/tx_mailboxes', str(boxes))
            set_up(['xb0', 'xb1'], True)
            tool(['saturate', '--tx', 'xb0', '--rx', 'xb1', '--seconds', '5',
                  '--xl', str(XL_LEN), '--label', 'xl'],
                 f'xl 500k/10M, {XL_LEN} bytes, {boxes} mailboxes: saturated '
                 f'bus, run {rep + 1}',
                 bench='xl', config='XL 500k/10M', bitrate=XL_RATE,
                 xbitrate=XL_XRATE, length=XL_LEN, mailboxes=boxes,
                 frame_bits=bits['total'], nominal_bits=bits['nominal'],
                 data_bits=bits['data_phase'], theory_fps=float(10**9 / per),
                 rep=rep)
    bus_remove('xb')


QUEUE_IDS = [0x10 * (i + 1) for i in range(8)]
# busload: an ECU network of this many nodes at this bit rate and load.
BUSLOAD_NODES, BUSLOAD_RATE, BUSLOAD_LOAD = 64, 1000000, 0.9


def queueing():
    bus_make('qb', 'wire')
    load = 0.9
    argv = ['queueing', '--seconds', '20']
    for i, can_id in enumerate(QUEUE_IDS):
        node_up('qb', f'qb{i}')
        frame = dict(SAT_CC, can_id=can_id,
                     data=bytes.fromhex('1122334455667788'))
        per, bits = frame_ns(frame, 500000, None)
        wire_ns = canbits.duration_ns(bits, 500000, None)
        fps = load / len(QUEUE_IDS) * 10**9 / per
        argv += ['--tx', f'qb{i}:{can_id:03X}:{fps:.1f}:{round(wire_ns)}']
    tool(argv, 'queueing: 8 IDs at 90 % load, 500k', bench='queueing',
         bitrate=500000, load=load)
    bus_remove('qb')


def perf_record(name, argv):
    """perf record -a of one run of a tool; its most sampled functions go
    to $VCB_OUT/profile-@name.txt."""
    data = os.path.join(OUT, f'profile-{name}.data')
    argv = [os.path.join(TOOLS, argv[0])] + argv[1:]
    p = subprocess.run(['perf', 'record', '-a', '-e', 'cpu-clock', '-o', data,
                        '--'] + argv, capture_output=True, text=True)
    tap.ok(p.returncode == 0, f'profile {name}', p.stderr.strip())
    rep = subprocess.run(['perf', 'report', '-i', data, '--stdio',
                          '--no-children', '--sort', 'symbol',
                          '--percent-limit', '0.05'],
                         capture_output=True, text=True)
    with open(os.path.join(OUT, f'profile-{name}.txt'), 'w') as f:
        f.write(p.stdout + rep.stdout)


def perf_flood(name, tx, rx):
    argv = ['flood', '--tx', tx, '--frames', str(FRAMES // len(rx)),
            '--window', str(WINDOW)]
    for r in rx:
        argv += ['--rx', r]
    perf_record(name, argv)


def profile():
    """Where a frame's CPU time goes, on a 64-node bus: all up, then all
    but the two down."""
    if not shutil.which('perf'):
        tap.ok(False, 'profile', 'no perf here: apt-get install linux-perf')
        return
    bus_make('pb', 'instant')
    nodes = [f'pb{i}' for i in range(64)]
    for n in nodes:
        node_up('pb', n, 'bitrate', '500000')
    perf_flood('1to1-62up', 'pb0', ['pb1'])
    perf_flood('1to8-56up', 'pb0', nodes[1:9])
    set_up(nodes[2:], False)
    perf_flood('1to1-62down', 'pb0', ['pb1'])
    bus_remove('pb')
    # Eight senders at once (busload's): what waits for the bus lock.
    perf_record('busload', busload_argv()[0])
    bus_remove('qw')


def busload_argv():
    """busload's bus, qw, made; the queueing command line for it and the
    frames/s it offers."""
    bus_make('qw', 'wire')
    argv = ['queueing', '--seconds', '10', '--rx', f'qw{BUSLOAD_NODES - 1}']
    offered = 0
    for i in range(BUSLOAD_NODES):
        node_up('qw', f'qw{i}', 'bitrate', str(BUSLOAD_RATE))
    for i, can_id in enumerate(QUEUE_IDS):
        frame = dict(SAT_CC, can_id=can_id,
                     data=bytes.fromhex('1122334455667788'))
        per, bits = frame_ns(frame, BUSLOAD_RATE, None)
        wire_ns = canbits.duration_ns(bits, BUSLOAD_RATE, None)
        fps = BUSLOAD_LOAD / len(QUEUE_IDS) * 10**9 / per
        offered += fps
        argv += ['--tx', f'qw{i}:{can_id:03X}:{fps:.1f}:{round(wire_ns)}']
    return argv, offered


def busload():
    """An ECU network: 64 nodes on a 1 Mbit/s bus, 8 of them sending at
    90 % load together, 56 receiving; one receiver is read."""
    argv, offered = busload_argv()

    def bus_stats(res):
        for k in ('frames', 'slipped_ns', 'busy_ns'):
            with open(f'{CFS}/qw/{k}') as f:
                res[f'bus_{k}'] = int(f.read())
    tool(argv, f'busload: {BUSLOAD_NODES} nodes, 8 senders at '
         f'{BUSLOAD_LOAD:.0%} load, {BUSLOAD_RATE // 1000}k',
         after=bus_stats, bench='busload', bitrate=BUSLOAD_RATE,
         load=BUSLOAD_LOAD, nodes=BUSLOAD_NODES, offered_fps=offered)
    bus_remove('qw')


# Two hosts: namespaces with a veth pair, each with its own instant bus of
# two nodes, one for the bridge and one for the applications.
HOSTS = {'ha': '10.0.1.1', 'hb': '10.0.1.2'}


def ns(host, *argv):
    return ['nsenter', f'--net=/run/netns/{host}', *argv]


def hosts_up():
    for h in HOSTS:
        run('ip', 'netns', 'add', h)
        run(*ns(h, 'ip', 'link', 'set', 'lo', 'up'))
        run(*ns(h, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0'))
        run(*ns(h, 'sysctl', '-qw', 'net.ipv6.conf.default.accept_dad=0'))
    run('ip', 'link', 'add', 'eth0', 'netns', 'ha', 'type', 'veth',
        'peer', 'name', 'eth0', 'netns', 'hb')
    for h, ip in HOSTS.items():
        run(*ns(h, 'ip', 'addr', 'add', f'{ip}/24', 'dev', 'eth0'))
        run(*ns(h, 'ip', 'link', 'set', 'eth0', 'up'))
        run(*ns(h, 'ip', 'route', 'add', '224.0.0.0/4', 'dev', 'eth0'))
        bus_make(f'x{h}', 'instant')
        for n in (f'brg{h[1]}', f'app{h[1]}'):
            run(*ns(h, 'mkdir', f'{CFS}/x{h}/{n}'))
            run(*ns(h, 'ip', 'link', 'set', n, 'type', 'can', 'bitrate',
                    '1000000', 'dbitrate', '4000000', 'fd', 'on'))
            run(*ns(h, 'ip', 'link', 'set', n, 'up'))
    await_cond(lambda: all(b'fe80' in subprocess.run(
        ns(h, 'ip', '-6', 'addr', 'show', 'dev', 'eth0'),
        capture_output=True).stdout for h in HOSTS))


def hosts_down():
    for h in HOSTS:
        sh('ip', 'netns', 'del', h)
    for h in HOSTS:
        # The kernel hands the nodes back to the initial namespace.
        await_cond(lambda: all(os.path.exists(f'/sys/class/net/{n}{h[1]}')
                               for n in ('app', 'brg')))
        bus_remove(f'x{h}')


def cpu_seconds(pid):
    with open(f'/proc/{pid}/stat') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


class Bridge:
    def __init__(self, host, *args):
        self.log = os.path.join(OUT, f'bench-bridge-{host}.log')
        self.out = open(self.log, 'w')
        self.proc = subprocess.Popen(ns(host, BRIDGE, *args, f'brg{host[1]}'),
                                     stdout=self.out, stderr=self.out)

    def said(self, pattern):
        with open(self.log) as f:
            return re.search(pattern, f.read()) is not None

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(30)
        self.out.close()


TRANSPORTS = [
    ('udp pycan', ['--udp', 'pycan,if=eth0'], ['--udp', 'pycan,if=eth0'],
     'joined', 'joined'),
    ('udp cannelloni', ['--udp', 'format=cannelloni,group=239.74.163.4,if=eth0'],
     ['--udp', 'format=cannelloni,group=239.74.163.4,if=eth0'],
     'joined', 'joined'),
    ('tcp', ['--tcp-connect', f'{HOSTS["hb"]}:20000'],
     ['--tcp-listen', f'{HOSTS["hb"]}:20000', '--allow', '10.0.1.0/24'],
     'connected', 'joined'),
    # Each host's own corosync (knet over the veth pair); ready when both
    # bridges count two members of the group.
    ('corosync', ['--cpg', 'vcbbench'], ['--cpg', 'vcbbench'],
     r'members: \S+ \S+\n', r'members: \S+ \S+\n'),
]
BRIDGE_FRAMES = int(os.environ.get('VCB_BENCH_BRIDGE_FRAMES', '20000'))
BRIDGE_RATE = 1000


def bridge():
    hosts_up()
    daemons = []
    transports = TRANSPORTS
    if corosync.available():
        daemons = [corosync.Corosync(h, HOSTS, OUT, 'vcbbench') for h in HOSTS]
    else:
        tap.diag(f'no corosync daemon at {corosync.COROSYNC}: the corosync '
                 'transport is not measured')
        transports = [t for t in TRANSPORTS if t[0] != 'corosync']
    try:
        for rep in range(min(REPEAT, 3)):
            for name, a_args, b_args, a_ready, b_ready in transports:
                b = Bridge('hb', *b_args)
                await_cond(lambda: b.said('listening|joined'))
                a = Bridge('ha', *a_args)
                ready = await_cond(lambda: a.said(a_ready) and b.said(b_ready),
                                   120)
                tap.ok(ready, f'bridge {name}: both ends ready, run {rep + 1}')
                flood = ['flood', '--tx', 'ha/appa', '--rx', 'hb/appb']
                # The first frames also complete TCP's greeting.
                tool(flood + ['--frames', '100', '--window', '1',
                              '--label', f'{name} warm-up'],
                     f'bridge {name}: warm-up, run {rep + 1}',
                     bench='warmup', transport=name, rep=rep)
                cpu = [cpu_seconds(x.proc.pid) for x in (a, b)]

                def cpu_per_frame(res):
                    res['cpu_us_per_frame'] = [
                        (cpu_seconds(x.proc.pid) - c) * 1e6 / BRIDGE_FRAMES
                        for x, c in zip((a, b), cpu)]
                tool(flood + ['--frames', str(BRIDGE_FRAMES), '--window', '64',
                              '--label', f'{name} throughput'],
                     f'bridge {name}: throughput, run {rep + 1}',
                     after=cpu_per_frame, bench='bridge', transport=name,
                     rep=rep)
                tool(flood + ['--frames', str(BRIDGE_RATE * 10), '--rate',
                              str(BRIDGE_RATE), '--label', f'{name} latency'],
                     f'bridge {name}: latency at {BRIDGE_RATE} frames/s, '
                     f'run {rep + 1}',
                     bench='bridge-latency', transport=name, rate=BRIDGE_RATE,
                     rep=rep)
                a.stop()
                b.stop()
    finally:
        for d in daemons:
            d.stop()
        hosts_down()


def cpu_model():
    with open('/proc/cpuinfo') as f:
        for line in f:
            if line.startswith('model name'):
                return line.split(':', 1)[1].strip()
    return 'unknown'


def main():
    if os.path.exists(RESULTS):
        os.unlink(RESULTS)
    with open(os.path.join(OUT, 'bench-info.json'), 'w') as f:
        json.dump({'kernel': os.uname().release, 'cpus': os.cpu_count(),
                   'mem_kb': int(open('/proc/meminfo').read().split()[1]),
                   'cpu_model': cpu_model(),
                   'repeat': REPEAT, 'frames': FRAMES, 'window': WINDOW,
                   'bridge_frames': BRIDGE_FRAMES,
                   'bridge_rate': BRIDGE_RATE, 'idle_nodes': IDLE_NODES,
                   'idle_up': IDLE_UP,
                   'seed': SEED}, f)
    print('TAP version 13', flush=True)
    # Receive timestamps on from start to end: every tool's sockets would
    # otherwise turn the kernel's netstamp static key on and off, and each
    # of those code patches risks QEMU TCG's stray-int3 fault (seen here:
    # an Oops in __netif_receive_skb_core during a vxcan run).
    stamps = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    stamps.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    for m in ('vcan', 'vxcan', 'can-raw', 'vcanbus'):
        run('modprobe', m)
    parts = os.environ.get('VCB_BENCH_PARTS',
                           'instant wire queueing busload bridge')
    for part in parts.split():
        globals()[part]()
    print(f'1..{tap.n}', flush=True)
    stamps.close()
    tap.finish()


if __name__ == '__main__':
    main()
