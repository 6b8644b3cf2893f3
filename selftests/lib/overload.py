#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""A host that cannot keep up with the wire (selftests/tests/overload.sh).

Buses whose frames cost more CPU than their time on the wire: on each of
LONE buses a lone node at 1 Mbit/s with an 8 Mbit/s CAN FD data phase and
berr-reporting retries its frame for ever (nobody acknowledges it: every
attempt is an ACK error, an error frame, and about 40 us of bus time), and
on one more bus a sender whose every frame is destroyed by an injected bit
error goes bus-off, restarts after 1 ms (restart-ms 1) and goes bus-off
again, while cangen keeps writing. The driver bounds the work of each timer
run and poll; the machine must stay responsive: meanwhile, on an idle bus a
node is made, brought up and down and removed, the loaded nodes go down and
are removed, and the module is unloaded, each within LIMIT seconds. Printed
too: how far each bus clock fell behind real time (slipped_ns).
"""

import os
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from vcbtest import CFS, Tap, await_cond, can_socket, cfs_read, run, sh  # noqa: E402

LONE = 24
LIMIT = 5.0         # seconds an operation may take under the load
LOAD_SECONDS = 10
FD = ['bitrate', '1000000', 'dbitrate', '8000000', 'fd', 'on']


def timed(tap, what, *argv):
    """Runs a command that must succeed within LIMIT seconds."""
    start = time.monotonic()
    try:
        ok = subprocess.run(argv, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL,
                            timeout=6 * LIMIT).returncode == 0
    except subprocess.TimeoutExpired:
        ok = False
    took = time.monotonic() - start
    tap.ok(ok and took <= LIMIT, f'under overload: {what} ({took:.2f} s)',
           f'limit {LIMIT} s, succeeded: {ok}')


def node_up(name, *args):
    run('ip', 'link', 'set', name, 'type', 'can', *args)
    run('ip', 'link', 'set', name, 'up')


def main():
    tap = Tap(3 + 4 + 2 * (LONE + 2) + 1)
    run('modprobe', 'vcanbus')
    buses = [f'{CFS}/ov{i}' for i in range(LONE)] + [f'{CFS}/ovstorm']
    nodes = []
    gen = None
    try:
        # The lone nodes, each with one FD frame with BRS that nobody
        # acknowledges, retried for ever.
        frame = struct.pack('=IBBxx64s', 0x123, 8, 0x01, bytes(range(8)))
        socks = []
        for i in range(LONE):
            os.mkdir(buses[i])
            name = f'ovl{i}'
            os.mkdir(f'{buses[i]}/{name}')
            nodes.append((buses[i], name))
            node_up(name, *FD, 'berr-reporting', 'on')
            s = can_socket(name, fd=True)
            s.send(frame)
            socks.append(s)
        # The bus-off storm.
        os.mkdir(buses[LONE])
        for name, extra in (('ovs0', ['restart-ms', '1']), ('ovs1', [])):
            os.mkdir(f'{buses[LONE]}/{name}')
            nodes.append((buses[LONE], name))
            node_up(name, 'bitrate', '1000000', 'berr-reporting', 'on',
                    *extra)
        with open(f'{buses[LONE]}/bit_error_ppm', 'w') as f:
            f.write('1000000')
        gen = subprocess.Popen(['setsid', 'bash', '-c', 'while :; do '
                                'cangen ovs0 -g 0 -i 2>/dev/null; '
                                'sleep 0.001; done'])
        tap.ok(await_cond(lambda: all(
            int(cfs_read(f'{b}/errors')) > 1000 for b in buses)),
            f'{LONE} lone nodes retry and a bus-off storm runs')
        restarts = int(cfs_read('/sys/class/net/ovs0/statistics/tx_dropped'))
        errors = [int(cfs_read(f'{b}/errors')) for b in buses]
        # The load runs for a while before the machine is tried.
        time.sleep(LOAD_SECONDS)
        tap.ok(int(cfs_read('/sys/class/net/ovs0/statistics/tx_dropped')) >
               restarts, 'the storm goes on: restarts drop what it held')
        tap.ok(all(int(cfs_read(f'{b}/errors')) > e
                   for b, e in zip(buses, errors)),
               f'after {LOAD_SECONDS} s every bus is still busy with errors')

        idle = f'{CFS}/ovidle'
        timed(tap, 'mkdir an idle bus and a node', 'mkdir', idle,
              f'{idle}/ovi')
        timed(tap, 'ip link set up', 'ip', 'link', 'set', 'ovi', 'up')
        timed(tap, 'ip link set down', 'ip', 'link', 'set', 'ovi', 'down')
        timed(tap, 'rmdir the node and its bus', 'rmdir', f'{idle}/ovi',
              idle)
        for b in buses:
            tap.diag(f'{os.path.basename(b)}: frames '
                     f'{cfs_read(f"{b}/frames")}, errors '
                     f'{cfs_read(f"{b}/errors")}, busy_ns '
                     f'{cfs_read(f"{b}/busy_ns")}, slipped_ns '
                     f'{cfs_read(f"{b}/slipped_ns")}')
        for s in socks:
            s.close()
        for bus, name in nodes:
            timed(tap, f'ip link set {name} down', 'ip', 'link', 'set',
                  name, 'down')
            timed(tap, f'rmdir {name}', 'rmdir', f'{bus}/{name}')
        nodes = []
        timed(tap, 'rmmod vcanbus with its buses', 'sh', '-c',
              'rmdir ' + ' '.join(buses) + ' && rmmod vcanbus')
    finally:
        if gen:
            sh('pkill', '-f', 'cangen ovs0')
            gen.kill()
            gen.wait()
        for bus, name in nodes:
            sh('rmdir', f'{bus}/{name}')
        for b in buses:
            sh('rmdir', b)
        sh('rmmod', 'vcanbus')
    tap.finish()


if __name__ == '__main__':
    main()
