#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
#
# Helper of pycan.sh (not a test by itself): python-can on vcanbus nodes.
#
#   pycan_peer.py classic TX RX...   a base and an extended frame from TX
#   pycan_peer.py fd TX RX... [--classic-only NODE]
#                                    a 64-byte CAN FD frame with BRS from TX,
#                                    then a Classical marker frame; NODE has
#                                    no FD and must see only the marker
#
# TX is opened with receive_own_messages=True. Every bus is opened before
# the first frame is sent, so no frame can be missed. For each frame sent it
# prints one line per bus that got something, in the form
#   <node> <kind> id=<hex> ext=<0|1> fd=<0|1> brs=<0|1> esi=<0|1> rx=<0|1> data=<hex>
# with kind "echo" on TX and "rx" elsewhere, then the line
#   <node> stamps-equal=<0|1>
# per receiver (its timestamp equal to the echo's). A bus that gets nothing
# within 5 s prints "<node> timeout". Exit status 0 unless python-can failed.
import sys

import can

TIMEOUT = 5.0


def show(node, kind, msg):
    if msg is None:
        return f"{node} timeout"
    return (f"{node} {kind} id={msg.arbitration_id:X} ext={int(msg.is_extended_id)}"
            f" fd={int(msg.is_fd)} brs={int(msg.bitrate_switch)}"
            f" esi={int(msg.error_state_indicator)} rx={int(msg.is_rx)}"
            f" data={msg.data.hex().upper()}")


def exchange(tx_bus, tx, rx_buses, msg):
    tx_bus.send(msg, timeout=TIMEOUT)
    echo = tx_bus.recv(TIMEOUT)
    print(show(tx, "echo", echo))
    for node, bus in rx_buses:
        got = bus.recv(TIMEOUT)
        print(show(node, "rx", got))
        if got is not None and echo is not None:
            print(f"{node} stamps-equal={int(got.timestamp == echo.timestamp)}")


def main(argv):
    mode, tx, rest = argv[1], argv[2], argv[3:]
    fd = mode == "fd"
    classic_only = None
    if "--classic-only" in rest:
        i = rest.index("--classic-only")
        classic_only = rest[i + 1]
        rest = rest[:i] + rest[i + 2:]

    tx_bus = can.Bus(interface="socketcan", channel=tx,
                     receive_own_messages=True, fd=fd)
    rx_buses = [(n, can.Bus(interface="socketcan", channel=n, fd=fd)) for n in rest]
    marker_bus = None
    if classic_only:
        # With FD frames enabled on the socket: it would show an FD frame
        # if the node took one off the bus.
        marker_bus = can.Bus(interface="socketcan", channel=classic_only, fd=True)
    try:
        if not fd:
            exchange(tx_bus, tx, rx_buses, can.Message(
                arbitration_id=0x123, is_extended_id=False,
                data=bytes.fromhex("DEADBEEF01020304")))
            exchange(tx_bus, tx, rx_buses, can.Message(
                arbitration_id=0x1ABCDEF0, is_extended_id=True,
                data=bytes.fromhex("CAFE")))
        else:
            exchange(tx_bus, tx, rx_buses, can.Message(
                arbitration_id=0x2AA, is_extended_id=False, is_fd=True,
                bitrate_switch=True, data=bytes(range(64))))
            if marker_bus:
                exchange(tx_bus, tx, rx_buses, can.Message(
                    arbitration_id=0x7EE, is_extended_id=False,
                    data=bytes.fromhex("AA55")))
                print(show(classic_only, "rx", marker_bus.recv(TIMEOUT)))
    finally:
        for bus in [tx_bus, marker_bus] + [b for _, b in rx_buses]:
            if bus:
                bus.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
