#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""report.py OUT DOCS: turns a make bench run (OUT/bench.jsonl, written by
bench.py in the guest) into DOCS/bench.md and its plots (gnuplot, PNG).

Every figure is the median of its runs with the spread (lowest - highest)
beside it; every comparison is a ratio of figures measured in the same
boot. Exits 1, and writes nothing, when a part has no valid run: a
broken feature never reports a number, and make bench fails.
"""

import json
import os
import statistics
import subprocess
import sys
import time

OUT, DOCS = sys.argv[1], sys.argv[2]


def load():
    with open(os.path.join(OUT, 'bench.jsonl')) as f:
        runs = [json.loads(line) for line in f if line.strip()]
    with open(os.path.join(OUT, 'bench-info.json')) as f:
        info = json.load(f)
    return runs, info


def pick(runs, **match):
    return [r for r in runs if all(r.get(k) == v for k, v in match.items())]


def med(values):
    return statistics.median(values) if values else None


def spread(values, fmt='{:,.0f}'):
    """median (lowest - highest)"""
    if not values:
        return 'no valid run'
    m = fmt.format(med(values))
    if len(values) == 1:
        return m
    return f'{m} ({fmt.format(min(values))} – {fmt.format(max(values))})'


def lat(runs, key, pct):
    """The median over runs of one percentile of their distributions."""
    return med([r[key][pct] for r in runs if r.get(key)])


def signed(runs, key, pct):
    """lat() for a figure runs made before it existed lack: '–'."""
    v = med([r[key][pct] for r in runs if r.get(key) and pct in r[key]])
    return '–' if v is None else f'{v:.0f}'


def gnuplot(script, data):
    """Runs gnuplot on @script; @data: {name: text} written beside it."""
    tmp = os.path.join(OUT, 'plots')
    os.makedirs(tmp, exist_ok=True)
    for name, text in data.items():
        with open(os.path.join(tmp, name), 'w') as f:
            f.write(text)
    subprocess.run(['gnuplot'], input=script, text=True, cwd=tmp, check=True)


TERM = "set terminal pngcairo size 900,520 font 'sans,11'\n"


def instant_section(runs, md):
    md.append('## Instant timing: vcanbus against vxcan and vcan\n')
    md.append('One sender, one receiver; the same frames through a vcanbus '
              'bus in `instant` timing (two nodes), a vxcan pair and one vcan '
              '(a sending and a receiving socket on it). At most '
              f'{INFO["window"]} frames on their way: vcan and vxcan drop what '
              'their backlog cannot take, so a sender without that bound '
              'measures losses. Every run checks that each frame arrived once '
              'and in order. *vcanbus threaded*: the same bus with its '
              'delivery NAPI (every node\'s receiving and echoes) in a '
              'kernel thread (`echo 1 > <bus>/threaded` in configfs). '
              f'*{INFO["idle_nodes"]}*: the same two nodes\' traffic on the '
              '64-node bus of the next section, its other nodes down; '
              f'*{INFO.get("idle_up", "")}*: on another 64-node bus whose other '
              'nodes are up, each receiving every frame, read by nobody (a '
              'node that is up takes every frame off the wire).\n')
    md.append('| interface | CC frames/s | × vxcan | FD frames/s | × vxcan | '
              'latency p50 / p99 (µs, CC) |')
    md.append('|---|---|---|---|---|---|')
    base = {k: med([r['fps'] for r in pick(runs, bench='instant',
                                           iface='vxcan', kind=k)])
            for k in ('cc', 'fd')}
    ratios = {}  # (interface, kind): median of the per-run ratios
    for iface in ('vcanbus', 'vxcan', 'vcan', 'vcanbus threaded',
                  INFO['idle_nodes'], INFO.get('idle_up')):
        if not pick(runs, bench='instant', iface=iface):
            continue
        row = [iface]
        for k in ('cc', 'fd'):
            rs = pick(runs, bench='instant', iface=iface, kind=k)
            fps = [r['fps'] for r in rs]
            row.append(spread(fps))
            # Ratios per run pair (same repetition), then their median.
            pairs = [r['fps'] / v['fps'] for r in rs for v in
                     pick(runs, bench='instant', iface='vxcan', kind=k,
                          rep=r['rep'])]
            ratios[iface, k] = med(pairs)
            row.append(spread(pairs, '{:.2f}') if base[k] else '–')
        cc = pick(runs, bench='instant', iface=iface, kind='cc')
        row.append(f'{lat(cc, "latency_us", "p50"):.0f} / '
                   f'{lat(cc, "latency_us", "p99"):.0f}' if cc else '–')
        md.append('| ' + ' | '.join(row) + ' |')
    cc, fd = ratios.get(('vcanbus', 'cc')), ratios.get(('vcanbus', 'fd'))
    if cc is not None and fd is not None:
        met = 'met' if min(cc, fd) >= 1.0 else 'not met'
        md.append(f'\n**vcanbus ÷ vxcan, 1 → 1: {cc:.2f} Classical, {fd:.2f} '
                  f'FD** (medians of the per-run ratios; the goal is ≥ 1.0 '
                  f'for both: {met}). Where the '
                  'difference goes, from a profile in the guest: '
                  '[design.md](design.md#what-instant-timing-costs-against-'
                  'vxcan-make-bench-2026-11-27).\n')
    # The bus's size: the same two nodes on 64-node buses, per-run ratios
    # against the two-node bus of the same repetition.
    for iface in (INFO['idle_nodes'], INFO.get('idle_up')):
        pairs = [r['fps'] / v['fps']
                 for r in pick(runs, bench='instant', iface=iface, kind='cc')
                 for v in pick(runs, bench='instant', iface='vcanbus',
                               kind='cc', rep=r['rep'])]
        if pairs and iface == INFO['idle_nodes']:
            md.append(f'**{iface} ÷ vcanbus (two nodes), 1 → 1, Classical '
                      f'frames: {med(pairs):.2f}** ({spread(pairs, "{:.2f}")}; '
                      'the goal is ≥ 0.95: '
                      f'{"met" if med(pairs) >= 0.95 else "not met"}).\n')
        elif pairs:
            md.append(f'**{iface} ÷ vcanbus (two nodes), 1 → 1, Classical '
                      f'frames: {med(pairs):.2f}** ({spread(pairs, "{:.2f}")}; '
                      'no goal: every node that is up receives every frame, '
                      'so a frame is 63 receptions here).\n')


def scale_section(runs, md):
    md.append('## Instant timing: one sender, more receiving nodes\n')
    md.append('Frames/s from one node to k receiving nodes of one bus, each '
              'read by its own socket; for scale, one vcan with k receiving '
              'sockets (a vcan frame is one skb for all of them; vcanbus '
              'gives every node its own copy, as every controller on a wire '
              'gets its own). *threaded*: the same bus with its delivery '
              'NAPI in a kernel thread (`threaded`), which the '
              'scheduler may run on another CPU than the one that '
              'completed the frame; for k = 1, the *vcanbus threaded* '
              'figure of the table above (its two-node bus). The goal is '
              'for the default (the softirq).\n')
    md.append('| receivers | vcanbus frames/s | frames delivered/s | vcan '
              'frames/s (k sockets) | vcanbus ÷ vcan | threaded frames/s | '
              'threaded ÷ vcan |')
    md.append('|---|---|---|---|---|---|---|')
    one = {i: med([r['fps'] for r in pick(runs, bench='instant', iface=i,
                                          kind='cc')])
           for i in (INFO['idle_nodes'], 'vcan', 'vcanbus threaded')}
    ks = sorted({r['receivers'] for r in pick(runs, bench='scale')} | {1})
    rows = []
    for k in ks:
        if k == 1:
            v, c, t = (one[INFO['idle_nodes']], one['vcan'],
                       one['vcanbus threaded'])
            vs, cs, ts = ([v] if v else [], [c] if c else [],
                          [t] if t else [])
        else:
            vs, cs, ts = ([r['fps'] for r in pick(runs, bench='scale',
                                                  iface=i, receivers=k)]
                          for i in ('vcanbus', 'vcan', 'vcanbus threaded'))
            v, c, t = med(vs), med(cs), med(ts)
        rows.append((k, v, c, t))
        md.append(f'| {k} | {spread(vs)} | '
                  f'{(k * v if v else 0):,.0f} | {spread(cs)} | '
                  f'{(v / c if v and c else 0):.2f} | {spread(ts)} | '
                  f'{(t / c if t and c else 0):.2f} |')
    goal = [v / c for k, v, c, t in rows if 2 <= k <= 32 and v and c]
    if goal:
        met = 'met' if min(goal) >= 0.9 else 'not met'
        md.append(f'\n**vcanbus ÷ vcan, 1 → k for k = 2 … 32: {min(goal):.2f} '
                  f'… {max(goal):.2f}** (the goal is ≥ 0.9 for each: {met}; '
                  'what limits it: [design.md](design.md#one-delivery-'
                  'context-per-bus-make-bench-2026-12-02-ab)).\n')
    thr = [t / c for k, v, c, t in rows if 2 <= k <= 32 and t and c]
    if thr:
        md.append(f'Threaded: {min(thr):.2f} … {max(thr):.2f} '
                  'of vcan for the same k.\n')
    md.append('\n![frames/s against the number of receiving nodes]'
              '(bench-nodes.png)\n')
    data = ''.join(f'{k} {v or 0} {c or 0} {k * (v or 0)} {t or 0}\n'
                   for k, v, c, t in rows)
    gnuplot(TERM + """set output '%s'
