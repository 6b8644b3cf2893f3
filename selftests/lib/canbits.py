#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Bit-exact reference of CAN frame lengths on the wire (ISO 11898-1:2015).

The C timing code of the driver ("wire" timing in docs/design.md) is tested
against this file, so it is written to be obviously right rather than fast:
it builds the real bit sequence a transmitter puts on the bus, bit by bit,
and counts.  No formula is used for any length; formulas only appear in the
self-test, as independent checks.

    frame_bits(can_id, eff, rtr, fd, brs, esi, dlc, data, iso=True) -> dict
    duration_ns(result, bitrate, dbitrate) -> fractions.Fraction

Conventions (the C code must use the same ones):

* ``total`` counts SOF through the last EOF bit.  The 3-bit intermission is
  NOT included (``INTERMISSION_BITS`` is exported; the next SOF may come no
  earlier than 3 nominal bit times after the last EOF bit).  can-utils'
  ``canbusload -e`` reports total + 3 (see ``canframelen_exact``).
* ``bits`` is what a receiver sees on the wire, SOF..EOF, 0 = dominant.  The
  ACK slot is 0 (acknowledged by some node); the transmitter itself sends 1
  there.  This changes no count.
* Classical CAN (CC): SOF, ID[10:0], RTR, IDE=0, r0 (FDF)=0, DLC[3:0], data
  (SFF); SOF, ID[28:18], SRR=1, IDE=1, ID[17:0], RTR, r1 (FDF)=0, r0=0, DLC
  (EFF).  Remote frames carry no data field whatever the DLC; a DLC of 9..15
  is sent as is and means 8 data bytes.  CRC-15 (0x4599, preset 0) over the
  unstuffed bits SOF..end of data.  Dynamic stuffing (a complement after five
  equal bits; the stuff bit starts the next run) from SOF through the last
  CRC bit, so five equal bits at the end of the CRC sequence get a stuff bit
  before the CRC delimiter.  Then CRC delimiter, ACK slot, ACK delimiter, EOF.
