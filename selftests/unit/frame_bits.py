#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""driver/frame.c against the independent reference (lib/canbits.py).

Runs the host build of frame.c (frame_bits, argv[1]) over every kind of
frame: Classical base and extended, data and remote, DLC 0..15 (9..15
with cc-len8-dlc), CAN FD base and extended at every length, BRS and ESI
on and off, ISO and non-ISO; contents all-zero, all-one, alternating, and
seeded random ones, so that stuffing and the CRC-15 vary. Nominal bits,
data-phase bits, stuff bits and the FDF bit's position must equal the
reference's exactly; and for every bit of one frame in PROBE_EVERY,
vcanbus_frame_probe()'s field and level (the sender's: recessive in the
ACK slot; none in a CAN FD CRC field, whose value the driver does not
compute). CAN XL frames: every priority at a few lengths and every
length 1..2048 at a few priorities, against the reference's XL frame
(canbits.xl_frame_bits()), whose counts its self-test checks by hand.
TAP.
"""

import os
import random
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
import canbits  # noqa: E402

EFF, RTR = 0x80000000, 0x40000000
BRS, ESI = 0x01, 0x02
FD_LENS = canbits.FD_DLC_TO_LEN
PROBE_EVERY = 10


def frames(rng):
    """(can_id with flags, fd, iso, flags, len, len8_dlc, data)."""
    ids = [(0, False), (0x7ff, False), (0x555, False), (0x123, False),
           (0, True), (0x1fffffff, True), (0x15555555, True),
           (0x12345678, True)]
    patterns = [lambda n: bytes(n), lambda n: b'\xff' * n,
                lambda n: b'\x55' * n, lambda n: b'\x0f' * n]
    for can_id, eff in ids:
        base = can_id | (EFF if eff else 0)
        for dlc in range(16):
            n = min(dlc, 8)
            for p in patterns:
                yield base, 0, 1, 0, n, dlc if dlc > 8 else 0, p(n)
            yield base | RTR, 0, 1, 0, n, dlc if dlc > 8 else 0, b''
        for n in FD_LENS:
            for p in patterns:
                for flags in range(4):
                    for iso in (1, 0):
                        yield base, 1, iso, flags, n, 0, p(n)
    for _ in range(20000):
        eff = rng.random() < 0.5
        can_id = rng.randrange(1 << 29 if eff else 1 << 11)
        base = can_id | (EFF if eff else 0)
        if rng.random() < 0.5:
            dlc = rng.randrange(16)
            n = min(dlc, 8)
            rtr = rng.random() < 0.2
            data = b'' if rtr else bytes(rng.randrange(256) for _ in range(n))
            yield (base | (RTR if rtr else 0), 0, 1, 0, n,
                   dlc if dlc > 8 else 0, data)
        else:
            n = rng.choice(FD_LENS)
            yield (base, 1, rng.randrange(2), rng.randrange(4), n, 0,
                   bytes(rng.randrange(256) for _ in range(n)))


def reference(can_id, fd, iso, flags, n, len8, data):
    eff = bool(can_id & EFF)
    rtr = bool(can_id & RTR)
    bare = can_id & (0x1fffffff if eff else 0x7ff)
    dlc = canbits.fd_len_to_dlc(n) if fd else (len8 or n)
    return canbits.frame_bits(bare, eff, rtr, bool(fd), bool(flags & BRS),
                              bool(flags & ESI), dlc,
                              b'' if rtr else data, iso=bool(iso))


def counts(r):
    return '%d %d %d %d' % (r['nominal'], r['data_phase'], r['stuff'],
                            r['fdf'] or 0)


def probes(r):
    """What vcanbus_frame_probe() must give for every bit of frame r."""
    out = ''
    for i, (bit, kind, loc) in enumerate(zip(r['bits'], r['kinds'],
                                             r['locs'])):
        if kind in ('fixed', 'sc', 'crc') and r['fdf'] is not None:
            level = '?'
        elif r['locs'][i] == canbits.LOC['ACK']:
            level = '1'         # the sender's, not the acknowledgement
        else:
            level = str(bit)
        out += '%02x%s' % (loc, level)
    return out


def main():
    harness = sys.argv[1]
    rng = random.Random(1)
    cases = list(frames(rng))
    lines = ''.join('%x %d %d %x %d %d %s\n' % (c[0], c[1], c[2], c[3], c[4],
                                               c[5], c[6].hex() or '-')
                    for c in cases)
    out = subprocess.run([harness], input=lines, capture_output=True,
                         text=True, check=True).stdout.split('\n')
    print('TAP version 13\n1..5')
    kinds = {'cc': [0, 0], 'fd': [0, 0]}
    first_bad = None
    refs = [reference(*case) for case in cases]
    for case, r, got in zip(cases, refs, out):
        want = counts(r)
        k = kinds['fd' if case[1] else 'cc']
        k[0] += 1
        if got != want:
            k[1] += 1
            first_bad = first_bad or (case, got, want)
    print(f'# {len(cases)} frames: {kinds["cc"][0]} Classical, '
          f'{kinds["fd"][0]} FD')
    for n, kind in ((1, 'cc'), (2, 'fd')):
        total, bad = kinds[kind]
        what = 'Classical CAN' if kind == 'cc' else 'CAN FD (ISO and non-ISO)'
        print(f'{"not ok" if bad or not total else "ok"} {n} frame_bits: '
              f'{what} bit counts equal the reference ({total} frames)')
        if bad:
            print(f'# {bad} differ; first: {first_bad}')
    # canbusload -e counts SOF..EOF plus the intermission; it agrees with
    # the reference on Classical data frames (canbits.py --selftest).
    cc = [(c, g) for c, g in zip(cases, out) if not c[1] and
          not c[0] & RTR and not c[5]]
    bad = [(c, g) for c, g in cc
           if int(g.split()[0]) + canbits.INTERMISSION_BITS !=
           canbits.canframelen_exact(c[0] & 0x1fffffff, bool(c[0] & EFF),
                                     False, c[4], c[6])]
    print(f'{"not ok" if bad or not cc else "ok"} 3 frame_bits: Classical '
          f'data frames + intermission equal canbusload -e ({len(cc)} frames)')
    if bad:
        print(f'# first: {bad[0]}')
    sample = list(range(0, len(cases), PROBE_EVERY))
    probed = subprocess.run([harness, '--probe'],
                            input=''.join(lines.splitlines(True)[i]
                                          for i in sample),
                            capture_output=True, text=True,
                            check=True).stdout.split('\n')[1::2]
    wrong = [(cases[i], got, probes(refs[i])) for i, got in zip(sample, probed)
             if got != probes(refs[i])]
    print(f'{"not ok" if wrong or not sample else "ok"} 4 frame_probe: every '
          f'bit\'s field and level equal the reference ({len(sample)} frames)')
    if wrong:
        print(f'# {len(wrong)} differ; first (frame, got, want): {wrong[0]}')
    xl_bad = xl(harness)
    xl_wrong = xl_probes(harness)
    sys.exit(1 if first_bad or bad or wrong or xl_bad or xl_wrong else 0)


def xl_cases():
    """(prio, len): every priority at four lengths, every length at
    three priorities (no, one and three dynamic stuff bits)."""
    for prio in range(0x800):
        for n in (1, 8, 64, 2048):
            yield prio, n
    for prio in (0x123, 0x0F0, 0x078):
        for n in range(1, canbits.XL_MAX_DLEN + 1):
            yield prio, n


def xl(harness):
    cases = list(xl_cases())
    out = subprocess.run([harness], input=''.join(
        'xl %x %d\n' % c for c in cases), capture_output=True, text=True,
        check=True).stdout.split('\n')
    # The reference builds every bit; its length does not depend on the
    # content (its self-test), so one frame of zeros per case.
    want = {}
    bad = []
    for (prio, n), got in zip(cases, out):
        if (prio, n) not in want:
            r = canbits.xl_frame_bits(prio, bytes(n))
            want[prio, n] = '%d %d %d %d' % (r['nominal'], r['data_phase'],
                                             r['stuff'], r['fdf'])
        if got != want[prio, n]:
            bad.append(((prio, n), got, want[prio, n]))
    print(f'{"not ok" if bad else "ok"} 5 frame_bits: CAN XL bit counts equal '
          f'the reference ({len(cases)} frames)')
    if bad:
        print(f'# {len(bad)} differ; first (frame, got, want): {bad[0]}')
    return bad



def xl_probe_want(r):
    """What vcanbus_frame_probe_xl() must give for every bit of XL frame
    r: the field everywhere; the level where it does not depend on the
    content (not in the fixed-stuffed part), the sender's in the ACK
    slot."""
    out = ''
    for bit, kind, loc, phase in zip(r['bits'], r['kinds'], r['locs'],
                                     r['phases']):
        if kind in ('field', 'fixed') and phase == canbits.DATA:
            level = '?'
        elif loc == canbits.LOC['ACK']:
            level = '1'
        else:
            level = str(bit)
        out += '%02x%s' % (loc, level)
    return out


def xl_probes(harness):
    """Every bit's field and level of XL frames: every 7th priority at
    three lengths, and long and odd lengths at three priorities."""
    cases = [(prio, n) for prio in range(0, 0x800, 7) for n in (1, 8, 64)]
    cases += [(prio, n) for prio in (0x123, 0x0F0, 0x078)
              for n in (2, 11, 100, 2048)]
    out = subprocess.run([harness, '--probe'], input=''.join(
        'xl %x %d\n' % c for c in cases), capture_output=True, text=True,
        check=True).stdout.split('\n')[1::2]
    wrong = []
    for (prio, n), got in zip(cases, out):
        want = xl_probe_want(canbits.xl_frame_bits(prio, bytes(n)))
        if got != want:
            at = next(i for i in range(0, max(len(got), len(want)), 3)
                      if got[i:i + 3] != want[i:i + 3]) // 3
            wrong.append(((prio, n), at, got[3 * at:3 * at + 3],
                          want[3 * at:3 * at + 3]))
    print(f'{"not ok" if wrong or len(out) < len(cases) else "ok"} 6 '
          f'frame_probe: every CAN XL bit\'s field and level equal the '
          f'reference ({len(cases)} frames)')
    if wrong:
        print(f'# {len(wrong)} differ; first (frame, bit, got, want): '
              f'{wrong[0]}')
    return wrong or len(out) < len(cases)


if __name__ == '__main__':
    main()