set title 'Instant timing: one sender, k receivers'
set logscale xy 2
set xlabel 'receivers (k)'
set ylabel 'frames/s'
set xtics (1,2,4,8,16,32,63)
set key top right
set grid
plot 'nodes.dat' using 1:2 with linespoints lw 2 title 'vcanbus: frames/s', \\
     'nodes.dat' using 1:4 with linespoints lw 2 dt 2 title 'vcanbus: frames delivered/s (k × frames/s)', \\
     'nodes.dat' using 1:5 with linespoints lw 2 title 'vcanbus threaded: frames/s', \\
     'nodes.dat' using 1:3 with linespoints lw 2 title 'vcan, k sockets: frames/s'
""" % os.path.join(DOCS, 'bench-nodes.png'), {'nodes.dat': data})


def polls_section(runs, md):
    rows = pick(runs, bench='polls')
    if not rows:
        return
    md.append('### Frames per NAPI poll call\n')
    md.append('A separate flood of each (20 000 frames, not timed) with a '
              'histogram on the `napi:napi_poll` tracepoint: how many frames '
              'a poll call hands to the stack: the bus\'s one NAPI '
              '(vcanbus: each frame is k receptions and an echo), the '
              'backlog that vcan\'s frames and echoes go through (vcan: '
              'one skb per frame for all k sockets). Calls per frame sent '
              '= poll calls ÷ frames; a call that takes more than one '
              'entry pays its schedule and its completion once for them '
              'all.\n')
    md.append('| receivers | vcanbus: entries per call | calls per frame '
              'sent | threaded: entries per call | calls per frame sent | '
              'vcan: frames per call | calls per frame sent |')
    md.append('|---|---|---|---|---|---|---|')
    for k in sorted({r['receivers'] for r in rows}):
        cells = []
        for i in ('vcanbus', 'vcanbus threaded', 'vcan'):
            r = pick(rows, iface=i, receivers=k)
            if not r:
                cells += ['–', '–']
                continue
            r = r[0]
            cells += [f'{r["work"] / r["polls"]:.2f}',
                      f'{r["polls"] / r["frames"]:.2f}']
        md.append(f'| {k} | ' + ' | '.join(cells) + ' |')
    md.append('')


def wire_section(runs, md):
    md.append('## Wire timing: a saturated bus against the theory\n')
    md.append('One sender keeps the bus busy for 5 s with one fixed frame '
              '(Classical: ID 123, 8 bytes; CAN FD: ID 123, 64 bytes, BRS), '
              'so the theoretical rate is one number: 1 / (the frame\'s exact '
              'wire time, from selftests/lib/canbits.py, + 3 bits of '
              'intermission). *achieved*: frames/s at the receiver in real '
              'time, the frames after the first over the real time from '
              'the first one\'s end on the bus to the last one\'s reading '
              '(each frame stamped when it was read); as no frame is read '
              'before its end, it can beat the theory only where the bus '
              'clock does; '
              '*bus clock*: the same on the frames\' timestamps; *lateness*: '
              'real time of reading minus the frame\'s end on the bus, never '
              'clamped (a negative least lateness would be a frame read '
              'before its end: a bug); *gap*: real time from one frame\'s '
              'reading to the next, against the frame\'s wire time on the '
              'bus clock (medians of each run\'s percentiles). With 4 '
              'mailboxes (the default) a sender\'s next frames are still in '
              'the qdisc when the bus timer runs late; with 32 (a deep TX '
              'FIFO) they are already waiting. An achieved rate above the '
              'theory is a measurement error, not a fast bus.\n')
    md.append('| bus | mailboxes | frame bits | theory frames/s | achieved '
              '÷ theory | bus clock ÷ theory | lateness least / p50 / p99 / '
              'max (µs) | gap p1 / p50 / p99, real time (µs) | gap p50 / '
              'p99.9 / max, bus clock (µs) |')
    md.append('|---|---|---|---|---|---|---|---|---|')
    out = {}  # (config, mailboxes): median achieved / theory
    configs = []
    for r in pick(runs, bench='wire'):
        if (r['config'], r['mailboxes']) not in configs:
            configs.append((r['config'], r['mailboxes']))
    for config, boxes in configs:
        rs = pick(runs, bench='wire', config=config, mailboxes=boxes)
        theory = rs[0]['theory_fps']
        got = [r['fps'] / theory for r in rs]
        bus = [r['bus_fps'] / theory for r in rs]
        out[config, boxes] = med(got)
        md.append(f'| {config} | {boxes} | {rs[0]["frame_bits"]} | '
                  f'{theory:,.1f} | {spread(got, "{:.4f}")} | '
                  f'{spread(bus, "{:.4f}")} | '
                  f'{signed(rs, "lateness_us", "min")} / '
                  f'{lat(rs, "lateness_us", "p50"):.0f} / '
                  f'{lat(rs, "lateness_us", "p99"):.0f} / '
                  f'{lat(rs, "lateness_us", "max"):.0f} | '
                  f'{signed(rs, "gap_us", "p1")} / '
                  f'{signed(rs, "gap_us", "p50")} / '
                  f'{signed(rs, "gap_us", "p99")} | '
                  f'{signed(rs, "bus_gap_us", "p50")} / '
                  f'{signed(rs, "bus_gap_us", "p99.9")} / '
                  f'{signed(rs, "bus_gap_us", "max")} |')
    # The headline is the default configuration, never the best of several.
    head = out.get(('500k', 4))
    if head is not None:
        md.append(f'\n**500 kbit/s, 4 mailboxes (the default): {head:.4f} of '
                  f'the theoretical frame rate** (the goal is within 1 %: '
                  f'{"met" if abs(1 - head) <= 0.01 else "not met"}).\n')
    deep = out.get(('500k', 32))
    gaps = {b: pick(runs, bench='wire', config='500k', mailboxes=b)
            for b in (4, 32)}
    if head is not None and deep is not None and all(gaps.values()):
        md.append('Where the shortfall goes: on the bus clock a frame follows '
                  'the one before it after exactly that frame\'s wire time '
                  '(the bus-clock gap\'s median) unless the sender\'s '
                  'mailboxes were empty. At 500 kbit/s the rare longer gaps '
                  f'(p99.9 {signed(gaps[4], "bus_gap_us", "p99.9")} µs, max '
                  f'{signed(gaps[4], "bus_gap_us", "max")} µs with 4 '
                  f'mailboxes, against {signed(gaps[32], "bus_gap_us", "max")} '
                  'µs at most with 32) are the bus waiting for the sender\'s '
                  'refill: a timer run that comes that late completes all 4 '
                  'mailboxes at once, and the next frames reach them only '
                  'after it. 4 mailboxes hold 4 frame times (0.9 ms at 500 '
                  'kbit/s); the guest\'s timers are late by more than that in '
                  'the tail (lateness p99 and max above). A controller with 4 '
                  'transmit buffers on a host that late idles the same way, '
                  'so the model is right and the default stays 4, the depth '
                  'of common controllers (mcp251xfd: 4 TX objects in CAN FD '
                  'mode, 8 in Classical; gs_usb and peak_usb: 10 URBs; '
                  'SJA1000 and the flexcan driver: 1); `tx_mailboxes` (up to '
                  f'64) gives a deep FIFO: with 32, {deep:.4f} of the theory '
                  'here.\n')


def queueing_section(runs, md):
    rs = pick(runs, bench='queueing')
    if not rs:
        return
    r = rs[0]
    md.append('## Wire timing: queueing delay by identifier\n')
    md.append(f'Eight nodes on one {r["bitrate"] // 1000} kbit/s bus, one '
              'identifier each (010 … 080), frames written at random times '
              f'(Poisson) at equal rates that load the bus to '
              f'{r["load"] * 100:.0f} %, for {r["seconds"]} s. A frame\'s '
              'delay is from its write to the start of its frame on the bus '
              '(its echo\'s end-of-frame timestamp minus its wire time): the '
              'wait for its node\'s earlier frames and the arbitrations it '
              'lost. The lowest identifier wins every arbitration it '
              'takes part in, so it waits at most for the frame already on '
              'the wire; the highest waits for everyone.\n')
    md.append('| ID | frames/s | mean (µs) | p50 | p90 | p99 | max |')
    md.append('|---|---|---|---|---|---|---|')
    data = ''
    for i, x in enumerate(r['ids']):
        d = x['delay_us']
        md.append(f'| {x["id"]} | {x["fps"]:.0f} | {x["mean_us"]:.0f} | '
                  f'{d["p50"]:.0f} | {d["p90"]:.0f} | {d["p99"]:.0f} | '
                  f'{d["max"]:.0f} |')
        data += f'{i} {x["id"]} {d["p50"]} {d["p90"]} {d["p99"]} {x["mean_us"]}\n'
    md.append('\n![queueing delay by identifier](bench-queueing.png)\n')
    gnuplot(TERM + """set output '%s'
