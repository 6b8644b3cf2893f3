#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Groups a profile of make bench (VCB_BENCH_PARTS=profile) for design.md.

    profile_groups.py DIR [DIR ...]

Reads each DIR/profile-*.txt (perf report --sort symbol, functions of
0.05 % and more) and prints one markdown row per profile: the share of the
busy time (all but "idle") in each group. "idle" is the halted CPU plus
the samples TCG defers to the end of interrupt-masked sections
(_raw_spin_unlock_irqrestore, finish_task_switch); "lock wait" is a CPU
spinning for a contended spinlock (the slow path); "bus" every other
vcanbus function, the bus's work under its lock (and the senders'
posting); "polls" the receiving NAPI poll; "skb" allocating, cloning and
freeing; "receive" the CAN and net receive path; "other" the rest of the
listed functions (the tools' own reading and writing, the sending socket's
path); "unlisted" the functions under 0.05 % each.
"""

import glob
import os
import re
import sys

IDLE = ('pv_native_safe_halt', 'default_idle', '_raw_spin_unlock_irqrestore',
        'finish_task_switch')
LOCK_WAIT = ('native_queued_spin_lock_slowpath',
             '__pv_queued_spin_lock_slowpath', 'queued_spin_lock_slowpath')
# The receiving polls: each node's until 2026-12-02, the bus's one since.
POLLS = ('vcanbus_node_poll', 'vcanbus_rx_poll', 'vcanbus_rx_node',
         'vcanbus_rxq_take', 'vcanbus_node_rx_skb')
SKB = ('skb_clone', '__copy_skb_header', 'kmem_cache_', '___slab_alloc',
       '__slab_free', 'consume_skb', 'kfree_skb', 'skb_release_',
       '__alloc_skb', 'alloc_can', 'skb_ext_', 'kfree_skbmem',
       'skb_free_head', 'memset', '__memset', 'skb_scrub_packet')
RECEIVE = ('can_', 'raw_rcv', '__netif_receive_skb', 'netif_receive_skb',
           '__napi_poll', 'net_rx_action', 'sock_queue_rcv_skb',
           '__sock_queue_rcv_skb', 'sk_filter', 'skb_set_owner_r')
GROUPS = ('lock wait', 'bus', 'polls', 'skb', 'receive', 'other',
          'unlisted')

LINE = re.compile(r'^\s+([0-9.]+)%\s+\[[k.]\]\s+(\S+)')


def group(symbol):
    name = symbol.split('.')[0]
    if name.startswith(IDLE):
        return 'idle'
    if name.startswith(LOCK_WAIT):
        return 'lock wait'
    if name in POLLS:
        return 'polls'
    if name.startswith('vcanbus_'):
        return 'bus'
    if name.startswith(SKB):
        return 'skb'
    if name.startswith(RECEIVE):
        return 'receive'
    return 'other'


def shares(path):
    total = {g: 0.0 for g in GROUPS + ('idle',)}
    listed = 0.0
    with open(path) as f:
        for line in f:
            m = LINE.match(line)
            if m:
                pct = float(m.group(1))
                total[group(m.group(2))] += pct
                listed += pct
    total['unlisted'] = 100.0 - listed
    busy = 100.0 - total['idle']
    return {g: 100.0 * v / busy for g, v in total.items() if g != 'idle'}, \
        total['idle']


def main():
    print('| profile | ' + ' | '.join(GROUPS) + ' | idle |')
    print('|---' * (len(GROUPS) + 2) + '|')
    for d in sys.argv[1:]:
        for path in sorted(glob.glob(os.path.join(d, 'profile-*.txt'))):
            s, idle = shares(path)
            name = os.path.basename(path)[8:-4]
            print(f'| {name} | ' +
                  ' | '.join(f'{s[g]:.0f} %' for g in GROUPS) +
                  f' | {idle:.0f} % |')


if __name__ == '__main__':
    main()
