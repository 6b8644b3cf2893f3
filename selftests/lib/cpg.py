#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""vcanbridge --cpg: one bus order across hosts through corosync
(selftests/tests/cpg.sh; TAP output).

Three "hosts" ha, hb, hc as in bridge.py (network namespaces on one Linux
bridge, each with its own vcanbus bus), each running its own corosync
(selftests/lib/corosync.py: knet over the namespaces' addresses), and a
vcanbridge --cpg under ASan/UBSan.

  * The bridges join one after another: each counts exactly the joins
    it saw, and all three count 3 members.
  * Frames cross both ways exactly: Classical, extended, remote, CAN FD.
  * Two concurrent senders (ha: 0x100, hb: 0x200), VCB_CPG_FRAMES (5000)
    frames each: hc, without a sender, gets all of them; ha gets hb's and
    hb gets ha's in exactly hc's order; each sender's frames in its order,
    no gap, no duplicate; the bridges' counters agree with the frames.
  * hc's corosync is killed (SIGKILL) mid-stream: ha and hb go on and get
    every frame of each other, once, in one order; both report hc's
    bridge gone with its node (members_node_down 1, members 2); hc's
    bridge reports the lost connection. corosync on hc starts again: its
    bridge connects and joins again by itself (connects 2), everyone
    counts 3 members, what hc got is in order and without duplicates, and
    frames cross again both ways.
  * hc's link to the others is cut: ha and hb count 2 members, hc 1, and
    frames cross between ha and hb; the link back: 3 members everywhere,
    ha and hb count hc's bridge down and up once, hc each of theirs, and
    hc's next frames are those sent after the heal.
"""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import bridge  # noqa: E402
from bridge import (FRAMES, SENDER, Bridge, bound, candump, crossing,  # noqa: E402
                    frames_of, node, ns)
from corosync import COROSYNC, Corosync, available  # noqa: E402
from vcbtest import Tap, await_cond, run, sh  # noqa: E402

# Three of bridge.py's hosts are enough here (its helpers read these).
bridge.HOSTS = HOSTS = ['ha', 'hb', 'hc']
IP = bridge.IP
TMP = bridge.TMP
if os.environ.get('VCB_OUT'):
    bridge.KEEP = os.path.join(os.environ['VCB_OUT'], 'cpg-logs')
GROUP = 'vcb-test'
N = int(os.environ.get('VCB_CPG_FRAMES', '5000'))


def counters(b):
    """The cpg port's counters of bridge @b, without the port's name."""
    return {k.split(': ', 1)[1]: v for k, v in b.stats().items()
            if k.startswith(f'cpg {GROUP}: ')}


def members(b, n):
    return lambda: counters(b).get('members') == n


def seqs(frames, can_id):
    return [int.from_bytes(bytes.fromhex(d), 'little') for i, d in frames
            if i == can_id]


def others(frames, can_id):
    return [f for f in frames if f[0] != can_id]


def on_bus(b):
    """The frames from the group bridge @b's bus carried."""
    return b.stats()[f'{node(b.host, "x")}: tx_on_bus']


def cross(tap, bridges, what, src, dst, frames, reach=HOSTS):
    """bridge.py's crossing, and then the frames on every other bus of
    @reach too: a host that gets them later than @dst must not have them
    in the next test's reader."""
    before = {h: on_bus(bridges[h]) for h in reach if h != src}
    crossing(tap, what, src, dst, frames)
    if not await_cond(lambda: all(on_bus(bridges[h]) >= n + len(frames)
                                  for h, n in before.items()), 60):
        tap.diag(f'{what}: not every bus carried the {len(frames)} frames '
                 f'from {src}')


def dump_all(tag, n):
    logs = {h: os.path.join(TMP, f'{tag}-{h}') for h in HOSTS}
    dumps = {h: candump(h, n, logs[h]) for h in HOSTS}
    await_cond(lambda: all(bound(h, node(h, 'a')) for h in HOSTS))
    return logs, dumps


def start_senders(senders, n):
    return [subprocess.Popen(ns(h, '/usr/bin/python3', '-c', SENDER,
                                node(h, 'a'), i, str(n)))
            for h, i in senders.items()]


def joining(tap, coro):
    """The bridges start one after another, each once the one before
    counts itself a member: exact join counts."""
    bridges = {}
    for i, h in enumerate(HOSTS):
        bridges[h] = Bridge(h, '--cpg', GROUP)
        # Its first word about the group: its signals are set up by then.
        await_cond(lambda: f'cpg {GROUP}: ' in bridges[h].text(), 60)
        # The first waits for corosync's ring of three: then every later
        # join is a join, not a node coming up with its members.
        tap.ok(await_cond(lambda: counters(bridges[h]).get('ring_nodes') == 3
                          and members(bridges[h], i + 1)(), 120),
               f'cpg: the bridge on {h} joined a ring of 3, {i + 1} members',
               '\n'.join(line for line in bridges[h].text().splitlines()
                         if 'cpg' in line and 'statistics' not in line
                         and not line.split()[-1].isdigit())[-2000:])
    ok = await_cond(lambda: all(members(b, 3)() for b in bridges.values()),
                    60)
    got = {h: counters(b) for h, b in bridges.items()}
    tap.eq('cpg: each bridge counted the joins it saw (3, 2, 1), 3 members',
           {'ha': (3, 3), 'hb': (2, 3), 'hc': (1, 3)},
           {h: (c.get('members_joined'), c.get('members'))
            for h, c in got.items()})
    if not ok:
        for h in HOSTS:
            tap.diag(f'corosync on {h}:\n# ' +
                     open(coro[h].log).read()[-2000:].replace('\n', '\n# '))
    return bridges


def order(tap, bridges):
    """Two concurrent senders; one order everywhere."""
    before = {h: counters(b) for h, b in bridges.items()}
    senders = {'ha': '100', 'hb': '200'}
    logs, dumps = dump_all('order', 2 * N)
    gens = start_senders(senders, N)
    limit = 300 + N // 10
    for g in gens:
        g.wait(limit)
    for d in dumps.values():
        d.wait(limit)
    got = {h: frames_of(logs[h]) for h in HOSTS}
    if not tap.eq(f'cpg order: every host got all {2 * N} frames',
                  {h: 2 * N for h in HOSTS}, {h: len(got[h]) for h in HOSTS}):
        for h in HOSTS:
            tap.diag(f'{h}: ' + ', '.join(
                f'{k} {v}' for k, v in bridges[h].stats().items() if v and
                ('tx_' in k or 'rx_' in k)))
    seq = got['hc']
    tap.ok(all(seqs(seq, i) == list(range(N)) for i in senders.values()),
           'cpg order: on hc each sender\'s frames in its order, no gap, '
           'no duplicate')
    for h, i in senders.items():
        mine, theirs = others(got[h], i), others(seq, i)
        first = next((k for k, (x, y) in enumerate(zip(mine, theirs))
                      if x != y), None)
        tap.ok(mine == theirs, f'cpg order: {h} got the other sender\'s '
               f'{N} frames in exactly hc\'s order',
               f'first difference at {first}')
    after = {h: counters(b) for h, b in bridges.items()}
    delta = {h: {k: after[h][k] - before[h].get(k, 0)
                 for k in ('tx_frames', 'rx_frames')} for h in HOSTS}
    tap.eq('cpg order: the bridges sent their bus\'s frames and received '
           'the others\'',
           {'ha': {'tx_frames': N, 'rx_frames': N},
            'hb': {'tx_frames': N, 'rx_frames': N},
            'hc': {'tx_frames': 0, 'rx_frames': 2 * N}}, delta)
    bus = {h: bridges[h].stats() for h in HOSTS}
    tap.eq('cpg order: nothing dropped, refused or lost on the way '
           '(to corosync: queue full, lost, not connected; to the bus: '
           'queue full)',
           {h: [0, 0, 0, 0] for h in HOSTS},
           {h: [after[h][k] for k in ('tx_dropped_queue_full',
                                      'tx_lost_disconnected',
                                      'tx_not_connected')] +
            [bus[h][f'{node(h, "x")}: tx_dropped_queue_full']]
            for h in HOSTS})


def kill_rejoin(tap, bridges, coro):
    """hc's corosync dies mid-stream and comes back."""
    senders = {'ha': '100', 'hb': '200'}
    logs = {h: os.path.join(TMP, f'kill-{h}') for h in HOSTS}
    dumps = {h: candump(h, 2 * N, logs[h]) for h in ('ha', 'hb')}
    dumps['hc'] = subprocess.Popen(
        ns('hc', 'candump', '-L', '-r', str(64 << 20),
           f'{node("hc", "a")},100:7FF,200:7FF'),
        stdout=open(logs['hc'], 'w'), stderr=subprocess.DEVNULL)
    await_cond(lambda: all(bound(h, node(h, 'a')) for h in HOSTS))
    gens = start_senders(senders, N)

    def lines(h):
        with open(logs[h]) as f:
            return sum(1 for _ in f)
    # Mid-stream: hc has had a fifth of the frames.
    mid = await_cond(lambda: lines('hc') >= N // 5, 300)
    coro['hc'].kill()
    tap.ok(mid and all(g.poll() is None for g in gens),
           'cpg kill: hc\'s corosync killed while both senders send')
    gone = await_cond(lambda: all(members(bridges[h], 2)()
                                  for h in ('ha', 'hb')), 120)
    tap.ok(gone, 'cpg kill: ha and hb count 2 members')
    tap.ok(await_cond(lambda: counters(bridges['hc'])['connected'] == 0, 60),
           'cpg kill: hc\'s bridge lost its corosync')
    coro['hc'].start()
    back = await_cond(lambda: all(members(b, 3)() for b in bridges.values()),
                      180)
    tap.ok(back, 'cpg rejoin: hc\'s bridge joined again by itself; 3 members '
           'everywhere')
    limit = 300 + N // 10
    for g in gens:
        g.wait(limit)
    for h in ('ha', 'hb'):
        dumps[h].wait(limit)
    got = {h: frames_of(logs[h]) for h in ('ha', 'hb')}
    if not tap.eq(f'cpg kill: ha and hb got all {2 * N} frames',
                  {'ha': 2 * N, 'hb': 2 * N}, {h: len(got[h]) for h in got}):
        for h in ('ha', 'hb'):
            tap.diag(f'{h}: ' + ', '.join(
                f'{k} {v}' for k, v in bridges[h].stats().items() if v and
                ('tx_' in k or 'rx_' in k or 'members' in k)))
    ok = all(seqs(got[h], i) == list(range(N))
             for h in ('ha', 'hb') for i in senders.values())
    tap.ok(ok, 'cpg kill: on ha and hb each sender\'s frames in order, '
           'none lost, none twice')
    tap.ok(others(got['ha'], '100') == [f for f in got['hb']
                                         if f[0] == '200'] and
           others(got['hb'], '200') == [f for f in got['ha']
                                         if f[0] == '100'],
           'cpg kill: each got the other\'s frames in the sender\'s order')
    cnt = {h: counters(b) for h, b in bridges.items()}
    # hc's bridge may join its own corosync before that one is back in
    # the ring (then the others see it come up with its node): one join
    # or one node up, never both.
    tap.eq('cpg kill: ha and hb saw hc\'s bridge go with its node once, '
           'and come back once',
           {'ha': (1, 4), 'hb': (1, 3)},
           {h: (cnt[h]['members_node_down'],
                cnt[h]['members_joined'] + cnt[h]['members_node_up'])
            for h in ('ha', 'hb')})
    tap.eq('cpg kill: hc\'s bridge lost its connection once and connected '
           'twice',
           (1, 2), (cnt['hc']['connections_lost'], cnt['hc']['connects']))
    cross(tap, bridges, 'cpg rejoin', 'ha', 'hc', FRAMES)
    cross(tap, bridges, 'cpg rejoin', 'hc', 'hb', FRAMES[::-1])
    # What hc got: whatever came before and after its outage, but in order
    # and never twice. Corosync owes no sender a share of the order, so
    # hc's first fifth may be one sender's alone.
    dumps['hc'].terminate()
    dumps['hc'].wait()
    hc = frames_of(logs['hc'])
    got = {i: seqs(hc, i) for i in senders.values()}
    tap.ok(len(hc) >= N // 5 and
           all(s == sorted(set(s)) for s in got.values()),
           'cpg rejoin: what hc got of each sender is in order, none twice',
           f'{len(hc)} frames: ' + ', '.join(
               f'{i}: {len(s)}, {len(set(s))} different'
               for i, s in got.items()))


def partition(tap, bridges):
    """hc's link cut: two rings that go on each as its own bus; the link
    back: one ring of three, each side counting the other back once."""
    def count(h, k):
        return counters(bridges[h])[f'members_{k}']
    before = {h: (count(h, 'node_down'), count(h, 'node_up')) for h in HOSTS}
    run(*ns('lan', 'ip', 'link', 'set', 'vhc', 'down'))
    tap.ok(await_cond(lambda: members(bridges['ha'], 2)() and
                      members(bridges['hb'], 2)() and
                      members(bridges['hc'], 1)(), 180),
           'cpg partition: hc cut off: ha and hb count 2 members, hc 1')
    hc_bus = on_bus(bridges['hc'])
    cross(tap, bridges, 'cpg partition', 'ha', 'hb', FRAMES, ('ha', 'hb'))
    run(*ns('lan', 'ip', 'link', 'set', 'vhc', 'up'))
    tap.ok(await_cond(lambda: all(members(b, 3)() for b in bridges.values()),
                      180),
           'cpg partition healed: 3 members everywhere')
    after = {h: (count(h, 'node_down'), count(h, 'node_up')) for h in HOSTS}
    tap.eq('cpg partition: each side saw the other\'s bridges go with their '
           'node once and come back once (down, up)',
           {'ha': (1, 1), 'hb': (1, 1), 'hc': (2, 2)},
           {h: (after[h][0] - before[h][0], after[h][1] - before[h][1])
            for h in HOSTS})
    # What ha sent meanwhile never reaches hc: a bus is not a log.
    tap.eq('cpg partition: what ha sent during it never reached hc\'s bus',
           0, on_bus(bridges['hc']) - hc_bus)
    cross(tap, bridges, 'cpg healed', 'ha', 'hc', FRAMES[::-1])


def main():
    if not bridge.kernel_has_bridge():
        print('TAP version 13\n1..1\nok 1 vcanbridge --cpg # SKIP this kernel '
              'has no Linux bridge (CONFIG_BRIDGE)', flush=True)
        sys.exit(4)
    if not available():
        print('TAP version 13\n1..1\nok 1 vcanbridge --cpg # SKIP no corosync '
              f'daemon at {COROSYNC} (selftests/vm/fetch-corosync.sh)',
              flush=True)
        sys.exit(4)
    tap = Tap(34)
    tap.diag(f'bridge: {bridge.BRIDGE}; corosync: {COROSYNC}; '
             f'logs in {bridge.KEEP}')
    coro = {}
    try:
        bridge.setup_hosts()
        coro = {h: Corosync(h, {x: IP[x] for x in HOSTS}, TMP) for h in HOSTS}
        bridges = joining(tap, coro)
        cross(tap, bridges, 'cpg', 'ha', 'hb', FRAMES)
        cross(tap, bridges, 'cpg', 'hb', 'hc', FRAMES[::-1])
        cross(tap, bridges, 'cpg', 'hc', 'ha', FRAMES)
        order(tap, bridges)
        kill_rejoin(tap, bridges, coro)
        partition(tap, bridges)
        for h in HOSTS:
            bridges[h].stop(tap, 'cpg')
    finally:
        bridge.teardown_hosts()
        for c in coro.values():
            c.stop()
        sh('rmmod', 'vcanbus')
    tap.finish()


if __name__ == '__main__':
    main()