set title 'Queueing delay by identifier, 8 senders, 90 %% load'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y
set yrange [10:*]
set ylabel 'delay (µs)'
set xlabel 'identifier (lower wins arbitration)'
set key top left
set grid y
plot 'queue.dat' using 3:xtic(2) title 'p50', '' using 4 title 'p90', \\
     '' using 5 title 'p99'
""" % os.path.join(DOCS, 'bench-queueing.png'), {'queue.dat': data})


TRANSPORTS = ['udp pycan', 'udp cannelloni', 'tcp', 'corosync']


def bridge_section(runs, md):
    md.append('## vcanbridge: two hosts\n')
    md.append('Two network namespaces joined by a veth pair, each with its '
              'own vcanbus bus (instant timing) of two nodes: one for '
              'vcanbridge, one for the application. Frames go from host A\'s '
              'application node to host B\'s, through A\'s bridge, the '
              'network and B\'s bridge. *frames/s*: at most 64 frames on '
              f'their way, {INFO["bridge_frames"]:,} frames; *latency*: '
              f'write on A to read on B, at {INFO["bridge_rate"]} frames/s '
              'for 10 s; *CPU*: user + system time of each bridge process '
              'per frame during the frames/s run. *corosync*: each host runs '
              'its own corosync (knet over the veth pair) and both bridges '
              'join one process group; a frame goes through corosync\'s '
              'agreed order, a token rotation of two nodes. Every run checks '
              'that each frame arrived once and in order.\n')
    md.append('| transport | frames/s | latency p50 / p90 / p99 (µs) | '
              'CPU µs/frame, A / B |')
    md.append('|---|---|---|---|')
    data = {}
    for t in TRANSPORTS:
        fps = [r['fps'] for r in pick(runs, bench='bridge', transport=t)]
        ls = pick(runs, bench='bridge-latency', transport=t)
        cpu = pick(runs, bench='bridge', transport=t)
        cpu_a = med([r['cpu_us_per_frame'][0] for r in cpu])
        cpu_b = med([r['cpu_us_per_frame'][1] for r in cpu])
        md.append(f'| {t} | {spread(fps)} | ' +
                  (f'{lat(ls, "latency_us", "p50"):.0f} / '
                   f'{lat(ls, "latency_us", "p90"):.0f} / '
                   f'{lat(ls, "latency_us", "p99"):.0f}' if ls else '–') +
                  ' | ' + (f'{cpu_a:.1f} / {cpu_b:.1f}' if cpu else '–') +
                  ' |')
        if ls:
            keys = [k for k in ls[0]['latency_us'] if k.startswith('p')]
            data[t] = ''.join(f'{lat(ls, "latency_us", k)} {k[1:]}\n'
                              for k in keys)
    md.append('\n![bridge latency distribution](bench-bridge-latency.png)\n')
    files = {f'lat{i}.dat': data.get(t, '') for i, t in enumerate(TRANSPORTS)}
    plots = ', '.join(f"'lat{i}.dat' using 1:2 with linespoints lw 2 "
                      f"title '{t}'" for i, t in enumerate(TRANSPORTS)
                      if data.get(t))
    gnuplot(TERM + """set output '%s'