* CAN FD: SOF, ID[10:0], RRS=0, IDE=0, FDF=1, res=0, BRS, ESI, DLC (SFF);
  SOF, ID[28:18], SRR=1, IDE=1, ID[17:0], RRS=0, FDF=1, res=0, BRS, ESI, DLC
  (EFF); data of 0..64 bytes per the FD DLC table.  Dynamic stuffing from SOF
  through the last data bit (last DLC bit if no data).  A stuff condition
  reached by that last bit produces NO dynamic stuff bit: the fixed stuff bit
  that opens the CRC field takes its place and is not counted as dynamic
  (CTU CAN FD bit_stuffing.vhd: "fixed bit-stuff should win"; Pierre
  Molinaro's CANFDFrameGenerator.h, checked against a FlexCAN receiver).
  ISO: CRC field = stuff count (Gray code of the dynamic stuff bit count mod 8,
  3 bits, then an even-parity bit) + CRC sequence; a fixed stuff bit (the
  complement of the previous bit) before the stuff count and after every 4th
  bit of the field, none after the last CRC bit: 6 fixed stuff bits with
  CRC-17, 7 with CRC-21 (kernel include/linux/can/length.h).  CRC-17
  (0x3685B) for up to 16 data bytes, CRC-21 (0x302899) above, registers
  preset to 1 followed by zeros (0x10000 / 0x100000), computed over SOF..data
  INCLUDING the dynamic stuff bits, then the 4 stuff count bits; the fixed
  stuff bits are not covered.  Non-ISO (Bosch CAN FD 1.0, ``iso=False``): no
  stuff count, preset 0, same coverage otherwise; fixed stuff bits before the
  CRC sequence and after every 4th CRC bit (5 with CRC-17, 6 with CRC-21).
  Sources for the preset: CTU CAN FD CRC.vhd (bit 16/20 set when ISO,
  all-zero when non-ISO) and CANFDFrameGenerator.h (1 << 16, 1 << 20).
* Bit rate switch: the data phase really lasts from the sample point of BRS
  to the sample point of the CRC delimiter.  The counts are of whole bits:
  BRS and the CRC delimiter (and everything before BRS or after the CRC
  delimiter) are nominal; ESI through the last CRC bit, including stuff
  count and all stuff bits, are data phase.  Then nominal + data_phase ==
  total.  Without BRS (and for CC) all bits are nominal.  ``phases`` gives
  the class of every bit ('N' or 'D').  duration_ns() turns the counts into
  the exact time: BRS and the CRC delimiter together last one nominal and
  one data bit.

Sources read (public code, ISO 11898-1 itself was not at hand):
  linux-can/can-utils canframelen.c, canbusload.c (cfl_exact, "-e");
  torvalds/linux include/linux/can/length.h (field sizes, fixed stuff bits);
  Blebowski/CTU-CAN-FD src/CAN_Core/CRC.vhd,
    src/can_core/bit_stuffing/bit_stuffing.vhd (ISO/non-ISO preset, stuff
    count, fixed vs. dynamic stuff bit at the start of the CRC field);
  pierremolinaro/codes-can codes-de-calcul-canfd/CANFDFrameGenerator.h and
    test-generateur-iso-teensy-4-0.ino (a bit-level ISO/non-ISO FD frame
    generator fed into a hardware FlexCAN receiver);
  Nik89/CanOverhead TestCanOverhead.js (CRC-15 and stuffed bits of 3 SFF
    frames); RevEng CRC catalogue check values (CRC-15/CAN, CRC-17/CAN-FD,
    CRC-21/CAN-FD).

Run ``python3 selftests/lib/canbits.py`` for a table of values,
``python3 selftests/lib/canbits.py --selftest`` for the checks.  Python 3.11,
standard library only.
"""

import random
import sys
from fractions import Fraction

CAN_SFF_MASK = 0x7FF
CAN_EFF_MASK = 0x1FFFFFFF
INTERMISSION_BITS = 3

# Generator polynomials written with their top (x^width) term; crc() drops it.
CRC15_POLY = 0xC599  # x^15+x^14+x^10+x^8+x^7+x^4+x^3+1 ("0x4599" without x^15)
CRC17_POLY = 0x3685B  # x^17+x^16+x^14+x^13+x^11+x^6+x^4+x^3+x^1+1
CRC21_POLY = 0x302899  # x^21+x^20+x^13+x^11+x^7+x^4+x^3+1

FD_DLC_TO_LEN = (0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64)

# Stuff count field, index = dynamic stuff bits mod 8: 3-bit Gray code then an
# even parity bit (ISO 11898-1:2015 stuff count table).
STUFF_COUNT_CODE = (0b0000, 0b0011, 0b0110, 0b0101,
                    0b1100, 0b1111, 0b1010, 0b1001)

NOMINAL, DATA = "N", "D"

# Where a bit is: the location codes of SocketCAN's error frames
# (include/uapi/linux/can/error.h, data[3]).
LOC = dict(UNSPEC=0x00, SOF=0x03, ID28_21=0x02, ID20_18=0x06, SRTR=0x04,
           IDE=0x05, ID17_13=0x07, ID12_05=0x0F, ID04_00=0x0E, RTR=0x0C,
           RES1=0x0D, RES0=0x09, DLC=0x0B, DATA=0x0A, CRC_SEQ=0x08,
           CRC_DEL=0x18, ACK=0x19, ACK_DEL=0x1B, EOF=0x1A)


def crc(bits, poly, width, init=0):
    """Bit-serial CRC as the CAN controller shift register computes it.

    ``poly`` may include the x^width term.  Bits are fed MSB first; no
    reflection, no final XOR.
    """
    mask = (1 << width) - 1
    reg = init & mask
    for bit in bits:
        feedback = bit ^ (reg >> (width - 1))
        reg = (reg << 1) & mask
        if feedback:
            reg ^= poly & mask
    return reg


def to_bits(value, width):
    """``value`` as a list of ``width`` bits, MSB first."""
    return [(value >> i) & 1 for i in range(width - 1, -1, -1)]


def bytes_to_bits(data):
    return [b for byte in data for b in to_bits(byte, 8)]


class _Wire:
    """The bit sequence under construction, with the stuffing state.

    Every bit carries a kind, so that which bits a CRC covers and what is
    counted as a stuff bit is decided by one explicit rule each, not by
    the order of statements.  Kinds: 'field' (a frame bit in the
    dynamically stuffed part), 'stuff' (dynamic stuff bit), 'fixed' (FD
    fixed stuff bit), 'sc' (FD stuff count), 'crc', 'tail' (CRC delimiter
    onwards).
    """

    def __init__(self):
        self.bits, self.kinds, self.phases, self.locs = [], [], [], []
        self.phase = NOMINAL
        # The field being sent (LOC); a stuff bit gets the location of the
        # bit it is sent before, the CC stuff bit after the CRC CRC_SEQ.
        self.loc = LOC["UNSPEC"]
        # The idle bus is recessive; SOF (dominant) starts the first run.
        self.last, self.run = 1, 0
        self.stuff = 0
        self.fixed = 0

    def _emit(self, bit, kind):
        self.bits.append(bit)
        self.kinds.append(kind)
        self.phases.append(self.phase)
        self.locs.append(self.loc)

    def _insert_stuff_bit(self):
        stuff = 1 - self.last
        self._emit(stuff, "stuff")
        self.stuff += 1
        # The stuff bit is the first bit of the next run of equal bits.
        self.last, self.run = stuff, 1

    def dynamic(self, bit, kind="field", loc=None):
        """A bit in the dynamically stuffed part.

        A stuff bit due after five equal bits is inserted only when the next
        bit comes, so the FD fixed stuff bit can supersede it (see end_*).
        """
        if loc is not None:
            self.loc = loc
        if self.run == 5:
            self._insert_stuff_bit()
        self._emit(bit, kind)
        if bit == self.last:
            self.run += 1
        else:
            self.last, self.run = bit, 1

    def end_dynamic_cc(self):
        # CC stuffs through the CRC sequence: five equal bits at its end
        # still get their stuff bit, before the CRC delimiter.
        if self.run == 5:
            self._insert_stuff_bit()
        self.run = 0

    def end_dynamic_fd(self):
        # FD: a stuff condition at the last data bit is dropped; the fixed
        # stuff bit that follows is the complement anyway.
        self.run = 0

    def fixed_stuff(self):
        self._emit(1 - self.bits[-1], "fixed")
        self.fixed += 1

    def plain(self, bit, kind):
        self._emit(bit, kind)

    def counts(self):
        """What every frame's result has: its bits and their counts."""
        data_phase = self.phases.count(DATA)
        return {
            "total": len(self.bits),
            "stuff": self.stuff,
            "fixed_stuff": self.fixed,
            "nominal": len(self.bits) - data_phase,
            "data_phase": data_phase,
            "bits": self.bits,
            "phases": "".join(self.phases),
            "intermission": INTERMISSION_BITS,
        }


def _check_id(can_id, eff):
    limit = CAN_EFF_MASK if eff else CAN_SFF_MASK
    if not 0 <= can_id <= limit:
        raise ValueError("CAN ID 0x%x out of range for %s" %
                         (can_id, "EFF" if eff else "SFF"))


def _cc_wire(can_id, eff, rtr_bit, dlc_field, data):
    """Classical frame from explicit field values.

    Kept separate from frame_bits() so that the self-test can also build
    the (non-ISO) pattern canbusload assumes for remote frames with data.
    """
    fields = _head(can_id, eff, rtr_bit)
    if eff:
        fields += _at("RES1", [0])
    fields += _at("RES0", [0]) + _at("DLC", to_bits(dlc_field, 4))
    fields += _at("DATA", bytes_to_bits(data))

    crc15 = crc([b for b, _ in fields], CRC15_POLY, 15)  # unstuffed bits
    wire = _Wire()
    for bit, loc in fields:
        wire.dynamic(bit, loc=loc)
    for bit in to_bits(crc15, 15):
        wire.dynamic(bit, "crc", LOC["CRC_SEQ"])
    wire.end_dynamic_cc()
    return wire, crc15, 15, None


def _at(loc, bits):
    """(bit, location) pairs of a field."""
    return [(b, LOC[loc]) for b in bits]


def _head(can_id, eff, rtr_bit):
    """SOF and the arbitration field up to RTR/RRS (base format: and IDE)."""
    base = can_id >> 18 if eff else can_id
    head = _at("SOF", [0]) + _at("ID28_21", to_bits(base >> 3, 8))
    head += _at("ID20_18", to_bits(base & 7, 3))
    if eff:
        head += _at("SRTR", [1]) + _at("IDE", [1])
        head += _at("ID17_13", to_bits((can_id >> 13) & 0x1F, 5))
        head += _at("ID12_05", to_bits((can_id >> 5) & 0xFF, 8))
        head += _at("ID04_00", to_bits(can_id & 0x1F, 5))
        head += _at("RTR", [rtr_bit])
    else:
        head += _at("RTR", [rtr_bit]) + _at("IDE", [0])
    return head


def _fd_wire(can_id, eff, brs, esi, dlc, data, iso):
    wire = _Wire()
    # FDF takes the place of r1 (extended format) or r0 (base format),
    # res that of r0; BRS and ESI have no location code of their own.
    head = _head(can_id, eff, 0) + _at("RES1" if eff else "RES0", [1])
    head += _at("RES0", [0]) + _at("UNSPEC", [int(brs)])
    fdf = None
    for i, (bit, loc) in enumerate(head):
        if i == len(head) - 3:
            fdf = len(wire.bits) + (wire.run == 5)
        wire.dynamic(bit, loc=loc)
    if brs:
        # From here on (ESI) the bits are sent at the data bit rate.
        wire.phase = DATA
    for bit, loc in (_at("UNSPEC", [int(esi)]) + _at("DLC", to_bits(dlc, 4)) +
                     _at("DATA", bytes_to_bits(data))):
        wire.dynamic(bit, loc=loc)
    wire.end_dynamic_fd()
    wire.loc = LOC["CRC_SEQ"]
    wire.fdf = fdf

    width, poly = (17, CRC17_POLY) if len(data) <= 16 else (21, CRC21_POLY)
    stuff_count = None
    if iso:
        stuff_count = STUFF_COUNT_CODE[wire.stuff % 8]
        wire.fixed_stuff()
        for bit in to_bits(stuff_count, 4):
            wire.plain(bit, "sc")
        covered = ("field", "stuff", "sc")
        init = 1 << (width - 1)
    else:
        covered = ("field", "stuff")
        init = 0
    crc_value = crc([b for b, k in zip(wire.bits, wire.kinds) if k in covered],
                    poly, width, init)
    # ISO: this is the fixed stuff bit after the 4 stuff count bits;
    # non-ISO: the one that opens the CRC field.
    wire.fixed_stuff()
    for i, bit in enumerate(to_bits(crc_value, width), start=1):
        wire.plain(bit, "crc")
        if i % 4 == 0 and i < width:
            wire.fixed_stuff()
    wire.phase = NOMINAL  # the CRC delimiter switches back (convention)
    return wire, crc_value, width, stuff_count


def frame_bits(can_id: int, eff: bool, rtr: bool, fd: bool, brs: bool,
               esi: bool, dlc: int, data: bytes, iso: bool = True) -> dict:
    """Build the frame on the wire and count its bits.

    ``can_id`` is the bare identifier (no SocketCAN flags).  ``dlc`` is the
    4-bit DLC field; ``data`` must hold exactly the bytes that DLC carries
    (CC: min(dlc, 8); FD: the FD table) and is ignored for remote frames.
    ``iso`` only matters for FD.

    Returns a dict: total (SOF..EOF, no intermission), stuff (dynamic stuff
    bits), fixed_stuff (FD fixed stuff bits), nominal, data_phase (bits at
    each rate, summing to total), crc (value), bits (0/1 list on the wire,
    SOF..EOF), and also phases ('N'/'D' per bit), crc_width, stuff_count
    (the 4-bit ISO FD field or None), intermission (3), locs (the field of
    every bit, as the LOC codes of SocketCAN error frames) and fdf (the
    FDF bit's position in a CAN FD frame, else None).
    """
    _check_id(can_id, eff)
    if not 0 <= dlc <= 15:
        raise ValueError("DLC %d out of range 0..15" % dlc)
    data = bytes(data)
    if fd:
        if rtr:
            raise ValueError("CAN FD has no remote frames")
        need = FD_DLC_TO_LEN[dlc]
    else:
        if brs or esi:
            raise ValueError("BRS/ESI exist only in CAN FD frames")
        need = 0 if rtr else min(dlc, 8)
        if rtr:
            data = b""
    if len(data) != need:
        raise ValueError("DLC %d needs %d data bytes, got %d" %
                         (dlc, need, len(data)))

    # CRC delimiter, ACK slot, ACK delimiter, EOF
    tail = (_at("CRC_DEL", [1]) + _at("ACK", [0]) + _at("ACK_DEL", [1]) +
            _at("EOF", [1] * 7))
    if fd:
        wire, crc_value, width, stuff_count = _fd_wire(can_id, eff, brs, esi,
                                                       dlc, data, iso)
    else:
        wire, crc_value, width, stuff_count = _cc_wire(can_id, eff, int(rtr),
                                                       dlc, data)
    for bit, loc in tail:
        wire.loc = loc
        wire.plain(bit, "tail")

    return {
        **wire.counts(),
        "crc": crc_value,
        "crc_width": width,
        "stuff_count": stuff_count,
        "kinds": wire.kinds,
        "locs": wire.locs,
        "fdf": getattr(wire, "fdf", None),
    }


# --------------------------------------------------------------------------
# CAN XL (ISO 11898-1:2024)
# --------------------------------------------------------------------------
#
# The standard was not at hand either. The frame below is the one two
# independent bit-level decoders build and check, which agree on every
# field, every length and every stuffing rule:
#   sigrok libsigrokdecode, decoders/can/pd.py with CAN XL (pull request
#     133, Stephan Thiele): "Within the CAN-XL Control field (starting from
#     DL1 bit), data field and FCRC sequence, a fixed stuff bit is inserted
#     after every 10th bit"; the rate switches "After ADH bit" and "After
#     last FCP bit";
#   xdvorakv/Salelale_CAN-XL_Protocol_Analyzer, src/CAN_XLAnalyzer.cpp:
#     fixed stuffing from DL1 (every 11th bit the complement of the one
#     before) to the last FCRC bit; dynamic stuffing ends after XLF;
# and the kernel's uapi <linux/can.h>: "CAN XL DLC ranges from 0 .. 2047 =>
# data length from 1 .. 2048 byte".
# The values of PCRC, SBC and FCRC (their polynomials and codes) do not
# change a length, so they are sent as zeros here; every other field
# carries its value.

XL_MAX_DLEN = 2048
XL_FIXED_STUFF_RUN = 10


def xl_frame_bits(prio: int, data: bytes, sdt: int = 0, sec: int = 0,
                  vcid: int = 0, af: int = 0) -> dict:
    """Build a CAN XL data frame on the wire and count its bits.

    Returns a dict as frame_bits() does (total, nominal, data_phase, stuff
    (dynamic), fixed_stuff, bits, phases, fdf, intermission). The data
    phase is DH1 to the last FCP bit: whole bits, as the rate switches at
    the end of ADH and of FCP.
    """
    _check_id(prio, False)
    n = len(data)
    if not 1 <= n <= XL_MAX_DLEN:
        raise ValueError("CAN XL data of %d bytes: 1..%d" % (n, XL_MAX_DLEN))
    wire = _Wire()
    for bit, loc in _head(prio, False, 0):  # SOF, priority, RRS=0, IDE=0
        wire.dynamic(bit, loc=loc)
    fdf = len(wire.bits) + (wire.run == 5)  # after a pending stuff bit
    # FDF and XLF where an FD frame has FDF (r0 in base format) and res.
    wire.dynamic(1, loc=LOC["RES0"])        # FDF
    wire.dynamic(1, loc=LOC["RES0"])        # XLF: dynamic stuffing ends
    wire.run = 0
    wire.loc = LOC["RES0"]
    wire.plain(0, "tail")                   # resXL
    wire.loc = LOC["UNSPEC"]
    wire.plain(1, "tail")                   # ADH: the rate switches at its end
    wire.phase = DATA
    wire.plain(1, "ads")                    # DH1
    wire.plain(1, "ads")                    # DH2
    # The fixed-stuffed part, field by field with its error location: no
    # code names SDT, SEC, VCID, AF; SBC and PCRC count as CRC, as FD's
    # stuff count does.
    fields = [([0], "UNSPEC"),                          # DL1
              (to_bits(sdt, 8) + [sec], "UNSPEC"),      # SDT, SEC
              (to_bits(n - 1, 11), "DLC"),
              ([0] * 3 + [0] * 13, "CRC_SEQ"),          # SBC, PCRC
              (to_bits(vcid, 8) + to_bits(af, 32), "UNSPEC"),
              (bytes_to_bits(data), "DATA"),
              ([0] * 32, "CRC_SEQ")]                    # FCRC
    run = 0
    for bits, loc in fields:
        for bit in bits:
            # A fixed stuff bit is in the field of the bit before it.
            if run == XL_FIXED_STUFF_RUN:
                wire.fixed_stuff()
                run = 0
            wire.loc = LOC[loc]
            wire.plain(bit, "field")
            run += 1
    wire.loc = LOC["CRC_DEL"]               # FCP .. AH2: where CC has it
    for bit in (1, 1, 0, 0):                # FCP: the rate switches at its end
        wire.plain(bit, "fcp")
    wire.phase = NOMINAL
    for bit in (1, 1, 0, 1):                # DAH, AH1, AL1, AH2
        wire.plain(bit, "tail")
    for loc, bit in (("ACK", 0), ("ACK_DEL", 1)) + (("EOF", 1),) * 7:
        wire.loc = LOC[loc]
        wire.plain(bit, "tail")
    return {**wire.counts(), "fdf": fdf, "kinds": wire.kinds,
            "locs": wire.locs}


def xl_duration_ns(xl_result, bitrate, xl_bitrate):
    """Wire time of a CAN XL frame SOF..EOF in ns (no intermission)."""
    return (Fraction(xl_result["nominal"] * 10**9, bitrate) +
            Fraction(xl_result["data_phase"] * 10**9, xl_bitrate))


def duration_ns(frame_bits_result, bitrate, dbitrate):
    """Wire time of SOF..EOF in ns, as an exact Fraction.

    Without a data phase every bit is a nominal one (at ``bitrate``).  With
    one (``dbitrate``), the rate switches at the sample point of BRS and back
    at the sample point of the CRC delimiter: BRS is nominal up to its sample
    point and data-phase after it, the CRC delimiter the other way round, so
    together they last one nominal and one data bit, whatever the sample
    points.  Of the whole frame, ``nominal`` - 1 bits take a nominal bit
    time and ``data_phase`` + 1 a data bit time.  No intermission.
    """
    nominal = frame_bits_result["nominal"]
    data_phase = frame_bits_result["data_phase"]
    if not data_phase:
        return Fraction(nominal * 10**9, bitrate)
    if not dbitrate:
        raise ValueError("frame has a data phase but no data bit rate")
    return (Fraction((nominal - 1) * 10**9, bitrate) +
            Fraction((data_phase + 1) * 10**9, dbitrate))


def fd_len_to_dlc(length):
    """Smallest FD DLC whose payload holds ``length`` bytes."""
    for dlc, n in enumerate(FD_DLC_TO_LEN):
        if n >= length:
            return dlc
    raise ValueError("FD payload longer than 64 bytes")


# --------------------------------------------------------------------------
# can-utils canframelen.c, cfl_exact(): what "canbusload -e" counts
# --------------------------------------------------------------------------
#
# A line-by-line port of linux-can/can-utils canframelen.c (Michal Sojka,
# 2013/2014; unchanged in can-utils 2020.11.0, the Debian package installed
# here), kept in its own odd shape (a 16-byte bitmap, a table-driven CRC, a
# 5-bit window stuff counter) on purpose: it is a second, independent
# implementation to test the one above against.  Its definition:
#   * SOF..EOF plus the 3-bit intermission ("IFS");
#   * CRC-15 preset 0 over unstuffed SOF..data;
#   * stuffing over SOF..last CRC bit, including a stuff bit after the CRC
#     sequence when it ends in five equal bits ("if (i <= end) stuffed++");
#   * classical frames only: can_frame_length() returns 0 unless the MTU is
#     CAN_MTU (canbusload 2020.11 never even enables CAN FD frames);
#   * the DLC field is frame->len (0..8): len8_dlc (raw DLC 9..15) is lost;
#   * remote frames: len data bytes are copied into the bitmap and counted,
#     i.e. a remote frame with len > 0 is counted as if it had a data field
#     (and the CRC/stuffing are those of that pattern).  ISO 11898-1 remote
#     frames have no data field: this is where canbusload -e is not ISO.

def _cfl_crc_table():
    table = []
    for i in range(256):
        reg = i << 7
        for _ in range(8):
            reg = ((reg << 1) ^ 0x4599) if reg & 0x4000 else reg << 1
        table.append(reg & 0x7FFF)
    return table


_CFL_TABLE = _cfl_crc_table()
_CFL_CLZ = (5, 4, 3, 3, 2, 2, 2, 2) + (1,) * 8 + (0,) * 16


def _cfl_crc_bytewise(reg, data):
    for byte in data:
        reg = (_CFL_TABLE[((reg >> 7) ^ byte) & 0xFF] ^ (reg << 8)) & 0x7FFF
    return reg


def _cfl_crc_bitwise(reg, data, nbits):
    mask = 0x80
    for _ in range(nbits):
        bit = bool(reg & 0x4000)
        if data & mask:
            bit = not bit
        reg = (reg << 1) & 0xFFFF  # crc_t is uint16_t
        if bit:
            reg ^= 0x4599
        mask >>= 1
    return reg & 0x7FFF


def canframelen_exact(can_id, eff, rtr, length, data):
    """can-utils cfl_exact() for a struct can_frame: canbusload -e's bits.

    ``length`` is can_frame.len (0..8); ``data`` the 8-byte payload buffer
    (for remote frames too: canbusload counts its first ``length`` bytes).
    """
    data = bytes(data).ljust(8, b"\0")
    bitmap = bytearray(18)  # 16 in C; 2 spare bytes stand for its tail reads
    rtr = 1 if rtr else 0
    if eff:
        bitmap[0] = (can_id & CAN_EFF_MASK) >> 23
        bitmap[1] = ((((can_id >> 18) & 0x3F) << 3) | 3 << 1 |
                     ((can_id >> 17) & 1)) & 0xFF
        bitmap[2] = (can_id >> 9) & 0xFF
        bitmap[3] = (can_id >> 1) & 0xFF
        bitmap[4] = ((can_id & 1) << 7 | rtr << 6 | (length & 0xF)) & 0xFF
        bitmap[5:5 + length] = data[:length]
        start, end = 1, 40 + 8 * length
    else:
        bitmap[0] = (can_id & CAN_SFF_MASK) >> 9
        bitmap[1] = (can_id >> 1) & 0xFF
        bitmap[2] = ((can_id << 7) & 0xFF) | rtr << 6 | (length & 0xF)
        bitmap[3:3 + length] = data[:length]
        start, end = 5, 24 + 8 * length

    # calc_bitmap_crc()
    reg, pos = 0, start
    if pos % 8:
        reg = _cfl_crc_bitwise(reg, (bitmap[pos // 8] << (pos % 8)) & 0xFF,
                               8 - pos % 8)
        pos += 8 - pos % 8
    reg = _cfl_crc_bytewise(reg, bitmap[pos // 8:pos // 8 + (end - pos) // 8])
    reg = _cfl_crc_bitwise(reg, bitmap[end // 8], end % 8)
    crc_be = (reg << 1) & 0xFFFF
    bitmap[end // 8] = crc_be >> 8
    bitmap[end // 8 + 1] = crc_be & 0xFF
    end += 15

    mask, lookfor, i, stuffed = 0x1F, 0, start, 0
    while i < end:
        bits = (bitmap[i // 8] << 8 | bitmap[i // 8 + 1]) >> (16 - 5 - i % 8)
        lookfor = 0 if lookfor else mask
        change = (bits & mask) ^ lookfor
        if change:
            i += _CFL_CLZ[change]
            mask = 0x1F
        else:
            i += 5 if mask == 0x1F else 4
            if i <= end:
                stuffed += 1
                mask = 0x1E
    return end - start + stuffed + 3 + 7 + 3


# Values returned by the can_frame_length() of the installed can-utils
# 2020.11.0-1 binary (/usr/bin/canbusload, BuildID 0c3ec780a939...), called
# in-process under gdb with mode CFL_EXACT and mtu CAN_MTU (no CAN interface
# is needed for that).  (can_id incl. flags, len, data) -> bits.
CANBUSLOAD_2020_11_EXACT = (
    (0x123, 8, "5555555555555555", 112),
    (0x000, 0, "", 53),
    (0x7FF, 0, "", 50),
    (0x000, 8, "0000000000000000", 127),
    (0x7FF, 8, "ffffffffffffffff", 126),
    (0x133, 8, "ff000000000000ff", 123),
    (0x5A5, 3, "a55aff", 73),
    (0x80000000 | 0x12345678, 8, "5555555555555555", 132),
    (0x80000000 | 0x00000000, 0, "", 74),
    (0x80000000 | 0x1FFFFFFF, 8, "ffffffffffffffff", 149),
    (0x80000000 | 0x1FFFFFFF, 0, "", 74),
    (0x40000000 | 0x123, 0, "", 48),
    (0x40000000 | 0x123, 8, "0000000000000000", 124),
    (0xC0000000 | 0x12345678, 4, "00000000", 105),
)


# --------------------------------------------------------------------------
# Second FD implementation, after Pierre Molinaro's CANFDFrameGenerator.h
# --------------------------------------------------------------------------
#
# pierremolinaro/codes-can, codes-de-calcul-canfd/CANFDFrameGenerator.h:
# stuff bits appended right after the 5th equal bit (not before the next
# bit), both CRCs accumulated bit by bit as the frame is emitted, durations
# classified per bit (BRS "arbitration to data", ESI..CRC "data", CRC
# delimiter "data to arbitration").  Its author bit-bangs these frames into
# an i.MX RT1062 FlexCAN receiver in ISO and non-ISO mode
# (test-generateur-*-teensy-4-0.ino).  Rewritten here from its structure, to
# diff against _fd_wire().

def _molinaro_fd(can_id, eff, brs, esi, dlc, data, iso):
    out = []  # (bit, duration class)
    state = {"crc17": (1 << 16) if iso else 0,
             "crc21": (1 << 20) if iso else 0,
             "last": 1, "same": 1, "stuffed": 0}

    def duration(kind):
        if not brs or kind in ("arb", "tail"):
            return "A"
        return {"brs": "AD", "crcdel": "DA"}.get(kind, "D")

    def enter(bit, kind, with_crc):
        out.append((bit, duration(kind)))
        if with_crc:
            for name, width, poly in (("crc17", 17, CRC17_POLY),
                                      ("crc21", 21, CRC21_POLY)):
                reg = state[name]
                nxt = bit ^ (reg >> (width - 1))
                reg = (reg << 1) & ((1 << width) - 1)
                state[name] = reg ^ (poly & ((1 << width) - 1)) if nxt else reg

    def enter_stuffed(bit, kind, may_stuff=True):
        enter(bit, kind, True)
        if not may_stuff:
            return
        if bit == state["last"]:
            state["same"] += 1
            if state["same"] == 5:
                state["same"] = 1
                state["stuffed"] += 1
                state["last"] ^= 1
                enter(state["last"], kind, True)
        else:
            state["last"], state["same"] = bit, 1

    enter_stuffed(0, "arb")
    if eff:
        for idx in range(28, 17, -1):
            enter_stuffed((can_id >> idx) & 1, "arb")
        enter_stuffed(1, "arb")
        enter_stuffed(1, "arb")
        for idx in range(17, -1, -1):
            enter_stuffed((can_id >> idx) & 1, "arb")
    else:
        for idx in range(10, -1, -1):
            enter_stuffed((can_id >> idx) & 1, "arb")
    enter_stuffed(0, "arb")  # RRS (EFF) / RRS then IDE below (SFF)
    if not eff:
        enter_stuffed(0, "arb")
    enter_stuffed(1, "arb")  # FDF
    enter_stuffed(0, "arb")  # res
    enter_stuffed(int(brs), "brs")
    enter_stuffed(int(esi), "data")
    nbytes = FD_DLC_TO_LEN[dlc]
    for idx in range(3, -1, -1):
        enter_stuffed((dlc >> idx) & 1, "data", nbytes > 0 or idx > 0)
    last = out[-1][0]
    for n, byte in enumerate(data):
        for idx in range(7, -1, -1):
            last = (byte >> idx) & 1
            enter_stuffed(last, "data", not (n == nbytes - 1 and idx == 0))
    if iso:
        enter(1 - last, "data", False)
        code = STUFF_COUNT_CODE[state["stuffed"] % 8]
        for idx in range(3, -1, -1):
            enter((code >> idx) & 1, "data", True)
        last = code & 1
    enter(1 - last, "data", False)
    width = 21 if dlc > 10 else 17
    value = state["crc21"] if width == 21 else state["crc17"]
    count = 0
    for idx in range(width - 1, -1, -1):
        bit = (value >> idx) & 1
        enter(bit, "data", False)
        count += 1
        if count == 4:
            count = 0
            enter(1 - bit, "data", False)
    enter(1, "crcdel", False)
    for bit in [0, 1] + [1] * 7:
        enter(bit, "tail", False)
    return out, value


# --------------------------------------------------------------------------
# Self-test
# --------------------------------------------------------------------------

class _Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, what):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL: %s" % what)


def _ascii_bits(text):
    return bytes_to_bits(text.encode())


def _bits_from_string(text):
    """CanOverhead's notation: 0/1 frame bits, 2/3 stuff bits of 0/1."""
    return [int(c) & 1 for c in text if c in "0123"]


def _selftest_published(t):
    # 1. CRC catalogue check values (RevEng catalogue CRC-15/CAN,
    #    CRC-17/CAN-FD, CRC-21/CAN-FD: preset 0, MSB first, "123456789").
    t.check(crc(_ascii_bits("123456789"), CRC15_POLY, 15) == 0x059E,
            "CRC-15/CAN check value 0x059E")
    t.check(crc(_ascii_bits("123456789"), CRC17_POLY, 17) == 0x04F03,
            "CRC-17/CAN-FD check value 0x04F03")
    t.check(crc(_ascii_bits("123456789"), CRC21_POLY, 21) == 0x0ED841,
            "CRC-21/CAN-FD check value 0x0ED841")

    # 2. Nik89/CanOverhead TestCanOverhead.js: CRCs of short bit strings
    #    (their values from an online calculator) and three SFF frames with
    #    their stuffed bit strings up to the CRC delimiter.
    for bits, c15, c17, c21 in (
            ("11110001", 0b110001011110110, 0b00000001000111100,
             0b000010111011100111001),
            ("100000110011", 0b000010001110100, 0b00100010111100111,
             0b100110110111010101101),
            ("11010011101100", 0b010001010101010, 0b00000111010101101,
             0b001001011010101011100)):
        b = _bits_from_string(bits)
        t.check(crc(b, CRC15_POLY, 15) == c15, "CanOverhead crc15 " + bits)
        t.check(crc(b, CRC17_POLY, 17) == c17, "CanOverhead crc17 " + bits)
        t.check(crc(b, CRC21_POLY, 21) == c21, "CanOverhead crc21 " + bits)
    for can_id, data, crc15, stuffed in (
            (0x000, b"", 0x0000,
             "0 000 03000 00300 0 0 03 0000 0300 00030 0000 30000"),
            (0x000, b"\0", 0x4426,
             "0 000 03000 00300 0 0 03 0001 0000 03000 100 0100 0010 0110"),
            (0x133, b"\xff" + b"\0" * 6 + b"\xff", 0x185F,
             "0 001 0011 0011 0 0 0 1000"
             " 1111 12111 0000 03000 00300 00030 00003 0000"
             " 03000 00300 00030 00003 0000 03000 1111 12111"
             " 001 1000 0101 11112")):
        r = frame_bits(can_id, False, False, False, False, False, len(data),
                       data)
        want = _bits_from_string(stuffed)
        t.check(r["crc"] == crc15, "CanOverhead CRC of SFF 0x%x" % can_id)
        t.check(r["bits"][:len(want)] == want and r["bits"][len(want)] == 1,
                "CanOverhead stuffed bits of SFF 0x%x" % can_id)
        t.check(r["stuff"] == sum(c in "23" for c in stuffed),
                "CanOverhead stuff count of SFF 0x%x" % can_id)

    # 3. Lengths without stuff bits: can-utils CFL_NO_BITSTUFFING (47 + 8n
    #    SFF, 67 + 8n EFF, incl. 3 IFS) and the kernel's length.h
    #    (CAN_FRAME_HEADER_SFF_BITS 19 / EFF 39, CRC field 16, footer 9;
    #    CANFD header 22 / 41, CRC17 field 28, CRC21 field 33, both incl.
    #    the fixed stuff bits).  E.g. SFF with 8 bytes: 108 bits, 111 with
    #    the intermission.
    rng = random.Random(1)
    for eff in (False, True):
        for n in range(9):
            r = frame_bits(rng.getrandbits(29 if eff else 11), eff, False,
                           False, False, False, n, rng.randbytes(n))
            t.check(r["total"] - r["stuff"] + 3 == (67 if eff else 47) + 8 * n,
                    "CC unstuffed length eff=%d n=%d" % (eff, n))
            t.check(r["total"] - r["stuff"] ==
                    (39 if eff else 19) + 8 * n + 16 + 9,
                    "length.h CC length eff=%d n=%d" % (eff, n))
        for dlc in range(16):
            n = FD_DLC_TO_LEN[dlc]
            r = frame_bits(rng.getrandbits(29 if eff else 11), eff, False,
                           True, bool(dlc & 1), False, dlc, rng.randbytes(n))
            field = 28 if n <= 16 else 33
            t.check(r["total"] - r["stuff"] ==
                    (41 if eff else 22) + 8 * n + field + 9,
                    "length.h FD length eff=%d dlc=%d" % (eff, dlc))
            t.check(r["fixed_stuff"] == (6 if n <= 16 else 7),
                    "FD fixed stuff bits eff=%d dlc=%d" % (eff, dlc))
            r = frame_bits(0, eff, False, True, False, False, dlc, bytes(n),
                           iso=False)
            t.check(r["fixed_stuff"] == (5 if n <= 16 else 6),
                    "non-ISO FD fixed stuff bits dlc=%d" % dlc)
    r = frame_bits(0x123, False, False, False, False, False, 8, bytes(8))
    t.check(r["total"] - r["stuff"] == 108, "SFF 8 bytes unstuffed = 108")

    # 4. Worst-case stuffing bound (Tindell 1994, corrected by Davis et al.
    #    2007; kernel can_bitstuffing_len()): g stuffable bits get at most
    #    (g - 1) // 4 stuff bits.  g = 34 + 8n (SFF), 54 + 8n (EFF); FD,
    #    dynamic part only: 22 + 8n / 41 + 8n.  Max CC SFF 8 bytes incl.
    #    IFS: 135 bits (Davis et al.), canbusload's CFL_WORSTCASE 55 + 10n.
    #    Random frames plus frames built to stuff a lot (0x0f/0xf0 runs).
    for _ in range(3000):
        eff = rng.random() < 0.5
        fd = rng.random() < 0.4
        pattern = rng.choice((b"\x0f", b"\xf0", b"\x78", b"\x87", None))
        if fd:
            dlc = rng.randrange(16)
            n = FD_DLC_TO_LEN[dlc]
        else:
            dlc = n = rng.randrange(9)
        data = (pattern * n) if pattern else rng.randbytes(n)
        can_id = rng.getrandbits(29 if eff else 11)
        r = frame_bits(can_id, eff, False, fd, fd and rng.random() < 0.5,
                       False, dlc, data)
        g = ((41 if eff else 22) if fd else (54 if eff else 34)) + 8 * n
        t.check(r["stuff"] <= (g - 1) // 4, "stuff bound %r" % (
            (can_id, eff, fd, dlc, data.hex()),))
        if not fd and not eff and n == 8:
            t.check(r["total"] + 3 <= 135, "SFF 8 bytes <= 135 bits")


def _selftest_canbusload(t):
    # Port of cfl_exact() against the values of the installed binary.
    for can_id, length, hexdata, bits in CANBUSLOAD_2020_11_EXACT:
        got = canframelen_exact(can_id & CAN_EFF_MASK,
                                bool(can_id & 0x80000000),
                                bool(can_id & 0x40000000), length,
                                bytes.fromhex(hexdata))
        t.check(got == bits, "cfl_exact port 0x%x len %d: %d != %d (binary)"
                % (can_id, length, got, bits))

    # ISO reference against cfl_exact(): identical for every CC data frame
    # (plus the intermission), and for remote frames with len 0.
    rng = random.Random(2)
    cases = []
    for eff in (False, True):
        top = CAN_EFF_MASK if eff else CAN_SFF_MASK
        for n in range(9):
            for data in (bytes(n), b"\xff" * n, b"\x55" * n, b"\xaa" * n,
                         b"\x0f" * n, b"\xf0" * n):
                for can_id in (0, top, 0x555 & top, 0x2AA & top):
                    cases.append((can_id, eff, data))
    for _ in range(20000):
        eff = rng.random() < 0.5
        n = rng.randrange(9)
        cases.append((rng.getrandbits(29 if eff else 11), eff,
                      rng.randbytes(n)))
    for can_id, eff, data in cases:
        ref = frame_bits(can_id, eff, False, False, False, False, len(data),
                         data)
        cfl = canframelen_exact(can_id, eff, False, len(data), data)
        t.check(cfl == ref["total"] + INTERMISSION_BITS,
                "cfl_exact %r: %d != %d + 3" % ((hex(can_id), eff, data.hex()),
                                                cfl, ref["total"]))
    for eff in (False, True):
        for can_id in (0, 0x123, CAN_SFF_MASK):
            ref = frame_bits(can_id, eff, True, False, False, False, 0, b"")
            t.check(canframelen_exact(can_id, eff, True, 0, b"") ==
                    ref["total"] + 3, "cfl_exact RTR len 0")
    # Remote frames with len > 0: canbusload counts a data field that is
    # not on the wire.  Its value is exactly that of the pattern "RTR
    # recessive + data field", which _cc_wire() can build.
    for _ in range(500):
        eff = rng.random() < 0.5
        n = rng.randrange(1, 9)
        can_id = rng.getrandbits(29 if eff else 11)
        data = rng.randbytes(n)
        iso = frame_bits(can_id, eff, True, False, False, False, n, b"")
        pattern = _cc_wire(can_id, eff, 1, n, data)[0]
        cfl = canframelen_exact(can_id, eff, True, n, data)
        t.check(cfl == len(pattern.bits) + 10 + 3,
                "cfl_exact RTR len %d = RTR pattern with data" % n)
        t.check(cfl > iso["total"] + 3, "cfl_exact RTR overcounts")


def _selftest_fd_differential(t):
    rng = random.Random(3)
    for k in range(6000):
        eff = rng.random() < 0.5
        brs = rng.random() < 0.5
        esi = rng.random() < 0.5
        iso = k % 5 != 0
        dlc = rng.randrange(16)
        n = FD_DLC_TO_LEN[dlc]
        data = rng.choice((rng.randbytes(n), bytes(n), b"\xff" * n,
                           b"\x0f" * n, b"\xf8" * n))
        can_id = rng.getrandbits(29 if eff else 11)
        r = frame_bits(can_id, eff, False, True, brs, esi, dlc, data, iso)
        other, value = _molinaro_fd(can_id, eff, brs, esi, dlc, data, iso)
        what = (hex(can_id), eff, brs, esi, iso, dlc, data.hex())
        t.check(r["bits"] == [b for b, _ in other],
                "FD bits differ %r" % (what,))
        t.check(r["crc"] == value, "FD CRC differs %r" % (what,))
        t.check(r["data_phase"] == sum(d == "D" for _, d in other),
                "FD data phase differs %r" % (what,))
        t.check(r["nominal"] + r["data_phase"] == r["total"], "N + D = total")
        if not brs:
            t.check(r["data_phase"] == 0, "no BRS, no data phase")
        # The transmitted CRC checks: running the register over the covered
        # bits followed by the CRC sequence leaves 0.
        bits = r["bits"]
        kinds = _kinds_of(r, can_id, eff, brs, esi, dlc, data, iso)
        cover = ("field", "stuff", "sc") if iso else ("field", "stuff")
        covered = [b for b, k in zip(bits, kinds) if k in cover]
        width = r["crc_width"]
        poly = CRC17_POLY if width == 17 else CRC21_POLY
        init = (1 << (width - 1)) if iso else 0
        residue = crc(covered + to_bits(r["crc"], width), poly, width, init)
        t.check(residue == 0, "FD CRC residue %r" % (what,))
        # No run of 6 equal bits from SOF to the last CRC bit (the 10 tail
        # bits are CRC delimiter, ACK slot, ACK delimiter and EOF).
        body = "".join(map(str, bits[:r["total"] - 10]))
        t.check("000000" not in body and "111111" not in body,
                "FD stuffing %r" % (what,))


def _kinds_of(r, can_id, eff, brs, esi, dlc, data, iso):
    wire = _fd_wire(can_id, eff, brs, esi, dlc, data, iso)[0]
    return wire.kinds + ["tail"] * (r["total"] - len(wire.kinds))


def _selftest_misc(t):
    # No six equal bits in CC SOF..CRC (+ stuff), every frame.
    rng = random.Random(4)
    for _ in range(3000):
        eff = rng.random() < 0.5
        rtr = rng.random() < 0.2
        dlc = rng.randrange(16)
        n = 0 if rtr else min(dlc, 8)
        r = frame_bits(rng.getrandbits(29 if eff else 11), eff, rtr, False,
                       False, False, dlc, rng.randbytes(n))
        body = "".join(map(str, r["bits"][:r["total"] - 10]))
        t.check("000000" not in body and "111111" not in body,
                "CC stuffing")
        t.check(r["nominal"] == r["total"] and r["data_phase"] == 0,
                "CC is all nominal")
    # ISO FD stuff count field = Gray code + even parity of stuff mod 8.
    for count, code in enumerate(STUFF_COUNT_CODE):
        gray = count ^ (count >> 1)
        t.check(code >> 1 == gray and bin(code).count("1") % 2 == 0,
                "stuff count code %d" % count)
    # Durations: 500 kbit/s + 2 Mbit/s.
    r = frame_bits(0x123, False, False, True, True, False, 15, bytes(64))
    ns = duration_ns(r, 500000, 2000000)
    t.check(ns == (r["nominal"] - 1) * 2000 + (r["data_phase"] + 1) * 500,
            "duration_ns FD")
    r = frame_bits(0x123, False, False, False, False, False, 8, bytes(8))
    t.check(duration_ns(r, 500000, None) == r["total"] * 2000,
            "duration_ns CC")
    for bad in (lambda: frame_bits(0x800, False, False, False, False, False,
                                   0, b""),
                lambda: frame_bits(1, False, True, True, False, False, 0, b""),
                lambda: frame_bits(1, False, False, False, True, False, 0,
                                   b""),
                lambda: frame_bits(1, False, False, True, False, False, 9,
                                   bytes(9))):
        try:
            bad()
            t.check(False, "bad input accepted")
        except ValueError:
            t.check(True, "")


def _selftest_xl(t):
    """CAN XL against counts made by hand from the field list above."""
    # ID 0x123: 0 0010 0100 011 + RRS IDE 00: no run of five. Nominal:
    # SOF 1 + 11 + RRS IDE FDF XLF resXL ADH 6 = 18, DAS 4 + ACK 2 + EOF 7.
    # Data rate: DH1 DH2 2 + (109 + 8 n) + its fixed stuff bits + FCP 4.
    for n, fixed in ((1, 11), (64, 62), (2048, 1649)):
        r = xl_frame_bits(0x123, bytes(n))
        t.check((r["nominal"], r["data_phase"], r["stuff"], r["fixed_stuff"])
                == (31, 2 + 109 + 8 * n + fixed + 4, 0, fixed),
                "XL 0x123 %d bytes" % n)
    # 0x078 = 000 0111 1000. SOF and the first four ID bits: five 0s,
    # stuff 1; it and the four 1s: five, stuff 0; it, the last three ID
    # bits and RRS: five 0s, stuff 1; then IDE 0, FDF 1: three stuff bits.
    # 0x000: fourteen 0s from SOF to IDE, a stuff 1 after the fifth and
    # after the tenth: two.
    r = xl_frame_bits(0x078, bytes(8))
    t.check((r["nominal"], r["stuff"]) == (34, 3), "XL 0x078 stuff bits")
    r = xl_frame_bits(0x000, bytes(8))
    t.check(r["stuff"] == 2, "XL 0x000 stuff bits")
    # Content does not change the length after the priority.
    rng = random.Random(6)
    for n in (1, 7, 64, 513, 2048):
        want = xl_frame_bits(0x2A5, bytes(n))["total"]
        for _ in range(5):
            r = xl_frame_bits(0x2A5, rng.randbytes(n), rng.randrange(256),
                              rng.randrange(2), rng.randrange(256),
                              rng.getrandbits(32))
            t.check(r["total"] == want, "XL length is content-free")
    # Every 11th bit of the fixed-stuffed part is the complement of the
    # one before; FCP is 1100.
    r = xl_frame_bits(0x123, b"\x00" * 16)
    t.check("".join(map(str, r["bits"][-17:-13])) == "1100", "XL FCP")
    t.check(xl_duration_ns(r, 500000, 10000000) ==
            r["nominal"] * 2000 + r["data_phase"] * 100, "XL duration")
    for bad in (lambda: xl_frame_bits(0x800, b"\0"),
                lambda: xl_frame_bits(1, b""),
                lambda: xl_frame_bits(1, bytes(2049))):
        try:
            bad()
            t.check(False, "bad XL input accepted")
        except ValueError:
            t.check(True, "")


def selftest():
    t = _Checks()
    for part in (_selftest_published, _selftest_canbusload,
                 _selftest_fd_differential, _selftest_misc, _selftest_xl):
        before = t.failed
        part(t)
        print("%-28s %s" % (part.__name__[10:],
                            "ok" if t.failed == before else "FAILED"))
    print("%d checks, %d failed" % (t.passed + t.failed, t.failed))
    return 1 if t.failed else 0


# --------------------------------------------------------------------------
# Table
# --------------------------------------------------------------------------

def _pattern(name, n):
    if name == "00":
        return bytes(n)
    if name == "ff":
        return b"\xff" * n
    if name == "55":
        return b"\x55" * n
    return bytes((0x12 + 0x35 * i) & 0xFF for i in range(n))  # "mix"


def table(out=sys.stdout):
    bitrate, dbitrate = 500000, 2000000
    out.write("bits SOF..EOF (intermission excluded; +3 for canbusload -e); "
              "time at %d / %d bit/s\n" % (bitrate, dbitrate))
    out.write("%-6s %-3s %-3s %-3s %-4s %5s %5s %5s %4s %4s %5s %8s %9s %6s\n"
              % ("kind", "fmt", "rtr", "brs", "data", "dlc", "total", "stuff",
                 "fix", "nom", "dphs", "crc", "us", "cbl-e"))

    def row(kind, eff, rtr, fd, brs, pat, dlc, data):
        r = frame_bits(0x12345678 if eff else 0x123, eff, rtr, fd, brs, False,
                       dlc, data)
        cbl = "-" if fd else str(canframelen_exact(
            0x12345678 if eff else 0x123, eff, rtr, min(dlc, 8),
            _pattern(pat, 8)[:min(dlc, 8)] if not rtr else bytes(8)))
        out.write("%-6s %-3s %-3s %-3s %-4s %5d %5d %5d %4d %4d %5d %8s %9.3f "
                  "%6s\n" % (kind, "EFF" if eff else "SFF",
                             "rtr" if rtr else "", "brs" if brs else "",
                             "" if rtr else pat, dlc, r["total"], r["stuff"],
                             r["fixed_stuff"], r["nominal"], r["data_phase"],
                             "0x%0*x" % ((r["crc_width"] + 3) // 4, r["crc"]),
                             float(duration_ns(r, bitrate, dbitrate)) / 1000,
                             cbl))

    for eff in (False, True):
        for pat in ("00", "ff", "55", "mix"):
            for dlc in range(9):
                row("CC", eff, False, False, False, pat, dlc,
                    _pattern(pat, dlc))
        for dlc in range(9):
            row("CC", eff, True, False, False, "", dlc, b"")
    for eff in (False, True):
        for brs, pats in ((True, ("00", "ff", "55", "mix")),
                          (False, ("mix",))):
            for pat in pats:
                for dlc in range(16):
                    row("FD", eff, False, True, brs, pat, dlc,
                        _pattern(pat, FD_DLC_TO_LEN[dlc]))
    out.write("ID 0x123 (SFF) / 0x12345678 (EFF), ESI 0, ISO CAN FD. "
              "cbl-e: can-utils cfl_exact() (canbusload -e), which counts the "
              "data field of remote frames (all-zero payload here).\n")


if __name__ == "__main__":
    if sys.argv[1:] == ["--selftest"]:
        sys.exit(selftest())
    if sys.argv[1:]:
        sys.exit("usage: %s [--selftest]" % sys.argv[0])
    try:
        table()
    except BrokenPipeError:  # "| head"
        sys.stderr.close()