set title 'vcanbridge: one-way latency, host A to host B, %d frames/s'
set logscale x
set xlabel 'latency (µs)'
set ylabel 'percentile'
set yrange [0:100]
set key bottom right
set grid
plot %s
""" % (os.path.join(DOCS, 'bench-bridge-latency.png'), INFO['bridge_rate'],
       plots), files)


def busload_section(runs, md):
    rs = pick(runs, bench='busload')
    if not rs:
        return
    r = rs[0]
    rx = r['rx']
    late = rx['lateness_us']
    fps = sum(x['fps'] for x in r['ids'])
    md.append('## Wire timing: a 64-node bus at 90 % load\n')
    md.append(f'{r["nodes"]} nodes on one {r["bitrate"] // 1000} kbit/s bus: '
              f'the eight senders of the last section (IDs 010 … 080, '
              f'Poisson arrivals) together offer {r["offered_fps"]:,.0f} '
              f'frames/s ({r["load"] * 100:.0f} % of the bus), the other '
              f'{r["nodes"] - len(r["ids"])} nodes receive every frame, and '
              'one of them is read by a socket: it must get every frame '
              '(the bus holds back for a full receive queue, as all of this '
              'page does). Lateness: a frame\'s read time minus its end on '
              'the bus (its receive timestamp).\n')
    md.append('| frames sent | received | frames/s | × offered | '
              'lateness min / p50 / p99 / max (µs) | bus clock skipped (ms) |')
    md.append('|---|---|---|---|---|---|')
    md.append(f'| {sum(x["frames"] for x in r["ids"]):,} | '
              f'{rx["frames"]:,} | {fps:,.0f} | '
              f'{fps / r["offered_fps"]:.3f} | {late["min"]:.0f} / '
              f'{late["p50"]:.0f} / {late["p99"]:.0f} / {late["max"]:.0f} | '
              f'{r["bus_slipped_ns"] / 1e6:,.0f} |\n')


def load_xl():
    """The XL part's runs and guest, from the run make bench made first on
    a kernel with CAN XL (VCB_BENCH_XL_OUT: its run.sh output folder, one
    sub-folder per kernel release); ([], None) without one."""
    base = os.environ.get('VCB_BENCH_XL_OUT')
    if not base or not os.path.isdir(base):
        return [], None
    for rel in sorted(os.listdir(base)):
        path = os.path.join(base, rel, 'bench.jsonl')
        if os.path.exists(path):
            with open(path) as f:
                runs = [json.loads(line) for line in f if line.strip()]
            with open(os.path.join(base, rel, 'bench-info.json')) as f:
                return pick(runs, bench='xl'), json.load(f)
    return [], None


def xl_section(runs, info, md):
    md.append('## Wire timing: a saturated CAN XL bus\n')
    if not runs:
        md.append('Not measured: no run on a kernel with CAN XL (make bench '
                  'runs this part first, on the newest kernel).\n')
        return
    r0 = runs[0]
    md.append(f'Measured in a guest of its own, kernel {info["kernel"]} '
              f'(can-dev has CAN XL from 6.19 on; the rest of this page runs '
              f'on {INFO["kernel"]}), {info["cpus"]} vCPUs. One sender keeps '
              f'the bus busy for 5 s with one CAN XL frame of '
              f'{r0["length"]} bytes (priority 123) at '
              f'{r0["bitrate"] // 1000} kbit/s nominal and '
              f'{r0["xbitrate"] // 1000000} Mbit/s XL data: '
              f'{r0["nominal_bits"]} nominal and {r0["data_bits"]} data-phase '
              'bits (selftests/lib/canbits.py), + 3 bits of intermission. '
              'Columns as in the saturated-bus table above.\n')
    md.append('| bus | mailboxes | frame bits | theory frames/s | achieved '
              '÷ theory | bus clock ÷ theory | lateness least / p50 / p99 / '
              'max (µs) | gap p50 / p99.9 / max, bus clock (µs) |')
    md.append('|---|---|---|---|---|---|---|---|')
    out = {}
    for boxes in sorted({r['mailboxes'] for r in runs}):
        rs = pick(runs, mailboxes=boxes)
        theory = rs[0]['theory_fps']
        got = [r['fps'] / theory for r in rs]
        bus = [r['bus_fps'] / theory for r in rs]
        out[boxes] = med(got)
        md.append(f'| {rs[0]["config"]}, {rs[0]["length"]} B | {boxes} | '
                  f'{rs[0]["frame_bits"]} | {theory:,.1f} | '
                  f'{spread(got, "{:.4f}")} | {spread(bus, "{:.4f}")} | '
                  f'{signed(rs, "lateness_us", "min")} / '
                  f'{lat(rs, "lateness_us", "p50"):.0f} / '
                  f'{lat(rs, "lateness_us", "p99"):.0f} / '
                  f'{lat(rs, "lateness_us", "max"):.0f} | '
                  f'{signed(rs, "bus_gap_us", "p50")} / '
                  f'{signed(rs, "bus_gap_us", "p99.9")} / '
                  f'{signed(rs, "bus_gap_us", "max")} |')
    if 4 in out:
        md.append(f'\n**CAN XL, 4 mailboxes (the default): {out[4]:.4f} of '
                  'the theoretical frame rate.** A 2048-byte frame lasts '
                  'about 1.9 ms at these rates: 4 mailboxes hold 7.5 ms of '
                  'bus time.\n')


def main():
    global INFO
    runs, INFO = load()
    if runs and not [r for r in runs if r.get('bench') != 'xl']:
        # make bench's first run: the XL part alone, for the main report.
        print('report: the CAN XL part; the main run reports it')
        return
    md = ['# Benchmarks\n',
          'Made by `make bench` (selftests/bench/): what vcanbus costs and '
          'how faithful it is, measured side by side in one boot of one '
          'guest. These machines are noisy: absolute figures move from run '
          'to run, ratios within one run hold. Each figure is the median of '
          'its runs, the lowest and highest in brackets. The contenders of '
          'each repetition run in a random order (seed in bench-info.json) '
          'and every interface has the same qdisc (pfifo, 1000 frames).\n',
          'Under TCG (no KVM) every guest instruction is translated and run '
          'by QEMU on the host: the CPU cost of a frame is many times a '
          'real machine\'s, so absolute frames/s are far lower and '
          'contenders that cost more per frame lose more; timers fire late '
          '(the guest\'s clock interrupt is itself emulated), which puts '
          'lateness tails in milliseconds; and the two vCPUs share the '
          'host with whatever else runs there. Ratios measured side by side '
          'in one boot carry over; absolute figures and tails do not.\n',
          f'* kernel {INFO["kernel"]}, {INFO["cpus"]} vCPUs, '
          f'{INFO["mem_kb"] // 1024} MiB, guest CPU "{INFO["cpu_model"]}" '
          '(QEMU; "QEMU TCG CPU" means software emulation, no KVM)',
          f'* {time.strftime("%Y-%m-%d", time.gmtime())}; {INFO["repeat"]} '
          'runs of each 1 → 1 instant-timing figure, 3 of the others '
          '(queueing: one run of 20 s, busload one of 10 s)\n']
    missing = [b for b in ('instant', 'scale', 'wire', 'queueing', 'busload',
                           'bridge')
               if not pick(runs, bench=b)]
    if missing:
        print(f'report.py: no valid run of: {", ".join(missing)}',
              file=sys.stderr)
        sys.exit(1)
    os.makedirs(DOCS, exist_ok=True)
    for section in (instant_section, scale_section, polls_section,
                    wire_section,
                    queueing_section, busload_section, bridge_section):
        section(runs, md)
    xl_section(*load_xl(), md)
    with open(os.path.join(DOCS, 'bench.md'), 'w') as f:
        f.write('\n'.join(md) + '\n')
    print(f'report: {os.path.join(DOCS, "bench.md")}')


if __name__ == '__main__':
    main()
